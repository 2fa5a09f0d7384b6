"""Global ids: the one parser of the ids clients send.

A global id names a type and a key. Whatever is wrong with it (not base64, no type, a type
other than the one expected, a key that is not a UUID) it names nothing: ``None``, which the
services answer ``NOT_FOUND`` and query fields ``null``, exactly as for an object that does
not exist or that the viewer may not see (another organization's).
"""

from __future__ import annotations

import uuid

from strawberry import relay

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
