"""Connection arguments checked up front: a bad cursor or page size is the client's
mistake (``INVALID``), not an unexpected server error."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from strawberry.extensions import SchemaExtension
from strawberry.relay.utils import SliceMetadata

from accounts.errors import Invalid

PAGINATION_ARGUMENTS = ("after", "before", "first", "last")


def pagination_check(*, after=None, before=None, first=None, last=None) -> None:
    """Raise INVALID when strawberry's relay slicing would refuse these arguments."""
    try:
        SliceMetadata.from_arguments(
            None,  # type: ignore[arg-type]  # unused when max_results is given
            after=after,
            before=before,
            first=first,
            last=last,
            max_results=settings.GRAPHQL_PAGE_SIZE_MAX,
        )
    except (TypeError, ValueError) as error:
        message = str(error)
        field = next((name for name in PAGINATION_ARGUMENTS if f"'{name}'" in message), None)
        if field is None:
            field = "after" if after is not None else "before"
            message = f"Argument '{field}' is not a valid cursor."
        raise Invalid(message, field=field) from error


class PaginationArguments(SchemaExtension):
    def resolve(self, _next, root, info, *args: Any, **kwargs: Any):
        if kwargs and any(name in kwargs for name in PAGINATION_ARGUMENTS):
            definition = info.parent_type.fields.get(info.field_name)
            if definition is not None and all(
                name in definition.args for name in PAGINATION_ARGUMENTS
            ):
                pagination_check(**{name: kwargs.get(name) for name in PAGINATION_ARGUMENTS})
        return _next(root, info, *args, **kwargs)
