"""The field, type and connection classes of the schema's Django types.

strawberry-django never lets a field take Strawberry's "basic field" path, because its
fields may resolve relations, run querysets or wait on the database. A plain column read
off the row (``email``, ``name``, a column of a select_related row such as
``profile__first_name``) needs none of that, yet paid for an ``Info`` object, argument
conversion and the extension chain on every row of every list. ``ModelField`` marks exactly
those fields basic and reads them straight from the loaded row; anything else (relations,
files, custom resolvers, extensions, permissions, deferred columns) takes the library's
path unchanged. The optimizer sees the same field either way (``only``/``select_related``).
"""

from __future__ import annotations

import builtins
import functools
import inspect
from typing import Any

import strawberry
import strawberry_django
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from graphql import FieldNode, InlineFragmentNode
from strawberry import relay
from strawberry.annotation import StrawberryAnnotation
from strawberry.relay.utils import SliceMetadata, to_base64
from strawberry.types.base import StrawberryContainer
from strawberry.types.field import StrawberryField
from strawberry.utils.inspect import in_async_context
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay import DjangoListConnection
from strawberry_django.relay.utils import resolve_model_id

_MISSING = object()


class ModelField(StrawberryDjangoField):
    @property
    def is_basic_field(self) -> bool:
        return (
            self.base_resolver is None
            and not self.extensions
            and not self.permission_classes
            and not self.arguments
            and self._column_path is not None
        )

    @functools.cached_property
    def _column_path(self) -> tuple[str, ...] | None:
        """The attribute names from the row to a plain column, through one-to-one or
        many-to-one relations the optimizer joins; None for anything else."""
        django_type = self.origin_django_type
        if django_type is None:
            return None
        model = django_type.model
        names = (self.django_name or self.python_name).split(LOOKUP_SEP)
        path = []
        for index, name in enumerate(names):
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                return None
            if index < len(names) - 1:
                if not (model_field.one_to_one or model_field.many_to_one):
                    return None
                model = model_field.related_model
                path.append(name)
                continue
            if (
                model_field.is_relation
                or not model_field.concrete
                or isinstance(model_field, models.FileField)
            ):
                return None
            path.append(model_field.attname)
        return tuple(path)

    def get_result(self, source, info, args, kwargs) -> Any:
        # Strawberry calls basic fields with ``info=None``; everything else goes as before.
        if info is None and source is not None:
            value = _loaded(source, self._column_path)
            if value is not _MISSING:
                return value
        return super().get_result(source, info, args, kwargs)

    def reader(self, resolve):
        """``resolve`` (Strawberry's resolver of this basic field) as one call for the
        executor's short path (schema.execution): the loaded column, else ``resolve``."""
        path = self._column_path
        # One and two names (a column, a column of a joined row) are the common cases,
        # read without a loop; each answers what ``_loaded`` answers.
        if len(path) == 1:
            (attname,) = path

            def read(source):
                try:
                    return source.__dict__[attname]
                except (KeyError, AttributeError):
                    return resolve(source)

            return read

        if len(path) == 2:
            relation, attname = path

            def read_joined(source):
                try:
                    row = source._state.fields_cache[relation]
                    return None if row is None else row.__dict__[attname]
                except (KeyError, AttributeError):
                    return resolve(source)

            return read_joined

        def read_path(source):
            value = _loaded(source, path) if source is not None else _MISSING
            return resolve(source) if value is _MISSING else value

        return read_path


def _loaded(row: models.Model, path: tuple[str, ...]) -> Any:
    """The column's value if it and the relations to it are already in memory."""
    for name in path[:-1]:
        cache = row._state.fields_cache
        if name not in cache:
            return _MISSING
        row = cache[name]
        if row is None:
            return None
    if path[-1] not in row.__dict__:
        return _MISSING
    return getattr(row, path[-1])


class NodeIdField(StrawberryField):
    """A model type's Relay ``id`` as a basic field: the row's GlobalID, already encoded.

    Relay's own ``id`` field runs a resolver per row to ask the type for its name and the
    row for its id; for a model type both are known once the schema is built. The value is
    the string ``str(GlobalID(...))`` gives (the ``ID`` scalar answers a string as it is)."""

    def __init__(self, original: StrawberryField, *, type_name: str, attname: str) -> None:
        super().__init__(
            python_name=original.python_name,
            graphql_name=original.graphql_name,
            type_annotation=StrawberryAnnotation(relay.GlobalID),
            origin=original.origin,
            description=original.description,
        )
        self._type_name = type_name
        self._attname = attname

    def get_result(self, source, info, args, kwargs) -> str:
        return self._encoded(source)

    def reader(self, resolve):
        """The id as one call for the executor's short path (schema.execution)."""
        return self._encoded

    def _encoded(self, source) -> str:
        return to_base64(self._type_name, getattr(source, self._attname))


