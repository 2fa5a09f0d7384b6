"""Every id a client sends is parsed by one helper (schema/ids.py): garbage, an id of another
type and another organization's id are answered exactly like a missing object (NOT_FOUND in a
mutation, null in a query)."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Invitation
from accounts.services.groups import permission_groups_setup
from directory.models import Contact
from tests.directory.teams_helpers import make_team
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def global_id(type_name: str, value) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


@pytest.fixture
def world(db):
    permission_groups_setup()
    admins = [settings.ADMINISTRATORS_GROUP]
    own, other = OrganizationFactory(), OrganizationFactory(name="Elsewhere")
    viewer = UserFactory(organization=own, groups=admins)
    colleague = UserFactory(organization=own)
    stranger = UserFactory(organization=other, groups=admins)
    invitation = Invitation.objects.create(
        organization=other,
        inviter=stranger,
        email="someone@example.com",
        token_hash=uuid.uuid4().hex,
        expires_at=timezone.now() + timedelta(days=1),
    )
    return {
        "viewer": viewer,
        "team": make_team(viewer),
        "colleague": colleague,
        "Contact": Contact.objects.get(user=stranger).pk,
        "Team": make_team(stranger).pk,
        "User": stranger.guid,
        "Invitation": invitation.pk,
    }


def bad_ids(world, type_name: str) -> dict[str, str]:
    """The three ids that must be answered alike: garbage, wrong type, another organization's."""
    return {
        "garbage": "not-an-id",
        "garbage_key": global_id(type_name, "not-a-uuid\x00"),
        "wrong_type": global_id("Organization", world[type_name]),
        "foreign": global_id(type_name, world[type_name]),
    }


PAYLOAD = "__typename ... on OperationInfo { messages { kind field message code } }"

MUTATIONS = [
    ("updateContact", "UpdateContactInput", "Contact", lambda w, i: {"id": i, "notes": "x"}),
    ("overrideContact", "OverrideContactInput", "Contact", lambda w, i: {"baseId": i}),
    ("deleteContact", "DeleteContactInput", "Contact", lambda w, i: {"id": i}),
    ("updateTeam", "UpdateTeamInput", "Team", lambda w, i: {"id": i, "name": "X"}),
    ("deleteTeam", "DeleteTeamInput", "Team", lambda w, i: {"id": i}),
    (
        "addTeamMember",
        "AddTeamMemberInput",
        "Team",
        lambda w, i: {"teamId": i, "userId": global_id("User", w["colleague"].guid)},
    ),
    (
        "addTeamMember",
        "AddTeamMemberInput",
        "User",
        lambda w, i: {"teamId": global_id("Team", w["team"].pk), "userId": i},
    ),
    (
        "setTeamRole",
        "SetTeamRoleInput",
        "User",
        lambda w, i: {"teamId": global_id("Team", w["team"].pk), "userId": i, "role": "MEMBER"},
    ),
    (
        "removeTeamMember",
        "RemoveTeamMemberInput",
        "Team",
        lambda w, i: {"teamId": i, "userId": global_id("User", w["viewer"].guid)},
    ),
    ("resendInvitation", "ResendInvitationInput", "Invitation", lambda w, i: {"id": i}),
    ("revokeInvitation", "RevokeInvitationInput", "Invitation", lambda w, i: {"id": i}),
    (
        "setPermissionGroups",
        "SetPermissionGroupsInput",
        "User",
        lambda w, i: {"userId": i, "permissionGroupIds": []},
    ),
    ("removeMember", "RemoveMemberInput", "User", lambda w, i: {"userId": i}),
]


@pytest.mark.parametrize(
    ("name", "input_type", "type_name", "make_input"),
    MUTATIONS,
    ids=[f"{m[0]}-{m[2]}" for m in MUTATIONS],
)
def test_mutations_answer_bad_ids_alike(
    make_client, world, name, input_type, type_name, make_input
):
    client = make_client(world["viewer"])
    answers = {}
    for kind, value in bad_ids(world, type_name).items():
        result = client.execute(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}",
            {"input": make_input(world, value)},
        )
        assert not result.errors, (kind, result.errors)
        answers[kind] = result.data[name]
    assert answers["foreign"]["__typename"] == "OperationInfo"
    assert [m["code"] for m in answers["foreign"]["messages"]] == ["NOT_FOUND"]
    assert all(answer == answers["foreign"] for answer in answers.values()), answers


QUERIES = [
    ("query($id: ID!) { contact(id: $id) { id } }", "contact", "Contact"),
    ("query($id: ID!) { team(id: $id) { id } }", "team", "Team"),
    ("query($id: ID!) { node(id: $id) { id } }", "node", "Team"),
    ("query($id: ID!) { node(id: $id) { id } }", "node", "User"),
    ("query($id: ID!) { node(id: $id) { id } }", "node", "Contact"),
    ("query($id: ID!) { node(id: $id) { id } }", "node", "Invitation"),
]


@pytest.mark.parametrize(("query", "field", "type_name"), QUERIES)
def test_queries_answer_bad_ids_with_null(make_client, world, query, field, type_name):
    client = make_client(world["viewer"])
    for kind, value in bad_ids(world, type_name).items():
        if field == "node" and kind.startswith("garbage"):
            continue  # node(id:) parses its id as Relay's GlobalID scalar (see below)
        result = client.execute(query, {"id": value})
        assert result.payload == {"data": {field: None}}, (kind, result.payload)


def test_node_refuses_a_malformed_id_as_input(make_client, world):
    """``node(id:)`` and ``nodes(ids:)`` are Strawberry's: a value that is no global id at all
    is refused as input (a GraphQL error, never an unexpected one)."""
    result = make_client(world["viewer"]).execute(
        "query($id: ID!) { node(id: $id) { id } }", {"id": "not-an-id"}
    )
    assert result.errors and result.errors[0]["message"] != "Unexpected error."
