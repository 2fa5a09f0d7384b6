"""How the schema executes a document: graphql-core's executor with a short path for plain
fields, run on a reserved stretch of the interpreter's frame stack.

Most fields of a list are plain values read off a row: ``email``, ``name``, a Relay ``id``,
an edge's ``node`` (Strawberry "basic fields": no resolver, no arguments, no extensions, no
permissions; ``schema.fields`` makes model columns basic). For each of them, on every row,
graphql-core builds a resolve-info object, checks for arguments and awaitables and walks
its completion steps (non-null, list, leaf, abstract, object) before it coerces the value.
``RosterExecutor`` plans each selection once per request and answers such fields in place:
a scalar is coerced by its type, an object's (or a list of objects') own selection is
executed at once. Each field is still read exactly once; whatever is unusual about what it
read (a null where none may be, an error, an awaitable, a value its type refuses) is handed
to graphql-core's own completion, which answers and locates it exactly as before.
"""

from __future__ import annotations

import functools
import sys
from operator import attrgetter
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField

# Scalars whose coercion returns a value of exactly this Python type unchanged.
_UNCHANGED = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
# Types of completed values and plain column values, which are never awaitable.
_SETTLED = frozenset({dict, list, str, int, float, bool, type(None)})
# Types whose instances ``_unusual`` found to be neither exceptions nor awaitables.
_ORDINARY: set[type] = set()
# Object type -> the classes its check accepted, for checks that answer by class alone
# (``_answers_by_class``): their instances, unless cast, are accepted without asking again.
_ACCEPTED_CLASSES: dict[GraphQLObjectType, set[type]] = {}


def _field_plan(parent_type: GraphQLObjectType, field_details_list) -> tuple | None:
    """How to answer a basic field without arguments or directives whose type is a scalar
    or enum, an object type, or a list of objects: (method name, field, resolver, named
    type, whether it is non-null, the type of a scalar's unchanged values). None for
    anything else."""
    node = field_details_list[0].node
    if node.arguments or node.directives:
        return None
    field = parent_type.fields.get(node.name.value)
    if field is None or field.args or not _reads_an_attribute(field.resolve):
        return None
    field_type, non_null = _nullable(field.type)
    if is_leaf_type(field_type):
        return "_leaf", field, _reader(field), field_type, non_null, _UNCHANGED.get(field_type)
    if is_object_type(field_type):
        return "_object", field, _reader(field), field_type, non_null, None
    if isinstance(field_type, GraphQLList):
        item_type, _ = _nullable(field_type.of_type)
        if is_object_type(item_type):
            return "_object_list", field, _reader(field), field_type, non_null, None
    return None


