"""Who is asking, and which rows of a type they may see."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet
from strawberry import relay
from strawberry.types import Info

from backend.errors import Unauthenticated


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


class Scoped:
    """A model type whose rows are those its ``visibility`` rule lets the viewer see.

    strawberry-django calls ``get_queryset`` for every queryset of the type: lists,
    connections, relations the optimizer prefetches and ``node``/``nodes`` lookups. This is
    the one place where a type's reads are narrowed to the viewer's organization (or to
    what guardian grants); the rule itself lives with the domain's selectors."""

    visibility: Callable[..., Q]
    # The node id is the primary key unless a type names another field NodeID. Declared
    # so that strawberry finds it once and remembers it: without a NodeID, strawberry-django
    # falls back to "pk" after a failed scan of the annotations, on every row.
    pk: relay.NodeID[str]

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(cls.visibility(user=viewer(info)))
