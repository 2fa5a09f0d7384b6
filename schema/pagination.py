"""Connections: Relay pagination arguments checked by Roster before any query runs, and
``KeysetConnection`` for lists read by position (``backend/keyset.py``)."""

from __future__ import annotations

import binascii
import json
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Generic

import strawberry
import strawberry_django
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.relay import NodeType, PageInfo, from_base64, to_base64
from strawberry.relay.utils import SliceMetadata, should_resolve_list_connection_edges
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField

from backend.errors import Invalid
from backend.keyset import Count, Position

INVALID_CURSOR = gettext_lazy("Invalid pagination cursor.")
PAGE_ARGUMENTS = ("first", "last", "before", "after")


def page_arguments_check(info: Info, arguments: dict[str, Any], *, offsets: bool = True) -> None:
    """INVALID for a page size over the schema's maximum, a negative one, or (``offsets``:
    cursors are offsets) a cursor this API never handed out; strawberry's own reading of the
    arguments decides. A keyset connection reads its cursors itself."""
    limit = info.schema.config.relay_max_results
    for name in ("first", "last"):
        size = arguments.get(name)
        if isinstance(size, int) and size < 0:
            raise Invalid(
                gettext("Argument '%(argument)s' must be a non-negative integer.")
                % {"argument": name}
            )
        if isinstance(size, int) and size > limit:
            raise Invalid(
                gettext("Argument '%(argument)s' cannot be higher than %(limit)d.")
                % {"argument": name, "limit": limit}
            )
    cursors = PAGE_ARGUMENTS if offsets else ("first", "last")
    try:
        SliceMetadata.from_arguments(info, **{name: arguments.get(name) for name in cursors})
    except (ValueError, TypeError) as error:
        raise Invalid(INVALID_CURSOR) from error


class PageArgumentsCheck(FieldExtension):
    """Checks the arguments of a connection resolved on its own, before its resolver runs
    (it is the outermost extension: the connection extension consumes the arguments)."""

    def __init__(self, *, offsets: bool = True) -> None:
        self.offsets = offsets

    def resolve(self, next_, source, info, **kwargs):
        page_arguments_check(info, kwargs, offsets=self.offsets)
        return next_(source, info, **kwargs)


class ConnectionField(StrawberryDjangoField):
    """Checks the arguments of a connection the optimizer prefetches under a list: the
    optimizer builds its queryset through ``get_queryset`` with them before it pages."""

    offsets: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extensions.append(PageArgumentsCheck(offsets=self.offsets))

    def get_queryset(self, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        page_arguments_check(info, kwargs, offsets=self.offsets)
        return super().get_queryset(queryset, info, **kwargs)


class KeysetConnectionField(ConnectionField):
    offsets = False


def connection(graphql_type: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``strawberry_django.connection`` whose page arguments answer INVALID when wrong."""
    keyset = isinstance(graphql_type, type) and issubclass(graphql_type, KeysetConnection)
    field_cls = KeysetConnectionField if keyset else ConnectionField
    return strawberry_django.connection(graphql_type, *args, field_cls=field_cls, **kwargs)


# Keyset connections ---------------------------------------------------------------------------


def keyset_cursor(prefix: str, position: Position) -> str:
    return to_base64(prefix, json.dumps([position.key, str(position.id)], ensure_ascii=False))


def keyset_cursor_read(prefix: str, cursor: str) -> Position:
    """The position a cursor of this connection holds; INVALID for anything else."""
    try:
        kind, payload = from_base64(cursor)
        key, id_ = json.loads(payload)
        if kind != prefix or not isinstance(key, str) or not isinstance(id_, str):
            raise ValueError(kind)
        return Position(key=key, id=uuid.UUID(id_))
    except (ValueError, TypeError, binascii.Error) as error:
        raise Invalid(INVALID_CURSOR) from error


class _CountOnce:
    """A count asked for by ``totalCount`` and ``totalCountIsExact``: one query for both."""

    def __init__(self, count: Callable[[], Count]) -> None:
        self._count = count
        self._value: Count | None = None

    def get(self) -> Count:
        if self._value is None:
            self._value = self._count()
        return self._value


@strawberry.type(description="A connection to a list of items, read by position.")
class KeysetConnection(relay.Connection[NodeType], Generic[NodeType]):
    """A connection whose cursors hold a row's position (sort key, id): a page is read from
    the index at the cursor, never by OFFSET, and its count stops at a bound.

    Subclasses answer ``page`` (the rows next to the positions, in order), ``position`` (a
    row's) and ``count``; each receives the field's other arguments."""

    CURSOR_PREFIX: ClassVar[str] = "keyset"
    counted: strawberry.Private[_CountOnce]

    @strawberry.field(
        description=(
            "How many items the list holds: exact when `totalCountIsExact`, else a lower "
            "bound (counting stops there; see README)."
        )
    )
    def total_count(self) -> int | None:
        return self.counted.get().value

    @strawberry.field(description="Whether `totalCount` is the exact number of items.")
    def total_count_is_exact(self) -> bool:
        return self.counted.get().exact

    @classmethod
    def page(
        cls,
        nodes: Any,
        *,
        info: Info,
        limit: int,
        after: Position | None,
        before: Position | None,
        backwards: bool,
        **kwargs: Any,
    ) -> list[Any]:
        raise NotImplementedError

    @classmethod
    def position(cls, node: Any) -> Position:
        raise NotImplementedError

    @classmethod
    def count(cls, nodes: Any, *, info: Info, **kwargs: Any) -> Count:
        raise NotImplementedError

    @classmethod
    def resolve_connection(
        cls,
        nodes: Any,
        *,
        info: Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        max_results: int | None = None,
        **kwargs: Any,
    ) -> KeysetConnection:
        after_position = keyset_cursor_read(cls.CURSOR_PREFIX, after) if after else None
        before_position = keyset_cursor_read(cls.CURSOR_PREFIX, before) if before else None
        # Forward from ``after`` unless only ``last`` is given: then backward from ``before``
        # (or from the end). With both ``first`` and ``last``, ``last`` cuts the first page.
        backwards = first is None and last is not None
        limit = (last if backwards else first) or 0
        if first is None and last is None:
            limit = max_results or info.schema.config.relay_max_results
        rows: list[Any] = []
        if limit and should_resolve_list_connection_edges(info):
            rows = cls.page(
                nodes,
                info=info,
                limit=limit + 1,
                after=after_position,
                before=before_position,
                backwards=backwards,
                **kwargs,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
            has_previous, has_next = more, before is not None
        else:
            has_previous, has_next = after is not None, more
            if last is not None and len(rows) > last:
                rows, has_previous = rows[len(rows) - last :], True
        edges = [
            relay.Edge(cursor=keyset_cursor(cls.CURSOR_PREFIX, cls.position(row)), node=row)
            for row in rows
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_previous_page=has_previous,
                has_next_page=has_next,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            counted=_CountOnce(lambda: cls.count(nodes, info=info, **kwargs)),
        )
