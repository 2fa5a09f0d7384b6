"""``organization { members }`` read by position (issue #18): cursors hold a member's email,
the count stops at a bound, and the search reads one normalized column kept in step with the
names and the email."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import override_settings

from accounts.models import User
from tests.factories import UserFactory
from tests.paging import walk

MEMBERS = """
query($search: String, $first: Int, $after: String, $last: Int, $before: String) {
  organization {
    members(search: $search, first: $first, after: $after, last: $last, before: $before) {
      totalCount totalCountIsExact
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { email } }
    }
  }
}
"""
UPDATE_PROFILE = "... on User { firstName lastName }"


@pytest.fixture
def staff(organization):
    """Five members of one organization (the first is the viewer), one outsider."""
    people = [
        ("erin@example.com", "Zoë", "Ångström"),
        ("bob@example.com", "Bob", "Marchand"),
        ("alice@example.com", "Alice", "Martin"),
        ("dan@example.com", "Dan", "Müller"),
        ("carol@example.com", "Carol", "Omar"),
    ]
    members = [
        UserFactory(organization=organization, email=email, first_name=first, last_name=last)
        for email, first, last in people
    ]
    UserFactory(organization=None, email="mary@outside.example", first_name="Mary")
    return members


def _members(client, **variables) -> dict:
    result = client.execute(MEMBERS, variables)
    assert not result.errors, result.errors
    return result.data["organization"]["members"]


def _emails(page) -> list[str]:
    return [edge["node"]["email"] for edge in page["edges"]]


def _walk(client, *, size: int, backwards: bool = False, **variables) -> list[str]:
    return walk(
        lambda **page: _members(client, **page, **variables),
        lambda node: node["email"],
        size=size,
        backwards=backwards,
    )


ALL = ["alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com",
       "erin@example.com"]  # fmt: skip


def test_pages_forward_and_backward_list_every_member_once_by_email(make_client, staff):
    client = make_client(staff[0])
    for size in (1, 2, 5):
        assert _walk(client, size=size) == ALL
        assert _walk(client, size=size, backwards=True) == ALL


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("mar", ["alice@example.com", "bob@example.com", "carol@example.com"]),
        ("ANGSTROM", ["erin@example.com"]),  # accents and case ignored
        ("zoe erin@", ["erin@example.com"]),  # every word, in the names or the email
        ("zoe bob", []),
        ("mueller", []),
        ("muller", ["dan@example.com"]),
        ("mary", []),  # not a member of this organization
    ],
)
def test_search_matches_every_word_in_names_or_email(make_client, staff, search, expected):
    client = make_client(staff[0])
    assert _walk(client, size=2, search=search) == expected
    page = _members(client, search=search)
    assert (page["totalCount"], page["totalCountIsExact"]) == (len(expected), True)


def test_search_follows_name_and_email_changes(make_client, staff):
    dan = staff[3]
    client = make_client(dan)
    renamed = client.mutate("updateProfile", {"firstName": "Daniël"}, UPDATE_PROFILE)
    assert renamed == {"__typename": "User", "firstName": "Daniël", "lastName": "Müller"}
    assert _emails(_members(client, search="daniel")) == ["dan@example.com"]
    dan = User.objects.get(pk=dan.pk)
    dan.email = "daniel@example.org"
    dan.save(update_fields=["email"])
    assert _emails(_members(client, search="daniel@example.org")) == ["daniel@example.org"]
    assert _emails(_members(client, search="dan@example.com")) == []


@override_settings(DIRECTORY_COUNT_EXACT_UP_TO=3)
def test_the_count_is_exact_up_to_the_bound(make_client, staff):
    client = make_client(staff[0])
    page = _members(client, first=1)
    assert (page["totalCount"], page["totalCountIsExact"]) == (3, False)
    page = _members(client, first=1, search="mar")
    assert (page["totalCount"], page["totalCountIsExact"]) == (3, True)


def _cursor(prefix: str, payload: str) -> str:
    return base64.b64encode(f"{prefix}:{payload}".encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("member", '["bob@example.com", "x"]'),  # an id that is not a member's
        _cursor("contact", '["bob", "6f1c0f34-8e2a-4f0b-9d1e-0c5a2b7f3e11"]'),
        _cursor("arrayconnection", "1"),  # an offset cursor of the old connection
        "not base64!",
    ],
)
def test_a_cursor_that_was_not_handed_out_is_invalid(make_client, staff, cursor):
    result = make_client(staff[0]).execute(MEMBERS, {"first": 2, "after": cursor})
    assert result.error_codes() == ["INVALID"]
    assert result.errors[0]["message"] == "Invalid pagination cursor."


def test_another_organizations_cursor_reads_only_my_organization(
    make_client, staff, other_organization
):
    outsider = UserFactory(email="aaron@elsewhere.example", organization=other_organization)
    theirs = _members(make_client(outsider), first=1)
    assert _emails(theirs) == ["aaron@elsewhere.example"]
    # A position, not a key to anything: the members after "aaron@..." in my organization.
    mine = _members(make_client(staff[0]), first=10, after=theirs["pageInfo"]["endCursor"])
    assert _emails(mine) == ALL


def test_a_cursor_holds_the_email_and_public_id_only(make_client, staff):
    page = _members(make_client(staff[0]), first=1)
    kind, payload = base64.b64decode(page["pageInfo"]["endCursor"]).decode().split(":", 1)
    alice = User.objects.get(email="alice@example.com")
    assert (kind, json.loads(payload)) == ("member", ["alice@example.com", str(alice.guid)])
