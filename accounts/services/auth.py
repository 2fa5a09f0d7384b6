"""Accounts by email: register, verify, login, logout, password reset and change.

Every entry point counts itself against the rate limits once per call (so aliased
fields in one GraphQL document each count), answers known and unknown emails alike,
and sends its email only after the transaction commits.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.emails import email_send, frontend_url
from accounts.models import (
    OneTimeToken,
    Organization,
    ProfileData,
    ResetPasswordToken,
    User,
    VerificationToken,
    email_normalize,
)
from accounts.ratelimit import client_address, rate_limit_hit, rate_limit_undo
from accounts.services.invitations import invitation_join_new_user
from accounts.services.organizations import organization_create
from accounts.services.ownership import email_ownership_prove
from accounts.signals import user_look_alike_built
from accounts.tokens import Purpose, token_hash, token_new
from backend.errors import (
    AccountDisabled,
    EmailNotVerified,
    Invalid,
    InvalidCredentials,
    RateLimited,
    TokenExpired,
    TokenInvalid,
)
from backend.validation import fields_validate

logger = logging.getLogger(__name__)

PASSWORD_BACKEND = "accounts.backends.EmailBackend"
LOOK_ALIKE_PK = -1


# Input --------------------------------------------------------------------------------


def _registration_validate(
    *, email: str, first_name: str, last_name: str, organization_name: str | None
) -> None:
    """The models' own validators, every failing field reported (``None``: no organization
    to create)."""
    errors = []
    checks = [
        (User(email=email), ["email"], None),
        (
            ProfileData(first_name=first_name, last_name=last_name),
            ["first_name", "last_name"],
            None,
        ),
    ]
    if organization_name is not None:
        checks.append(
            (Organization(name=organization_name), ["name"], {"name": "organizationName"})
        )
    for instance, fields, names in checks:
        try:
            fields_validate(instance, fields, names=names)
        except Invalid as error:
            errors.extend(error.messages)
    if errors:
        raise Invalid(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)


def _password_validate(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise Invalid.from_validation_error(error, field=field) from error


def _hasher_run(password: str) -> None:
    """Spend the time of a password check when there is no password to check, so an
    unknown email (or an account without a password) answers as slowly as a known one."""
    User().set_password(password)


# Tokens -------------------------------------------------------------------------------

_TOKEN_KINDS: dict[str, tuple[type[OneTimeToken], str]] = {
    Purpose.VERIFY_EMAIL: (VerificationToken, "VERIFICATION_TOKEN_LIFETIME"),
    Purpose.RESET_PASSWORD: (ResetPasswordToken, "RESET_PASSWORD_TOKEN_LIFETIME"),
}


def token_issue(*, user: User, purpose: str) -> str:
    """A new one-time token of ``purpose`` for ``user``; the older ones of that purpose
    stop working. Answers the token itself, which only the email may carry."""
    model, lifetime_setting = _TOKEN_KINDS[purpose]
    lifetime: timedelta = getattr(settings, lifetime_setting)
    token = token_new()
    with transaction.atomic():
        model.objects.filter(user=user).delete()
        model.objects.create(
            user=user,
            token_hash=token_hash(token, purpose=purpose),
            expires_at=timezone.now() + lifetime,
        )
    return token


def token_redeem(*, request: HttpRequest, token: str, purpose: str) -> User:
    """Use up a token of ``purpose``: TOKEN_INVALID when unknown, used or of another
    purpose, TOKEN_EXPIRED when expired. Must run inside the caller's transaction, so a
    failure later in that transaction leaves the token unused."""
    rate_limit_hit(scope="token-address", identity=client_address(request))
    model, _ = _TOKEN_KINDS[purpose]
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


def _token_email_send(user: User, *, purpose: str, template: str, path: str, lifetime) -> None:
    """Issue a token of ``purpose`` and email its link (the only time it leaves Roster)."""
    token = token_issue(user=user, purpose=purpose)
    email_send(
        to=user.email,
        template=template,
        context={
            "first_name": _first_name(user),
            "link": frontend_url(path, token=token),
            "lifetime_hours": _hours(lifetime),
        },
    )


def _verification_email_send(user: User) -> None:
    _token_email_send(
        user,
        purpose=Purpose.VERIFY_EMAIL,
        template="verify_email",
        path="verify-email",
        lifetime=settings.VERIFICATION_TOKEN_LIFETIME,
    )


def _first_name(user: User) -> str:
    profile = ProfileData.objects.filter(user=user).only("first_name").first()
    return profile.first_name if profile else ""


def _hours(lifetime: timedelta) -> int:
    return max(1, round(lifetime.total_seconds() / 3600))


# Sessions -----------------------------------------------------------------------------


def session_start(*, request: HttpRequest, user: User) -> None:
    """Sign ``user`` in: a new session key and a new CSRF token (django's login does both)."""
    auth_login(request, user, backend=PASSWORD_BACKEND)


# Register -----------------------------------------------------------------------------


def user_register(
    *,
    request: HttpRequest,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    organization_name: str | None = None,
    invitation_token: str | None = None,
) -> User:
    """Create an account and email its verification link.

    Without ``invitation_token`` the account gets a new organization on the default plan
    and administers it; with one it joins the inviting organization (and, its email being
    proven by the invitation, is signed in at once). An email that already has an account
    answers exactly like a success (an unsaved look-alike of the account) and its owner
    is emailed a notice instead.
    """
    rate_limit_hit(scope="register-address", identity=client_address(request))
    email = email_normalize(email)
    first_name = (first_name or "").strip()
    last_name = (last_name or "").strip()
    invitation_token = (invitation_token or "").strip() or None
    organization_name = (organization_name or "").strip()
    _registration_validate(
        email=email,
        first_name=first_name,
        last_name=last_name,
        # Joining by invitation creates no organization: a name is neither needed nor checked.
        organization_name=organization_name if invitation_token is None else None,
    )
    candidate = User(email=email)
    candidate.profile = ProfileData(first_name=first_name, last_name=last_name)
    _password_validate(password, user=candidate, field="password")

    user, created = _user_create(
        candidate=candidate,
        password=password,
        organization_name=organization_name,
        invitation_token=invitation_token,
    )
    if created and user.email_verified and user.is_active:
        session_start(request=request, user=user)
    return user


def _user_create(
    *,
    candidate: User,
    password: str,
    organization_name: str,
    invitation_token: str | None,
) -> tuple[User, bool]:
    existing = User.objects.filter(email=candidate.email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=candidate.email,
                    password=password,
                    first_name=candidate.profile.first_name,
                    last_name=candidate.profile.last_name,
                )
                if invitation_token is not None:
                    invitation_join_new_user(user=user, token=invitation_token)
                    user.refresh_from_db()
                else:
                    organization_create(name=organization_name, administrator=user)
                if not user.email_verified:
                    _verification_email_send(user)
                return user, True
        except IntegrityError:
            # Registered concurrently a moment ago: answer as for any existing account.
            existing = User.objects.filter(email=candidate.email).first()
            if existing is None:
                raise
    look_alike = _user_exists_answer(
        existing=existing,
        candidate=candidate,
        password=password,
        organization_name=organization_name,
        invitation_token=invitation_token,
    )
    return look_alike, False


def _user_exists_answer(
    *,
    existing: User,
    candidate: User,
    password: str,
    organization_name: str,
    invitation_token: str | None,
) -> User:
    """Email the owner of the address and answer what a fresh registration would."""
    _hasher_run(password)
    email_send(
        to=existing.email,
        template="account_exists",
        context={
            "first_name": _first_name(existing),
            "login_link": frontend_url("login"),
            "reset_link": frontend_url("reset-password"),
            "invited": invitation_token is not None,
        },
    )
    if invitation_token is not None:
        # An account cannot be created into the invitation: its owner signs in and
        # accepts it (the notice says so). A bogus token answers this for new emails too.
        raise TokenInvalid()
    # Never saved. Its key matches no row, so every relation of it reads as empty, as
    # the relations of a fresh account read for an anonymous viewer.
    look_alike = User(
        pk=LOOK_ALIKE_PK,
        guid=uuid.uuid4(),
        email=candidate.email,
        organization=Organization(name=organization_name, plan=settings.DEFAULT_SUBSCRIPTION),
    )
    look_alike.profile = ProfileData(
        user=look_alike,
        first_name=candidate.profile.first_name,
        last_name=candidate.profile.last_name,
    )
    user_look_alike_built.send(sender=User, user=look_alike)
    return look_alike


# Email verification -------------------------------------------------------------------


@transaction.atomic
def email_verify(*, request: HttpRequest, token: str) -> User:
    user = token_redeem(request=request, token=token, purpose=Purpose.VERIFY_EMAIL)
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


def _email_request_limit(request: HttpRequest, email: str) -> None:
    rate_limit_hit(scope="email-request-address", identity=client_address(request))
    rate_limit_hit(scope="email-request-email", identity=email)


@transaction.atomic
def verification_email_resend(*, request: HttpRequest, email: str) -> None:
    """Send a new verification link to an unverified account; the same answer otherwise."""
    email = email_normalize(email)
    _email_request_limit(request, email)
    user = User.objects.filter(email=email, is_active=True, email_verified=False).first()
    if email and user is not None:
        _verification_email_send(user)


# Login and logout ---------------------------------------------------------------------


def user_login(*, request: HttpRequest, email: str, password: str) -> User:
    """Start a session. Failures count per email and per client address; the hasher runs
    for unknown emails too, and whether an account is unverified or disabled is said
    only to who knows its password."""
    email = email_normalize(email)
    address = client_address(request)
    user = password_check(email=email, address=address, password=password)
    if not user.is_active:
        raise AccountDisabled()
    if not user.email_verified:
        raise EmailNotVerified()
    session_start(request=request, user=user)
    return user


def password_check(*, email: str, address: str, password: str) -> User:
    """The account of ``email`` if ``password`` is its password; INVALID_CREDENTIALS
    otherwise. Each call counts as a failure first and is taken back on success, so
    concurrent calls never get more tries than the limits."""
    rate_limit_hit(scope="login-email", identity=email)
    try:
        rate_limit_hit(scope="login-address", identity=address)
    except RateLimited:
        rate_limit_undo(scope="login-email", identity=email)
        raise
    user = User.objects.filter(email=email).first() if email else None
    if user is None or not user.has_usable_password():
        _hasher_run(password or "")
        raise InvalidCredentials()
    if not user.check_password(password or ""):
        raise InvalidCredentials()
    rate_limit_undo(scope="login-email", identity=email)
    rate_limit_undo(scope="login-address", identity=address)
    return user


def user_logout(*, request: HttpRequest) -> None:
    """End the session server-side: its cookie is anonymous from now on."""
    auth_logout(request)


# Passwords ----------------------------------------------------------------------------


@transaction.atomic
def password_reset_request(*, request: HttpRequest, email: str) -> None:
    """Email a reset link to an active account; the same answer for any email."""
    email = email_normalize(email)
    _email_request_limit(request, email)
    user = User.objects.filter(email=email, is_active=True).first()
    if not email or user is None:
        return
    _token_email_send(
        user,
        purpose=Purpose.RESET_PASSWORD,
        template="password_reset",
        path="reset-password",
        lifetime=settings.RESET_PASSWORD_TOKEN_LIFETIME,
    )


@transaction.atomic
def password_reset(*, request: HttpRequest, token: str, new_password: str) -> User:
    """Set a new password with a reset token; every session of the account ends."""
    user = token_redeem(request=request, token=token, purpose=Purpose.RESET_PASSWORD)
    _password_validate(new_password, user=user, field="newPassword")
    _password_set(user, new_password)
    # The link reached the inbox, so the address is proven.
    email_ownership_prove(user=user, keeps_password=True)
    return user


@transaction.atomic
def password_change(
    *, request: HttpRequest, actor: User, current_password: str, new_password: str
) -> User:
    """Change the viewer's password; their other sessions end, this one stays."""
    email = actor.email
    address = client_address(request)
    try:
        user = password_check(email=email, address=address, password=current_password)
    except InvalidCredentials as error:
        raise InvalidCredentials(
            "The current password is not correct.", field="currentPassword"
        ) from error
    _password_validate(new_password, user=user, field="newPassword")
    _password_set(user, new_password)
    update_session_auth_hash(request, user)
    return user


def _password_set(user: User, password: str) -> None:
    # A new password hash changes the session auth hash: every session of the account
    # signed in with the old one is flushed on its next request.
    user.set_password(password)
    user.save(update_fields=["password"])
    ResetPasswordToken.objects.filter(user=user).delete()
    email_send(
        to=user.email,
        template="password_changed",
        context={
            "first_name": _first_name(user),
            "reset_link": frontend_url("reset-password"),
        },
    )
