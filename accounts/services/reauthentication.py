"""Re-authentication ("sudo mode"): a sensitive change needs a recent proof that the
person at the keyboard is the account's owner, not only a session that was left open.

The proof is kept in the session for ``REAUTHENTICATION_TTL`` seconds. A new session
(signing in again) starts without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.ratelimit import client_address
from accounts.services.auth import password_check
from backend.errors import ReauthenticationRequired

REAUTHENTICATED_AT = "roster.reauthenticated_at"


def reauthenticate(*, request: HttpRequest, actor: User, password: str) -> datetime:
    """Check the viewer's password again, counted against the same limits as ``login``;
    answers until when sensitive operations are open."""
    password_check(email=actor.email, address=client_address(request), password=password)
    return reauthentication_mark(request=request)


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
