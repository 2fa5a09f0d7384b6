"""contacts, contact, createContact, overrideContact, updateContact, deleteContact: rules and
refusals, through the real endpoint."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from directory.models import Contact
from directory.services.contacts import (
    contact_can_delete,
    contact_can_override,
    contact_can_update,
)
from tests.conftest import GRAPHQL_URL, operation_codes
from tests.directory.contacts_api import (
    CONTACT,
    CONTACTS,
    contact,
    contact_id,
    contacts,
    create,
    delete,
    global_id,
    names,
    nodes,
    override,
    raw_id,
    update,
)
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

WORK = {"emails": [{"type": "Work", "value": "work@example.com"}]}


@pytest.fixture
def colleague(user):
    return UserFactory(organization=user.organization, first_name="Ryan", last_name="Smith")


@pytest.fixture
def personal(user):
    return Contact.objects.create(owner=user, full_name="Plumber", data=WORK)


# Anonymous -----------------------------------------------------------------------------------


def test_anonymous_cannot_read_contacts(gql, user):
    result = gql.execute(CONTACTS)
    assert result.data is None
    assert result.error_codes() == ["UNAUTHENTICATED"]
    result = gql.execute(CONTACT, {"id": contact_id(user.profile_contact)})
    assert result.error_codes() == ["UNAUTHENTICATED"]


def test_anonymous_cannot_write_contacts(gql, user, personal):
    profile = user.profile_contact
    assert operation_codes(create(gql, fullName="X")) == ["UNAUTHENTICATED"]
    assert operation_codes(override(gql, contact_id(profile), fullName="X")) == ["UNAUTHENTICATED"]
    assert operation_codes(update(gql, contact_id(personal), fullName="X")) == ["UNAUTHENTICATED"]
    assert operation_codes(delete(gql, contact_id(personal))) == ["UNAUTHENTICATED"]
    assert Contact.objects.count() == 2
    personal.refresh_from_db()
    assert personal.full_name == "Plumber"


def test_mutations_never_run_over_get(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    query = 'mutation { createContact(input: {fullName: "X"}) { __typename } }'
    response = client.get(GRAPHQL_URL, {"query": query}, HTTP_GRAPHQL_REQUIRE_PREFLIGHT="1")
    assert response.status_code in (400, 405)
    assert not Contact.objects.filter(full_name="X").exists()


def test_post_without_csrf_token_is_refused(make_client, user):
    client = make_client(user)
    mutation = 'mutation { createContact(input: {fullName: "X"}) { __typename } }'
    assert client.execute(mutation, csrf=False).status_code == 403
    assert not Contact.objects.filter(full_name="X").exists()


# Profile contacts ----------------------------------------------------------------------------


def test_every_user_has_one_profile_contact(make_client, user):
    profile = Contact.objects.get(user=user)
    assert profile.owner == user
    assert profile.data == {"emails": [{"type": "Work", "value": user.email}]}
    me = make_client(user).execute("{ me { profileContact { id fullName isProfile } } }")
    assert me.data["me"]["profileContact"] == {
        "id": contact_id(profile),
        "fullName": f"{user.profile.first_name} {user.profile.last_name}",
        "isProfile": True,
    }


def test_profile_contact_is_editable_only_by_its_user(make_client, user, colleague):
    profile = colleague.profile_contact
    refused = update(make_client(user), contact_id(profile), fullName="Hacked")
    assert operation_codes(refused) == ["PERMISSION_DENIED"]
    done = update(make_client(colleague), contact_id(profile), shortName="Ry", data=WORK)
    assert done["shortName"] == "Ry"
    assert done["data"] == WORK
    assert done["fullName"] == "Ryan Smith"


def test_profile_contact_is_never_deletable(make_client, user, colleague, outsider):
    profile = colleague.profile_contact
    assert operation_codes(delete(make_client(colleague), contact_id(profile))) == [
        "PERMISSION_DENIED"
    ]
    assert operation_codes(delete(make_client(user), contact_id(profile))) == ["PERMISSION_DENIED"]
    assert operation_codes(delete(make_client(outsider), contact_id(profile))) == ["NOT_FOUND"]
    assert Contact.objects.filter(pk=profile.pk).exists()


# Visibility ----------------------------------------------------------------------------------


def test_a_member_sees_the_organization_profiles_and_own_personal_contacts(
    make_client, user, colleague, personal, outsider
):
    Contact.objects.create(owner=colleague, full_name="Colleague's dentist")
    Contact.objects.create(owner=outsider, full_name="Outsider's dentist")
    seen = names(make_client(user))
    assert sorted(seen) == sorted([user.profile_contact.full_name, "Ryan Smith", "Plumber"])
    assert sorted(names(make_client(outsider))) == sorted(
        [outsider.profile_contact.full_name, "Outsider's dentist"]
    )


def test_a_user_without_organization_sees_only_their_own_contacts(make_client, user):
    loner = UserFactory(organization=None, first_name="Lone", last_name="Wolf")
    Contact.objects.create(owner=loner, full_name="Friend")
    assert names(make_client(loner)) == ["Friend", "Lone Wolf"]


def test_hidden_contacts_answer_like_missing_ones(make_client, user, personal, outsider):
    client = make_client(outsider)
    missing = global_id("Contact", uuid.uuid4())
    for hidden in (contact_id(personal), contact_id(user.profile_contact)):
        assert contact(client, hidden) is None
        assert (
            client.execute(CONTACT, {"id": hidden}).payload
            == client.execute(CONTACT, {"id": missing}).payload
        )
        assert override(client, hidden, fullName="X") == override(client, missing, fullName="X")
        assert update(client, hidden, fullName="X") == update(client, missing, fullName="X")
        assert delete(client, hidden)["messages"] == delete(client, missing)["messages"]
    assert operation_codes(update(client, missing, fullName="X")) == ["NOT_FOUND"]
    # Ids of other types, or malformed, name no contact.
    for other in (global_id("User", user.guid), global_id("Contact", "not-a-uuid")):
        assert contact(client, other) is None
        assert operation_codes(delete(client, other)) == ["NOT_FOUND"]


def test_node_answers_only_visible_contacts(make_client, user, colleague, personal, outsider):
    query = "query($id: ID!) { node(id: $id) { __typename id ... on Contact { fullName } } }"
    client = make_client(user)
    own = client.execute(query, {"id": contact_id(personal)}).data["node"]
    assert own == {"__typename": "Contact", "id": contact_id(personal), "fullName": "Plumber"}
    raw = client.execute(query, {"id": raw_id(colleague.profile_contact)}).data["node"]
    assert raw["__typename"] == "RawContact"
    other = make_client(outsider)
    for hidden in (contact_id(personal), raw_id(personal), raw_id(user.profile_contact)):
        assert other.execute(query, {"id": hidden}).data == {"node": None}


# Personal contacts ---------------------------------------------------------------------------


def test_create_a_personal_contact(make_client, user, colleague):
    data = {
        "emails": [{"type": "Home", "value": "ana@example.com"}],
        "phones": [{"type": "Mobile", "value": "+33 6 12 34 56 78"}],
        "customFields": {"Met at": "PyCon"},
    }
    created = create(make_client(user), fullName=" Ana Lima ", shortName="Ana", data=data)
    assert created["fullName"] == "Ana Lima"
    assert created["data"] == data
    assert created["isProfile"] is False
    assert created["override"] is None
    assert created["base"]["id"] == raw_id(Contact.objects.get(full_name="Ana Lima"))
    assert created["abilities"] == {"canUpdate": True, "canDelete": True, "canOverride": False}
    assert "Ana Lima" in names(make_client(user))
    assert "Ana Lima" not in names(make_client(colleague))


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"fullName": "  "}, "fullName", "blank"),
        ({"fullName": "x" * 151}, "fullName", "max_length"),
        ({"fullName": "X", "shortName": "x" * 51}, "shortName", "max_length"),
        ({"fullName": "X", "notes": "x" * 5001}, "notes", "max_length"),
        (
            {"fullName": "X", "data": {"emails": [{"type": "Work", "value": "nope"}]}},
            "data",
            "INVALID",
        ),
    ],
)
def test_create_refuses_bad_input(make_client, user, fields, field, code):
    """The model fields' own validators answer, with Django's codes (backend/validation.py)."""
    payload = create(make_client(user), **fields)
    assert [(m["code"], m["field"]) for m in payload["messages"]] == [(code, field)]
    assert not Contact.objects.filter(owner=user, user__isnull=True).exists()


def test_bad_data_answers_the_failing_path(make_client, user, personal):
    payload = update(
        make_client(user),
        contact_id(personal),
        data={"links": [{"type": "Website", "value": "javascript:alert(1)"}]},
    )
    assert payload["messages"] == [
        {
            "kind": "VALIDATION",
            "field": "data",
            "message": "data.links[0].value: not a valid http(s) URL.",
            "code": "INVALID",
        }
    ]
    personal.refresh_from_db()
    assert personal.data == WORK


def test_update_a_personal_contact(make_client, user, personal):
    updated = update(make_client(user), raw_id(personal), notes="Fixes sinks")
    assert updated["notes"] == "Fixes sinks"
    assert updated["fullName"] == "Plumber", "fields left out stay as they are"
    assert updated["data"] == WORK
    updated = update(make_client(user), contact_id(personal), data={})
    assert updated["data"] == {}
    refused = update(make_client(user), contact_id(personal), fullName="")
    assert [(m["code"], m["field"]) for m in refused["messages"]] == [("blank", "fullName")]


def test_only_the_owner_updates_or_deletes_a_personal_contact(
    make_client, user, colleague, personal
):
    client = make_client(colleague)
    assert operation_codes(update(client, contact_id(personal), fullName="X")) == ["NOT_FOUND"]
    assert operation_codes(delete(client, contact_id(personal))) == ["NOT_FOUND"]
    deleted = delete(make_client(user), contact_id(personal))
    assert deleted == {
        "__typename": "DeletedContact",
        "deletedId": contact_id(personal),
        "contact": None,
    }
    assert not Contact.objects.filter(pk=personal.pk).exists()
    assert "Plumber" not in names(make_client(user))


# Overrides -----------------------------------------------------------------------------------


def test_override_a_colleague_then_update_it_with_a_second_call(make_client, user, colleague):
    client = make_client(user)
    base = colleague.profile_contact
    home = {"type": "Home", "value": "ryan@home.example"}
    merged = override(client, contact_id(base), shortName="Ry", data={"emails": [home]})
    assert merged["id"] == contact_id(base)
    assert merged["fullName"] == "Ryan Smith", "an empty override name shows the base's"
    assert merged["shortName"] == "Ry"
    assert merged["data"]["emails"] == [home, *base.data["emails"]]
    assert merged["base"]["shortName"] == ""
    assert merged["override"]["shortName"] == "Ry"
    assert merged["override"]["isOverride"] is True
    assert merged["abilities"] == {"canUpdate": False, "canDelete": False, "canOverride": True}

    again = override(client, contact_id(base), fullName="Ryan S.", notes="Likes tea")
    assert Contact.objects.filter(override=base).count() == 1
    assert again["override"]["id"] == merged["override"]["id"]
    assert (again["fullName"], again["shortName"], again["notes"]) == ("Ryan S.", "Ry", "Likes tea")
    assert again["data"]["emails"][0] == home, "fields left out stay as they are"


def test_override_refusals(make_client, user, colleague, personal, outsider):
    client = make_client(user)
    own_profile = contact_id(user.profile_contact)
    assert operation_codes(override(client, own_profile, fullName="Me")) == ["PERMISSION_DENIED"]
    assert operation_codes(override(client, contact_id(personal), fullName="X")) == [
        "PERMISSION_DENIED"
    ]
    mine = override(client, contact_id(colleague.profile_contact), fullName="Ry")
    mine_id = mine["override"]["id"]
    assert operation_codes(override(client, mine_id, fullName="X")) == ["PERMISSION_DENIED"]
    # Another person's override, and other organizations' contacts, are not found.
    assert operation_codes(override(make_client(colleague), mine_id, fullName="X")) == ["NOT_FOUND"]
    assert operation_codes(
        override(make_client(outsider), contact_id(colleague.profile_contact), fullName="X")
    ) == ["NOT_FOUND"]
    bad = override(client, contact_id(colleague.profile_contact), data={"emails": "x"})
    assert [(m["code"], m["field"]) for m in bad["messages"]] == [("INVALID", "data")]
    assert Contact.objects.filter(override__isnull=False).count() == 1


def test_update_and_delete_an_override(make_client, user, colleague):
    client = make_client(user)
    base = colleague.profile_contact
    mine = override(client, contact_id(base), fullName="Ry")["override"]
    assert mine["isOverride"] is True
    updated = update(client, mine["id"], fullName="", notes="n")
    assert updated["id"] == contact_id(base), "an override is answered through its base"
    assert (updated["fullName"], updated["notes"]) == ("Ryan Smith", "n")
    assert operation_codes(update(make_client(colleague), mine["id"], notes="x")) == ["NOT_FOUND"]
    assert operation_codes(delete(make_client(colleague), mine["id"])) == ["NOT_FOUND"]

    deleted = delete(client, mine["id"])
    assert deleted["deletedId"] == mine["id"]
    assert deleted["contact"]["id"] == contact_id(base)
    assert deleted["contact"]["override"] is None
    assert deleted["contact"]["notes"] == ""
    assert not Contact.objects.filter(override=base).exists()
    assert Contact.objects.filter(pk=base.pk).exists()


def test_the_viewer_override_is_shown_through_its_base_only(make_client, user, colleague):
    client = make_client(user)
    mine = override(client, contact_id(colleague.profile_contact), fullName="Ry")
    listed = nodes(client)
    assert [node["id"] for node in listed].count(contact_id(colleague.profile_contact)) == 1
    assert mine["override"]["id"] not in [node["id"] for node in listed]
    assert len(listed) == 2
    # The raw override's own id reaches the merged contact too.
    assert contact(client, mine["override"]["id"])["id"] == contact_id(colleague.profile_contact)
    assert contact(make_client(colleague), mine["override"]["id"]) is None


def test_an_override_of_someone_who_left_is_hidden_with_its_base(make_client, user, colleague):
    client = make_client(user)
    mine = override(client, contact_id(colleague.profile_contact), fullName="Ry")
    colleague.organization = None
    colleague.save()
    assert names(client) == [user.profile_contact.full_name]
    assert contact(client, mine["override"]["id"]) is None
    assert operation_codes(update(client, mine["override"]["id"], notes="x")) == ["NOT_FOUND"]


# Abilities -----------------------------------------------------------------------------------


def test_abilities_answer_what_the_mutations_allow(make_client, user, colleague, personal):
    client = make_client(user)
    override(client, contact_id(colleague.profile_contact), fullName="Ry")
    for node in nodes(client):
        for target, abilities in ((node, node["abilities"]), (node["override"], None)):
            if target is None:
                continue
            stored = Contact.objects.get(pk=uuid.UUID(_decoded_pk(target["id"])))
            expected = {
                "canUpdate": contact_can_update(actor=user, contact=stored),
                "canDelete": contact_can_delete(actor=user, contact=stored),
                "canOverride": contact_can_override(actor=user, contact=stored),
            }
            if abilities is not None:
                assert abilities == expected
            with _rolled_back():
                result = update(client, target["id"], notes="probe")
                assert (result["__typename"] == "Contact") == expected["canUpdate"]
            with _rolled_back():
                result = delete(client, target["id"])
                assert (result["__typename"] == "DeletedContact") == expected["canDelete"]
            with _rolled_back():
                result = override(client, target["id"], notes="probe")
                assert (result["__typename"] == "Contact") == expected["canOverride"]


def _decoded_pk(global_id_: str) -> str:
    return base64.b64decode(global_id_).decode().split(":", 1)[1]


class _rolled_back:
    """Run a probe mutation, then undo it (the test client shares the test's connection)."""

    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def __exit__(self, exc_type, exc, tb):
        transaction.set_rollback(True)
        self.atomic.__exit__(exc_type, exc, tb)
        return False


# Pagination and query counts -----------------------------------------------------------------


def test_contacts_are_ordered_by_name_then_id_and_paginated(make_client):
    viewer = UserFactory(organization=None, first_name="Zoé", last_name="Zulu")
    for name in ["bravo", "Alpha", "Charlie", "alpha", "Élan", "delta"]:
        Contact.objects.create(owner=viewer, full_name=name)
    client = make_client(viewer)
    listed = nodes(client)
    assert [node["fullName"].lower() for node in listed] == [
        "alpha",
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "élan",
        "zoé zulu",
    ]
    alpha_ids = [_decoded_pk(node["id"]) for node in listed[:2]]
    assert alpha_ids == sorted(alpha_ids), "equal names are ordered by id"

    page = contacts(client, first=2)
    assert page["totalCount"] == 7
    assert page["pageInfo"]["hasNextPage"] is True
    rest = contacts(client, first=100, after=page["pageInfo"]["endCursor"])
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["id"] for e in page["edges"] + rest["edges"]] == [n["id"] for n in listed]
    last = contacts(client, last=2)
    assert [e["node"]["id"] for e in last["edges"]] == [n["id"] for n in listed][-2:]
    before = contacts(client, last=1, before=last["pageInfo"]["startCursor"])
    assert [e["node"]["id"] for e in before["edges"]] == [listed[-3]["id"]]


