"""The merged view read by position (issue #18): cursors hold a contact's merged name and id,
the total count stops at a bound, and a profile contact follows its user's organization."""

from __future__ import annotations

import base64
import json

import pytest
from django.db.models import Q
from django.test import override_settings

from accounts.services.members import member_remove
from directory.models import Contact
from directory.search import search_normalize, search_terms
from tests.directory.contacts_api import contact_id, contacts, nodes, override
from tests.factories import OrganizationFactory, UserFactory, administrator
from tests.paging import walk

COUNT = "query($search: String) { contacts(search: $search) { totalCount totalCountIsExact } }"


@pytest.fixture
def team(organization):
    """A viewer, five colleagues (Anna to Emil) and two personal contacts (Finn, Gus)."""
    viewer = UserFactory(organization=organization, first_name="Zed", last_name="Viewer")
    for first in ("Anna", "Bert", "Cleo", "Dirk", "Emil"):
        UserFactory(organization=organization, first_name=first, last_name="Colleague")
    Contact.objects.create(owner=viewer, full_name="Finn Personal")
    Contact.objects.create(owner=viewer, full_name="Gus Personal")
    return viewer


def _names(page) -> list[str]:
    return [edge["node"]["fullName"] for edge in page["edges"]]


def _walk(client, *, backwards: bool = False, size: int = 2, **variables) -> list[str]:
    """Every name of the view, as a client pages through it."""
    return walk(
        lambda **page: contacts(client, **page, **variables),
        lambda node: node["fullName"],
        size=size,
        backwards=backwards,
    )


def test_pages_forward_and_backward_list_the_merged_view_once_in_order(make_client, team):
    client = make_client(team)
    bert = Contact.objects.get(full_name="Bert Colleague")
    override(client, contact_id(bert), fullName="Xavier (was Bert)")  # sorts near the end
    dirk = Contact.objects.get(full_name="Dirk Colleague")
    override(client, contact_id(dirk), shortName="D")  # keeps its place: no name of its own
    expected = [
        "Anna Colleague",
        "Cleo Colleague",
        "Dirk Colleague",
        "Emil Colleague",
        "Finn Personal",
        "Gus Personal",
        "Xavier (was Bert)",
        "Zed Viewer",
    ]
    assert _names(contacts(client, first=100)) == expected
    for size in (1, 2, 3, 8):
        assert _walk(client, size=size) == expected
        assert _walk(client, size=size, backwards=True) == expected


def test_another_persons_override_never_moves_a_contact_in_my_view(make_client, team):
    colleague = UserFactory(organization=team.organization, first_name="Hugo", last_name="Other")
    anna = Contact.objects.get(full_name="Anna Colleague")
    override(make_client(colleague), contact_id(anna), fullName="Zzz Anna")
    assert _walk(make_client(team), size=2)[:2] == ["Anna Colleague", "Bert Colleague"]


def test_search_pages_follow_the_merged_names(make_client, team):
    client = make_client(team)
    cleo = Contact.objects.get(full_name="Cleo Colleague")
    override(client, contact_id(cleo), fullName="Cléopâtre")
    assert _walk(client, size=1, search="colleague") == [
        "Anna Colleague",
        "Bert Colleague",
        "Dirk Colleague",
        "Emil Colleague",
    ]
    assert _walk(client, size=1, search="cleopatre") == ["Cléopâtre"]
    assert _walk(client, size=1, search="personal", backwards=True) == [
        "Finn Personal",
        "Gus Personal",
    ]


def test_a_cursor_that_was_not_handed_out_is_invalid(make_client, team):
    client = make_client(team)
    forged = [
        "not base64 at all",
        base64.b64encode(b"arrayconnection:3").decode(),  # an offset cursor
        base64.b64encode(b'contact:["a"]').decode(),
        base64.b64encode(b'contact:["a", "not-a-uuid"]').decode(),
        base64.b64encode(b'team:["a", "6f1d6d2e-0000-4000-8000-000000000000"]').decode(),
    ]
    for cursor in forged:
        for argument in ("after", "before"):
            result = client.execute(
                "query($c: String) { contacts(" + argument + ": $c, first: 1) { totalCount } }",
                {"c": cursor},
            )
            assert result.error_codes() == ["INVALID"], (cursor, argument)
            assert result.errors[0]["message"] == "Invalid pagination cursor."


def test_a_cursor_reveals_nothing_beyond_the_contact_it_follows(make_client, team):
    page = contacts(make_client(team), first=1)
    kind, payload = base64.b64decode(page["pageInfo"]["endCursor"]).decode().split(":", 1)
    name, pk = json.loads(payload)
    assert (kind, name) == ("contact", "anna colleague")
    assert pk == str(Contact.objects.get(full_name="Anna Colleague").pk)


