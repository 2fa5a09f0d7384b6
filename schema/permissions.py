"""Who is asking: the viewer of a GraphQL request."""

from __future__ import annotations

from strawberry.types import Info

from accounts.errors import Unauthenticated


def viewer(info: Info):
    """The signed-in user, or ``None``."""
    user = getattr(info.context.request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user


def require_viewer(info: Info):
    """The signed-in user; raises ``UNAUTHENTICATED`` otherwise."""
    user = viewer(info)
    if user is None:
        raise Unauthenticated()
    return user
