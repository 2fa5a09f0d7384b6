"""Queries of the contacts of the directory: ``contacts`` and ``contact``."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
import strawberry_django
from strawberry.types import Info

from directory.selectors import contact_named_by, contacts_merged_for
from schema.directory.types import CONTACT_ID_TYPES, ContactConnection, ContactType
from schema.ids import node_uuid
from schema.pagination import connection
from schema.permissions import require_viewer


@strawberry.type
class Query:
    @connection(
        ContactConnection,
        description=(
            "The viewer's merged contact view, ordered by name: the profile contacts of the "
            "organization and the viewer's personal contacts, each through the viewer's own "
            "override. `search` matches full name, short name, email and phone values, "
            "ignoring case and accents."
        ),
    )
    def contacts(self, info: Info, search: str | None = None) -> Iterable[ContactType]:
        # The whole merged view, in order; ContactConnection reads the page (with ``search``)
        # from it by position.
        return contacts_merged_for(user=require_viewer(info))

    @strawberry_django.field(
        description=(
            "One merged contact, null if the viewer cannot see it. The id of the viewer's "
            "override (a RawContact) answers the contact it overrides."
        )
    )
    def contact(self, info: Info, id: strawberry.ID) -> ContactType | None:
        user = require_viewer(info)
        contact_id = node_uuid(id, *CONTACT_ID_TYPES)
        if contact_id is None:
            return None
        # A queryset: strawberry-django scopes it (ContactType.get_queryset), optimizes it
        # for the selection and answers its first row.
        return contact_named_by(user=user, contact_id=contact_id)