def _reader(field: GraphQLField):
    """One call answering the basic field's value off a source, as its resolver would:
    the field class's own ``reader`` (``schema.fields``), an attribute read for a plain
    Strawberry field, else the resolver itself (which takes the source alone)."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    reader = getattr(definition, "reader", None)
    if reader is not None:
        return reader(field.resolve)
    if (
        isinstance(definition, StrawberryField)
        and type(definition).get_result is StrawberryField.get_result
        and definition.default_resolver is getattr
        and definition.python_name
    ):
        return attrgetter(definition.python_name)
    return field.resolve


def _reads_an_attribute(resolve) -> bool:
    """Whether ``resolve`` is Strawberry's resolver of a basic field, which reads the value
    off the source without an info object (``_is_default`` alone also marks fields that
    have no resolver of their own but run extensions or permissions)."""
    return getattr(resolve, "_is_default", False) and resolve.__name__ == "_get_basic_result"


@functools.cache
def _answers_by_class(is_type_of) -> bool:
    """Whether ``is_type_of`` is strawberry-django's check of a model type with no other
    check above it, which answers by the object's class alone unless the object was cast
    (``strawberry.cast``): ``isinstance(obj, (type, model))``."""
    function, owner = getattr(is_type_of, "__func__", None), getattr(is_type_of, "__self__", None)
    return (
        function is not None
        and function.__module__ == "strawberry_django.type"
        and function.__qualname__ == "_process_type.<locals>.is_type_of"
        and isinstance(owner, type)
        and getattr(super(owner, owner), "is_type_of", None) is None
    )


def _nullable(graphql_type) -> tuple[Any, bool]:
    if isinstance(graphql_type, GraphQLNonNull):
        return graphql_type.of_type, True
    return graphql_type, False


class RosterExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (the set, its plans); the set is kept so that its id is
        # not reused while this request runs (graphql-core memoizes the sets per request).
        self._plans: dict[int, tuple[Any, list]] = {}
        # id(plan) -> the resolve info its object type's check sees (built once: as for the
        # items of a list in graphql-core, the check sees the info of the first use).
        self._check_infos: dict[int, Any] = {}
        # Strawberry always passes a middleware manager; a middleware (an extension with a
        # ``resolve`` hook) must see every field, so it turns the short path off.
        manager = self.middleware_manager
        self._planning = not (manager is not None and manager.middlewares)

    def _plans_of(self, parent_type: GraphQLObjectType, grouped_field_set) -> list:
        """The plans of a selection ``execute_fields`` meets for the first time."""
        plans = []
        for name, details in grouped_field_set.items():
            plan = _field_plan(parent_type, details) if self._planning else None
            method = getattr(self, plan[0]) if plan is not None else None
            # A scalar field with values that pass unchanged is read in the loop itself.
            read = plan[2] if plan is not None and plan[5] is not None else None
            plans.append((name, details, method, plan, read, plan and plan[5]))
        self._plans[id(grouped_field_set)] = (grouped_field_set, plans)
        return plans

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):
        """graphql-core's ``execute_fields``, with the planned fields answered in place."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        known = self._plans.get(id(grouped_field_set))
        plans = known[1] if known is not None else self._plans_of(parent_type, grouped_field_set)
        try:
            for response_name, field_details_list, method, plan, read, unchanged in plans:
                if read is not None:
                    try:  # ``_read``, inlined for the commonest field
                        value = read(source_value)
                    except Exception as raw_error:
                        value = raw_error
                    if type(value) is unchanged:  # exactly this type, not a subclass
                        results[response_name] = value
                        continue
                    result = self._leaf_value(
                        value, plan, parent_type, field_details_list, path,
                        response_name, position_context,
                    )  # fmt: skip
                elif method is None:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                else:
                    result = method(
                        plan, parent_type, source_value, field_details_list, path,
                        response_name, position_context,
                    )  # fmt: skip
                results[response_name] = result
                if type(result) not in _SETTLED and is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gathered(results, awaitable_fields)

    # The planned fields. Each reads its value once (``_read``); ``_completed`` hands
    # anything unusual about it, a raised exception included, to graphql-core's
    # completion, and errors are handled as graphql-core's ``execute_field`` handles them
    # (located at the field, nulled or raised to the parent).

    def _leaf(self, plan, parent_type, source, field_details_list, path, name, position_context):
        return self._leaf_value(
            _read(plan, source), plan, parent_type, field_details_list, path, name, position_context
        )

    def _leaf_value(
        self, value, plan, parent_type, field_details_list, path, name, position_context
    ):
        """A scalar field's answer, given what its reader answered or raised (graphql-core
        answers a resolver's exception and an exception it returns alike)."""
        _, field, _, leaf_type, non_null, unchanged = plan
        if type(value) is unchanged:  # exactly this type, not a subclass
            return value
        if value is None and not non_null:
            return None
        if value is not None and (type(value) in _SETTLED or not self._unusual(value)):
            try:
                coerced = leaf_type.coerce_output_value(value)
            except Exception:  # graphql-core's completion raises it again, located
                coerced = None
            if coerced is not None and coerced is not Undefined:
                return coerced
        return self._completed(
            value, field, parent_type, field_details_list, path, name, position_context
        )

    def _object(self, plan, parent_type, source, field_details_list, path, name, position_context):
        _, field, _, object_type, non_null, _ = plan
        value = _read(plan, source)
        if value is None and not non_null:
            return None
        field_path = Path(path, name, parent_type.name)
        if (
            value is None
            or (type(value) not in _ORDINARY and self._unusual(value))
            or not self._accepted(plan, object_type, (value,), parent_type, field_details_list, field_path)
        ):  # fmt: skip
            return self._completed(
                value, field, parent_type, field_details_list, path, name, position_context
            )
        try:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                object_type, field_details_list
            )
            completed = self._selection(
                object_type,
                grouped_field_set,
                new_defer_usages,
                field_path,
                value,
                position_context,
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, field_path)
            return None
        if type(completed) is not dict and self.is_awaitable(completed):
            return self._awaited(completed, field.type, field_details_list, field_path)
        return completed

    def _object_list(
        self, plan, parent_type, source, field_details_list, path, name, position_context
    ):
        _, field, _, list_type, non_null, _ = plan
        items = _read(plan, source)
        if items is None and not non_null:
            return None
        item_type = list_type.of_type
        object_type, _ = _nullable(item_type)
        field_path = Path(path, name, parent_type.name)
        if (
            type(items) not in (list, tuple)  # iterators and the like: graphql-core's path
            or not self._ordinary(items)
            or not self._accepted(plan, object_type, items, parent_type, field_details_list, field_path)
        ):  # fmt: skip
            return self._completed(
                items, field, parent_type, field_details_list, path, name, position_context
            )
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                object_type, field_details_list
            )
            for index, item in enumerate(items):
                item_path = field_path.add_key(index, None)
                try:
                    data = self._selection(
                        object_type, grouped_field_set, new_defer_usages, item_path, item,
                        position_context,
                    )  # fmt: skip
                except Exception as raw_error:  # as graphql-core's complete_list_item_value
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    data = None
                if type(data) is not dict and self.is_awaitable(data):
                    data = self._awaited(data, item_type, field_details_list, item_path)
                    awaitable_indices.append(index)
                completed.append(data)
        except Exception as raw_error:  # a non-null item failed: the list fails
            if awaitable_indices:
                self.settle_in_background([completed[index] for index in awaitable_indices])
            self.handle_field_error(raw_error, field.type, field_details_list, field_path)
            return None
        if awaitable_indices:
            return self._awaited(
                _gathered(completed, awaitable_indices), field.type, field_details_list, field_path
            )
        return completed

    def _selection(
        self, object_type, grouped_field_set, new_defer_usages, path, value, position_context
    ):
        """graphql-core's ``execute_collected_subfields`` of a collected selection, without
        its call layers when nothing is deferred."""
        if new_defer_usages or position_context is not None:
            return self.execute_collected_subfields(
                object_type, value, path, grouped_field_set, new_defer_usages, position_context
            )
        return self.execute_fields(object_type, value, path, grouped_field_set, None)

    def _unusual(self, value: Any) -> bool:
        """Whether ``value`` is an exception or an awaitable (remembering the types whose
        instances are neither by their class, so that their rows are not asked again)."""
        if isinstance(value, BaseException) or self.is_awaitable(value):
            return True
        kind = type(value)
        if not (
            hasattr(kind, "__await__")
            or hasattr(kind, "__getattr__")
            or kind.__getattribute__ is not object.__getattribute__
            or issubclass(kind, (CoroutineType, GeneratorType))
        ):
            _ORDINARY.add(kind)
        return False

    def _ordinary(self, items) -> bool:
        """Whether no item is null, an exception or an awaitable."""
        for item in items:
            if item is None or (type(item) not in _ORDINARY and self._unusual(item)):
                return False
        return True

    def _accepted(self, plan, object_type, values, parent_type, field_details_list, path) -> bool:
        """Whether the object type's own check, if it has one, accepts each of ``values``
        at once (an awaitable answer, a refusal or an error: graphql-core's completion)."""
        is_type_of = object_type.is_type_of
        if is_type_of is None:
            return True
        classes = _ACCEPTED_CLASSES.get(object_type)
        if classes is not None:
            for value in values:
                if type(value) not in classes or get_strawberry_type_cast(value) is not None:
                    break
            else:
                return True
        info = self._check_infos.get(id(plan))
        if info is None:
            info = self._check_infos[id(plan)] = self.build_resolve_info(
                plan[1], to_nodes(field_details_list), parent_type, path
            )
        try:
            for value in values:
                if is_type_of(value, info) is not True:
                    return False
        except Exception:
            return False
        if _answers_by_class(is_type_of):
            _ACCEPTED_CLASSES.setdefault(object_type, set()).update(
                type(value) for value in values if get_strawberry_type_cast(value) is None
            )
        return True

    def _completed(
        self, value, field, parent_type, field_details_list, path, name, position_context
    ) -> Any:
        """What graphql-core's ``execute_field`` answers once the resolver gave ``value``."""
        field_path = Path(path, name, parent_type.name)
        return_type = field.type
        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, field_path)
        try:
            if self.is_awaitable(value):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, field_path, value, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, field_path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            return self._awaited(completed, return_type, field_details_list, field_path)
        return completed

    async def _awaited(self, completed, return_type, field_details_list, path) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # as graphql-core's execute_field
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


