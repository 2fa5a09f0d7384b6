"""Global ids: the one parser of the ids clients send.

A global id names a type and a key. Whatever is wrong with it (not base64, no type, a type
other than the one expected, a key that is not a UUID) it names nothing: ``None``, which the
services answer ``NOT_FOUND`` and query fields ``null``, exactly as for an object that does
not exist or that the viewer may not see (another organization's).
"""

from __future__ import annotations

import uuid

from strawberry import relay
from strawberry.extensions import FieldExtension

from backend.validation import NUL


def node_key(value: relay.GlobalID | str | None, *type_names: str) -> str | None:
    """The key inside a global id of one of ``type_names``; ``None`` for anything else."""
    if value is None:
        return None
    if not isinstance(value, relay.GlobalID):
        try:
            value = relay.GlobalID.from_id(value)
        except relay.GlobalIDValueError:
            return None
    if value.type_name not in type_names or NUL in value.node_id:
        return None
    return value.node_id


def node_uuid(value: relay.GlobalID | str | None, *type_names: str) -> uuid.UUID | None:
    """The UUID key inside a global id of one of ``type_names``; ``None`` for anything else."""
    key = node_key(value, *type_names)
    try:
        return uuid.UUID(key) if key is not None else None
    except ValueError:
        return None


# Nodes keyed by a unique name; every other node is keyed by a UUID.
NAME_KEYED_TYPES = frozenset({"PermissionGroup"})


def node_id_names_something(value: relay.GlobalID) -> bool:
    """Whether the key of a global id has the form its type's keys have (a UUID, or a name
    without NUL): what does not is looked up nowhere, and answered like a missing node."""
    if value.type_name in NAME_KEYED_TYPES:
        return node_key(value, value.type_name) is not None
    return node_uuid(value, value.type_name) is not None


class NodeIdsParsed(FieldExtension):
    """For ``node(id:)`` and ``nodes(ids:)``: an id whose key cannot name a node answers
    ``null`` without a lookup, exactly like an id of a node that does not exist."""

    def resolve(self, next_, source, info, **kwargs):
        if "id" in kwargs:
            return next_(source, info, **kwargs) if node_id_names_something(kwargs["id"]) else None
        ids = kwargs.pop("ids")
        wanted = [global_id for global_id in ids if node_id_names_something(global_id)]
        found = iter(next_(source, info, ids=wanted, **kwargs) if wanted else [])
        return [next(found) if node_id_names_something(global_id) else None for global_id in ids]
