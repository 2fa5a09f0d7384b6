"""Scoped reads of the directory: every query of contacts starts from one of these."""

from __future__ import annotations

from django.db.models import F, FilteredRelation, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, NullIf

from accounts.selectors import NOTHING
from directory.models import Contact
from directory.search import search_terms

VIEWER_OVERRIDES = "viewer_overrides"


def _authenticated(user) -> bool:
    return getattr(user, "is_authenticated", False)


def _bases_visible_to(user) -> Q:
    """Profile contacts of the user's organization (and the user's own), personal contacts."""
    visible = Q(owner=user, override__isnull=True)
    if user.organization_id is not None:
        visible |= Q(user__organization_id=user.organization_id)
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
        visible |= Q(owner=user, override__user__organization_id=user.organization_id)
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


def contacts_merged_for(*, user, search: str | None = None) -> QuerySet[Contact]:
    """The merged view of ``user``, ordered by the name the user sees, then id.

    ``search`` matches the full name, short name, email and phone values of the merged view,
    ignoring case and accents: the override's name when it sets one (the base's otherwise),
    and the values of both.
    """
    if not _authenticated(user):
        return Contact.objects.none()
    no_name = Value("", output_field=TextField())
    # One LEFT JOIN to the viewer's override (at most one per base: a unique constraint).
    queryset = contacts_listed_for(user=user).alias(
        viewer_override=FilteredRelation("overrides", condition=Q(overrides__owner=user)),
        merged_search_full_name=Coalesce(
            NullIf(F("viewer_override__search_full_name"), no_name), F("search_full_name")
        ),
        merged_search_short_name=Coalesce(
            NullIf(F("viewer_override__search_short_name"), no_name), F("search_short_name")
        ),
        override_search_values=F("viewer_override__search_values"),
    )
    terms = search_terms(search)
    if terms:
        queryset = queryset.filter(
            _candidates(user=user, terms=terms),
            _merged_match(terms),
        )
    return queryset.order_by("merged_search_full_name", "id")


def _row_match(terms: list[str], prefix: str = "") -> Q:
    match = Q()
    for term in terms:
        match |= Q(**{f"{prefix}search_full_name__contains": term})
        match |= Q(**{f"{prefix}search_short_name__contains": term})
        match |= Q(**{f"{prefix}search_values__contains": term})
    return match


def _candidates(*, user, terms: list[str]) -> Q:
    """Contacts whose own row or whose viewer's override row matches: a superset of the
    answer that PostgreSQL finds through the trigram index."""
    matching = (
        Contact.objects.filter(_row_match(terms))
        .filter(Q(override__isnull=True) | Q(owner=user))
        .values(base_id=Coalesce("override_id", "id"))
    )
    return Q(pk__in=matching)


def _merged_match(terms: list[str]) -> Q:
    match = Q()
    for term in terms:
        match |= Q(merged_search_full_name__contains=term)
        match |= Q(merged_search_short_name__contains=term)
        match |= Q(search_values__contains=term)
        match |= Q(override_search_values__contains=term)
    return match


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
