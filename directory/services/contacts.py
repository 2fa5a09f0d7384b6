"""Contacts: profile contacts, personal contacts and private overrides.

Who may do what is one function per rule (``contact_can_*``), used by the mutations (through
the services below), by ``Contact.abilities`` and by the tests. Each takes a contact the actor
can see (``directory.selectors.contacts_visible_to``); a contact the actor cannot see answers
``NOT_FOUND`` exactly like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.names import user_display_name
from backend.errors import NotFound, PermissionDenied, Unauthenticated
from backend.validation import fields_validate, required
from directory.contact_data import contact_data_validate
from directory.models import Contact
from directory.search import search_normalize
from directory.selectors import contacts_visible_to

FULL_NAME_MAX = Contact._meta.get_field("full_name").max_length


# Rules -------------------------------------------------------------------------------------


def contact_can_update(*, actor, contact: Contact) -> bool:
    """Owner of a personal contact or an override; the user of a profile contact (its owner)."""
    return _authenticated(actor) and contact.owner_id == actor.pk


def contact_can_delete(*, actor, contact: Contact) -> bool:
    """Personal contacts and overrides, by their owner; a profile contact never on its own."""
    return _authenticated(actor) and contact.owner_id == actor.pk and contact.user_id is None


def contact_can_override(*, actor, contact: Contact) -> bool:
    """Someone else's contact (in practice a colleague's profile contact), not an override."""
    return _authenticated(actor) and contact.owner_id != actor.pk and contact.override_id is None


# Profile contacts ----------------------------------------------------------------------------


def profile_contact_full_name(user) -> str:
    """The profile contact's full name: a copy of the user's display name (their profile
    names, else their email), kept for the directory's sorting and search. Derived here
    only; ``profile_contact_sync`` refreshes it when ``user_display_name_changed``."""
    return user_display_name(user)[:FULL_NAME_MAX]


def _profile_contact_defaults(user) -> dict:
    return {
        "owner": user,
        "organization_id": user.organization_id,
        "full_name": profile_contact_full_name(user),
        "data": {"emails": [{"type": "Work", "value": user.email}]} if user.email else {},
    }


def profile_contact_create(*, user) -> Contact:
    """The profile contact every user has, owned by that user."""
    contact, _ = Contact.objects.get_or_create(user=user, defaults=_profile_contact_defaults(user))
    return contact


def profile_contact_build(*, user) -> Contact:
    """The profile contact ``user`` would get, unsaved (for an answer that must look
    exactly like a new account's without creating one)."""
    now = timezone.now()
    return Contact(user=user, created_at=now, updated_at=now, **_profile_contact_defaults(user))


def profile_contact_sync(*, user) -> None:
    """Keep the profile contact's name in step with the user's profile names."""
    full_name = profile_contact_full_name(user)
    Contact.objects.filter(user=user).update(
        full_name=full_name, search_full_name=search_normalize(full_name)
    )


def profile_contact_organization_sync(*, user) -> None:
    """The profile contact follows its user into (or out of) an organization: the
    directory's visibility reads the organization off the contact."""
    Contact.objects.filter(user=user).exclude(organization_id=user.organization_id).update(
        organization_id=user.organization_id
    )


# Personal contacts, overrides, updates -------------------------------------------------------


@transaction.atomic
def contact_create(
    *,
    actor,
    full_name: str,
    short_name: str | None = None,
    notes: str | None = None,
    data: Any = None,
) -> Contact:
    """A personal contact of ``actor``, visible only to them."""
    _require(actor)
    fields = _clean(
        full_name=full_name,
        short_name=short_name or "",
        notes=notes or "",
        data=data if data is not None else {},
        name_required=True,
    )
    return Contact.objects.create(owner=actor, **fields)


@transaction.atomic
def contact_override(
    *,
    actor,
    base_id: uuid.UUID,
    full_name: str | None = None,
    short_name: str | None = None,
    notes: str | None = None,
    data: Any = None,
) -> Contact:
    """Create or update ``actor``'s private override of a contact they can see.

    At most one override per actor and base: a second call updates it (fields left out, or
    null, stay as they are; an empty name falls back to the base's). Answers the override.
    """
    _require(actor)
    base = _visible(actor=actor, contact_id=base_id)
    if not contact_can_override(actor=actor, contact=base):
        raise PermissionDenied(gettext("You cannot override your own contacts or an override."))
    fields = _clean(
        full_name=full_name,
        short_name=short_name,
        notes=notes,
        data=data,
        name_required=False,
    )
    override, created = Contact.objects.select_for_update().get_or_create(
        owner=actor,
        override=base,
        defaults={"data": {}, **fields},
    )
    if not created and fields:
        for name, value in fields.items():
            setattr(override, name, value)
        override.save(update_fields=[*fields, "updated_at"])
    return override


@transaction.atomic
def contact_update(
    *,
    actor,
    contact_id: uuid.UUID,
    full_name: str | None = None,
    short_name: str | None = None,
    notes: str | None = None,
    data: Any = None,
) -> Contact:
    """Update a personal contact or an override (its owner) or a profile contact (its user).

    Fields left out, or null, stay as they are; ``data`` replaces the whole document.
    """
    _require(actor)
    contact = _visible(actor=actor, contact_id=contact_id, for_update=True)
    if not contact_can_update(actor=actor, contact=contact):
        raise PermissionDenied(gettext("Only the owner of this contact can change it."))
    fields = _clean(
        full_name=full_name,
        short_name=short_name,
        notes=notes,
        data=data,
        name_required=not contact.is_override,
    )
    if fields:
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.save(update_fields=[*fields, "updated_at"])
    return contact


@transaction.atomic
def contact_delete(*, actor, contact_id: uuid.UUID) -> Contact | None:
    """Delete a personal contact or an override. Deleting an override reverts to its base,
    which is answered; ``None`` for a personal contact."""
    _require(actor)
    contact = _visible(actor=actor, contact_id=contact_id, for_update=True)
    if not contact_can_delete(actor=actor, contact=contact):
        if contact.is_profile:
            raise PermissionDenied(gettext("A profile contact cannot be deleted."))
        raise PermissionDenied(gettext("Only the owner of this contact can delete it."))
    base = contact.override
    contact.delete()
    return base


# Helpers ---------------------------------------------------------------------------------


def _authenticated(user) -> bool:
    return getattr(user, "is_authenticated", False)


def _require(actor) -> None:
    if not _authenticated(actor):
        raise Unauthenticated()


def _visible(*, actor, contact_id: uuid.UUID, for_update: bool = False) -> Contact:
    queryset = contacts_visible_to(user=actor).select_related("override")
    if for_update:
        # Lock only the contact's own row (the join through the base stays unlocked).
        queryset = queryset.select_for_update(of=("self",))
    contact = queryset.filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(gettext("Contact not found."))
    return contact


def _clean(
    *,
    full_name: str | None,
    short_name: str | None,
    notes: str | None,
    data: Any,
    name_required: bool,
) -> dict[str, Any]:
    """The fields to store (only those given), stripped and checked by the model's validators."""
    given = {"full_name": full_name, "short_name": short_name, "notes": notes}
    fields: dict[str, Any] = {
        name: value.strip() for name, value in given.items() if value is not None
    }
    fields_validate(Contact(**fields), fields)
    if name_required and "full_name" in fields:
        required(fields["full_name"], field="full_name")
    if data is not None:
        fields["data"] = contact_data_validate(data)
    return fields
