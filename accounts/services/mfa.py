"""The second factor: an authenticator app (TOTP, RFC 6238) and single-use recovery codes.

- Setting up: ``totp_setup_begin`` makes a secret (stored encrypted, ``backend.crypto``) and
  answers it with its ``otpauth://`` URI and a QR code; ``totp_setup_confirm`` enables it
  with a first code and answers ten recovery codes, shown once (stored as hashes).
- Signing in: ``user_login`` (accounts.services.auth) asks ``mfa_challenge_start`` for a
  second factor when the account has one: no session yet, only a pending sign-in kept in
  this browser's session for ``MFA_CHALLENGE_TTL`` seconds; ``mfa_challenge_complete``
  finishes it with a code or a recovery code, once.
- A code is good once: the device remembers the last time step it accepted, so a code seen
  over someone's shoulder cannot be replayed in its 30 seconds. Wrong codes count per
  account and per client address (``RATE_LIMITED``); after ``MFA_FAILURES_NOTIFY`` of them
  the owner is emailed. Every change (enabled, disabled, codes regenerated, a recovery code
  used) emails the owner. Removing the factor or regenerating the codes needs a recent
  re-authentication.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_user_event
from accounts.emails import email_send, frontend_url
from accounts.groups import user_is_administrator
from accounts.models import Passkey, RecoveryCode, TotpDevice, User
from accounts.ratelimit import (
    client_address,
    rate_limit_hit,
    rate_limit_undo,
    rate_limits_hit,
    rate_limits_undo,
)
from backend.crypto import secret_decrypt, secret_encrypt, secret_reencrypt
from backend.errors import AccountDisabled, Invalid, MfaCodeInvalid, TokenExpired

ISSUER = "Roster"
RECOVERY_CODES = 10
# Lowercase letters and digits a person cannot confuse (no 0/o, 1/l/i): 12 of them carry
# 60 bits, shown as two groups of six.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 12
# Session key of a sign-in waiting for its second factor: {"user", "until", "password"}.
MFA_PENDING = "roster.mfa_pending"

TOTP = "TOTP"
RECOVERY_CODE = "RECOVERY_CODE"
PASSKEY = "PASSKEY"


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_code_svg: str


@dataclass(frozen=True)
class MfaChallenge:
    methods: list[str]
    expires_at: datetime


# Reading the state -------------------------------------------------------------------------


def totp_enabled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def totp_enabled_expression() -> Exists:
    """``totp_enabled`` of each user row of a query, in SQL (one query for a list)."""
    return Exists(TotpDevice.objects.filter(user=OuterRef("pk"), confirmed_at__isnull=False))


def _count_per_user(rows) -> Coalesce:
    """How many of ``rows`` (a queryset with a ``user`` column) belong to each user row of
    the outer query, in SQL (0 for none)."""
    count = rows.filter(user=OuterRef("pk")).order_by().values("user").annotate(n=Count("pk"))
    return Coalesce(Subquery(count.values("n")), 0)


def passkey_count_expression() -> Coalesce:
    return _count_per_user(Passkey.objects.all())


def recovery_codes_left_expression() -> Coalesce:
    return _count_per_user(RecoveryCode.objects.filter(used_at__isnull=True))


def mfa_status_visible(*, viewer, user: User) -> bool:
    """Who sees whether ``user`` set up a second factor: the user, and the administrators
    of the user's organization."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.pk == user.pk:
        return True
    return (
        user.organization_id is not None
        and viewer.organization_id == user.organization_id
        and user_is_administrator(viewer)
    )


def has_second_factor(user: User) -> bool:
    """Whether ``user`` has any second factor (``mfa_methods`` is not empty), in one query."""
    return (
        User.objects.filter(pk=user.pk)
        .filter(totp_enabled_expression() | Exists(Passkey.objects.filter(user=OuterRef("pk"))))
        .exists()
    )


def mfa_methods(user: User) -> list[str]:
    """The second factors ``user`` can complete a sign-in with; empty without one."""
    methods = [TOTP, RECOVERY_CODE] if totp_enabled(user) else []
    if Passkey.objects.filter(user=user).exists():
        methods.append(PASSKEY)
    return methods


# The organization's policy -------------------------------------------------------------------


def mfa_enrollment_required(user) -> bool:
    """Whether ``user`` must set up a second factor before anything else: their
    organization requires one and they have none."""
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return False
    # A session's user comes with the organization (accounts.backends.session_user).
    return user.organization.mfa_required and not has_second_factor(user)


# Codes -------------------------------------------------------------------------------------


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)  # 6 digits, SHA-1, 30-second steps: what every app reads


