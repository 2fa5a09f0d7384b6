"""The whole email-account journey over HTTP, with real commits (emails sent on commit)."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.emails import emails_deliver_to
from accounts.models import OutgoingEmail, User
from accounts.services import auth
from accounts.tokens import Purpose
from tests.accounts.auth_helpers import (
    OTHER_PASSWORD,
    STRONG_PASSWORD,
    USER_FIELDS,
    mails_to,
    register_input,
    session_cookie,
    token_from,
)
from tests.conftest import GraphQLClient, operation_codes

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "journey@example.com"
ME = "{ me { email emailVerified firstName organization { name } permissionGroups { name } } }"


def test_register_verify_login_logout_reset_change(settings):
    settings.FRONTEND_URL = "https://app.example.org"
    client = GraphQLClient()
    tokens = []

    registered = client.mutate("register", register_input(email=EMAIL), USER_FIELDS)
    assert registered["__typename"] == "User"
    verification = token_from(mails_to(EMAIL)[-1], "/verify-email")
    tokens.append(verification)

    verified = client.mutate("verifyEmail", {"token": verification}, USER_FIELDS)
    assert verified["emailVerified"] is True

    login = {"email": EMAIL, "password": STRONG_PASSWORD}
    assert client.mutate("login", login, USER_FIELDS)["__typename"] == "User"
    me = client.execute(ME).data["me"]
    assert me == {
        "email": EMAIL,
        "emailVerified": True,
        "firstName": "Ada",
        "organization": {"name": "Analytical Engines"},
        "permissionGroups": [{"name": "Administrators"}],
    }

    assert client.mutate("logout", None, "... on LoggedOut { ok }")["ok"] is True
    assert client.execute(ME).data["me"] is None

    requested = client.mutate("requestPasswordReset", {"email": EMAIL}, "__typename")
    assert requested["__typename"] == "EmailRequestAccepted"
    reset_token = token_from(mails_to(EMAIL)[-1], "/reset-password")
    tokens.append(reset_token)
    reset = client.mutate(
        "resetPassword", {"token": reset_token, "newPassword": OTHER_PASSWORD}, USER_FIELDS
    )
    assert reset["__typename"] == "User"
    assert client.execute(ME).data["me"] is None  # a reset does not sign in

    login["password"] = OTHER_PASSWORD
    assert client.mutate("login", login, USER_FIELDS)["__typename"] == "User"
    changed = client.mutate(
        "changePassword",
        {"currentPassword": OTHER_PASSWORD, "newPassword": "a-third-password-77"},
        USER_FIELDS,
    )
    assert changed["__typename"] == "User"
    assert client.execute(ME).data["me"]["email"] == EMAIL
    assert session_cookie(client)

    messages = mails_to(EMAIL)
    assert len(messages) == 4  # verify, reset, changed (reset), changed (change)
    for message in messages:
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert html.lstrip().startswith("<!DOCTYPE html>")
        assert message.subject and "\n" not in message.subject

    # No token is ever stored in plain text, anywhere in the database.
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    for token in tokens:
        assert token not in dump.getvalue()


def test_failing_mail_server_loses_nothing(settings):
    settings.EMAIL_BACKEND = "tests.accounts.test_register.BrokenEmailBackend"
    client = GraphQLClient()
    assert client.mutate("register", register_input(email=EMAIL), "__typename") == {
        "__typename": "User"
    }
    assert User.objects.filter(email=EMAIL).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.mutate("resendVerificationEmail", {"email": EMAIL}, "__typename")
    # The new email waits behind the first one's next attempt: the order holds.
    assert mail.outbox == []
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    assert emails_deliver_to(EMAIL) == 2
    first, second = mails_to(EMAIL)
    assert token_from(first, "/verify-email") != token_from(second, "/verify-email")
    token = token_from(second, "/verify-email")
    assert client.mutate("verifyEmail", {"token": token}, USER_FIELDS)["emailVerified"] is True


@pytest.mark.postgres
def test_concurrent_redemptions_of_one_token_succeed_once():
    client = GraphQLClient()
    client.mutate("register", register_input(email=EMAIL), "__typename")
    user = User.objects.get(email=EMAIL)
    token = auth.token_issue(user=user, purpose=Purpose.RESET_PASSWORD)
    barrier = threading.Barrier(4)
    answers = []

    def redeem(index):
        try:
            barrier.wait()
            answers.append(
                GraphQLClient(REMOTE_ADDR=f"10.9.9.{index}").mutate(
                    "resetPassword",
                    {"token": token, "newPassword": f"concurrent-pass-{index}-xyz"},
                    "__typename",
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [a for a in answers if a["__typename"] == "User"]
    losers = [a for a in answers if a["__typename"] == "OperationInfo"]
    assert len(winners) == 1
    assert len(losers) == 3
    assert all(operation_codes(a) == ["TOKEN_INVALID"] for a in losers)
