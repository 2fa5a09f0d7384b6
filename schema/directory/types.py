"""GraphQL types of the contacts of the directory.

``Contact`` is the viewer's merged view of a contact: a base contact shown through the viewer's
own override when there is one. ``RawContact`` is a stored contact as it is (the ``base`` and
``override`` behind a merged one); the two have distinct ids so a client cache never mixes a
merged card with its raw parts.
"""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from backend.keyset import Count, Position
from directory import models
from directory.contact_data import contact_data_merge, contact_text_merge
from directory.listing import contacts_count, contacts_page_ids
from directory.selectors import (
    LISTING_NAME,
    contacts_listed_visibility,
    contacts_visibility,
    viewer_override_of,
    viewer_overrides_prefetch,
)
from directory.services.contacts import (
    contact_can_delete,
    contact_can_override,
    contact_can_update,
)
from schema.pagination import KeysetConnection
from schema.permissions import Scoped, viewer

SEARCH_MAX_CHARS = 100

# The ids that name a stored contact: a merged contact is named by its base.
CONTACT_ID_TYPES = frozenset({"Contact", "RawContact"})


# Every column the merged and raw fields read, so the optimizer never defers one of them.
_CONTACT_COLUMNS = ["full_name", "short_name", "notes", "data", "owner", "user", "override"]
_RULE_COLUMNS = ["owner", "user", "override"]


@strawberry.type(name="ContactAbilities", description="What the viewer may do with a contact.")
class ContactAbilitiesType:
    can_update: bool = strawberry.field(description="updateContact with this id.")
    can_delete: bool = strawberry.field(description="deleteContact with this id.")
    can_override: bool = strawberry.field(description="overrideContact with this id as baseId.")


def _abilities(contact: models.Contact, info: Info) -> ContactAbilitiesType:
    actor = viewer(info)
    return ContactAbilitiesType(
        can_update=contact_can_update(actor=actor, contact=contact),
        can_delete=contact_can_delete(actor=actor, contact=contact),
        can_override=contact_can_override(actor=actor, contact=contact),
    )


@strawberry_django.type(
    models.Contact,
    name="RawContact",
    description="A stored contact as it is: a profile contact, a personal contact or an override.",
)
class RawContactType(Scoped, relay.Node):
    visibility = staticmethod(contacts_visibility)
    full_name: strawberry.auto
    short_name: strawberry.auto
    notes: strawberry.auto
    data: JSON = strawberry_django.field(description="The stored document (see README).")
    updated_at: strawberry.auto

    @strawberry_django.field(only=["user"], description="The profile contact of a user.")
    def is_profile(self) -> bool:
        return self.is_profile

    @strawberry_django.field(only=["override"], description="The viewer's private override.")
    def is_override(self) -> bool:
        return self.is_override

    @strawberry_django.field(only=_RULE_COLUMNS)
    def abilities(self, info: Info) -> ContactAbilitiesType:
        return _abilities(self, info)


def _merged(contact: models.Contact, info: Info) -> dict[str, Any]:
    """The viewer's merged view of ``contact``, computed once per contact and request."""
    cached = getattr(contact, "_merged_view", None)
    if cached is not None:
        return cached
    override = viewer_override_of(contact, user=viewer(info))
    if override is None:
        merged = {
            "override": None,
            "full_name": contact.full_name,
            "short_name": contact.short_name,
            "notes": contact.notes,
            "data": contact.data or {},
        }
    else:
        merged = {
            "override": override,
            "full_name": contact_text_merge(contact.full_name, override.full_name),
            "short_name": contact_text_merge(contact.short_name, override.short_name),
            "notes": contact_text_merge(contact.notes, override.notes),
            "data": contact_data_merge(contact.data, override.data),
        }
    contact._merged_view = merged
    return merged


@strawberry_django.type(
    models.Contact,
    name="Contact",
    description=(
        "A contact as the viewer sees it: through the viewer's own override when there is one "
        "(override names win when set; each data list shows the override's entries first, then "
        "the base's entries not already there; customFields: the override's keys win)."
    ),
)
class ContactType(Scoped, relay.Node):
    visibility = staticmethod(contacts_listed_visibility)

    @strawberry_django.field(only=_CONTACT_COLUMNS)
    def full_name(self, info: Info) -> str:
        return _merged(self, info)["full_name"]

    @strawberry_django.field(only=_CONTACT_COLUMNS)
    def short_name(self, info: Info) -> str:
        return _merged(self, info)["short_name"]

    @strawberry_django.field(only=_CONTACT_COLUMNS)
    def notes(self, info: Info) -> str:
        return _merged(self, info)["notes"]

    @strawberry_django.field(only=_CONTACT_COLUMNS)
    def data(self, info: Info) -> JSON:
        return _merged(self, info)["data"]

    @strawberry_django.field(only=_CONTACT_COLUMNS, description="The stored contact shown here.")
    def base(self) -> RawContactType:
        return self

    @strawberry_django.field(only=_CONTACT_COLUMNS, description="The viewer's override, if any.")
    def override(self, info: Info) -> RawContactType | None:
        return _merged(self, info)["override"]

    @strawberry_django.field(only=["user"], description="The profile contact of a user.")
    def is_profile(self) -> bool:
        return self.is_profile

    @strawberry_django.field(only=_RULE_COLUMNS)
    def abilities(self, info: Info) -> ContactAbilitiesType:
        return _abilities(self, info)

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return (
            super()
            .get_queryset(queryset, info, **kwargs)
            .prefetch_related(viewer_overrides_prefetch(user=viewer(info)))
        )


def _search(kwargs: dict[str, Any]) -> str:
    return (kwargs.get("search") or "")[:SEARCH_MAX_CHARS]


@strawberry.type(
    name="ContactConnection",
    description=(
        "A page of the viewer's merged contact view, read by position: a cursor holds the "
        "name and id of a contact, so every page costs what the first one does."
    ),
)
class ContactConnection(KeysetConnection[ContactType]):
    CURSOR_PREFIX = "contact"

    @classmethod
    def page(cls, nodes, *, info, limit, after, before, backwards, **kwargs) -> list:
        # ``nodes``: the merged view, scoped and optimized for the selection, in order.
        ids = contacts_page_ids(
            user=viewer(info),
            search=_search(kwargs),
            limit=limit,
            after=after,
            before=before,
            backwards=backwards,
        )
        page = nodes.filter(pk__in=ids)
        return list((page.reverse() if backwards else page)[:limit])

    @classmethod
    def position(cls, node: models.Contact) -> Position:
        return Position(key=getattr(node, LISTING_NAME), id=node.pk)

    @classmethod
    def count(cls, nodes, *, info, **kwargs) -> Count:
        return contacts_count(user=viewer(info), search=_search(kwargs))
