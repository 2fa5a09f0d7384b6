"""Error policy of the API (API.md, "Errors").

- Mutations: domain errors become ``OperationInfo`` messages with stable codes.
- Queries: domain errors become GraphQL errors with ``extensions.code``.
- Anything unexpected answers "Unexpected error." and is logged server-side with its trace.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from django.conf import settings
from graphql import GraphQLError
from strawberry.extensions import FieldExtension, MaskErrors
from strawberry_django.fields.types import OperationInfo, OperationMessage

from backend.errors import DomainError, Invalid

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
            return operation_info(error)


def query_error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


_PAGINATION_SOURCES = (
    f"{os.sep}strawberry{os.sep}relay{os.sep}",
    f"{os.sep}strawberry_django{os.sep}relay{os.sep}",
    f"{os.sep}strawberry_django{os.sep}pagination.py",
)


def pagination_error(error: BaseException | None) -> Invalid | None:
    """Relay's refusal of ``first``/``last``/``before``/``after`` (a ValueError or TypeError raised in
    strawberry's pagination code) is the client's input, not a server fault: INVALID."""
    # A cursor of another type (e.g. a node id passed as ``before``) is a TypeError there.
    if not isinstance(error, (ValueError, TypeError)):
        return None
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None or not any(
        source in frame.tb_frame.f_code.co_filename for source in _PAGINATION_SOURCES
    ):
        return None
    message = str(error)
    if not message.startswith("Argument "):
        message = "Invalid pagination cursor."
    return Invalid(message)


def is_expected(error: GraphQLError) -> bool:
    """Validation/syntax errors and deliberate API errors are shown as they are."""
    original = error.original_error
    if original is None:
        return True
    if isinstance(original, GraphQLError):
        return True
    return isinstance(original, DomainError) or pagination_error(original) is not None


class ErrorPolicy(MaskErrors):
    """Mask the unexpected; give deliberate domain errors their ``extensions.code``."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = []
        for error in super()._process_errors(errors):
            original = pagination_error(error.original_error) or error.original_error
            if original is None and not settings.GRAPHIQL:
                error = _without_suggestions(error)
            if isinstance(original, DomainError):
                error = GraphQLError(
                    original.message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions={"code": original.code},
                )
            processed.append(error)
        return processed


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    """Field suggestions map the schema for a prober; production answers without them."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path
    )
