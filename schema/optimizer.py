"""The schema's queryset optimizer: strawberry-django's, with the plans it can reuse kept.

For every list a request resolves, strawberry-django's optimizer walks the selection
against the schema and the models. From that walk it works out which columns to load
(``only``), which relations to join (``select_related``), and which to prefetch or
annotate. For one operation, field and set of variables, the columns and joins come out
the same on every request. A prefetch or an annotation does not: its queryset is built
for the viewer.

On the members page (50 rows) the walk was about 4 % of the request. ``QuerysetOptimizer``
keeps the plans made only of columns and joins, keyed by operation, field, path and
variables, and applies a copy to each request's queryset. A plan with a prefetch or an
annotation is worked out again every time, exactly as the library does.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.models.manager import BaseManager
from graphql import OperationType, get_named_type
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.nodes import get_variable_values
from strawberry_django import optimizer as library
from strawberry_django.optimizer import (
    DjangoOptimizerExtension,
    OptimizerConfig,
    OptimizerStore,
    is_optimized,
)
from strawberry_django.queryset import get_queryset_config
from strawberry_django.utils.inspect import get_possible_concrete_types, is_inheritance_qs

PLANS_MAX = 512

# key -> (operation node, field nodes, store). The nodes are held so that the ids in the
# key stay theirs: a document the parser cache dropped cannot lend its ids to another one.
_plans: dict[tuple, tuple[Any, tuple, OptimizerStore]] = {}
_plans_lock = threading.Lock()


class QuerysetOptimizer(DjangoOptimizerExtension):
    # No per-field middleware: the optimizer works where resolvers hand it a queryset,
    # and a middleware would turn the executor's short path off (schema.execution).
    resolve = SchemaExtension.resolve

    def optimize(self, qs, info, *, store: OptimizerStore | None = None):
        if store is not None or not self.enabled.get():
            return super().optimize(qs, info, store=store)
        if isinstance(qs, BaseManager):
            qs = qs.all()
        raw = info._raw_info if isinstance(info, Info) else info
        if (
            isinstance(qs, list)
            or is_optimized(qs)
            or qs._result_cache is not None
            or is_inheritance_qs(qs)
            or raw.operation.operation != OperationType.QUERY
        ):
            return super().optimize(qs, info)
        config = OptimizerConfig(
            enable_only=self.enable_only,
            enable_select_related=self.enable_select_related,
            enable_prefetch_related=self.enable_prefetch_related,
            enable_annotate=self.enable_annotate_optimization,
            prefetch_custom_queryset=self.prefetch_custom_queryset,
        )
        key = _plan_key(qs.model, raw)
        known = _plans.get(key)
        if (
            known is not None
            and known[0] is raw.operation
            and all(a is b for a, b in zip(known[1], raw.field_nodes, strict=True))
        ):
            plan = known[2]
        else:
            plan = _plan(qs, raw, config)
            if plan is None:
                return qs
            if not (plan.prefetch_related or plan.annotate):
                _remember(key, (raw.operation, tuple(raw.field_nodes), plan))
        if not plan:
            return qs
        qs = plan.copy().apply(qs, info=raw, config=config)
        get_queryset_config(qs).optimized = True
        return qs


def optimized(queryset, info):
    """``queryset`` shaped for the field's selection by the request's optimizer."""
    extension = library.optimizer.get()
    if extension is None:
        return library.optimize(queryset, info)
    return extension.optimize(queryset, info)


def _plan(qs, raw, config: OptimizerConfig) -> OptimizerStore | None:
    """What ``strawberry_django.optimizer.optimize`` works out for ``qs`` (the same walk,
    for a model without subclasses); None where it would leave the queryset alone."""
    schema = raw.schema._strawberry_schema
    strawberry_type = schema.get_type_by_name(get_named_type(raw.return_type).name)
    if strawberry_type is None:
        return None
    store = OptimizerStore()
    for definition in get_possible_concrete_types(qs.model, schema, strawberry_type):
        hints = library._get_model_hints(
            qs.model,
            schema,
            definition,
            parent_type=library._get_gql_definition(schema, definition),
            info=raw,
            config=config,
        )
        if hints is not None:
            store |= hints
    return store


def _plan_key(model, raw) -> tuple:
    """Everything the walk reads: the model, the schema, the operation and field nodes, the types
    around the field, the path's field names and types (list indices aside), and the
    variables (directives and nested arguments use them)."""
    path = []
    step = raw.path
    while step is not None:
        if not isinstance(step.key, int):
            path.append((step.key, step.typename))
        step = step.prev
    return (
        model,
        id(raw.schema),
        id(raw.operation),
        tuple(map(id, raw.field_nodes)),
        raw.parent_type.name,
        str(raw.return_type),
        tuple(path),
        repr(sorted(get_variable_values(raw).items())),
    )


def _remember(key: tuple, entry: tuple) -> None:
    with _plans_lock:
        if len(_plans) >= PLANS_MAX:
            del _plans[next(iter(_plans))]
        _plans[key] = entry


def plans_forget() -> None:
    """Drop the kept plans (for tests)."""
    with _plans_lock:
        _plans.clear()