def _code_step(secret: str, code: str, *, at: float) -> int | None:
    """The time step (now, or one step either side for clock skew) ``code`` belongs to."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = _totp(secret)
    now_step = totp.timecode(datetime.fromtimestamp(at, tz=UTC))
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_normalize(code: str) -> str:
    return "".join(char for char in (code or "").lower() if char.isalnum())


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_recovery_normalize(code).encode()).hexdigest()


def _recovery_codes_new(user: User) -> list[str]:
    """Ten new recovery codes for ``user``, replacing any earlier ones."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:6]}-{raw[6:]}")
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_recovery_hash(code)) for code in codes
    )
    return codes


def _totp_code_accept(user: User, code: str) -> bool:
    """Whether ``code`` is a current code of ``user``'s enabled app not accepted before;
    remembers its step (and re-encrypts the secret under the newest key)."""
    with transaction.atomic():
        device = (
            TotpDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            return False
        step = _code_step(secret_decrypt(device.secret), code, at=time.time())
        if step is None or step <= device.last_step:
            return False
        device.last_step = step
        device.secret = secret_reencrypt(device.secret)
        device.save(update_fields=["last_step", "secret"])
        return True


def _recovery_code_accept(user: User, code: str) -> bool:
    """Whether ``code`` is an unused recovery code of ``user``; uses it up."""
    used = RecoveryCode.objects.filter(
        user=user, code_hash=_recovery_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    if not used:
        return False
    left = recovery_codes_left(user)
    notice(user, "recovery_code_used", codes_left=left)
    audit_user_event("user.mfa.recovery_code.used", user, metadata={"codes_left": left})
    return True


def second_factor_check(
    *, request: HttpRequest, user: User, code: str | None, recovery_code: str | None
) -> str:
    """Which factor proved ``user``'s identity: ``code`` (the app's, answers TOTP) or
    ``recovery_code`` (RECOVERY_CODE); MFA_CODE_INVALID when neither does. Each try
    counts per account and per address; only failures stay counted, and the owner hears
    of repeated ones."""
    limits = [("mfa-user", str(user.pk)), ("mfa-address", client_address(request))]
    failures, _ = rate_limits_hit(limits)
    if code and _totp_code_accept(user, code):
        rate_limits_undo(limits)
        return TOTP
    if recovery_code and _recovery_code_accept(user, recovery_code):
        rate_limits_undo(limits)
        return RECOVERY_CODE
    audit_user_event("user.mfa.failed", user, anonymous=True, metadata={"failures": failures})
    if failures == settings.MFA_FAILURES_NOTIFY:
        notice(user, "failures", failures=failures)
    raise MfaCodeInvalid(field="recoveryCode" if recovery_code and not code else "code")


# Setting up and removing -----------------------------------------------------------------


@transaction.atomic
def totp_setup_begin(*, actor: User) -> TotpSetup:
    """A new secret for ``actor``'s authenticator app, not yet enabled (a setup begun again
    replaces it). INVALID while an app is enabled: remove it first."""
    if totp_enabled(actor):
        raise Invalid(gettext("An authenticator app is already set up; remove it first."))
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(
        user=actor,
        defaults={"secret": secret_encrypt(secret), "confirmed_at": None, "last_step": 0},
    )
    uri = _totp(secret).provisioning_uri(name=actor.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_code_svg=svg)


@transaction.atomic
def totp_setup_confirm(*, actor: User, code: str) -> list[str]:
    """Enable the app set up by ``totp_setup_begin`` with a first code from it; answers the
    ten recovery codes (shown once)."""
    device = TotpDevice.objects.select_for_update().filter(user=actor).first()
    if device is None or device.confirmed_at is not None:
        raise Invalid(gettext("Begin the setup of an authenticator app first."))
    rate_limit_hit(scope="mfa-user", identity=str(actor.pk))
    step = _code_step(secret_decrypt(device.secret), code, at=time.time())
    if step is None:
        raise MfaCodeInvalid(field="code")
    rate_limit_undo(scope="mfa-user", identity=str(actor.pk))
    device.confirmed_at = timezone.now()
    device.last_step = step
    device.save(update_fields=["confirmed_at", "last_step"])
    codes = _recovery_codes_new(actor)
    notice(actor, "enabled")
    audit_user_event("user.mfa.totp.enabled", actor)
    return codes


@transaction.atomic
def totp_disable(*, actor: User) -> User:
    """Remove ``actor``'s app and recovery codes (a sensitive operation: the schema asks
    for a recent re-authentication)."""
    if not totp_enabled(actor):
        raise Invalid(gettext("No authenticator app is set up."))
    TotpDevice.objects.filter(user=actor).delete()
    RecoveryCode.objects.filter(user=actor).delete()
    notice(actor, "disabled")
    audit_user_event("user.mfa.totp.disabled", actor)
    return actor


@transaction.atomic
def recovery_codes_regenerate(*, actor: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working (a sensitive operation)."""
    if not totp_enabled(actor):
        raise Invalid(gettext("Set up an authenticator app first."))
    codes = _recovery_codes_new(actor)
    notice(actor, "codes_regenerated")
    audit_user_event("user.mfa.recovery_codes.regenerated", actor)
    return codes


def second_factors_remove(user: User, *, added_since: datetime | None = None) -> dict[str, int]:
    """Remove ``user``'s passkeys and authenticator app (with its recovery codes), or
    those added since ``added_since``: an account being recovered loses the ways in that
    whoever took it over may have added. Answers how many of each went."""
    passkeys = Passkey.objects.filter(user=user)
    devices = TotpDevice.objects.filter(user=user)
    if added_since is not None:
        passkeys = passkeys.filter(created_at__gte=added_since)
        devices = devices.filter(created_at__gte=added_since)
    removed_passkeys, _ = passkeys.delete()
    removed_apps, _ = devices.delete()
    if removed_apps:
        RecoveryCode.objects.filter(user=user).delete()
    return {"passkeys": removed_passkeys, "authenticator_apps": removed_apps}


def notice(user: User, event: str, **context) -> None:
    """Email ``user`` that their second factors changed or were used (``event``)."""
    from accounts.services.auth import first_name_of

    email_send(
        to=user.email,
        template="second_factor_notice",
        context={
            "event": event,
            "first_name": first_name_of(user),
            "reset_link": frontend_url("reset-password"),
            **context,
        },
        recipient=user,
    )


# Signing in --------------------------------------------------------------------------------


def mfa_challenge_start(*, request: HttpRequest, user: User, method: str) -> MfaChallenge:
    """Keep a sign-in whose first factor (``method``: password, oidc, access_token) was
    right waiting for ``user``'s second factor, in this browser's session only (under a
    new session key), for ``MFA_CHALLENGE_TTL``."""
    until = time.time() + settings.MFA_CHALLENGE_TTL
    request.session.cycle_key()
    request.session[MFA_PENDING] = {
        "user": user.pk,
        "until": until,
        # Django's session hash of the password: a reset or change ends the wait too.
        "password": user.get_session_auth_hash(),
        "method": method,
    }
    audit_user_event("user.mfa.challenged", user, anonymous=True, metadata={"method": method})
    return MfaChallenge(methods=mfa_methods(user), expires_at=datetime.fromtimestamp(until, tz=UTC))


def mfa_challenge_pending_user_id(*, request: HttpRequest):
    """The account whose sign-in waits in this browser for a second factor, if any."""
    pending = request.session.get(MFA_PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("until"), (int, float)):
        return None
    return pending.get("user") if pending["until"] > time.time() else None


def mfa_challenge_forget(*, request: HttpRequest) -> None:
    request.session.pop(MFA_PENDING, None)


def mfa_challenge_complete(
    *, request: HttpRequest, code: str | None = None, recovery_code: str | None = None
) -> User:
    """Finish the sign-in this browser started with its password: the second factor, once.
    TOKEN_EXPIRED without a pending sign-in (none, used, or older than its lifetime)."""
    from accounts.services.auth import session_start

    pending = request.session.get(MFA_PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("until"), (int, float)):
        raise TokenExpired(gettext("Sign in again: no sign-in is waiting for a second factor."))
    if pending["until"] <= time.time():
        del request.session[MFA_PENDING]
        raise TokenExpired(gettext("Sign in again: the second factor was not given in time."))
    user = User.objects.filter(pk=pending.get("user")).first()
    if user is None:
        del request.session[MFA_PENDING]
        raise TokenExpired(gettext("Sign in again."))
    if not secrets.compare_digest(str(pending.get("password")), user.get_session_auth_hash()):
        del request.session[MFA_PENDING]
        raise TokenExpired(gettext("Sign in again: the account's password changed."))
    if not user.is_active:
        del request.session[MFA_PENDING]
        raise AccountDisabled()
    if not (code or recovery_code):
        raise MfaCodeInvalid(
            gettext("Enter a code from your app or a recovery code."), field="code"
        )
    factor = second_factor_check(request=request, user=user, code=code, recovery_code=recovery_code)
    del request.session[MFA_PENDING]
    session_start(request=request, user=user)
    audit_user_event(
        "user.login.succeeded",
        user,
        metadata={"method": pending.get("method", "password"), "second_factor": factor},
    )
    return user
