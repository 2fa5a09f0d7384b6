"""The viewer's merged contact view, one page at a time, at any size.

The merged view is ordered by the name the viewer sees (normalized: ``search_full_name``),
then by id. Sorting every visible row by the merged name costs what the directory weighs
(seconds at a million contacts), so a page is read instead from streams that are each
already in that order, and merged:

- the profile contacts of the viewer's organization: one range of the index
  ``contact_listing_organization``;
- the viewer's personal contacts (and their own profile contact when they have no
  organization): one range of ``contact_listing_owner``;
- the viewer's overrides that rename a contact, under their own name: one range of
  ``contact_listing_renamed`` (the first two leave those bases out, with one probe of the
  unique ``(owner, override)`` index per row read);
- with a search, the bases the viewer overrides without renaming them that only the
  override makes match (its short name or values): the viewer's overrides filtered on their
  own columns, then joined to their bases; few, so sorted.

A base overridden without a new name keeps its place in its base stream: its name is the
base's. So a person with thousands of overrides costs no more than one without.

Each stream answers at most one page past the cursor (keyset pagination: a cursor carries
the merged name and the id, so page 200 costs what page 1 costs), and the page is the first
rows of their union. Searching filters each stream in the same order: a broad term finds a
page in the first rows of the range (the base streams' indexes carry every search column,
so the rows it skips are read from the index alone), a selective one through the trigram
index (the planner chooses, from the statistics). Counting stops at
``DIRECTORY_COUNT_EXACT_UP_TO``.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, NullIf

from backend.keyset import Count, Position, count_up_to, keyset_between, union_of_slices
from directory.models import Contact
from directory.search import search_terms
from directory.selectors import LISTING_NAME

LISTING_ID = "listing_id"


def _merged(column: str) -> Coalesce:
    """An override's text column where it sets one, else its base's (``override__``)."""
    return Coalesce(
        NullIf(F(column), Value("", output_field=TextField())), F(f"override__{column}")
    )


def _any_term(terms: list[str], condition) -> Q:
    """``condition(term)`` for at least one of the terms (no condition without terms)."""
    match = Q()
    for term in terms:
        match |= condition(term)
    return match


def _base_match(terms: list[str], *, prefix: str = "", own_short_name: Q | Exists) -> Q:
    """A base (columns under ``prefix``) matches by what the merged view shows of it, under
    a viewer's override that does not rename it: its name, its values, and its short name
    unless ``own_short_name`` (the override sets one, which the next stream searches)."""
    return _any_term(
        terms,
        lambda term: (
            Q(**{f"{prefix}search_full_name__contains": term})
            | Q(**{f"{prefix}search_values__contains": term})
            | (Q(**{f"{prefix}search_short_name__contains": term}) & ~own_short_name)
        ),
    )


def _streams(*, user, terms: list[str]) -> list[QuerySet]:
    """The ordered streams of the merged view, each annotated with its position."""
    viewer_override = Contact.objects.filter(owner=user, override=OuterRef("pk"))
    renamed = Exists(viewer_override.exclude(search_full_name=""))
    bases = [Contact.objects.filter(owner=user, override__isnull=True, organization__isnull=True)]
    base_visible = Q(override__owner=user, override__organization__isnull=True)
    if user.organization_id is not None:
        bases.append(Contact.objects.filter(organization_id=user.organization_id))
        base_visible |= Q(override__organization_id=user.organization_id)
    own_short_name = Exists(viewer_override.exclude(search_short_name=""))
    streams = [
        base.filter(~renamed, _base_match(terms, own_short_name=own_short_name)).annotate(
            **{LISTING_NAME: F("search_full_name"), LISTING_ID: F("id")}
        )
        for base in bases
    ]
    overrides = Contact.objects.filter(
        # ``override__isnull=False`` also tells the planner how few these rows are (the
        # partial index it reads them from does not).
        base_visible,
        owner=user,
        override__isnull=False,
        override__override__isnull=True,
    ).annotate(**{LISTING_ID: F("override_id")})
    renaming = (
        overrides.exclude(search_full_name="")
        .alias(merged_short_name=_merged("search_short_name"))
        .annotate(**{LISTING_NAME: F("search_full_name")})
        .filter(
            _any_term(
                terms,
                lambda term: (
                    Q(search_full_name__contains=term)
                    | Q(merged_short_name__contains=term)
                    | Q(search_values__contains=term)
                    | Q(override__search_values__contains=term)
                ),
            )
        )
    )
    streams.append(renaming)
    if terms:
        own_short_name_set = ~Q(search_short_name="")
        streams.append(
            overrides.filter(
                _any_term(
                    terms,
                    lambda term: (
                        Q(search_short_name__contains=term) | Q(search_values__contains=term)
                    ),
                ),
                search_full_name="",
            )
            .exclude(_base_match(terms, prefix="override__", own_short_name=own_short_name_set))
            .annotate(**{LISTING_NAME: F("override__search_full_name")})
        )
    return streams


def contacts_page_ids(
    *,
    user,
    search: str | None,
    limit: int,
    after: Position | None = None,
    before: Position | None = None,
    backwards: bool = False,
) -> QuerySet:
    """The base ids of at most ``limit`` contacts of each stream next to the positions (the
    last ones before ``before`` when ``backwards``): a superset of the page that
    ``directory.selectors.contacts_merged_for(...).filter(pk__in=...)`` orders and cuts."""
    order = [LISTING_NAME, LISTING_ID]
    if backwards:
        order = [f"-{name}" for name in order]
    return union_of_slices(
        [
            keyset_between(stream, key=LISTING_NAME, id=LISTING_ID, after=after, before=before)
            .order_by(*order)
            .values(LISTING_ID)[:limit]
            for stream in _streams(user=user, terms=search_terms(search))
        ]
    )


def contacts_count(*, user, search: str | None) -> Count:
    """How many contacts the viewer's merged view (with ``search``) holds: exact up to
    ``DIRECTORY_COUNT_EXACT_UP_TO``, beyond it that bound.

    Without a search each stream is counted in its order, so that it reads the first rows
    of its index range wherever they lie in the table; a search is counted in no order, so
    that the trigram index finds the matches (in name order, a broad term's matches may lie
    far down the range)."""
    terms = search_terms(search)
    order = [] if terms else [LISTING_NAME, LISTING_ID]
    return count_up_to(
        [stream.order_by(*order).values(LISTING_ID) for stream in _streams(user=user, terms=terms)],
        settings.DIRECTORY_COUNT_EXACT_UP_TO,
    )
