"""What a request did, for its log line and the metrics (README, "Production").

``ObservabilityMiddleware`` (first in ``MIDDLEWARE``) gives each request its id, times
it, and once it is answered writes one log line (logger ``roster.request``) and counts it
in the metrics (``backend.metrics``, when ``METRICS=1``). What only the GraphQL layer
knows (the operation's name and type, the error codes answered) it notes in the
request's ``Observation`` through ``operation_observed`` and ``error_observed``.

Nothing a client sent is logged but the method and the path: never the query string,
the body, the variables, a header or a cookie.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError

from backend import metrics

request_logger = logging.getLogger("roster.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Operation names are the client's: bounded in length in a log line.
OPERATION_NAME_MAX = 100


@dataclass
class Observation:
    request_id: str
    operation_name: str | None = None
    operation_type: str | None = None
    # The operation's metric label (``backend.metrics``): its name, or "other".
    operation_label: str | None = None
    error_codes: list[str] = field(default_factory=list)


_current: contextvars.ContextVar[Observation | None] = contextvars.ContextVar(
    "roster_observation", default=None
)


def observation() -> Observation | None:
    """The request being served (None outside one: a worker, a shell, a test)."""
    return _current.get()


def request_id_of(request) -> str:
    """The request's id: the ``X-Request-ID`` of a trusted proxy (``TRUSTED_PROXY_COUNT``)
    when it is a plausible one, else a new one. A client's own is not taken: it could make
    its requests pass for another's in the logs and the audit trail."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if settings.TRUSTED_PROXY_COUNT and _REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


def operation_observed(*, name: str | None, operation_type: str | None, label: str) -> None:
    current = _current.get()
    if current is not None:
        current.operation_name = name[:OPERATION_NAME_MAX] if name else None
        current.operation_type = operation_type
        current.operation_label = label


def error_observed(code: str) -> None:
    """An error code the request answers (an ``OperationInfo`` message, a GraphQL error,
    a refusal before GraphQL)."""
    metrics.error_counted(code)
    current = _current.get()
    if current is not None:
        current.error_codes.append(code)


def exception_observed(exception: BaseException | None) -> None:
    """An unexpected exception that failed a request: counted when the database or the
    cache failed."""
    if isinstance(exception, DatabaseError):
        metrics.backend_error_counted("database")
    elif _is_cache_error(exception):
        metrics.backend_error_counted("cache")


def _is_cache_error(exception: BaseException | None) -> bool:
    if exception is None or not settings.REDIS_URL:
        return False
    from redis.exceptions import RedisError

    return isinstance(exception, RedisError)


def _user_id(request) -> str | None:
    # Read once the response is made: the user the request ended as (a login signs in,
    # a logout signs out). Already loaded by then (SessionActivityMiddleware reads it).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.guid)


def _codes(current: Observation) -> str:
    return f"[{', '.join(current.error_codes)}]" if current.error_codes else ""


class ObservabilityMiddleware:
    """First in ``MIDDLEWARE``: the request id (answered in ``X-Request-ID``), one log line
    per request, the request metrics; ``/api/user/metrics/`` answered here, before the
    session, CSRF and bearer-token middleware (the scraper has a token of its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == metrics.METRICS_PATH and settings.METRICS:
            return metrics.scrape(request)
        started = time.perf_counter()
        request.request_id = request_id_of(request)
        current = Observation(request.request_id)
        token = _current.set(current)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        duration = time.perf_counter() - started
        response["X-Request-ID"] = request.request_id
        user_id = _user_id(request)
        metrics.request_counted(
            status=response.status_code,
            operation_label=current.operation_label,
            operation_type=current.operation_type,
            duration=duration,
        )
        operation = " ".join(
            part
            for part in (current.operation_type, current.operation_name, _codes(current))
            if part
        )
        request_logger.info(
            "%s %s %s %.1fms %s",
            request.method,
            request.path,
            response.status_code,
            duration * 1000,
            operation,
            extra={
                "request_id": request.request_id,
                "observed": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 2),
                    "operation_name": current.operation_name,
                    "operation_type": current.operation_type,
                    "error_codes": current.error_codes,
                    "user_id": user_id,
                },
            },
        )
        return response

    def process_exception(self, request, exception):
        # Django answers it with a 500 (and logs it, ``django.request``).
        exception_observed(exception)
        return None
