"""Mutations of the contacts of the directory. Each unpacks its input and calls one service."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from directory.models import Contact
from directory.services.contacts import (
    contact_create,
    contact_delete,
    contact_override,
    contact_update,
)
from schema.directory.types import CONTACT_ID_TYPES, ContactType
from schema.ids import node_uuid
from schema.mutations import input_mutation
from schema.permissions import viewer


@strawberry.type(name="DeletedContact")
class DeletedContactType:
    deleted_id: strawberry.ID = strawberry.field(description="The id given to deleteContact.")
    contact: ContactType | None = strawberry.field(
        description="For a deleted override: its base, as the viewer now sees it."
    )


def _contact_id(global_id: strawberry.ID) -> uuid.UUID | None:
    """The contact a ``Contact`` or ``RawContact`` id names; ``None`` (NOT_FOUND) otherwise."""
    return node_uuid(global_id, *CONTACT_ID_TYPES)


def _shown(contact: Contact) -> Contact:
    """A mutated contact is answered as the viewer sees it: an override through its base."""
    return contact.override if contact.override_id is not None else contact


@strawberry.type
class Mutation:
    @input_mutation(description="Create a personal contact, visible only to the viewer.")
    def create_contact(
        self,
        info: Info,
        full_name: str,
        short_name: str | None = None,
        notes: str | None = None,
        data: JSON | None = None,
    ) -> ContactType:
        return contact_create(
            actor=viewer(info), full_name=full_name, short_name=short_name, notes=notes, data=data
        )

    @input_mutation(
        description=(
            "Create or update the viewer's private override of a contact the viewer can see "
            "(someone else's, not an override). Fields left out or null stay as they are; an "
            "empty name shows the base's. Answers the contact through the override."
        )
    )
    def override_contact(
        self,
        info: Info,
        base_id: strawberry.ID,
        full_name: str | None = None,
        short_name: str | None = None,
        notes: str | None = None,
        data: JSON | None = None,
    ) -> ContactType:
        return _shown(
            contact_override(
                actor=viewer(info),
                base_id=_contact_id(base_id),
                full_name=full_name,
                short_name=short_name,
                notes=notes,
                data=data,
            )
        )

    @input_mutation(
        description=(
            "Update a personal contact or an override (their owner) or a profile contact (its "
            "user). Fields left out or null stay as they are; `data` replaces the document."
        )
    )
    def update_contact(
        self,
        info: Info,
        id: strawberry.ID,
        full_name: str | None = None,
        short_name: str | None = None,
        notes: str | None = None,
        data: JSON | None = None,
    ) -> ContactType:
        return _shown(
            contact_update(
                actor=viewer(info),
                contact_id=_contact_id(id),
                full_name=full_name,
                short_name=short_name,
                notes=notes,
                data=data,
            )
        )

    @input_mutation(
        description=(
            "Delete a personal contact, or an override (the contact shows its base again). "
            "A profile contact is never deleted on its own."
        )
    )
    def delete_contact(self, info: Info, id: strawberry.ID) -> DeletedContactType:
        base = contact_delete(actor=viewer(info), contact_id=_contact_id(id))
        return DeletedContactType(deleted_id=id, contact=base)
