"""Keyset pagination: a list read in the order of an index, from a position, never by OFFSET.

A position is the sort key of a row (a text, e.g. a normalized name) and its id; the rows
after it are those with a greater (key, id). A deep page then costs what the first one
costs: the database starts reading the index at the position instead of counting rows up to
it. Counts stop at a bound (``Count.exact`` tells whether they reached it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Position:
    """A place in a keyset order: a row's sort key, then its id."""

    key: str
    id: uuid.UUID


@dataclass(frozen=True)
class Count:
    """How many rows a list holds: exact up to a bound, else at least ``value``."""

    value: int
    exact: bool


def keyset_between(
    queryset: QuerySet,
    *,
    key: str,
    id: str,
    after: Position | None = None,
    before: Position | None = None,
) -> QuerySet:
    """The rows of ``queryset`` strictly between two positions, ``key`` and ``id`` naming
    the fields (or annotations) they compare. Written ``key >= k AND (key > k OR id > i)``
    so that the database starts (or ends) its index range at the position's key."""
    if after is not None:
        queryset = queryset.filter(**{f"{key}__gte": after.key}).filter(
            Q(**{f"{key}__gt": after.key}) | Q(**{f"{id}__gt": after.id})
        )
    if before is not None:
        queryset = queryset.filter(**{f"{key}__lte": before.key}).filter(
            Q(**{f"{key}__lt": before.key}) | Q(**{f"{id}__lt": before.id})
        )
    return queryset


def union_of_slices(parts: list[QuerySet]) -> QuerySet:
    """One query answering the rows of ``parts``, each ordered and sliced, with UNION ALL.
    The parts select one column, a primary key of ``parts[0]``'s model. SQLite cannot
    slice the parts of a compound statement: there each is wrapped in a subquery."""
    if not connection.features.supports_slicing_ordering_in_compound:
        model = parts[0].model
        parts = [model.objects.filter(pk__in=part).order_by().values("pk") for part in parts]
    first, *rest = parts
    return first.union(*rest, all=True)


def count_up_to(parts: list[QuerySet], bound: int) -> Count:
    """How many rows ``parts`` (disjoint, one column each) hold together, counting at most
    ``bound + 1`` of each: one query, whose cost stops growing at the bound."""
    counted = union_of_slices([part[: bound + 1] for part in parts]).count()
    return Count(value=min(counted, bound), exact=counted <= bound)
