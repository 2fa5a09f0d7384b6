"""Registration by email, safe against pre-registration hijacking.

Anyone can type any address into ``register``, so a registration holds nothing until
the address is proven. Without an invitation it makes a *pending* account
(``PendingRegistration``): no organization, no session, a password that does not sign
in. Who proves the address decides what survives:

- the browser that registered (its session holds the account's guid) or the account's
  own signed-in session: the registration completes as asked;
- anyone else: the verification link reached their inbox, so the address is theirs. The
  pending account is discarded with everything its author set (password, names,
  sessions, linked identities), and a new account is made with the password and the
  organization the clicker chooses now.

A new registration of a still-pending address replaces the pending account; pending
accounts expire (``PENDING_REGISTRATION_LIFETIME``, then ``prunependingregistrations``).
An invitation proves the address at once. A proven address answers like a new one
(an unsaved look-alike) and its owner is emailed a notice instead.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_user_event
from accounts.emails import email_send, frontend_url
from accounts.models import Organization, PendingRegistration, ProfileData, User, email_normalize
from accounts.ratelimit import client_address, rate_limit_hit
from accounts.services.auth import (
    email_request_limit,
    first_name_of,
    hasher_run,
    password_set,
    password_validate,
    session_start,
    token_email_send,
    token_redeem,
)
from accounts.services.invitations import invitation_join_new_user
from accounts.services.organizations import organization_create
from accounts.services.ownership import email_ownership_prove, registration_complete
from accounts.signals import user_look_alike_built
from accounts.tokens import Purpose
from backend.errors import Invalid, RegistrationCompletionRequired, TokenExpired, TokenInvalid
from backend.i18n import language_current
from backend.validation import fields_validate

LOOK_ALIKE_PK = -1
# Session key: the guid of the account this browser registered last.
REGISTERED_HERE = "roster.registered"


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

    Without ``invitation_token`` the account is pending until its address is proven
    (then it gets a new organization on the default plan, which it administers); with
    one it joins the inviting organization and, its address being proven by the
    invitation, is signed in at once. A pending account of the same address is replaced.
    An address with a proven account answers exactly like a success (an unsaved
    look-alike of a new account) and its owner is emailed a notice instead.
    """
    rate_limit_hit(scope="register-address", identity=client_address(request))
    email = email_normalize(email)
    first_name = (first_name or "").strip()
    last_name = (last_name or "").strip()
    invitation_token = (invitation_token or "").strip() or None
    organization_name = (organization_name or "").strip()
    candidate = _candidate_validate(
        email=email,
        password=password,
        password_field="password",
        first_name=first_name,
        last_name=last_name,
        # Joining by invitation creates no organization: a name is neither needed nor checked.
        organization_name=organization_name if invitation_token is None else None,
    )
    user, created = _user_create(
        candidate=candidate,
        password=password,
        organization_name=organization_name,
        invitation_token=invitation_token,
    )
    if created and user.email_verified and user.is_active:
        session_start(request=request, user=user)
    else:
        # For verifyEmail: this browser started this registration. A look-alike's guid
        # matches no account, and the session cookie is set alike for every address.
        request.session[REGISTERED_HERE] = str(user.guid)
    return user


def _candidate_validate(
    *,
    email: str,
    password: str,
    password_field: str,
    first_name: str,
    last_name: str,
    organization_name: str | None,
) -> User:
    """An unsaved account of these fields, each checked by the models' own validators and
    the password validators, every failing field reported (``organization_name`` None:
    no organization to create)."""
    candidate = User(email=email)
    candidate.profile = ProfileData(first_name=first_name, last_name=last_name)
    checks = [
        (candidate, ["email"], None),
        (candidate.profile, ["first_name", "last_name"], None),
    ]
    if organization_name is not None:
        checks.append(
            (Organization(name=organization_name), ["name"], {"name": "organizationName"})
        )
    errors = []
    for instance, fields, names in checks:
        try:
            fields_validate(instance, fields, names=names)
        except Invalid as error:
            errors.extend(error.messages)
    if errors:
        raise Invalid(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)
    password_validate(password, user=candidate, field=password_field)
    return candidate


def _user_create(
    *,
    candidate: User,
    password: str,
    organization_name: str,
    invitation_token: str | None,
) -> tuple[User, bool]:
    existing = User.objects.filter(email=candidate.email).first()
    if existing is None or _is_pending(existing):
        try:
            with transaction.atomic():
                if existing is not None:
                    # A new registration replaces a pending one, and with it everything
                    # its author set (the deletion also ends its sessions).
                    existing.delete()
                user = User.objects.create_user(
                    email=candidate.email,
                    password=password,
                    first_name=candidate.profile.first_name,
                    last_name=candidate.profile.last_name,
                    language=language_current(),
                )
                if invitation_token is not None:
                    invitation_join_new_user(user=user, token=invitation_token)
                    user.refresh_from_db()
                else:
                    pending_registration_start(user=user, organization_name=organization_name)
                audit_user_event(
                    "user.registered", user, metadata={"invited": invitation_token is not None}
                )
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
        invitation_token=invitation_token,
    )
    return look_alike, False


def _is_pending(user: User) -> bool:
    return PendingRegistration.objects.filter(user=user).exists()


