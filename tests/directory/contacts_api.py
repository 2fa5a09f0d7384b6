"""GraphQL documents and helpers shared by the contacts tests (all through the real endpoint)."""

from __future__ import annotations

import base64

RAW_FIELDS = "id fullName shortName notes data isProfile isOverride"
CONTACT_FIELDS = f"""
    id fullName shortName notes data isProfile
    base {{ {RAW_FIELDS} }}
    override {{ {RAW_FIELDS} }}
    abilities {{ canUpdate canDelete canOverride }}
"""
CONTACTS = f"""
    query($search: String, $first: Int, $after: String, $last: Int, $before: String) {{
      contacts(search: $search, first: $first, after: $after, last: $last, before: $before) {{
        totalCount
        pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
        edges {{ cursor node {{ {CONTACT_FIELDS} }} }}
      }}
    }}
"""
CONTACT = f"query($id: ID!) {{ contact(id: $id) {{ {CONTACT_FIELDS} }} }}"
ON_CONTACT = f"... on Contact {{ {CONTACT_FIELDS} }}"
ON_DELETED = f"... on DeletedContact {{ deletedId contact {{ {CONTACT_FIELDS} }} }}"


def global_id(type_name: str, value) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def contact_id(contact) -> str:
    return global_id("Contact", contact.pk)


def raw_id(contact) -> str:
    return global_id("RawContact", contact.pk)


def contacts(client, **variables) -> dict:
    result = client.execute(CONTACTS, variables)
    assert result.status_code == 200, result.payload
    assert not result.errors, result.errors
    return result.data["contacts"]


def nodes(client, **variables) -> list[dict]:
    return [edge["node"] for edge in contacts(client, **variables)["edges"]]


def names(client, **variables) -> list[str]:
    return [node["fullName"] for node in nodes(client, **variables)]


def by_name(client, **variables) -> dict[str, dict]:
    return {node["fullName"]: node for node in nodes(client, **variables)}


def contact(client, id_: str) -> dict | None:
    result = client.execute(CONTACT, {"id": id_})
    assert not result.errors, result.errors
    return result.data["contact"]


def create(client, **fields) -> dict:
    return client.mutate("createContact", fields, ON_CONTACT)


def override(client, base_id: str, **fields) -> dict:
    return client.mutate("overrideContact", {"baseId": base_id, **fields}, ON_CONTACT)


def update(client, id_: str, **fields) -> dict:
    return client.mutate("updateContact", {"id": id_, **fields}, ON_CONTACT)


def delete(client, id_: str) -> dict:
    return client.mutate("deleteContact", {"id": id_}, ON_DELETED)