def test_another_viewers_cursor_reads_only_my_own_view(make_client, team, other_organization):
    outsider = UserFactory(organization=other_organization, first_name="Olga", last_name="Out")
    Contact.objects.create(owner=outsider, full_name="Olga's plumber")
    theirs = contacts(make_client(outsider), first=1)["pageInfo"]["endCursor"]
    mine = _names(contacts(make_client(team), first=100, after=theirs))
    # A position, not a key to anything: the rows after "olga out" in the viewer's own view.
    assert mine == ["Zed Viewer"]


@override_settings(DIRECTORY_COUNT_EXACT_UP_TO=3)
def test_the_total_count_is_exact_up_to_the_bound(make_client, team):
    client = make_client(team)
    answer = client.execute(COUNT).data["contacts"]
    assert answer == {"totalCount": 3, "totalCountIsExact": False}
    answer = client.execute(COUNT, {"search": "personal"}).data["contacts"]
    assert answer == {"totalCount": 2, "totalCountIsExact": True}
    answer = client.execute(COUNT, {"search": "colleague"}).data["contacts"]
    assert answer == {"totalCount": 3, "totalCountIsExact": False}


def test_the_total_count_is_exact_below_the_bound(make_client, team):
    answer = make_client(team).execute(COUNT).data["contacts"]
    assert answer == {"totalCount": 8, "totalCountIsExact": True}


def test_a_profile_contact_follows_its_user_between_organizations(make_client, team):
    anna = Contact.objects.get(full_name="Anna Colleague")
    assert anna.organization_id == team.organization_id
    admin = administrator(organization=team.organization)
    member_remove(actor=admin, user_guid=str(anna.user.guid))
    anna.refresh_from_db()
    assert anna.organization_id is None
    assert "Anna Colleague" not in [node["fullName"] for node in nodes(make_client(team))]
    # Alone, Anna still sees her own profile contact (and nobody else's).
    assert [node["fullName"] for node in nodes(make_client(anna.user))] == ["Anna Colleague"]
    elsewhere = OrganizationFactory(name="Elsewhere")
    anna.user.organization = elsewhere
    anna.user.save()  # an administrator's edit in the admin: a full save
    anna.refresh_from_db()
    assert anna.organization_id == elsewhere.pk


def _merged_reference(viewer) -> list[dict]:
    """The viewer's merged view computed in Python, independently of the listing's streams:
    each visible base under the viewer's own override (name and short name where the
    override sets them, the values of both)."""
    bases = Contact.objects.filter(override__isnull=True).filter(
        Q(organization_id=viewer.organization_id) | Q(owner=viewer, organization__isnull=True)
    )
    overrides = {
        o.override_id: o for o in Contact.objects.filter(owner=viewer, override__isnull=False)
    }
    view = []
    for base in bases:
        mine = overrides.get(base.pk)
        view.append(
            {
                "name": (mine and mine.full_name) or base.full_name,
                "short": (mine and mine.short_name) or base.short_name,
                "values": base.search_values + "\n" + (mine.search_values if mine else ""),
            }
        )
    return sorted(view, key=lambda row: search_normalize(row["name"]))


def _reference_search(view: list[dict], search: str) -> list[str]:
    terms = search_terms(search)
    return [
        row["name"]
        for row in view
        if any(
            term in search_normalize(row["name"])
            or term in search_normalize(row["short"])
            or term in row["values"]
            for term in terms
        )
    ]


def test_search_and_pages_agree_with_the_merged_view_for_every_kind_of_override(make_client, team):
    """Overrides that rename or not, set a short name over the base's or not, add values or
    not: every search answers, page by page, what the merged view shows."""
    client = make_client(team)
    colleagues = {
        c.full_name.split()[0]: c for c in Contact.objects.filter(full_name__endswith="Colleague")
    }
    for first, short in (("Anna", "Annie"), ("Cleo", "Queen"), ("Emil", "Mimi")):
        colleague = colleagues[first]
        colleague.short_name = short  # what the colleague sets on their own profile contact
        colleague.save()
    phone = {"phones": [{"type": "Home", "value": "+33 1 23 45 67 89"}]}
    override(client, contact_id(colleagues["Anna"]), fullName="Zorro Rename")
    override(client, contact_id(colleagues["Bert"]), shortName="Bebe", data=phone)
    override(client, contact_id(colleagues["Cleo"]), shortName="Patra")  # hides "Queen"
    override(client, contact_id(colleagues["Dirk"]), fullName="Dagobert", shortName="Duck")
    override(client, contact_id(colleagues["Emil"]), notes="only a note")
    view = _merged_reference(team)
    searches = [
        "colleague", "zorro", "anna", "annie", "bebe", "bert", "queen", "patra", "dagobert",
        "dirk", "duck", "mimi", "emil", "45 67", "0123456789", "personal", "e", "o", "",
    ]  # fmt: skip
    for search in searches:
        expected = _reference_search(view, search) if search else [row["name"] for row in view]
        for size in (1, 3):
            assert _walk(client, size=size, search=search) == expected, (search, size)
        assert _walk(client, size=2, search=search, backwards=True) == expected, search
        count = client.execute(COUNT, {"search": search}).data["contacts"]
        assert count == {"totalCount": len(expected), "totalCountIsExact": True}, search