def pending_registration_start(*, user: User, organization_name: str) -> PendingRegistration:
    """``user`` waits for its address to be proven (``organization_name``: the organization
    it gets then); emails the verification link."""
    pending = PendingRegistration.objects.create(
        user=user,
        organization_name=organization_name,
        expires_at=timezone.now() + settings.PENDING_REGISTRATION_LIFETIME,
    )
    token_email_send(user, purpose=Purpose.VERIFY_EMAIL)
    return pending


def _user_exists_answer(
    *,
    existing: User,
    candidate: User,
    password: str,
    invitation_token: str | None,
) -> User:
    """Email the owner of the address and answer what a fresh registration would."""
    hasher_run(password)
    email_send(
        to=existing.email,
        template="account_exists",
        context={
            "first_name": first_name_of(existing),
            "login_link": frontend_url("login"),
            "reset_link": frontend_url("reset-password"),
            "invited": invitation_token is not None,
        },
        recipient=existing,
    )
    if invitation_token is not None:
        # An account cannot be created into the invitation: its owner signs in and
        # accepts it (the notice says so). A bogus token answers this for new emails too.
        raise TokenInvalid()
    # Never saved. Its key matches no row, so every relation of it reads as empty, as
    # the relations of a fresh (pending) account read for an anonymous viewer.
    look_alike = User(pk=LOOK_ALIKE_PK, guid=uuid.uuid4(), email=candidate.email)
    look_alike.profile = ProfileData(
        user=look_alike,
        first_name=candidate.profile.first_name,
        last_name=candidate.profile.last_name,
    )
    user_look_alike_built.send(sender=User, user=look_alike)
    return look_alike


# Email verification -------------------------------------------------------------------


@transaction.atomic
def email_verify(
    *,
    request: HttpRequest,
    token: str,
    new_password: str | None = None,
    organization_name: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """Prove an address with the token from its verification email.

    Opened where the registration started, it completes the registration as asked.
    Opened anywhere else it answers REGISTRATION_COMPLETION_REQUIRED (the token stays
    unused) until ``new_password`` (and, for a pending registration,
    ``organization_name``) are given; then nothing of the registrant's choosing
    survives (``_owner_takes_over``). TOKEN_EXPIRED for an expired pending registration.
    """
    user = token_redeem(request=request, token=token, purpose=Purpose.VERIFY_EMAIL)
    if user.email_verified:
        return user
    pending = PendingRegistration.objects.filter(user=user).first()
    if pending is not None and pending.is_expired:
        raise TokenExpired()
    if _started_here(request, user):
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        registration_complete(user=user)
        audit_user_event("user.email.verified", user)
        return user
    owner = _owner_takes_over(
        user=user,
        pending=pending,
        new_password=new_password or "",
        organization_name=(organization_name or "").strip(),
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
    )
    # The clicker owns the address; the registrant's choices are gone.
    audit_user_event("user.email.verified", owner, metadata={"completed_elsewhere": True})
    return owner


def _started_here(request: HttpRequest, user: User) -> bool:
    """This browser registered ``user``, or is signed in as ``user``."""
    viewer = getattr(request, "user", None)
    if getattr(viewer, "is_authenticated", False) and viewer.pk == user.pk:
        return True
    return request.session.get(REGISTERED_HERE) == str(user.guid)


def _owner_takes_over(
    *,
    user: User,
    pending: PendingRegistration | None,
    new_password: str,
    organization_name: str,
    first_name: str,
    last_name: str,
) -> User:
    """The link reached the inbox, so the clicker owns the address; whoever registered it
    may not. The clicker's password replaces theirs, and a pending account is made anew."""
    if not new_password or (pending is not None and not organization_name):
        raise RegistrationCompletionRequired()
    if pending is None:
        # An account made another way (by staff, say) keeps its organization; identities
        # linked without proof go, and the new password ends every other session.
        password_validate(new_password, user=user, field="newPassword")
        password_set(user, new_password)
        email_ownership_prove(user=user, keeps_password=True)
        return user
    candidate = _candidate_validate(
        email=user.email,
        password=new_password,
        password_field="newPassword",
        first_name=first_name,
        last_name=last_name,
        organization_name=organization_name,
    )
    user.delete()
    owner = User.objects.create_user(
        email=candidate.email,
        password=new_password,
        first_name=first_name,
        last_name=last_name,
        email_verified=True,
        language=language_current(),
    )
    organization_create(name=organization_name, administrator=owner)
    return owner


@transaction.atomic
def verification_email_resend(*, request: HttpRequest, email: str) -> None:
    """Send a new verification link to an unverified account; the same answer otherwise
    (also for an expired pending registration, which only a new registration renews)."""
    email = email_normalize(email)
    email_request_limit(request, email)
    user = (
        User.objects.filter(email=email, is_active=True, email_verified=False)
        .exclude(pending_registration__expires_at__lte=timezone.now())
        .first()
    )
    if email and user is not None:
        token_email_send(user, purpose=Purpose.VERIFY_EMAIL)


def pending_registrations_prune() -> int:
    """Delete the accounts of expired pending registrations (their sessions end with
    them); answers how many."""
    expired = User.objects.filter(pending_registration__expires_at__lte=timezone.now())
    _, deleted = expired.delete()
    return deleted.get(User._meta.label, 0)
