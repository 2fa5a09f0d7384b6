"""Sign-in through an external OIDC provider.

``external_user_resolve`` is the one place that turns provider claims into a Roster
account (find by identity, else by verified email, else create); the browser flow
backend, ``loginExternal`` and bearer requests all go through it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext

from accounts import oidc_client
from accounts.audit import audit_user_event
from accounts.models import (
    Organization,
    PendingRegistration,
    ProfileData,
    User,
    UserExternalAuthentication,
    email_normalize,
)
from accounts.names import user_display_name
from accounts.ratelimit import client_address, rate_limit_check, rate_limit_hit
from accounts.services.mfa import (
    MfaChallenge,
    has_second_factor,
    mfa_challenge_start,
)
from accounts.services.organizations import organization_create, organization_seats_check_invite
from accounts.services.ownership import email_ownership_prove, registration_complete
from accounts.services.registration import pending_registration_start
from accounts.services.sso import sso_enforced_for, sso_for_email, sso_required_for
from accounts.signals import user_display_name_changed
from backend.errors import AccountDisabled, Invalid, InvalidCredentials, MfaRequired, SsoRequired
from backend.i18n import language_current
from backend.validation import fields_validate

logger = logging.getLogger(__name__)

OIDC_BACKEND = "accounts.oidc.OIDCBackend"
EXTERNAL_LOGIN_SCOPE = "external-login-address"
NAME_MAX_LENGTH = ProfileData._meta.get_field("first_name").max_length


@dataclass(frozen=True)
class ExternalProfile:
    """What Roster takes from a provider's claims."""

    sub: str
    email: str
    email_verified: bool
    first_name: str | None  # None: the provider did not say (keep what we have)
    last_name: str | None

    @classmethod
    def from_claims(cls, claims: Mapping) -> ExternalProfile:
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255 or "\x00" in sub:
            raise InvalidCredentials(gettext("The identity provider did not identify the user."))
        email = claims.get("email")
        email = email_normalize(email) if isinstance(email, str) else ""
        try:
            fields_validate(User(email=email), ["email"])
        except Invalid:
            email = ""  # treated as no email at all
        return cls(
            sub=sub,
            email=email,
            email_verified=_claim_true(claims.get("email_verified")),
            first_name=_name(claims.get("given_name")),
            last_name=_name(claims.get("family_name")),
        )


def _claim_true(value) -> bool:
    # Some providers send the boolean claim as a string.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _name(value) -> str | None:
    if not isinstance(value, str) or "\x00" in value:
        return None  # unusable: as if the provider did not say
    return value.strip()[:NAME_MAX_LENGTH]


def external_user_resolve(*, provider: str, claims: Mapping) -> User:
    """The active account of these provider claims, linked or created as needed.

    - Found by (provider, ``sub``) through its external identity.
    - Otherwise found by email, only when the provider says the email is verified; the
      identity is then linked. An unverified email that belongs to an account is refused
      (INVALID_CREDENTIALS): no duplicate account, no link.
    - Otherwise created, with profile data from the claims and an unusable password. A
      verified email gets an organization: the one claiming the email's domain (as a
      member), else a new one that the user administers. An unverified email makes a
      pending registration (no organization until the address is proven).
    - A verified email of a pending registration replaces that registration's account;
      linked to any other account whose email was never verified, it removes that
      account's password and other identities (they never proved the address).
    Known accounts take the names (and a verified email, which completes a pending
    registration) from the claims. A disabled account is refused (ACCOUNT_DISABLED), and
    an address whose organization enforces its own provider (SSO_REQUIRED).
    """
    profile = ExternalProfile.from_claims(claims)
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _resolve(provider=provider, profile=profile)
        except IntegrityError:
            # A concurrent first sign-in of the same person won the race; find theirs.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _resolve(*, provider: str, profile: ExternalProfile) -> User:
    identity = (
        UserExternalAuthentication.objects.select_related("user")
        .filter(provider=provider, external_id=profile.sub)
        .first()
    )
    if identity is not None:
        user = identity.user
        _require_active(user)
        if sso_required_for(user):
            raise SsoRequired()
        _user_update(user, profile)
        return user

    existing = User.objects.filter(email=profile.email).first() if profile.email else None
    if existing is not None and sso_required_for(existing):
        raise SsoRequired()
    if existing is None and profile.email and sso_enforced_for(profile.email) is not None:
        raise SsoRequired()  # a new account of the domain belongs to its organization's provider
    if existing is not None:
        if not profile.email_verified:
            logger.warning(
                "OIDC sign-in refused: %s %s claims the unverified email of user %s",
                provider,
                profile.sub,
                existing.pk,
            )
            raise InvalidCredentials(
                gettext(
                    "Your identity provider has not verified your email address, and an account "
                    "already uses it."
                )
            )
        _require_active(existing)
        if PendingRegistration.objects.filter(user=existing).exists():
            # Proven by the provider before the registration was: the registration is
            # replaced, and with it everything its author set.
            existing.delete()
            return _user_create(provider=provider, profile=profile)
        _identity_link(existing, provider=provider, profile=profile)
        _user_update(existing, profile)
        return existing

    if not profile.email:
        raise InvalidCredentials(
            gettext("Your identity provider did not share your email address.")
        )
    return _user_create(provider=provider, profile=profile)


