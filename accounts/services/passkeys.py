"""Passkeys (WebAuthn, with ``webauthn``): registering one, signing in with one, removing one.

Each ceremony has two steps: ``..._begin`` answers the options for the browser's
``navigator.credentials.create/get`` (as JSON) and keeps their challenge in this browser's
session; ``..._finish`` checks the browser's answer against that challenge (used once,
whatever the outcome), the relying party (``WEBAUTHN_RP_ID``), the frontend's origins
(``WEBAUTHN_ORIGINS``), user verification (required) and, on sign-in, the signature
counter (a counter that does not move forward is a cloned key: refused).

A passkey signs in on its own (a discoverable credential verified by the device: two
factors in one), and completes a sign-in that waits for a second factor after a password
(``accounts.services.mfa``), but only for the account that gave the password.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.audit import audit_sign_in_failed, audit_user_event
from accounts.models import Passkey, User
from accounts.ratelimit import client_address, rate_limit_hit, rate_limit_undo
from accounts.services import mfa
from accounts.services.sso import sso_required_for
from backend.errors import (
    AccountDisabled,
    EmailNotVerified,
    Invalid,
    InvalidCredentials,
    NotFound,
    SsoRequired,
    TokenExpired,
)

# Session keys of a ceremony in progress: {"challenge": hex, "until": timestamp}.
REGISTRATION = "roster.passkey_registration"
AUTHENTICATION = "roster.passkey_authentication"
CEREMONY_SECONDS = 300
NAME_MAX_LENGTH = 100


def _challenge_keep(request: HttpRequest, key: str, challenge: bytes) -> None:
    request.session[key] = {"challenge": challenge.hex(), "until": time.time() + CEREMONY_SECONDS}


def _challenge_take(request: HttpRequest, key: str) -> bytes:
    """The challenge this browser was given, removed (single use); TOKEN_EXPIRED without
    one, or once it is too old."""
    kept = request.session.pop(key, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("until"), (int, float)):
        raise TokenExpired(gettext("Begin again: no passkey ceremony is in progress."))
    if kept["until"] <= time.time():
        raise TokenExpired(gettext("Begin again: the passkey ceremony took too long."))
    return bytes.fromhex(kept["challenge"])


def _relying_party_checks() -> dict:
    """What every answer of a ceremony must show: this relying party, one of the
    frontend's origins, and a user the device verified."""
    return {
        "expected_rp_id": settings.WEBAUTHN_RP_ID,
        "expected_origin": settings.WEBAUTHN_ORIGINS,
        "require_user_verification": True,
    }


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=bytes(credential_id))
        for credential_id in Passkey.objects.filter(user=user).values_list(
            "credential_id", flat=True
        )
    ]


# Registering -------------------------------------------------------------------------------


def passkey_registration_begin(*, request: HttpRequest, actor: User) -> str:
    """The options to create a passkey for ``actor`` (JSON): discoverable, verified by the
    device, not one the device already holds for this account."""
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=actor.guid.bytes,
        user_name=actor.email,
        exclude_credentials=_descriptors(actor),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
    )
    _challenge_keep(request, REGISTRATION, options.challenge)
    return options_to_json(options)


