"""The viewer's signed-in sessions (devices): list them, end one, end all others."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts.audit import audit_user_event
from accounts.selectors import sessions_of
from accounts.sessions import sessions_delete
from backend.errors import NotFound, Unauthenticated


def _viewer(actor):
    if not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    return actor


def session_revoke(*, actor, session_id) -> int:
    """End one of the actor's sessions (this one too, which signs it out); NOT_FOUND for
    an id that is not one of the actor's live sessions."""
    sessions = sessions_of(user=_viewer(actor)).filter(public_id=session_id)
    if session_id is None or not sessions.exists():
        raise NotFound()
    with transaction.atomic():
        revoked = sessions_delete(sessions)
        audit_user_event("user.session.revoked", actor, metadata={"sessions": revoked})
    return revoked


def sessions_revoke_others(*, actor, request: HttpRequest) -> int:
    """End every session of the actor but the one making the request."""
    others = sessions_of(user=_viewer(actor)).exclude(session_key=request.session.session_key)
    with transaction.atomic():
        revoked = sessions_delete(others)
        audit_user_event(
            "user.session.revoked", actor, metadata={"sessions": revoked, "others": True}
        )
    return revoked