def organization_user_resolve(*, organization: Organization, provider: str, claims) -> User:
    """The account of a sign-in through ``organization``'s own provider (enterprise SSO).

    The provider is trusted for the organization's verified domains only: an email it
    vouches for elsewhere is refused, so an organization's provider can never reach
    another organization's people. A known account (by identity or email) must be a
    member of the organization: it is never moved from another one. A new account joins
    the organization within its seats (SEAT_LIMIT_REACHED)."""
    profile = ExternalProfile.from_claims(claims)
    domain_sso = sso_for_email(profile.email)  # the same domain rule as every SSO answer
    trusted = domain_sso is not None and domain_sso.organization_id == organization.pk
    if not (profile.email and profile.email_verified and trusted):
        raise InvalidCredentials(
            gettext("Your organization's identity provider may not sign in this address.")
        )
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        identity = (
            UserExternalAuthentication.objects.select_related("user")
            .filter(provider=provider, external_id=profile.sub)
            .first()
        )
        user = identity.user if identity else User.objects.filter(email=profile.email).first()
        if user is not None and PendingRegistration.objects.filter(user=user).exists():
            user.delete()  # a registration nobody proved: the provider just did
            user = identity = None
        if user is None:
            organization_seats_check_invite(organization=organization)
            user = User.objects.create_user(
                email=profile.email,
                password=None,
                first_name=profile.first_name or "",
                last_name=profile.last_name or "",
                email_verified=True,
                language=language_current(),
                organization=organization,
            )
            audit_user_event("user.registered", user, metadata={"provider": provider})
        elif user.organization_id != organization.pk:
            logger.warning(
                "SSO sign-in refused: user %s is not a member of organization %s",
                user.pk,
                organization.pk,
            )
            raise InvalidCredentials(gettext("This account belongs to another organization."))
        _require_active(user)
        if identity is None:
            _identity_link(user, provider=provider, profile=profile)
        _user_update(user, profile)
        return user


def _identity_link(user: User, *, provider: str, profile: ExternalProfile) -> None:
    """Link an existing account to the provider's identity: the provider proved the
    address, so whoever held the account without proving it loses that way in."""
    email_ownership_prove(user=user, keeps_password=False)
    UserExternalAuthentication.objects.create(
        user=user, provider=provider, external_id=profile.sub, auth_type="oidc"
    )
    audit_user_event("user.identity.linked", user, metadata={"provider": provider})


def _require_active(user: User) -> None:
    if not user.is_active:
        raise AccountDisabled()


def _user_create(*, provider: str, profile: ExternalProfile) -> User:
    user = User.objects.create_user(
        email=profile.email,
        password=None,  # an unusable password: this account signs in through its provider
        first_name=profile.first_name or "",
        last_name=profile.last_name or "",
        email_verified=profile.email_verified,
        language=language_current(),
    )
    UserExternalAuthentication.objects.create(
        user=user, provider=provider, external_id=profile.sub, auth_type="oidc"
    )
    if not profile.email_verified:
        # An address the provider does not vouch for is only pending, like a registration
        # by email: no organization until its owner proves it (verifyEmail from this
        # session, or a later sign-in with the address verified).
        pending_registration_start(user=user, organization_name=user_display_name(user))
        audit_user_event("user.registered", user, metadata={"provider": provider})
        return user
    # Only a proven address joins the organization that claims its domain.
    organization = _domain_organization(profile.email)
    if organization is not None:
        # A join without an invitation needs a seat that no pending invitation reserved:
        # the same rule as one more invitation.
        organization_seats_check_invite(organization=organization)
        user.organization = organization
        user.save(update_fields=["organization"])
    else:
        organization_create(name=user_display_name(user), administrator=user)
    audit_user_event("user.registered", user, metadata={"provider": provider})
    return user


def _domain_organization(email: str) -> Organization | None:
    domain = email.rpartition("@")[2]
    if not domain:
        return None
    # Locked: the seat check below must hold against concurrent joins and invitations.
    return Organization.objects.select_for_update().filter(domain__iexact=domain).first()


