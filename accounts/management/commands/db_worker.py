"""``manage.py db_worker``: django-tasks-db's worker, plus the housekeeping it lacks.

Django runs the command of the first installed app that has one, so this wraps the
library's (``accounts`` is listed before ``django_tasks_db``). Beside the library's
loop, a thread makes tasks whose worker died while running them ready again (RUNNING
for longer than ``TASKS_RUNNING_TIMEOUT``), so a task a killed worker held is run by
another one.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from backend.tasks import tasks_requeue_stale

logger = logging.getLogger(__name__)


class Command(LibraryWorkerCommand):
    help = (
        "Run the background tasks (emails) from the database; several workers may run at "
        "once. Tasks a dead worker left running are run again after TASKS_RUNNING_TIMEOUT."
    )

    def handle(self, *args, **options):
        self._requeue_stale()
        if not options["batch"]:
            threading.Thread(
                target=self._housekeeping, name="tasks-housekeeping", daemon=True
            ).start()
        return super().handle(*args, **options)

    def _housekeeping(self) -> None:
        period = max(1.0, min(60.0, settings.TASKS_RUNNING_TIMEOUT / 2))
        while True:
            time.sleep(period)
            try:
                self._requeue_stale()
            except Exception:  # the database is away: try again next period
                logger.exception("Could not look for tasks of lost workers")
            finally:
                connection.close()  # this thread's own connection

    def _requeue_stale(self) -> None:
        requeued = tasks_requeue_stale(older_than=timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT))
        if requeued:
            self.stderr.write(f"Made {requeued} task(s) of a lost worker ready again.")
