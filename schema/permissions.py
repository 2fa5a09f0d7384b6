"""Who is asking: the viewer of a GraphQL request."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.query import EmptyQuerySet
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


def restrict(queryset: QuerySet, visible: QuerySet) -> QuerySet:
    """The rows of ``queryset`` that the selector's ``visible`` queryset allows.

    Every type's ``get_queryset`` scopes through this one rule. A selector that is a plain
    filter on the model's own table (no join, no distinct, no annotation) is ANDed in, so
    the SQL keeps a simple WHERE; anything else is matched by primary key in a subquery,
    which stays correct whatever joins the selector needs."""
    if isinstance(visible, EmptyQuerySet):
        return queryset.none()
    own, allowed = queryset.query, visible.query
    if (
        visible.model is queryset.model
        and sum(1 for alias in allowed.alias_map if allowed.alias_refcount[alias]) <= 1
        and not (allowed.distinct or allowed.is_sliced or allowed.annotations)
        and not (own.distinct or own.is_sliced or own.combinator)
    ):
        return queryset & visible.order_by()
    return queryset.filter(pk__in=visible.values("pk"))