def test_a_page_is_capped_at_100(make_client, user):
    Contact.objects.bulk_create(
        [Contact(owner=user, full_name=f"Contact {i:03}") for i in range(120)]
    )
    client = make_client(user)
    page = contacts(client)
    assert len(page["edges"]) == 100
    assert page["totalCount"] == 121
    for argument in ("first", "last"):
        result = client.execute(CONTACTS, {argument: 101})
        assert result.error_codes() == ["INVALID"]
        assert "100" in result.errors[0]["message"]


def _org_with_contacts(count: int, organization):
    viewer = UserFactory(organization=organization)
    colleagues = UserFactory.create_batch(count, organization=organization)
    for colleague in colleagues[: count // 2]:
        Contact.objects.create(
            owner=viewer,
            override=colleague.profile_contact,
            full_name="Nick",
            data={"emails": [{"type": "Home", "value": "nick@example.com"}]},
        )
    for index in range(count):
        Contact.objects.create(owner=viewer, full_name=f"Personal {index}")
    return viewer


QUERY_COUNT_DOCUMENT = """
    query($search: String) {
      contacts(search: $search, first: 100) {
        totalCount
        edges { node { id fullName shortName notes data isProfile
          base { id fullName data isProfile isOverride abilities { canUpdate } }
          override { id fullName data abilities { canDelete } }
          abilities { canUpdate canDelete canOverride } } }
      }
    }
"""


@pytest.mark.parametrize("search", [None, "example"])
def test_contacts_query_count_does_not_grow_with_contacts(
    make_client, django_assert_num_queries, search
):
    # The viewer (session from the cache), the page (read by position), its total (a count
    # that stops at DIRECTORY_COUNT_EXACT_UP_TO) and the viewer's overrides of the page in one
    # query: 4, for 2 contacts as for 200.
    for size in (2, 200):
        viewer = _org_with_contacts(size, OrganizationFactory(plan="enterprise"))
        client = make_client(viewer)
        client.csrf_token  # the CSRF cookie request is not part of the count
        with django_assert_num_queries(4):
            result = client.execute(QUERY_COUNT_DOCUMENT, {"search": search})
        assert not result.errors
        edges = result.data["contacts"]["edges"]
        assert len(edges) == min(100, 2 * size + 1 if search is None else size + 1)
        assert any(edge["node"]["override"] for edge in edges)


# User.profileContact -------------------------------------------------------------------------

PROFILE_CONTACTS = """
    query($ids: [ID!]!) {
      nodes(ids: $ids) { ... on User { id email profileContact { id fullName data override { id } } } }
    }
"""


def test_profile_contact_of_a_colleague_is_the_viewers_merged_view(make_client, user, colleague):
    client = make_client(user)
    override(client, contact_id(colleague.profile_contact), fullName="Ry")
    ids = [global_id("User", colleague.guid)]
    seen = client.execute(PROFILE_CONTACTS, {"ids": ids}).data["nodes"][0]["profileContact"]
    assert seen["id"] == contact_id(colleague.profile_contact)
    assert seen["fullName"] == "Ry"
    assert seen["override"] is not None
    own = make_client(colleague).execute(PROFILE_CONTACTS, {"ids": ids}).data["nodes"][0]
    assert own["profileContact"]["fullName"] == "Ryan Smith"
    assert own["profileContact"]["override"] is None


def test_profile_contacts_of_many_users_take_a_constant_number_of_queries(make_client):
    # Only the contact queries are pinned: `nodes(ids:)` of users has its own cost, outside
    # the directory (see the report). The profile contacts and the viewer's overrides of them
    # are one query each, for 2 users as for 40.
    for size in (2, 40):
        organization = OrganizationFactory(plan="enterprise")
        viewer = UserFactory(organization=organization)
        members = UserFactory.create_batch(size, organization=organization)
        for member in members[::2]:
            Contact.objects.create(owner=viewer, override=member.profile_contact, full_name="N")
        client = make_client(viewer)
        client.csrf_token
        ids = [global_id("User", member.guid) for member in members]
        with CaptureQueriesContext(connection) as captured:
            result = client.execute(PROFILE_CONTACTS, {"ids": ids})
        assert not result.errors
        found = result.data["nodes"]
        assert [node["email"] for node in found] == [member.email for member in members]
        assert sum(1 for node in found if node["profileContact"]["override"]) == len(members[::2])
        contact_queries = [q for q in captured if 'FROM "directory_contact"' in q["sql"]]
        assert len(contact_queries) == 2, contact_queries