def _user_update(user: User, profile: ExternalProfile) -> None:
    """Take the names and a verified email from the provider; save only what changed.

    A change of names or email sends ``user_display_name_changed``."""
    user_fields: list[str] = []
    if profile.email and profile.email_verified:
        if profile.email != user.email:
            if User.objects.filter(email=profile.email).exclude(pk=user.pk).exists():
                logger.warning(
                    "OIDC email of user %s not updated: another account uses it", user.pk
                )
            else:
                old_email, user.email = user.email, profile.email
                user_fields.append("email")
        if profile.email == user.email and not user.email_verified:
            user.email_verified = True
            user_fields.append("email_verified")

    profile_data, _ = ProfileData.objects.get_or_create(user=user)
    names: list[str] = []
    for field in ("first_name", "last_name"):
        value = getattr(profile, field)
        if value is not None and value != getattr(profile_data, field):
            setattr(profile_data, field, value)
            names.append(field)
    if names:
        profile_data.save(update_fields=names)
    if user_fields:
        user.save(update_fields=user_fields)
    user.profile = profile_data
    if "email_verified" in user_fields:
        registration_complete(user=user)
        audit_user_event("user.email.verified", user, metadata={"provider": True})
    if "email" in user_fields:
        audit_user_event("user.email.changed", user, metadata={"old": old_email, "new": user.email})
    if names or "email" in user_fields:
        user_display_name_changed.send(sender=User, user=user)


def user_login_external(*, request: HttpRequest, access_token: str) -> User | MfaChallenge:
    """``loginExternal``: validate the access token with the provider, then start a
    session (a new session key) for its account, or, for an account with a second factor,
    a sign-in waiting for it, unless the token's ``amr`` says the provider asked for
    several factors itself. Counted per client address."""
    rate_limit_hit(scope=EXTERNAL_LOGIN_SCOPE, identity=client_address(request))
    if not oidc_client.oidc_enabled():
        raise InvalidCredentials(gettext("Sign-in through an identity provider is not configured."))
    user, grant = _access_token_user(access_token)
    if not grant.multi_factor and has_second_factor(user):
        return mfa_challenge_start(request=request, user=user, method="access_token")
    auth_login(request, user, backend=OIDC_BACKEND)
    audit_user_event("user.login.succeeded", user, metadata={"method": "access_token"})
    return user


def bearer_token_authenticate(*, access_token: str, address: str) -> User:
    """The account of a bearer access token, without a session.

    A request has no session in which to give a second factor, so an account that has
    one is served only for a token whose ``amr`` says the provider asked for several
    factors (MFA_REQUIRED otherwise). A validated token is remembered for
    ``OIDC_BEARER_CACHE_TTL`` seconds, never past its expiry (keyed by its hash), so a
    burst of requests asks the provider once; the account's factors are read on every
    request. Rejected tokens count against the client address, so guessing cannot flood
    the provider."""
    if not oidc_client.oidc_enabled():
        raise InvalidCredentials(gettext("Bearer tokens are not accepted: no identity provider."))
    key = _bearer_cache_key(access_token)
    cached = cache.get(key)
    if isinstance(cached, dict):
        user = User.objects.filter(pk=cached.get("user")).first()
        if user is None:
            raise InvalidCredentials()
        multi_factor = bool(cached.get("multi_factor"))
    else:
        rate_limit_check(scope=EXTERNAL_LOGIN_SCOPE, identity=address)
        try:
            user, grant = _access_token_user(access_token)
        except InvalidCredentials:
            rate_limit_hit(scope=EXTERNAL_LOGIN_SCOPE, identity=address)
            raise
        multi_factor = grant.multi_factor
        ttl = settings.OIDC_BEARER_CACHE_TTL
        if grant.expires_at is not None:
            ttl = min(ttl, int(grant.expires_at - time.time()))
        if ttl > 0:
            cache.set(key, {"user": user.pk, "multi_factor": multi_factor}, timeout=ttl)
    _require_active(user)
    if not multi_factor and has_second_factor(user):
        raise MfaRequired(
            gettext(
                "This account has a second factor: use a token from a multi-factor sign-in "
                "at the identity provider."
            )
        )
    return user


def _bearer_cache_key(access_token: str) -> str:
    material = f"{oidc_client.provider_name()}\0{access_token}".encode()
    return f"oidc-bearer:{hashlib.sha256(material).hexdigest()}"


def _access_token_user(access_token: str) -> tuple[User, oidc_client.AccessTokenGrant]:
    """The account of an access token that was issued for Roster (its audience checked),
    with what the check learned of the token."""
    access_token = (access_token or "").strip()
    try:
        grant = oidc_client.access_token_check(access_token)
        claims = oidc_client.userinfo_fetch(access_token)
        if grant.subject is not None and claims["sub"] != grant.subject:
            raise oidc_client.TokenRejected("userinfo names another subject than the token.")
    except oidc_client.TokenRejected as error:
        logger.info("OIDC access token rejected: %s", error)
        raise InvalidCredentials(
            gettext("The identity provider did not accept this token.")
        ) from error
    user = external_user_resolve(provider=oidc_client.provider_name(), claims=claims)
    if oidc_client.provider_did_mfa(claims):  # the provider may tell it in userinfo instead
        grant = replace(grant, multi_factor=True)
    return user, grant
