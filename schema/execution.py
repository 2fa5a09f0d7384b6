"""graphql-core's executor with a short path for the commonest field of all.

Most fields of a list are plain values read off a row: ``email``, ``name``, an ``id``
(Strawberry "basic fields": no resolver, no arguments, no extensions; see
``schema.fields``). graphql-core still builds a resolve-info object, checks arguments
and awaitables and walks the completion steps for each of them, which costs more than
reading the value. ``RosterExecutionContext`` reads such a field and coerces it to its
scalar type directly. Anything unusual (a null, an error, an awaitable, a value the
scalar refuses) goes back to graphql-core's own path, which then answers exactly as
before (the basic resolver only reads an attribute, so reading it twice is harmless).
"""

from __future__ import annotations

import inspect
from typing import Any

from graphql import GraphQLField, GraphQLLeafType, GraphQLNonNull, Undefined, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_SLOW = None


def _plain_value_plan(field: GraphQLField) -> tuple[Any, GraphQLLeafType] | None:
    """(resolver, scalar type) when ``field`` is a basic Strawberry field of a leaf type
    without arguments, else None."""
    resolve = field.resolve
    if (
        resolve is None
        or field.args
        or not getattr(resolve, "_is_default", False)
        or resolve.__name__ != "_get_basic_result"
    ):
        return _SLOW
    field_type = field.type
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    if not is_leaf_type(field_type):
        return _SLOW
    return resolve, field_type


class RosterExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # id(field) -> (field, plan); the field is kept so that an id is never reused.
    _plans: dict[int, tuple[GraphQLField, tuple[Any, GraphQLLeafType] | None]] = {}

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        if field is not None and not node.arguments and not self._has_middleware():
            known = self._plans.get(id(field))
            if known is None or known[0] is not field:
                known = self._plans[id(field)] = (field, _plain_value_plan(field))
            plan = known[1]
            if plan is not None:
                value = _plain_value(plan, source)
                if value is not Undefined:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _has_middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)


def _plain_value(plan: tuple[Any, GraphQLLeafType], source: Any) -> Any:
    """The coerced value, or Undefined to let graphql-core handle the field."""
    resolve, leaf_type = plan
    try:
        value = resolve(source, None)
        if inspect.isawaitable(value):  # a deferred column under ASGI: graphql-core awaits it
            if inspect.iscoroutine(value):
                value.close()
            return Undefined
        if value is None or value is Undefined or isinstance(value, Exception):
            return Undefined
        coerced = leaf_type.coerce_output_value(value)
    except Exception:  # graphql-core's path raises it again, located, as a field error
        return Undefined
    if coerced is None:
        return Undefined
    return coerced
