"""Connections: Relay pagination arguments checked by Roster before any query runs."""

from __future__ import annotations

from typing import Any

import strawberry_django
from django.db.models import QuerySet
from strawberry.extensions import FieldExtension
from strawberry.relay.utils import SliceMetadata
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField

from backend.errors import Invalid

INVALID_CURSOR = "Invalid pagination cursor."
PAGE_ARGUMENTS = ("first", "last", "before", "after")


def page_arguments_check(info: Info, arguments: dict[str, Any]) -> None:
    """INVALID for a page size over the schema's maximum, a negative one, or a cursor this
    API never handed out; strawberry's own reading of the arguments decides."""
    try:
        SliceMetadata.from_arguments(info, **{name: arguments.get(name) for name in PAGE_ARGUMENTS})
    except (ValueError, TypeError) as error:
        message = str(error)
        raise Invalid(message if message.startswith("Argument '") else INVALID_CURSOR) from error


class PageArgumentsCheck(FieldExtension):
    """Checks the arguments of a connection resolved on its own, before its resolver runs
    (it is the outermost extension: the connection extension consumes the arguments)."""

    def resolve(self, next_, source, info, **kwargs):
        page_arguments_check(info, kwargs)
        return next_(source, info, **kwargs)


class ConnectionField(StrawberryDjangoField):
    """Checks the arguments of a connection the optimizer prefetches under a list: the
    optimizer builds its queryset through ``get_queryset`` with them before it pages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extensions.append(PageArgumentsCheck())

    def get_queryset(self, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        page_arguments_check(info, kwargs)
        return super().get_queryset(queryset, info, **kwargs)


def connection(*args: Any, **kwargs: Any) -> Any:
    """``strawberry_django.connection`` whose page arguments answer INVALID when wrong."""
    return strawberry_django.connection(*args, field_cls=ConnectionField, **kwargs)
