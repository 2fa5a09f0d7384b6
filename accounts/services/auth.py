"""Accounts by email: one-time tokens, login, logout, password reset and change.

Registration and email verification build on these in ``accounts.services.registration``.
Every entry point counts itself against the rate limits once per call (so aliased
fields in one GraphQL document each count), answers known and unknown emails alike,
and sends its email only after the transaction commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_sign_in_failed, audit_user_event
from accounts.emails import email_send, frontend_url
from accounts.models import (
    OneTimeToken,
    ProfileData,
    ResetPasswordToken,
    User,
    VerificationToken,
    email_normalize,
)
from accounts.ratelimit import (
    client_address,
    rate_limit_hit,
    rate_limits_hit,
    rate_limits_undo,
)
from accounts.services.mfa import MfaChallenge, has_second_factor, mfa_challenge_start
from accounts.services.ownership import email_ownership_prove
from accounts.services.sso import sso_enforced_for, sso_required_for
from accounts.tokens import Purpose, token_hash, token_new
from backend.errors import (
    AccountDisabled,
    EmailNotVerified,
    Invalid,
    InvalidCredentials,
    SsoRequired,
    TokenExpired,
    TokenInvalid,
)

logger = logging.getLogger(__name__)

PASSWORD_BACKEND = "accounts.backends.EmailBackend"


# Input --------------------------------------------------------------------------------


def password_validate(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise Invalid.from_validation_error(error, field=field) from error


def hasher_run(password: str) -> None:
    """Spend the time of a password check when there is no password to check, so an
    unknown email (or an account without a password) answers as slowly as a known one."""
    User().set_password(password)


# Tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TokenKind:
    model: type[OneTimeToken]
    lifetime_setting: str
    template: str  # accounts/email/<template>: the email that carries the token
    path: str  # the frontend page its link opens

    @property
    def lifetime(self) -> timedelta:
        return getattr(settings, self.lifetime_setting)


_TOKEN_KINDS: dict[str, _TokenKind] = {
    Purpose.VERIFY_EMAIL: _TokenKind(
        VerificationToken, "VERIFICATION_TOKEN_LIFETIME", "verify_email", "verify-email"
    ),
    Purpose.RESET_PASSWORD: _TokenKind(
        ResetPasswordToken, "RESET_PASSWORD_TOKEN_LIFETIME", "password_reset", "reset-password"
    ),
}


def token_issue(*, user: User, purpose: str) -> str:
    """A new one-time token of ``purpose`` for ``user``; the older ones of that purpose
    stop working. Answers the token itself, which only the email may carry."""
    kind = _TOKEN_KINDS[purpose]
    token = token_new()
    with transaction.atomic():
        kind.model.objects.filter(user=user).delete()
        kind.model.objects.create(
            user=user,
            token_hash=token_hash(token, purpose=purpose),
            expires_at=timezone.now() + kind.lifetime,
        )
    return token


def token_redeem(*, request: HttpRequest, token: str, purpose: str) -> User:
    """Use up a token of ``purpose``: TOKEN_INVALID when unknown, used or of another
    purpose, TOKEN_EXPIRED when expired. Must run inside the caller's transaction, so a
    failure later in that transaction leaves the token unused."""
    rate_limit_hit(scope="token-address", identity=client_address(request))
    model = _TOKEN_KINDS[purpose].model
    token = (token or "").strip()
    if not token:
        raise TokenInvalid()
    row = model.objects.filter(token_hash=token_hash(token, purpose=purpose)).first()
    if row is None or row.used_at is not None:
        raise TokenInvalid()
    if row.is_expired:
        raise TokenExpired()
    # Conditional update: of two concurrent redemptions only one wins.
    if not model.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise TokenInvalid()
    return User.objects.select_for_update().get(pk=row.user_id)


def token_email_send(user: User, *, purpose: str) -> None:
    """Issue a token of ``purpose`` and email its link (the only time it leaves Roster)."""
    kind = _TOKEN_KINDS[purpose]
    token = token_issue(user=user, purpose=purpose)
    email_send(
        to=user.email,
        template=kind.template,
        context={
            "first_name": first_name_of(user),
            "link": frontend_url(kind.path, token=token),
            "lifetime_hours": lifetime_hours(kind.lifetime),
            "expires_at": timezone.now() + kind.lifetime,
        },
        recipient=user,
    )


def first_name_of(user: User) -> str:
    profile = ProfileData.objects.filter(user=user).only("first_name").first()
    return profile.first_name if profile else ""


def lifetime_hours(lifetime: timedelta) -> int:
    return max(1, round(lifetime.total_seconds() / 3600))


# Sessions -----------------------------------------------------------------------------


def session_start(*, request: HttpRequest, user: User) -> None:
    """Sign ``user`` in: a new session key and a new CSRF token (django's login does both)."""
    auth_login(request, user, backend=PASSWORD_BACKEND)


def email_request_limit(request: HttpRequest, email: str) -> None:
    """Reset and resend requests count per client address and per email."""
    rate_limit_hit(scope="email-request-address", identity=client_address(request))
    rate_limit_hit(scope="email-request-email", identity=email)


# Login and logout ---------------------------------------------------------------------


def user_login(*, request: HttpRequest, email: str, password: str) -> User | MfaChallenge:
    """Start a session, or, for an account with a second factor, a sign-in waiting for it
    (``accounts.services.mfa``). Failures count per email and per client address; the
    hasher runs for unknown emails too, and whether an account is unverified or disabled
    is said only to who knows its password."""
    email = email_normalize(email)
    address = client_address(request)
    if sso_enforced_for(email) is not None:
        # The domain signs in through its organization's provider: a wrong password gets
        # the same answer as a member's right one, so neither tells anything.
        try:
            user = password_check(email=email, address=address, password=password)
        except InvalidCredentials:
            raise SsoRequired() from None
        if sso_required_for(user):
            audit_sign_in_failed("user.login.failed", email=email, user=user, reason="sso")
            raise SsoRequired()
    else:
        user = password_check(email=email, address=address, password=password)
    if not user.is_active:
        audit_sign_in_failed("user.login.failed", email=email, user=user, reason="disabled")
        raise AccountDisabled()
    if not user.email_verified:
        audit_sign_in_failed("user.login.failed", email=email, user=user, reason="unverified")
        raise EmailNotVerified()
    if has_second_factor(user):
        return mfa_challenge_start(request=request, user=user, method="password")
    session_start(request=request, user=user)
    audit_user_event("user.login.succeeded", user, metadata={"method": "password"})
    return user


def password_check(
    *, email: str, address: str, password: str, failure: str = "user.login.failed"
) -> User:
    """The account of ``email`` if ``password`` is its password; INVALID_CREDENTIALS
    otherwise, recorded in the audit trail as ``failure`` (run it outside a transaction
    that the failure rolls back). Each call counts as a failure first and is taken back
    on success, so concurrent calls never get more tries than the limits."""
    login_attempt_count(email=email, address=address)
    user = User.objects.filter(email=email).first() if email else None
    if user is None or not user.has_usable_password():
        hasher_run(password or "")
        audit_sign_in_failed(failure, email=email, user=user, reason="password")
        raise InvalidCredentials()
    if not user.check_password(password or ""):
        audit_sign_in_failed(failure, email=email, user=user, reason="password")
        raise InvalidCredentials()
    login_attempt_succeeded(email=email, address=address)
    return user


def _login_limits(email: str, address: str) -> list[tuple[str, str]]:
    return [("login-email", email), ("login-address", address)]


def login_attempt_count(*, email: str, address: str) -> None:
    """Count an attempt to prove who one is (a password, or a provider's re-authentication)
    as a failure, per email and per client address; RATE_LIMITED past either limit."""
    rate_limits_hit(_login_limits(email, address))


def login_attempt_succeeded(*, email: str, address: str) -> None:
    """Take back the attempt ``login_attempt_count`` counted: only failures count."""
    rate_limits_undo(_login_limits(email, address))


def user_logout(*, request: HttpRequest) -> None:
    """End the session server-side: its cookie is anonymous from now on."""
    user = getattr(request, "user", None)
    auth_logout(request)
    if getattr(user, "is_authenticated", False):
        audit_user_event("user.logout", user)


# Passwords ----------------------------------------------------------------------------


@transaction.atomic
def password_reset_request(*, request: HttpRequest, email: str) -> None:
    """Email a reset link to an active account; the same answer for any email."""
    email = email_normalize(email)
    email_request_limit(request, email)
    # A pending registration has nothing to reset: its owner registers again.
    user = User.objects.filter(
        email=email, is_active=True, pending_registration__isnull=True
    ).first()
    if not email or user is None:
        return
    if sso_required_for(user):
        return  # signs in through its organization's provider only
    token_email_send(user, purpose=Purpose.RESET_PASSWORD)
    audit_user_event("user.password_reset.requested", user, anonymous=True)


@transaction.atomic
def password_reset(*, request: HttpRequest, token: str, new_password: str) -> User:
    """Set a new password with a reset token; every session of the account ends."""
    user = token_redeem(request=request, token=token, purpose=Purpose.RESET_PASSWORD)
    password_validate(new_password, user=user, field="newPassword")
    password_set(user, new_password)
    # The link reached the inbox, so the address is proven.
    email_ownership_prove(user=user, keeps_password=True)
    audit_user_event("user.password.reset", user)
    return user


def password_change(
    *, request: HttpRequest, actor: User, current_password: str, new_password: str
) -> User:
    """Change the viewer's password; their other sessions end, this one stays. (The
    current password is checked before the change's transaction: a wrong one stays
    recorded.)"""
    email = actor.email
    address = client_address(request)
    try:
        user = password_check(
            email=email,
            address=address,
            password=current_password,
            failure="user.password.change_failed",
        )
    except InvalidCredentials as error:
        raise InvalidCredentials(
            gettext("The current password is not correct."), field="currentPassword"
        ) from error
    with transaction.atomic():
        password_validate(new_password, user=user, field="newPassword")
        password_set(user, new_password)
        update_session_auth_hash(request, user)
        audit_user_event("user.password.changed", user)
    return user


def password_set(user: User, password: str) -> None:
    # A new password hash changes the session auth hash: every session of the account
    # signed in with the old one is flushed on its next request.
    user.set_password(password)
    user.save(update_fields=["password"])
    ResetPasswordToken.objects.filter(user=user).delete()
    email_send(
        to=user.email,
        template="password_changed",
        context={
            "first_name": first_name_of(user),
            "reset_link": frontend_url("reset-password"),
        },
        recipient=user,
    )
