"""Email that is never lost (issue #17): queued in the transaction of its change, sent by
the task worker (``manage.py db_worker``) on the database backend, retried while the
mail server is away, in order per recipient. These tests run the real database backend
and worker, in this process; tests/accounts/test_email_workers.py runs worker processes
against PostgreSQL."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.admin import OutgoingEmailAdmin
from accounts.emails import email_send
from accounts.models import OutgoingEmail, User
from tests.accounts.auth_helpers import STRONG_PASSWORD, register_input
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_tasks(settings):
    """The production task backend: tasks are rows, run by the worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_RETRY_BASE_DELAY = 0.05
    settings.EMAIL_RETRY_MAX_DELAY = 0.2


@pytest.fixture
def smtp(settings, database_tasks):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def work(until=lambda: not OutgoingEmail.objects.filter(failed_at__isnull=True).exists()):
    """Run the worker (every ready task, again and again as retries come due) until
    ``until`` holds; a few seconds at most."""
    deadline = time.monotonic() + 15
    while not until():
        assert time.monotonic() < deadline, "the worker did not finish"
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
        time.sleep(0.05)


def test_every_email_arrives_once_in_order_after_an_outage(smtp, caplog):
    smtp.refuse = 4  # down for the first attempts
    with transaction.atomic():
        for _ in range(3):
            email_send(
                to="ada@example.net", template="password_changed", context={}, recipient=None
            )
        email_send(to="bob@example.org", template="password_changed", context={}, recipient=None)
    with caplog.at_level(logging.WARNING):
        work()

    assert len(smtp.to("ada@example.net")) == 3
    assert len(smtp.to("bob@example.org")) == 1
    assert len(smtp.received) == 4  # each exactly once
    assert smtp.connections > 4  # the refused attempts were retried
    assert "to a recipient at example.net not delivered" in caplog.text
    assert "ada@" not in caplog.text  # the domain only
    assert not OutgoingEmail.objects.exists()


def test_emails_to_one_recipient_keep_the_order_they_were_made_in(smtp):
    smtp.refuse = 1
    client = GraphQLClient()
    client.mutate("register", register_input(email="ada@example.net"), "__typename")
    client.mutate("resendVerificationEmail", {"email": "ada@example.net"}, "__typename")
    user = User.objects.get(email="ada@example.net")
    client.mutate("requestPasswordReset", {"email": user.email}, "__typename")  # none: pending
    work()
    received = smtp.to("ada@example.net")
    assert [message.subject for message in received] == [received[0].subject] * 2
    links = [line for message in received for line in message.body.split() if "token=" in line]
    # The second link (the resend) is the one that works: the order held.
    token = links[1].rsplit("token=", 1)[1]
    assert client.mutate("verifyEmail", {"token": token}, "... on User { emailVerified }") == {
        "__typename": "User",
        "emailVerified": True,
    }


def test_an_email_is_given_up_after_the_retries_and_staff_can_retry_it(smtp, settings, caplog):
    settings.EMAIL_RETRY_MAX = 3
    smtp.refuse = 1000
    email_send(to="ada@example.net", template="password_changed", context={}, recipient=None)
    email_send(to="ada@example.net", template="password_changed", context={}, recipient=None)
    with caplog.at_level(logging.ERROR):
        work(until=lambda: OutgoingEmail.objects.filter(failed_at__isnull=False).count() == 2)

    assert "given up after 3 attempts" in caplog.text
    assert "ada@" not in caplog.text
    failed_tasks = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED)
    assert failed_tasks.exists()  # the tasks admin lists it as failed

    smtp.refuse = 0
    admin = OutgoingEmailAdmin(OutgoingEmail, site)
    admin.retry(None, OutgoingEmail.objects.all())
    work()
    assert len(smtp.to("ada@example.net")) == 2


def test_a_rolled_back_mutation_enqueues_nothing(database_tasks, monkeypatch):
    user = UserFactory()
    client = GraphQLClient().login_as(user)

    def fail(*args, **kwargs):
        raise RuntimeError("after the email was queued")

    # changePassword queues its notice, then something later in the transaction fails.
    monkeypatch.setattr("accounts.services.auth.update_session_auth_hash", fail)
    result = client.execute(
        "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { __typename } }",
        {"input": {"currentPassword": PASSWORD, "newPassword": STRONG_PASSWORD}},
    )
    assert result.errors[0]["message"] == "Unexpected error."
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # the change rolled back, and with it its email
    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


class SlowEmailBackend:
    """A mail server that takes two seconds per message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        time.sleep(2)
        return len(messages)


def test_answers_never_wait_for_the_mail_server(database_tasks, settings):
    """The enumeration safety of register, reset and resend: known and unknown addresses
    answer as fast, whatever the mail server does, because the request only queues."""
    settings.EMAIL_BACKEND = "tests.accounts.test_email_delivery.SlowEmailBackend"
    known = UserFactory(email="known@example.net")
    pending = "pending@example.net"
    GraphQLClient().mutate("register", register_input(email=pending), "__typename")
    calls = [
        ("register", register_input(email=known.email)),
        ("register", register_input(email="unknown@example.net")),
        ("requestPasswordReset", {"email": known.email}),
        ("requestPasswordReset", {"email": "nobody@example.net"}),
        ("resendVerificationEmail", {"email": pending}),
        ("resendVerificationEmail", {"email": "nobody@example.net"}),
    ]
    for name, data in calls:
        started = time.monotonic()
        GraphQLClient().mutate(name, data, "__typename")
        assert time.monotonic() - started < 1.0, name  # the server takes 2 s per message
    assert OutgoingEmail.objects.count() == 5  # queued, none sent yet


def test_health_reports_the_task_lag_and_ready_fails_past_the_limit(database_tasks, settings):
    settings.TASKS_MAX_LAG = 60
    assert Client().get("/api/user/ready/").status_code == 200
    email_send(to="ada@example.net", template="password_changed", context={}, recipient=None)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=120))

    health = Client().get("/api/user/health/")
    assert health.status_code == 200
    assert health.json()["tasks"]["oldest_waiting_seconds"] >= 120
    ready = Client().get("/api/user/ready/")
    assert ready.status_code == 503 and ready.json()["status"] == "lagging"

    work()  # a worker catches up
    assert Client().get("/api/user/ready/").status_code == 200
