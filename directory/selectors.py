"""Scoped reads of the directory: every query of contacts starts from one of these."""

from __future__ import annotations

from django.db.models import F, FilteredRelation, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, NullIf

from accounts.selectors import NOTHING
from directory.models import Contact

VIEWER_OVERRIDES = "viewer_overrides"
# The name a viewer sees a contact under, normalized: the merged view's order (then id).
LISTING_NAME = "listing_name"


def _authenticated(user) -> bool:
    return getattr(user, "is_authenticated", False)


def _bases_visible_to(user) -> Q:
    """Profile contacts of the user's organization (the user's own among them), personal
    contacts (and the user's own profile contact while they have no organization). Each
    side is one range of an index (``Contact.Meta.indexes``)."""
    visible = Q(owner=user, override__isnull=True, organization__isnull=True)
    if user.organization_id is not None:
        visible |= Q(organization_id=user.organization_id)
    return visible


def contacts_visibility(*, user) -> Q:
    """The stored contacts ``user`` may see, as they are (no merge).

    - profile contacts of the members of the user's organization, and the user's own;
    - the user's personal contacts;
    - the user's overrides of contacts the user still sees (an override of someone who left
      the organization stays hidden with its base).
    """
    if not _authenticated(user):
        return NOTHING
    visible = _bases_visible_to(user)
    if user.organization_id is not None:
        visible |= Q(owner=user, override__organization_id=user.organization_id)
    return visible


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    return Contact.objects.filter(contacts_visibility(user=user))


def contact_named_by(*, user, contact_id) -> QuerySet[Contact]:
    """The contact an id names for ``user``: the contact itself, or, for the id of the
    user's own override, the contact it overrides (an override is shown through its base).
    Unscoped: the caller applies the merged view's scoping."""
    own_override_base = contacts_visible_to(user=user).filter(pk=contact_id).values("override_id")
    return Contact.objects.filter(Q(pk=contact_id) | Q(pk__in=own_override_base))


def contacts_listed_visibility(*, user) -> Q:
    """The contacts of the user's merged view: the visible contacts that are not overrides.

    Each is shown through the user's own override when there is one; another person's
    override never changes or hides anything here.
    """
    if not _authenticated(user):
        return NOTHING
    return _bases_visible_to(user) & Q(override__isnull=True)


def contacts_listed_for(*, user) -> QuerySet[Contact]:
    return Contact.objects.filter(contacts_listed_visibility(user=user))


def contacts_merged_for(*, user) -> QuerySet[Contact]:
    """The merged view of ``user``, ordered by the name the user sees (normalized, in
    ``listing_name``), then id; ``directory.listing`` reads it a page at a time.

    The name is the override's when the user's own override sets one, the base's otherwise.
    """
    if not _authenticated(user):
        return Contact.objects.none()
    # One LEFT JOIN to the viewer's override (at most one per base: a unique constraint).
    return (
        contacts_listed_for(user=user)
        .alias(viewer_override=FilteredRelation("overrides", condition=Q(overrides__owner=user)))
        .annotate(
            **{
                LISTING_NAME: Coalesce(
                    NullIf(
                        F("viewer_override__search_full_name"), Value("", output_field=TextField())
                    ),
                    F("search_full_name"),
                )
            }
        )
        .order_by(LISTING_NAME, "id")
    )


def viewer_overrides_prefetch(*, user) -> Prefetch:
    """Loads, in one query for a whole page, the user's override of each contact
    (``contact.viewer_overrides``: a list of zero or one)."""
    overrides = (
        Contact.objects.filter(owner=user) if _authenticated(user) else Contact.objects.none()
    )
    return Prefetch("overrides", queryset=overrides, to_attr=VIEWER_OVERRIDES)


def viewer_override_of(contact: Contact, *, user) -> Contact | None:
    """The user's override of ``contact``: from the prefetch when there is one, else one query."""
    if contact.override_id is not None or not _authenticated(user):
        return None
    prefetched = getattr(contact, VIEWER_OVERRIDES, None)
    if prefetched is None:
        prefetched = list(contact.overrides.filter(owner=user)[:1])
        setattr(contact, VIEWER_OVERRIDES, prefetched)
    return prefetched[0] if prefetched else None
