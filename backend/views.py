import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from backend.observability import exception_observed
from backend.tasks import tasks_lag

logger = logging.getLogger(__name__)

READY_KEY = "roster:ready"


def _status() -> dict:
    """Whether the database answers, and how long the oldest ready background task has
    waited (``tasks`` is null when that cannot be read, e.g. before the migrations)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.exception("Health check: database unavailable")
        exception_observed(error)
        return {"status": "unavailable", "database": False, "tasks": None}
    try:
        lag = tasks_lag()
    except DatabaseError:
        logger.exception("Health check: the task queue cannot be read")
        return {"status": "ok", "database": True, "tasks": None}
    seconds = round(lag.total_seconds(), 1) if lag is not None else 0.0
    return {"status": "ok", "database": True, "tasks": {"oldest_waiting_seconds": seconds}}


def _cache_answers() -> bool | None:
    """Whether the shared cache (Redis) stores and answers; None without one (each
    process's own memory then)."""
    if not settings.REDIS_URL:
        return None
    try:
        cache.set(READY_KEY, 1, timeout=10)
        return cache.get(READY_KEY) == 1
    except Exception as error:
        logger.exception("Readiness check: cache unavailable")
        exception_observed(error)
        return False


@require_GET
@ensure_csrf_cookie
def health(request):
    """Liveness: 200 while the database answers (with the task lag), else 503."""
    status = _status()
    return JsonResponse(status, status=200 if status["database"] else 503)


@require_GET
def ready(request):
    """Readiness, for load balancers: 503 unless the database answers, the cache (when
    configured) answers, and background tasks wait at most ``TASKS_MAX_LAG`` seconds (a
    longer wait: no worker runs, or too few for the load)."""
    status = _status()
    status["cache"] = _cache_answers()
    tasks = status["tasks"]
    if status["database"] and status["cache"] is False:
        status["status"] = "unavailable"
    elif status["database"] and (
        tasks is None or tasks["oldest_waiting_seconds"] > settings.TASKS_MAX_LAG
    ):
        status["status"] = "lagging"
    return JsonResponse(status, status=200 if status["status"] == "ok" else 503)
