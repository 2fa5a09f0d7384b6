"""Prometheus metrics (prometheus-client), off unless ``METRICS=1``: README, "Production".

Off, every function here returns at once and ``prometheus_client`` is never imported.
On, the counters live in this process, or, with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn
with several workers: ``gunicorn.conf.py``), in files every worker writes and the scrape
adds up. What the database knows (emails waiting and failed, the task backlog) is read
when scraped, so every process answers the same.

Every label has a bounded set of values, whatever clients send: an operation is labelled
with its name only when it is one of the API's (``schema.observability``), a status and
an error code come from Roster's own answers, a rate-limit scope from ``RATE_LIMITS``.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import threading
from types import SimpleNamespace

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

METRICS_PATH = "/api/user/metrics/"
# The label of an operation that is unnamed or whose name is not one of the API's.
OTHER_OPERATION = "other"
_CODE = re.compile(r"^[A-Za-z_]{1,64}$")


_made: SimpleNamespace | None = None
_making = threading.Lock()


def _instruments() -> SimpleNamespace:
    """The process's metrics, made on first use: by one thread only (a second registration
    of the same name is refused by prometheus-client)."""
    global _made
    if _made is None:
        with _making:
            if _made is None:
                _made = _instruments_make()
    return _made


def _instruments_make() -> SimpleNamespace:
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        operations=Histogram(
            "roster_graphql_operation_duration_seconds",
            "GraphQL requests by operation: how many (_count) and how long they took.",
            ["operation", "type"],
        ),
        responses=Counter(
            "roster_http_responses_total", "HTTP responses by status code.", ["status"]
        ),
        errors=Counter(
            "roster_errors_total",
            "Error codes answered (OperationInfo messages, GraphQL errors, refusals).",
            ["code"],
        ),
        rate_limited=Counter(
            "roster_rate_limited_total", "Attempts refused by a rate limit, by scope.", ["scope"]
        ),
        logins=Counter(
            "roster_logins_total",
            "Sign-ins that succeeded or failed (every method: password, passkey, OIDC...).",
            ["result"],
        ),
        backend_errors=Counter(
            "roster_backend_errors_total",
            "Requests failed by the database or the cache.",
            ["backend"],
        ),
    )


def request_counted(
    *, status: int, operation_label: str | None, operation_type: str | None, duration: float
) -> None:
    if not settings.METRICS:
        return
    instruments = _instruments()
    instruments.responses.labels(str(status)).inc()
    if operation_label is not None:
        instruments.operations.labels(operation_label, operation_type or "unknown").observe(
            duration
        )


def error_counted(code: str) -> None:
    if settings.METRICS:
        _instruments().errors.labels(code if _CODE.match(code) else "OTHER").inc()


def rate_limit_counted(scope: str) -> None:
    if settings.METRICS:
        _instruments().rate_limited.labels(scope).inc()


def login_counted(*, succeeded: bool) -> None:
    if settings.METRICS:
        _instruments().logins.labels("succeeded" if succeeded else "failed").inc()


def backend_error_counted(backend: str) -> None:
    if settings.METRICS:
        _instruments().backend_errors.labels(backend).inc()


class _StateCollector:
    """Read at each scrape: emails waiting and failed, the task backlog's age. Left out
    while the database does not answer: the other metrics still are (the database's
    errors among them)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from accounts.emails import emails_counts
        from backend.tasks import tasks_lag

        try:
            waiting, failed = emails_counts()
            lag = tasks_lag()
        except DatabaseError:
            logger.warning("Metrics: the database does not answer; emails and tasks left out")
            return
        emails = GaugeMetricFamily(
            "roster_emails", "Emails waiting to be sent, and given up on.", labels=["state"]
        )
        emails.add_metric(["waiting"], waiting)
        emails.add_metric(["failed"], failed)
        yield emails
        yield GaugeMetricFamily(
            "roster_tasks_oldest_waiting_seconds",
            "How long the oldest background task ready to run has waited.",
            value=lag.total_seconds() if lag is not None else 0.0,
        )


class _Scraped:
    """This process's metrics (or every worker's) and the state read now."""

    def __init__(self, *collectors) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def _authorized(request) -> bool:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    expected = settings.METRICS_TOKEN
    return (
        scheme.lower() == "bearer"
        and bool(expected)
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


def scrape(request) -> HttpResponse:
    """``GET /api/user/metrics/`` with ``Authorization: Bearer <METRICS_TOKEN>``."""
    if not _authorized(request):
        response = JsonResponse({"error": "A valid METRICS_TOKEN bearer token is required."})
        response.status_code = 401
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    _instruments()  # every metric is exposed from the first scrape on
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import CollectorRegistry, multiprocess

        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        scraped = _Scraped(workers, _StateCollector())
    else:
        scraped = _Scraped(REGISTRY, _StateCollector())
    return HttpResponse(generate_latest(scraped), content_type=CONTENT_TYPE_LATEST)