def model_type(model: builtins.type[models.Model], **kwargs) -> Any:
    """``strawberry_django.type`` with ``ModelField`` for its auto fields and, on Relay
    nodes, ``NodeIdField`` for ``id``."""
    decorate = strawberry_django.type(model, field_cls=ModelField, **kwargs)

    def wrap(cls):
        cls = decorate(cls)
        if issubclass(cls, relay.Node) and _default_node_identity(cls):
            definition = cls.__strawberry_definition__
            attname = cls.resolve_id_attr()
            if attname == "pk":
                attname = model._meta.pk.attname
            definition.fields = [
                NodeIdField(f, type_name=definition.name, attname=attname)
                if f.python_name == "_id"
                else f
                for f in definition.fields
            ]
        return cls

    return wrap


def _default_node_identity(cls) -> bool:
    """Whether the type names its rows the default way (its GraphQL name and id column);
    a type that overrides ``resolve_id`` or ``resolve_typename`` keeps Relay's field."""
    return (
        cls.resolve_id.__func__ is resolve_model_id
        and cls.resolve_typename.__func__ is relay.Node.resolve_typename.__func__
    )


def model_field(**kwargs) -> Any:
    """``strawberry_django.field`` as a ``ModelField``, e.g. ``model_field(field_name="profile__first_name")``."""
    return strawberry_django.field(field_cls=ModelField, **kwargs)


@strawberry.type(name="Connection", description="A connection to a list of items.")
class CountedListConnection(DjangoListConnection[relay.NodeType]):
    """A connection whose ``totalCount`` is a COUNT query of its own.

    strawberry-django counts with ``COUNT(*) OVER ()`` on the page query, which saves a
    query but makes the database visit every matching row (and its joins) before it can
    stop at the page: for a list that an index keeps in order (members by email), the
    count and the page are each cheaper on their own. Lists prefetched under another list
    keep the library's path.

    A page of such a queryset, read on the request's thread, is cut by ``_page``: the
    library's slice, edges and page info, without the library's conversion of the whole
    selection (every nested field) into Strawberry selection objects just to learn whether
    ``edges`` were asked for."""

    @classmethod
    def resolve_connection(cls, nodes, *, info, **kwargs):
        if isinstance(nodes, QuerySet):
            config = get_queryset_config(nodes)
            last, before = kwargs.get("last"), kwargs.get("before")
            if (
                config.optimized
                and not config.optimized_by_prefetching
                and not ((last or 0) > 0 and before is None)
            ):
                if not in_async_context() and cls._plain_nodes():
                    return cls._page(nodes, info=info, **kwargs)
                connection = relay.ListConnection.resolve_connection.__func__(
                    cls, nodes, info=info, **kwargs
                )
                if inspect.isawaitable(connection):
                    return _with_nodes(connection, nodes)
                connection.nodes = nodes
                return connection
        return super().resolve_connection(nodes, info=info, **kwargs)

    @classmethod
    def _plain_nodes(cls) -> bool:
        return cls.resolve_node.__func__ is relay.Connection.resolve_node.__func__

    @classmethod
    def _page(
        cls,
        nodes: QuerySet,
        *,
        info,
        before=None,
        after=None,
        first=None,
        last=None,
        max_results=None,
        **kwargs,
    ):
        """``ListConnection.resolve_connection`` for a queryset read on this thread: the
        same slice, edges and page info, without converting the whole selection to check
        whether edges are selected. ``last`` without ``before`` never comes here."""
        edge_class = _edge_class(cls)
        prefix = edge_class.CURSOR_PREFIX
        page = SliceMetadata.from_arguments(
            info,
            before=before,
            after=after,
            first=first,
            last=last,
            max_results=max_results,
            prefix=prefix,
        )
        start = page.start
        selected = _selects_any(info, _PAGE_FIELDS)
        rows = list(nodes[start : page.overfetch]) if selected else []
        has_next_page = page.expected is not None and len(rows) == page.expected + 1
        if has_next_page:
            del rows[-1]
        edges = [
            edge_class(cursor=to_base64(prefix, index), node=row)
            for index, row in enumerate(rows, start)
        ]
        connection = cls(
            edges=edges,
            page_info=relay.PageInfo(
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
                has_previous_page=start > 0,
                has_next_page=has_next_page,
            ),
        )
        connection.nodes = nodes
        return connection


_PAGE_FIELDS = frozenset({"edges", "pageInfo"})


@functools.cache
def _edge_class(connection: builtins.type) -> builtins.type:
    definition = connection.__strawberry_definition__
    edge = definition.get_field("edges").resolve_type(type_definition=definition)
    while isinstance(edge, StrawberryContainer):
        edge = edge.of_type
    return edge


def _selects_any(info, names: frozenset[str]) -> bool:
    """Whether the field's selection (through fragments) asks for one of ``names``."""
    raw = info._raw_info
    fragments = raw.fragments
    stack = [node.selection_set for node in raw.field_nodes if node.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in names:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            else:
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    stack.append(fragment.selection_set)
    return False


async def _with_nodes(connection, nodes):
    resolved = await connection
    resolved.nodes = nodes
    return resolved
