"""verifyEmail and resendVerificationEmail: one-time, hashed, expiring, purpose-bound tokens."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import ResetPasswordToken, User, VerificationToken
from accounts.tokens import Purpose, token_hash
from tests.accounts.auth_helpers import (
    STRONG_PASSWORD,
    USER_FIELDS,
    mails_to,
    register_input,
    token_from,
)
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACCEPTED = "... on EmailRequestAccepted { ok }"


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Run the on-commit email callbacks of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def register(client, send_now, email="new.person@example.com") -> str:
    """Register and answer the token of the verification email."""
    mail.outbox.clear()
    with send_now():
        payload = client.mutate("register", register_input(email=email), USER_FIELDS)
    assert payload["__typename"] == "User", payload
    [message] = mails_to(email)
    return token_from(message, "/verify-email")


def verify(client, token):
    return client.mutate("verifyEmail", {"token": token}, USER_FIELDS)


def resend(client, email, send_now):
    with send_now():
        return client.mutate("resendVerificationEmail", {"email": email}, ACCEPTED)


def test_verify_email_marks_the_email_verified_and_allows_login(gql, send_now):
    token = register(gql, send_now)
    login = {"email": "new.person@example.com", "password": STRONG_PASSWORD}
    assert operation_codes(gql.mutate("login", login, USER_FIELDS)) == ["EMAIL_NOT_VERIFIED"]

    payload = verify(gql, token)

    assert payload["__typename"] == "User"
    assert payload["emailVerified"] is True
    assert User.objects.get(email="new.person@example.com").email_verified
    assert gql.mutate("login", login, USER_FIELDS)["__typename"] == "User"


def test_token_is_stored_only_as_its_purpose_bound_hash(gql, send_now):
    token = register(gql, send_now)
    row = VerificationToken.objects.get()
    assert row.token_hash == token_hash(token, purpose=Purpose.VERIFY_EMAIL)
    assert row.token_hash != token_hash(token, purpose=Purpose.RESET_PASSWORD)
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert token not in dump.getvalue()
    assert len(token) >= 40


def test_token_lifetime_comes_from_settings(gql, send_now, settings):
    settings.VERIFICATION_TOKEN_LIFETIME = timedelta(hours=2)
    register(gql, send_now)
    row = VerificationToken.objects.get()
    assert abs(row.expires_at - (timezone.now() + timedelta(hours=2))) < timedelta(minutes=1)


def test_token_is_single_use(gql, send_now):
    token = register(gql, send_now)
    assert verify(gql, token)["__typename"] == "User"
    assert operation_codes(verify(gql, token)) == ["TOKEN_INVALID"]


def test_expired_token_answers_token_expired_and_changes_nothing(gql, send_now):
    token = register(gql, send_now)
    VerificationToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert operation_codes(verify(gql, token)) == ["TOKEN_EXPIRED"]

    assert not User.objects.get(email="new.person@example.com").email_verified
    assert VerificationToken.objects.get().used_at is None


@pytest.mark.parametrize("token", ["", "unknown-token", "x" * 500])
def test_unknown_token_answers_token_invalid(gql, send_now, token):
    register(gql, send_now)
    assert operation_codes(verify(gql, token)) == ["TOKEN_INVALID"]
    assert not User.objects.get(email="new.person@example.com").email_verified


def test_reset_token_does_not_verify_an_email(gql, send_now):
    # An unverified account that is not a pending registration (made by staff, say): it
    # can be reset, and its owner sets a password when verifying from this browser.
    UserFactory(email="new.person@example.com", email_verified=False)
    resend(gql, "new.person@example.com", send_now)
    verification = token_from(mails_to("new.person@example.com")[-1], "/verify-email")
    with send_now():
        gql.mutate("requestPasswordReset", {"email": "new.person@example.com"}, ACCEPTED)
    reset_token = token_from(mails_to("new.person@example.com")[-1], "/reset-password")

    assert operation_codes(verify(gql, reset_token)) == ["TOKEN_INVALID"]
    assert not User.objects.get(email="new.person@example.com").email_verified
    assert ResetPasswordToken.objects.get().used_at is None
    # A token of another purpose leaves the verification token working.
    completed = gql.mutate(
        "verifyEmail", {"token": verification, "newPassword": STRONG_PASSWORD}, USER_FIELDS
    )
    assert completed["emailVerified"] is True


def test_resend_invalidates_the_older_token(gql, send_now):
    old_token = register(gql, send_now)
    assert resend(gql, "New.Person@example.com", send_now) == {
        "__typename": "EmailRequestAccepted",
        "ok": True,
    }
    new_token = token_from(mails_to("new.person@example.com")[-1], "/verify-email")
    assert new_token != old_token

    assert operation_codes(verify(gql, old_token)) == ["TOKEN_INVALID"]
    assert verify(gql, new_token)["emailVerified"] is True


def test_resend_answers_the_same_for_any_email(gql, send_now, organization):
    register(gql, send_now, email="unverified@example.com")
    verified = UserFactory(organization=organization, email_verified=True)
    mail.outbox.clear()

    answers = [
        resend(gql, email, send_now)
        for email in ("unverified@example.com", verified.email, "nobody@example.com")
    ]

    assert answers[0] == answers[1] == answers[2]
    assert [m.to for m in mail.outbox] == [["unverified@example.com"]]


def test_resend_is_limited_per_email_and_per_address(gql, send_now, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "email-request-email": (2, 3600),
        "email-request-address": (4, 3600),
    }
    register(gql, send_now)
    mail.outbox.clear()
    assert resend(gql, "new.person@example.com", send_now)["__typename"] == "EmailRequestAccepted"
    assert resend(gql, "new.person@example.com", send_now)["__typename"] == "EmailRequestAccepted"
    other_address = GraphQLClient(REMOTE_ADDR="10.3.3.3")
    refused = resend(other_address, "new.person@example.com", send_now)
    assert operation_codes(refused) == ["RATE_LIMITED"]
    assert len(mail.outbox) == 2
    # Per address: two more emails, then refused whatever the email.
    assert resend(gql, "a@example.com", send_now)["__typename"] == "EmailRequestAccepted"
    assert resend(gql, "b@example.com", send_now)["__typename"] == "EmailRequestAccepted"
    assert operation_codes(resend(gql, "c@example.com", send_now)) == ["RATE_LIMITED"]


def test_token_redemptions_are_limited_per_address(gql, send_now, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token-address": (3, 900)}
    token = register(gql, send_now)
    for index in range(3):
        assert operation_codes(verify(gql, f"guess-{index}")) == ["TOKEN_INVALID"]
    assert operation_codes(verify(gql, token)) == ["RATE_LIMITED"]
    assert not User.objects.get(email="new.person@example.com").email_verified
    completion = {"token": token, "newPassword": STRONG_PASSWORD, "organizationName": "Acme"}
    other_address = GraphQLClient(REMOTE_ADDR="10.4.4.4")
    assert other_address.mutate("verifyEmail", completion, USER_FIELDS)["emailVerified"] is True


def test_aliased_token_guesses_are_refused_as_a_whole(gql, send_now):
    token = register(gql, send_now)
    fields = " ".join(
        f'g{i}: verifyEmail(input: {{token: "guess-{i}"}}) {{ __typename }}' for i in range(5)
    )
    result = gql.execute(
        "mutation($t: String!) { "
        + fields
        + " real: verifyEmail(input: {token: $t}) { __typename } }",
        {"t": token},
    )
    assert result.errors and result.data is None
    assert VerificationToken.objects.get().used_at is None
    assert not User.objects.get(email="new.person@example.com").email_verified


def test_aliased_token_guesses_count_one_by_one(gql, send_now, settings, monkeypatch):
    """Defence in depth: without the one-sensitive-field rule each alias still counts."""
    monkeypatch.setattr("schema.limits.SENSITIVE_FIELDS", frozenset())
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token-address": (3, 900)}
    token = register(gql, send_now)
    fields = " ".join(
        f'g{i}: verifyEmail(input: {{token: "guess-{i}"}}) {{ ... on OperationInfo {{ messages {{ code }} }} }}'
        for i in range(10)
    )
    document = (
        "mutation($t: String!) { "
        + fields
        + " real: verifyEmail(input: {token: $t}) { ... on OperationInfo { messages { code } } } }"
    )
    result = gql.execute(document, {"t": token})
    codes = [result.data[f"g{i}"]["messages"][0]["code"] for i in range(10)]
    assert codes == ["TOKEN_INVALID"] * 3 + ["RATE_LIMITED"] * 7
    assert result.data["real"]["messages"][0]["code"] == "RATE_LIMITED"
