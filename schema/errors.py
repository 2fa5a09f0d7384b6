"""Error policy of the API (API.md, "Errors").

- Mutations: domain errors become ``OperationInfo`` messages with stable codes.
- Queries: domain errors become GraphQL errors with ``extensions.code``.
- Anything unexpected answers "Unexpected error." and is logged server-side with its trace.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext
from graphql import GraphQLError
from strawberry.extensions import FieldExtension, MaskErrors
from strawberry_django.fields.types import OperationInfo, OperationMessage

from backend.errors import DomainError
from backend.observability import error_observed

logger = logging.getLogger("roster.graphql")

_PERMISSION_CODES = {"UNAUTHENTICATED", "PERMISSION_DENIED"}
_VALIDATION_CODES = {"INVALID"}


def operation_info(error: DomainError) -> OperationInfo:
    messages = []
    for item in error.messages:
        if item.code in _PERMISSION_CODES:
            kind = OperationMessage.Kind.PERMISSION
        elif item.code in _VALIDATION_CODES or item.field:
            kind = OperationMessage.Kind.VALIDATION
        else:
            kind = OperationMessage.Kind.ERROR
        messages.append(
            OperationMessage(kind=kind, message=item.message, field=item.field, code=item.code)
        )
    return OperationInfo(messages=messages)


class DomainErrorsAsOperationInfo(FieldExtension):
    """Answer a mutation's domain error as its ``OperationInfo`` branch."""

    def resolve(self, next_, source, info, **kwargs) -> Any:
        try:
            return next_(source, info, **kwargs)
        except DomainError as error:
            for message in error.messages:
                error_observed(message.code)
            return operation_info(error)


def query_error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def is_expected(error: GraphQLError) -> bool:
    """Validation/syntax errors and deliberate API errors are shown as they are; a domain
    error raised by a resolver already carries its ``code`` (``DomainError.extensions``)."""
    original = error.original_error
    return original is None or isinstance(original, (GraphQLError, DomainError))


class ErrorPolicy(MaskErrors):
    """Anything unexpected answers "Unexpected error." (logged with its trace by the schema)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.message = gettext("Unexpected error.")
        return masked