@transaction.atomic
def passkey_registration_finish(
    *, request: HttpRequest, actor: User, credential_json: str, name: str
) -> Passkey:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH or "\x00" in name:
        raise Invalid(
            gettext("Name the passkey (at most %(count)d characters).")
            % {"count": NAME_MAX_LENGTH},
            field="name",
        )
    challenge = _challenge_take(request, REGISTRATION)
    try:
        verified = verify_registration_response(
            credential=credential_json,
            expected_challenge=challenge,
            **_relying_party_checks(),
        )
    except (WebAuthnException, ValueError) as error:
        raise Invalid(
            gettext("The passkey was not accepted: %(reason)s") % {"reason": error},
            field="credentialJson",
        ) from error
    if Passkey.objects.filter(credential_id=verified.credential_id).exists():
        raise Invalid(gettext("This passkey is already registered."), field="credentialJson")
    passkey = Passkey.objects.create(
        user=actor,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    mfa.notice(actor, "passkey_added", name=name)
    audit_user_event("user.mfa.passkey.added", actor, metadata={"name": name})
    return passkey


@transaction.atomic
def passkey_remove(*, actor: User, passkey_id) -> None:
    """Remove one of ``actor``'s passkeys (sensitive: the schema asks for a recent
    re-authentication); NOT_FOUND for anyone else's, as for none."""
    passkey = Passkey.objects.filter(user=actor, pk=passkey_id).first()
    if passkey is None:
        raise NotFound()
    passkey.delete()
    mfa.notice(actor, "passkey_removed", name=passkey.name)
    audit_user_event("user.mfa.passkey.removed", actor, metadata={"name": passkey.name})


# Signing in --------------------------------------------------------------------------------


def passkey_authentication_begin(*, request: HttpRequest, email: str | None = None) -> str:
    """The options to sign in with a passkey (JSON). The device offers the passkeys it
    holds for Roster (discoverable), so the options name none, whatever ``email`` says:
    they never tell whether an address has an account or passkeys. Only the account
    already known in this browser names its passkeys: a sign-in waiting for its second
    factor (its password was right), or the signed-in viewer re-authenticating. Counted
    per client address (each keeps a challenge in a session)."""
    rate_limit_hit(scope="passkey-begin-address", identity=client_address(request))
    known = mfa.mfa_challenge_pending_user_id(request=request)
    viewer = getattr(request, "user", None)
    if known is None and getattr(viewer, "is_authenticated", False):
        known = viewer.pk
    user = User.objects.filter(pk=known).first() if known is not None else None
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _challenge_keep(request, AUTHENTICATION, options.challenge)
    return options_to_json(options)


def _assertion_check(
    *, request: HttpRequest, credential_json: str, of_user=None, failure: str
) -> User:
    """The account whose passkey signed the challenge this browser was given (once),
    with its counter moved forward; INVALID_CREDENTIALS for anything else, or for a
    passkey that is not ``of_user``'s (an account's pk) when given, recorded as
    ``failure`` for the passkey's account. Counted per client address; a success is
    not."""
    address = client_address(request)
    rate_limit_hit(scope="login-address", identity=address)
    challenge = _challenge_take(request, AUTHENTICATION)
    try:
        credential = parse_authentication_credential_json(credential_json)
    except (WebAuthnException, ValueError) as error:
        raise InvalidCredentials() from error
    passkey = Passkey.objects.select_related("user").filter(credential_id=credential.raw_id).first()
    if passkey is None:
        raise InvalidCredentials()
    user = passkey.user
    try:
        with transaction.atomic():
            # Locked: two answers with one counter value are not both accepted.
            sign_count = (
                Passkey.objects.select_for_update()
                .filter(pk=passkey.pk)
                .values_list("sign_count", flat=True)
                .first()
            )
            if sign_count is None:
                raise InvalidCredentials()
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    credential_public_key=bytes(passkey.public_key),
                    credential_current_sign_count=sign_count,
                    **_relying_party_checks(),
                )
            except WebAuthnException as error:
                raise InvalidCredentials() from error
            if of_user is not None and of_user != user.pk:
                raise InvalidCredentials(gettext("This passkey belongs to another account."))
            if not user.is_active:
                raise AccountDisabled()
            if not user.email_verified:  # as a password sign-in (a pending registration)
                raise EmailNotVerified()
            Passkey.objects.filter(pk=passkey.pk).update(
                sign_count=verified.new_sign_count, last_used_at=timezone.now()
            )
    except (InvalidCredentials, AccountDisabled, EmailNotVerified) as error:
        audit_sign_in_failed(failure, email=user.email, user=user, reason=f"passkey:{error.code}")
        raise
    rate_limit_undo(scope="login-address", identity=address)
    return user


def passkey_authentication_finish(*, request: HttpRequest, credential_json: str) -> User:
    """Sign in with the passkey the browser answered with: on its own, or as the second
    factor of the sign-in waiting in this browser (then only for that account)."""
    from accounts.services.auth import session_start

    waiting = mfa.mfa_challenge_pending_user_id(request=request)
    user = _assertion_check(
        request=request,
        credential_json=credential_json,
        of_user=waiting,
        failure="user.login.failed",
    )
    if waiting is None and sso_required_for(user):
        # On its own a passkey is a sign-in: not for who must use the organization's
        # provider (as the second factor of that sign-in it is welcome).
        audit_sign_in_failed("user.login.failed", email=user.email, user=user, reason="sso")
        raise SsoRequired()
    mfa.mfa_challenge_forget(request=request)
    session_start(request=request, user=user)
    audit_user_event(
        "user.login.succeeded",
        user,
        metadata={"method": "passkey"} if waiting is None else {"second_factor": mfa.PASSKEY},
    )
    return user


def passkey_assertion_check(*, request: HttpRequest, actor: User, credential_json: str) -> None:
    """The signed-in ``actor`` proved it is them with one of their passkeys (for
    ``reauthenticate``): INVALID_CREDENTIALS otherwise."""
    _assertion_check(
        request=request,
        credential_json=credential_json,
        of_user=actor.pk,
        failure="user.reauthentication.failed",
    )
