"""Re-authentication ("sudo mode"): a sensitive change needs a recent proof that the
person at the keyboard is the account's owner, not only a session that was left open.

The proof is as strong as signing in: the password again with the account's second
factor, or a passkey (``reauthenticate``), or, for an account that signs in through its
identity provider, a fresh sign-in there (``oidc_reauthentication_start`` and
``_finish``, around the provider's ``prompt=login`` flow), followed by the account's code
when the provider did not ask for a second factor itself. It is kept in the session for
``REAUTHENTICATION_TTL`` seconds. A new session (signing in again) starts without one."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_sign_in_failed, audit_user_event
from accounts.models import User, UserExternalAuthentication
from accounts.oidc_client import provider_did_mfa
from accounts.ratelimit import client_address
from accounts.services.auth import login_attempt_count, login_attempt_succeeded, password_check
from accounts.services.mfa import has_second_factor, second_factor_check, totp_enabled
from accounts.services.passkeys import passkey_assertion_check
from backend.errors import (
    Invalid,
    InvalidCredentials,
    MfaCodeInvalid,
    MfaRequired,
    ReauthenticationRequired,
    Unauthenticated,
)

REAUTHENTICATED_AT = "roster.reauthenticated_at"
# Session key: a provider re-authentication this session started ({user, started_at}).
OIDC_REAUTHENTICATION = "roster.oidc_reauthentication"
# Session key: a provider re-authentication without a second factor, waiting for the
# account's code ({user, until}).
FACTOR_PENDING = "roster.reauthentication_factor_pending"


def reauthenticate(
    *,
    request: HttpRequest,
    actor: User,
    password: str | None = None,
    code: str | None = None,
    credential_json: str | None = None,
) -> datetime:
    """The viewer proves it is them again, as strongly as signing in; answers until when
    sensitive operations are open. One of:

    - a passkey (``credential_json``, the answer to ``passkey_authentication_begin``): two
      factors in one;
    - the password, counted against the same limits as ``login``, with ``code`` (from the
      app, or a recovery code) once the account has an authenticator app; an account
      whose only second factor is a passkey confirms with the passkey instead;
    - ``code`` alone, right after a re-authentication at the identity provider that did
      not include a second factor (``oidc_reauthentication_finish``)."""
    if credential_json:
        passkey_assertion_check(request=request, actor=actor, credential_json=credential_json)
        return _reauthenticated(request=request, actor=actor, method="passkey")
    if not password:
        if _provider_reauthentication_waiting(request=request, actor=actor):
            factor = _second_factor_code_check(request=request, actor=actor, code=code)
            request.session.pop(FACTOR_PENDING, None)
            return _reauthenticated(request=request, actor=actor, method="oidc", factor=factor)
        raise Invalid(gettext("Enter your password, or confirm with a passkey."), field="password")
    password_check(
        email=actor.email,
        address=client_address(request),
        password=password,
        failure="user.reauthentication.failed",
    )
    factor = None
    if totp_enabled(actor):
        factor = _second_factor_code_check(request=request, actor=actor, code=code)
    elif has_second_factor(actor):
        raise MfaCodeInvalid(gettext("Confirm with one of your passkeys."), field="credentialJson")
    return _reauthenticated(request=request, actor=actor, method="password", factor=factor)


def _reauthenticated(
    *, request: HttpRequest, actor: User, method: str, factor: str | None = None
) -> datetime:
    metadata = {"method": method, **({"second_factor": factor} if factor else {})}
    audit_user_event("user.reauthenticated", actor, metadata=metadata)
    return reauthentication_mark(request=request)


def _second_factor_code_check(*, request: HttpRequest, actor: User, code: str | None) -> str:
    if not code:
        raise MfaCodeInvalid(
            gettext("Enter a code from your app or a recovery code."), field="code"
        )
    return second_factor_check(request=request, user=actor, code=code, recovery_code=code)


def _provider_reauthentication_waiting(*, request: HttpRequest, actor: User) -> bool:
    waiting = request.session.get(FACTOR_PENDING)
    return (
        isinstance(waiting, dict)
        and waiting.get("user") == actor.pk
        and isinstance(waiting.get("until"), (int, float))
        and waiting["until"] > time.time()
    )


def reauthentication_mark(*, request: HttpRequest) -> datetime:
    """Record a re-authentication that just succeeded (password, or the provider's
    ``prompt=login`` flow) in the request's session."""
    now = timezone.now()
    request.session[REAUTHENTICATED_AT] = now.timestamp()
    return now + timedelta(seconds=settings.REAUTHENTICATION_TTL)


