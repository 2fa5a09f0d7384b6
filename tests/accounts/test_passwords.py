"""requestPasswordReset, resetPassword and changePassword through the real endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import ResetPasswordToken
from accounts.tokens import Purpose, token_hash
from tests.accounts.auth_helpers import (
    OTHER_PASSWORD,
    STRONG_PASSWORD,
    USER_FIELDS,
    mails_to,
    token_from,
)
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ACCEPTED = "... on EmailRequestAccepted { ok }"
ME = "{ me { email } }"


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def request_reset(client, email, send_now):
    with send_now():
        return client.mutate("requestPasswordReset", {"email": email}, ACCEPTED)


def reset_token(client, user, send_now) -> str:
    request_reset(client, user.email, send_now)
    return token_from(mails_to(user.email)[-1], "/reset-password")


def reset(client, token, new_password=STRONG_PASSWORD, send_now=None):
    data = {"token": token, "newPassword": new_password}
    if send_now is None:
        return client.mutate("resetPassword", data, USER_FIELDS)
    with send_now():
        return client.mutate("resetPassword", data, USER_FIELDS)


def change(client, current, new, send_now=None):
    data = {"currentPassword": current, "newPassword": new}
    if send_now is None:
        return client.mutate("changePassword", data, USER_FIELDS)
    with send_now():
        return client.mutate("changePassword", data, USER_FIELDS)


def signed_in(user) -> GraphQLClient:
    client = GraphQLClient()
    payload = client.mutate("login", {"email": user.email, "password": PASSWORD}, USER_FIELDS)
    assert payload["__typename"] == "User", payload
    return client


def password_works(user, password) -> bool:
    user.refresh_from_db()
    return user.check_password(password)


# requestPasswordReset ---------------------------------------------------------------


def test_request_answers_the_same_for_known_and_unknown_emails(gql, user, send_now):
    known = request_reset(gql, user.email.upper(), send_now)
    unknown = request_reset(gql, "nobody@example.com", send_now)
    assert known == unknown == {"__typename": "EmailRequestAccepted", "ok": True}
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_request_emails_a_link_and_stores_only_the_hash(gql, user, send_now, settings):
    settings.FRONTEND_URL = "https://app.example.org"
    token = reset_token(gql, user, send_now)
    [message] = mail.outbox
    assert "https://app.example.org/reset-password?token=" in message.body
    assert "text/html" in [mimetype for _, mimetype in message.alternatives]
    row = ResetPasswordToken.objects.get(user=user)
    assert row.token_hash == token_hash(token, purpose=Purpose.RESET_PASSWORD)
    assert abs(
        row.expires_at - (timezone.now() + settings.RESET_PASSWORD_TOKEN_LIFETIME)
    ) < timedelta(minutes=1)


def test_disabled_account_gets_no_reset_email(gql, organization, send_now):
    disabled = UserFactory(organization=organization, is_active=False)
    assert request_reset(gql, disabled.email, send_now)["ok"] is True
    assert mail.outbox == []


def test_requests_are_limited_per_email_and_per_address(gql, user, send_now, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "email-request-email": (2, 3600),
        "email-request-address": (3, 3600),
    }
    assert request_reset(gql, user.email, send_now)["ok"] is True
    assert request_reset(gql, user.email, send_now)["ok"] is True
    elsewhere = GraphQLClient(REMOTE_ADDR="10.5.5.5")
    assert operation_codes(request_reset(elsewhere, user.email, send_now)) == ["RATE_LIMITED"]
    assert len(mail.outbox) == 2
    assert request_reset(gql, "someone@example.com", send_now)["ok"] is True
    assert operation_codes(request_reset(gql, "else@example.com", send_now)) == ["RATE_LIMITED"]


# resetPassword ----------------------------------------------------------------------


def test_reset_sets_the_password_and_ends_every_session(gql, user, send_now):
    other_device = signed_in(user)
    assert other_device.execute(ME).data["me"] is not None
    token = reset_token(gql, user, send_now)
    mail.outbox.clear()

    payload = reset(gql, token, OTHER_PASSWORD, send_now)

    assert payload["__typename"] == "User"
    assert password_works(user, OTHER_PASSWORD)
    assert other_device.execute(ME).data == {"me": None}
    [notice] = mail.outbox
    assert notice.to == [user.email]
    assert "password" in notice.subject.lower()
    login = {"email": user.email, "password": PASSWORD}
    assert operation_codes(gql.mutate("login", login, USER_FIELDS)) == ["INVALID_CREDENTIALS"]
    login["password"] = OTHER_PASSWORD
    assert gql.mutate("login", login, USER_FIELDS)["__typename"] == "User"


def test_reset_proves_the_email(gql, organization, send_now):
    unverified = UserFactory(organization=organization, email_verified=False)
    token = reset_token(gql, unverified, send_now)
    assert reset(gql, token)["emailVerified"] is True
    login = {"email": unverified.email, "password": STRONG_PASSWORD}
    assert gql.mutate("login", login, USER_FIELDS)["__typename"] == "User"


def test_reset_that_proves_the_email_revokes_unproven_identities(gql, organization, send_now):
    """Someone whose provider claimed this address unverified loses the linked identity once
    the real owner proves the address with a reset link (no pre-registration takeover)."""
    from accounts.models import UserExternalAuthentication

    unverified = UserFactory(organization=organization, email_verified=False)
    UserExternalAuthentication.objects.create(
        user=unverified, provider="https://idp.example.com", external_id="squatter"
    )
    verified = UserFactory(organization=organization)
    UserExternalAuthentication.objects.create(
        user=verified, provider="https://idp.example.com", external_id="owner"
    )
    reset(gql, reset_token(gql, unverified, send_now))
    reset(gql, reset_token(gql, verified, send_now))
    assert not UserExternalAuthentication.objects.filter(user=unverified).exists()
    assert UserExternalAuthentication.objects.filter(user=verified).exists()


def test_reset_token_is_single_use(gql, user, send_now):
    token = reset_token(gql, user, send_now)
    assert reset(gql, token)["__typename"] == "User"
    assert operation_codes(reset(gql, token, OTHER_PASSWORD)) == ["TOKEN_INVALID"]
    assert password_works(user, STRONG_PASSWORD)


def test_expired_reset_token_changes_nothing(gql, user, send_now):
    token = reset_token(gql, user, send_now)
    ResetPasswordToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert operation_codes(reset(gql, token)) == ["TOKEN_EXPIRED"]
    assert password_works(user, PASSWORD)


@pytest.mark.parametrize("token", ["", "made-up"])
def test_unknown_reset_token_changes_nothing(gql, user, token):
    assert operation_codes(reset(gql, token)) == ["TOKEN_INVALID"]
    assert password_works(user, PASSWORD)


def test_verification_token_does_not_reset_a_password(gql, organization, send_now):
    with send_now():
        gql.mutate(
            "register",
            {
                "email": "fresh@example.com",
                "password": STRONG_PASSWORD,
                "organizationName": "Fresh",
            },
            USER_FIELDS,
        )
    verification = token_from(mails_to("fresh@example.com")[0], "/verify-email")
    assert operation_codes(reset(gql, verification, OTHER_PASSWORD)) == ["TOKEN_INVALID"]


def test_a_new_reset_request_invalidates_the_older_token(gql, user, send_now):
    first = reset_token(gql, user, send_now)
    second = reset_token(gql, user, send_now)
    assert operation_codes(reset(gql, first)) == ["TOKEN_INVALID"]
    assert reset(gql, second)["__typename"] == "User"


def test_weak_new_password_is_refused_and_the_token_stays_usable(gql, user, send_now):
    token = reset_token(gql, user, send_now)
    payload = reset(gql, token, "short")
    assert "password_too_short" in operation_codes(payload)
    assert {m["field"] for m in payload["messages"]} == {"newPassword"}
    assert password_works(user, PASSWORD)
    assert ResetPasswordToken.objects.get().used_at is None
    assert reset(gql, token)["__typename"] == "User"


def test_reset_redemptions_are_limited_per_address(gql, user, send_now, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token-address": (2, 900)}
    token = reset_token(gql, user, send_now)
    assert operation_codes(reset(gql, "guess-1")) == ["TOKEN_INVALID"]
    assert operation_codes(reset(gql, "guess-2")) == ["TOKEN_INVALID"]
    assert operation_codes(reset(gql, token)) == ["RATE_LIMITED"]
    assert password_works(user, PASSWORD)


# changePassword ---------------------------------------------------------------------


def test_change_needs_a_signed_in_user(gql, user):
    assert operation_codes(change(gql, PASSWORD, STRONG_PASSWORD)) == ["UNAUTHENTICATED"]
    assert password_works(user, PASSWORD)


def test_change_keeps_this_session_and_ends_the_others(user, send_now):
    this_device = signed_in(user)
    other_device = signed_in(user)

    payload = change(this_device, PASSWORD, STRONG_PASSWORD, send_now)

    assert payload["__typename"] == "User"
    assert payload["email"] == user.email
    assert password_works(user, STRONG_PASSWORD)
    assert this_device.execute(ME).data == {"me": {"email": user.email}}
    assert other_device.execute(ME).data == {"me": None}
    [notice] = mails_to(user.email)
    assert "changed" in notice.subject.lower()


def test_change_with_the_wrong_current_password(user):
    client = signed_in(user)
    payload = change(client, "not my password", STRONG_PASSWORD)
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert payload["messages"][0]["field"] == "currentPassword"
    assert password_works(user, PASSWORD)
    assert client.execute(ME).data["me"] is not None


def test_change_validates_the_new_password(user):
    client = signed_in(user)
    payload = change(client, PASSWORD, user.email)
    assert "password_too_similar" in operation_codes(payload)
    assert {m["field"] for m in payload["messages"]} == {"newPassword"}
    assert password_works(user, PASSWORD)


def test_wrong_current_passwords_are_rate_limited(user, settings):
    client = signed_in(user)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (2, 900)}
    assert operation_codes(change(client, "guess one!", STRONG_PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert operation_codes(change(client, "guess two!", STRONG_PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert operation_codes(change(client, PASSWORD, STRONG_PASSWORD)) == ["RATE_LIMITED"]
    assert password_works(user, PASSWORD)
