"""Running Roster's background tasks: the test backend, and the worker's housekeeping.

Production and development use ``django_tasks_db.DatabaseBackend`` (``TASKS``): a task
is a row written in the enqueuing transaction, run by ``manage.py db_worker``.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.backends.immediate import ImmediateBackend


class ImmediateOnCommitBackend(ImmediateBackend):
    """For tests: a task runs in-process once the enqueuing transaction commits (never if
    it rolls back), as a worker would see it. A deferred task (``run_after``, e.g. an
    email's next attempt) is not run at all: tests of retries run the database backend
    and a real worker. ``enqueue`` answers None: there is no result before the commit."""

    supports_defer = True

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        if task.run_after is not None:
            return None
        transaction.on_commit(
            lambda: super(ImmediateOnCommitBackend, self).enqueue(task, args, kwargs)
        )
        return None


def tasks_requeue_stale(*, older_than: timedelta) -> int:
    """Tasks left RUNNING longer than ``older_than`` lost their worker (killed, out of
    memory, machine gone): they become ready again, for any worker. Answers how many."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - older_than
    return (
        DBTaskResult.objects.running()
        .filter(started_at__lt=cutoff)
        .update(status=TaskResultStatus.READY, started_at=None)
    )


def tasks_lag() -> timedelta | None:
    """How long the oldest task that is ready to run has been waiting (None: none is)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    waiting = DBTaskResult.objects.ready()
    oldest = [
        waiting.filter(run_after=get_date_max())
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first(),
        waiting.exclude(run_after=get_date_max())
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first(),
    ]
    since = [moment for moment in oldest if moment is not None]
    return now - min(since) if since else None
