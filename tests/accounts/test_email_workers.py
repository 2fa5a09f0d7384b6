"""Worker processes (``manage.py db_worker``) against PostgreSQL and a real SMTP server:
several run at once without sending an email twice, and a task whose worker was killed
in the middle is delivered by another one."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import transaction

from accounts.emails import email_send
from accounts.models import OutgoingEmail
from tests.processes import production_environment
from tests.smtp_server import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def worker(smtp: SmtpServer) -> subprocess.Popen:
    """A production worker process (not the test settings), on the test database."""
    env = production_environment(
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="0",
        EMAIL_TIMEOUT="20",
        EMAIL_RETRY_BASE_DELAY="0.05",
        EMAIL_RETRY_MAX_DELAY="0.2",
        TASKS_RUNNING_TIMEOUT="2",
    )
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-reload", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_two_workers_never_send_an_email_twice(smtp, database_tasks):
    recipients = [f"person{index % 7}@example.net" for index in range(40)]
    with transaction.atomic():
        for recipient in recipients:
            email_send(to=recipient, template="password_changed", context={}, recipient=None)
    workers = [worker(smtp), worker(smtp)]
    try:
        wait_for(lambda: len(smtp.received) >= 40 and not OutgoingEmail.objects.exists())
        time.sleep(0.5)  # a duplicate would arrive now
    finally:
        stop(*workers)
    assert len(smtp.received) == 40
    for address in set(recipients):
        assert len(smtp.to(address)) == recipients.count(address)


def test_a_killed_workers_task_is_delivered_by_another(smtp, database_tasks):
    smtp.hang = 1  # the first delivery stops answering in the middle
    email_send(to="ada@example.net", template="password_changed", context={}, recipient=None)
    first = worker(smtp)
    try:
        assert smtp.hanging.wait(timeout=30), "the worker never reached the mail server"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert smtp.received == []

    second = worker(smtp)
    try:
        # After TASKS_RUNNING_TIMEOUT (2 s) the lost task is ready again.
        wait_for(lambda: len(smtp.received) == 1)
    finally:
        stop(second)
    assert [message.recipients for message in smtp.received] == [["ada@example.net"]]
    assert not OutgoingEmail.objects.exists()