def reauthentication_valid_until(*, request: HttpRequest) -> datetime | None:
    marked = request.session.get(REAUTHENTICATED_AT)
    if not isinstance(marked, (int, float)):
        return None
    until = datetime.fromtimestamp(marked, tz=UTC) + timedelta(
        seconds=settings.REAUTHENTICATION_TTL
    )
    return until if until > timezone.now() else None


def reauthentication_require(*, request: HttpRequest) -> None:
    """REAUTHENTICATION_REQUIRED unless the session re-authenticated recently. A
    bearer-token request has no session to hold one, so it never passes."""
    if getattr(request, "bearer_user", None) is not None:
        raise ReauthenticationRequired()
    if reauthentication_valid_until(request=request) is None:
        raise ReauthenticationRequired()


def oidc_reauthentication_start(*, request: HttpRequest) -> dict[str, str]:
    """The signed-in viewer re-authenticates through their identity provider: answers
    the authorization request's extra parameters, which make the provider ask for the
    credentials again (``prompt=login``, ``max_age=0``; its ID token then carries
    ``auth_time``). Counted against the ``login`` limits like a password attempt, taken
    back when it succeeds."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        raise Unauthenticated()
    login_attempt_count(email=user.email, address=client_address(request))
    request.session[OIDC_REAUTHENTICATION] = {"user": user.pk, "started_at": time.time()}
    return {"prompt": "login", "max_age": "0"}


def oidc_reauthentication_pending(*, request: HttpRequest) -> bool:
    return OIDC_REAUTHENTICATION in request.session


def oidc_reauthentication_cancel(*, request: HttpRequest) -> None:
    """A plain sign-in started: no re-authentication is waiting any more."""
    request.session.pop(OIDC_REAUTHENTICATION, None)


def oidc_reauthentication_finish(*, request: HttpRequest, provider: str, claims: Mapping) -> User:
    """The provider's callback of a re-authentication, with the verified ID token's
    ``claims``: the identity must be the signed-in viewer's own, and the provider must
    have asked for the credentials after the re-authentication started. Marks the
    session and answers the viewer; never signs anyone else in (INVALID_CREDENTIALS)."""
    failure = "user.reauthentication.failed"
    pending = request.session.pop(OIDC_REAUTHENTICATION, None) or {}
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False) or pending.get("user") != user.pk:
        raise Unauthenticated()
    own_identity = UserExternalAuthentication.objects.filter(
        user=user, provider=provider, external_id=claims.get("sub")
    ).exists()
    if not own_identity:
        audit_sign_in_failed(failure, email=user.email, user=user, reason="oidc:another_person")
        raise InvalidCredentials(gettext("Another person signed in at the identity provider."))
    auth_time = claims.get("auth_time")
    started_at = pending.get("started_at")
    if (
        not isinstance(auth_time, (int, float))
        or not isinstance(started_at, (int, float))
        or auth_time < started_at - settings.OIDC_CLOCK_SKEW
    ):
        audit_sign_in_failed(failure, email=user.email, user=user, reason="oidc:not_asked_again")
        raise InvalidCredentials(
            gettext("The identity provider did not ask for your credentials again.")
        )
    login_attempt_succeeded(email=user.email, address=client_address(request))
    if has_second_factor(user) and not provider_did_mfa(claims):
        request.session[FACTOR_PENDING] = {
            "user": user.pk,
            "until": time.time() + settings.MFA_CHALLENGE_TTL,
        }
        raise MfaRequired(
            gettext(
                "The identity provider's sign-in had no second factor: finish with a code "
                "(reauthenticate with code) or a passkey."
            )
        )
    _reauthenticated(request=request, actor=user, method="oidc")
    return user
