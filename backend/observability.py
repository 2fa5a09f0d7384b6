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

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("roster.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Operation names are the client's: only a GraphQL name (the request's ``operationName``
# may be any string), bounded in length.
OPERATION_NAME_MAX = 100
_OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


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


def operation_name_loggable(name: str | None) -> str | None:
    """``name`` when it is a GraphQL name (nothing else can be an operation's), cut to
    ``OPERATION_NAME_MAX`` characters: no line break or control character reaches a log."""
    return name[:OPERATION_NAME_MAX] if name and _OPERATION_NAME.match(name) else None


def operation_observed(*, name: str | None, operation_type: str | None, label: str) -> None:
    """The operation the request ran; ``name`` as ``operation_name_loggable`` answered."""
    current = _current.get()
    if current is not None:
        current.operation_name = name
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


def _request_logged(request, status: int, current: Observation, duration: float) -> None:
    # The readable message escapes the path: a decoded %0A must not start a forged line.
    path = request.path.encode("unicode_escape").decode("ascii")
    codes = f"[{', '.join(current.error_codes)}]" if current.error_codes else None
    message = " ".join(
        part
        for part in (
            request.method,
            path,
            str(status),
            f"{duration * 1000:.1f}ms",
            current.operation_type,
            current.operation_name,
            codes,
        )
        if part
    )
    request_logger.info(
        message,
        extra={
            "request_id": current.request_id,
            "observed": {
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round(duration * 1000, 2),
                "operation_name": current.operation_name,
                "operation_type": current.operation_type,
                "error_codes": current.error_codes,
                "user_id": _user_id(request),
            },
        },
    )


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
        # The request is answered (its changes committed): telling of it never fails it.
        try:
            metrics.request_counted(
                status=response.status_code,
                operation_label=current.operation_label,
                operation_type=current.operation_type,
                duration=duration,
            )
        except Exception:
            logger.exception("Could not count request %s", request.request_id)
        try:
            _request_logged(request, response.status_code, current, duration)
        except Exception:
            logger.exception("Could not log request %s", request.request_id)
        return response

    def process_exception(self, request, exception):
        # Django answers it with a 500 (and logs it, ``django.request``).
        exception_observed(exception)
        return None