def _read(plan, source) -> Any:
    """What a planned field's reader answers, or the exception it raised: graphql-core
    answers a resolver's exception and an exception it returns alike, so both then take
    the same way (``_completed``: the error located at the field)."""
    try:
        return plan[2](source)
    except Exception as raw_error:
        return raw_error


async def _gathered(results, keys: list) -> Any:
    """``results`` (a dict or a list) with the awaitables at ``keys`` awaited."""
    awaited = await gather_with_cancel(*(results[key] for key in keys))
    for key, value in zip(keys, awaited, strict=True):
        results[key] = value
    return results


def on_reserved_stack(function, /, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` with 64 KiB of CPython's frame stack reserved for it.

    CPython (3.11 and later) keeps Python frames in 16 KiB chunks that it maps when a call
    does not fit and unmaps as soon as the call returns. Executing a document recurses a
    few frames per level of the query, once per row: where that recursion crosses the end
    of a chunk, every row maps and unmaps one (measured: ~50 ``mmap``/``munmap`` pairs and
    ~850 page faults per ``contacts`` request, a third of its CPU time), and whether it
    crosses depends only on how deep the server's own stack happens to be. This frame
    declares a large value stack (``co_stacksize``, never used), so the interpreter starts
    a fresh chunk for it that holds the whole execution; the untouched pages cost nothing."""
    return function(*args, **kwargs)


if sys.implementation.name == "cpython":
    on_reserved_stack.__code__ = on_reserved_stack.__code__.replace(
        co_stacksize=on_reserved_stack.__code__.co_stacksize + 8 * 1024  # 8-byte slots
    )
