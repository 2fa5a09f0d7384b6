"""What the GraphQL layer tells the request's log line, metrics and trace.

- ``OperationObserved`` notes the operation's name and type and the error codes of its
  GraphQL errors in the request's observation (``backend.observability``); a mutation's
  ``OperationInfo`` codes are noted where they are made (``schema.errors``).
- ``OperationTracing`` (only in the schema when tracing is on, ``backend.tracing``) opens
  a span for the operation, its parsing and validation, and each field a resolver
  resolves outside a list's items. Strawberry's own ``OpenTelemetryExtension`` records
  the document's text and every resolver's arguments on its spans: a document may
  inline a password or a token, so Roster's spans name the operation and the fields
  only (docs/upstream/strawberry-opentelemetry-document.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from django.conf import settings
from graphql import FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing.utils import should_skip_tracing
from strawberry.types import get_object_definition

from backend import metrics
from backend.observability import error_observed, operation_name_loggable, operation_observed
from schema.errors import is_expected

# The code of an error that has none of its own: a document that does not parse or
# validate, or an unexpected failure ("Unexpected error.").
GRAPHQL_INVALID = "GRAPHQL_INVALID"
INTERNAL_ERROR = "INTERNAL_ERROR"


def _operation(execution_context) -> tuple[str | None, str | None]:
    """The operation's name (a GraphQL name, else None) and type (None when the document
    does not say)."""
    try:
        operation_type = execution_context.operation_type.value
    except Exception:  # no document, or no such operation in it
        operation_type = None
    return operation_name_loggable(execution_context.operation_name), operation_type


@functools.cache
def _api_operations(schema) -> dict[str, str]:
    """The API's operation names (the root fields of ``schema``), by their lower case."""
    names = {}
    for root in (schema.query, schema.mutation):
        definition = get_object_definition(root) if root is not None else None
        for field in definition.fields if definition else ():
            name = schema.config.name_converter.get_graphql_name(field)
            names[name.lower()] = name
    return names


def _root_fields(execution_context, name: str | None) -> set[str]:
    """The fields the operation selects at its root."""
    document = execution_context.graphql_document
    operation = get_operation_ast(document, name) if document is not None else None
    if operation is None:
        return set()
    return {
        field.name.value
        for field in operation.selection_set.selections
        if isinstance(field, FieldNode)
    }


def operation_label(execution_context, name: str | None) -> str:
    """The operation's metric label: its name when it is one of ``METRICS_OPERATION_NAMES``
    (a frontend's own names) or one of the API's that the operation runs (``Login``
    selecting ``login`` is ``login``; ``Login`` selecting ``resetPassword`` is not), else
    "other". However many names clients invent, the labels stay a bounded set."""
    if not name:
        return metrics.OTHER_OPERATION
    if name in settings.METRICS_OPERATION_NAMES:
        return name
    api_name = _api_operations(execution_context.schema).get(name.lower())
    if api_name is None or api_name not in _root_fields(execution_context, name):
        return metrics.OTHER_OPERATION
    return api_name


def _error_code(error: GraphQLError) -> str:
    if not is_expected(error):
        return INTERNAL_ERROR
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else GRAPHQL_INVALID


class _Answered(SchemaExtension):
    """Calls ``answered`` once the operation is answered, with its name, type and the
    codes of its GraphQL errors. Placed after ``ErrorPolicy``: it sees the errors before
    they are masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = (result.errors if result is not None else None) or []
        name, operation_type = _operation(self.execution_context)
        self.answered(name, operation_type, [_error_code(error) for error in errors])

    def answered(self, name: str | None, operation_type: str | None, codes: list[str]) -> None:
        raise NotImplementedError


class OperationObserved(_Answered):
    def answered(self, name, operation_type, codes) -> None:
        operation_observed(
            name=name,
            operation_type=operation_type,
            label=operation_label(self.execution_context, name),
        )
        for code in codes:
            error_observed(code)


def _in_list_item(info) -> bool:
    path = info.path
    while path is not None:
        if isinstance(path.key, int):
            return True
        path = path.prev
    return False


class OperationTracing(_Answered):
    def __init__(self, *, execution_context=None) -> None:
        from opentelemetry import trace

        self.tracer = trace.get_tracer("roster.graphql")
        if execution_context is not None:
            self.execution_context = execution_context

    def on_operation(self) -> Iterator[None]:
        # An error's message may quote the document: not recorded as a span event.
        with self.tracer.start_as_current_span(
            "GraphQL operation", record_exception=False, set_status_on_exception=False
        ) as self.span:
            yield from super().on_operation()

    def answered(self, name, operation_type, codes) -> None:
        if operation_type:
            self.span.set_attribute("graphql.operation.type", operation_type)
        if name:
            self.span.set_attribute("graphql.operation.name", name)
        self.span.update_name(
            " ".join(part for part in (operation_type, name) if part) or "GraphQL"
        )
        if codes:
            self.span.set_attribute("roster.error_codes", sorted(set(codes)))

    def on_parse(self) -> Iterator[None]:
        with self.tracer.start_as_current_span("GraphQL parse"):
            yield

    def on_validate(self) -> Iterator[None]:
        with self.tracer.start_as_current_span("GraphQL validate"):
            yield

    def resolve(self, _next, root, info, *args, **kwargs):
        # A span per field of every item of a 100-item page would drown the trace.
        if should_skip_tracing(_next, info) or _in_list_item(info):
            return _next(root, info, *args, **kwargs)
        with self.tracer.start_as_current_span(
            f"GraphQL resolve {info.parent_type.name}.{info.field_name}",
            record_exception=False,  # its message may quote what failed (as the operation's)
            attributes={
                "graphql.field.name": info.field_name,
                "graphql.field.parent_type": info.parent_type.name,
            },
        ):
            return _next(root, info, *args, **kwargs)
