"""Gunicorn settings for Roster: ``gunicorn -c gunicorn.conf.py`` (gunicorn also reads this
file by itself when started from this directory). Command-line options such as
``--workers``, ``--threads`` and ``--bind`` add to it.

The master loads the application once (``preload_app``) and forks the workers from it, so
what start-up builds (the URLconf, the GraphQL schema, the ORM's metadata) is shared by
every worker. The garbage collector follows Python's recipe for a pre-forking server
(``gc.freeze`` in the library reference): no collection in the master while it loads, a
freeze right before each fork, collection back on early in each worker. Frozen objects are
never walked by a worker's collector, so a worker neither spends time on them nor writes to
their pages (which would copy them).
"""

import gc
import os
from importlib import import_module
from pathlib import Path

wsgi_app = "backend.wsgi:application"
preload_app = True

gc.disable()


def pre_fork(server, worker):
    from django.conf import settings

    # The URLconf (and with it the views and the schema) is otherwise built by each
    # worker on its first request.
    import_module(settings.ROOT_URLCONF)
    gc.freeze()


def post_fork(server, worker):
    gc.enable()


# Metrics with several workers (README, "Production"): each worker writes its values into
# PROMETHEUS_MULTIPROC_DIR and a scrape adds them up. The files of a previous run are
# removed when the server starts, a dead worker's live gauges when it exits. Without the
# directory each scrape would answer the one worker it reached: refused.
METRICS_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    from django.conf import settings  # loaded: the application is preloaded by now

    if settings.METRICS and server.cfg.workers > 1 and not METRICS_DIRECTORY:
        raise RuntimeError(
            "METRICS=1 with several workers needs PROMETHEUS_MULTIPROC_DIR (an empty "
            "directory the workers share)."
        )
    if METRICS_DIRECTORY:
        Path(METRICS_DIRECTORY).mkdir(parents=True, exist_ok=True)
        for stale in Path(METRICS_DIRECTORY).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if METRICS_DIRECTORY:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


if os.environ.get("LOG_FORMAT") == "json":
    # gunicorn's own lines (workers booting, timeouts) as JSON lines as well. Its access
    # log stays off: Roster's request line replaces it, and holds no query string.
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": []},  # Django's LOGGING adds its handler
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "formatters": {"json": {"()": "backend.logs.JsonFormatter"}},
    }
