"""Teams through the endpoint: creation, reads, refusals, ids, object permissions."""

from __future__ import annotations

import base64

import pytest
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from backend.errors import NotFound
from directory.models import Team, TeamMembership
from directory.services.teams import team_member_add
from tests.directory.teams_helpers import (
    MEMBER_FIELDS,
    OWNER_CODENAMES,
    TEAM_FIELDS,
    global_id,
    guardian_codenames,
    make_team,
    role_of,
    team_id,
    user_id,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEAM = f"... on Team {{ {TEAM_FIELDS} }}"
MEMBER = f"... on TeamMember {{ {MEMBER_FIELDS} }}"
TEAMS = """
query($first: Int, $after: String) {
  teams(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name role } }
  }
}
"""
ONE_TEAM = (
    "query($id: ID!) { team(id: $id) { "
    + TEAM_FIELDS
    + " members { totalCount edges { node { "
    + MEMBER_FIELDS
    + " } } } } }"
)


def codes(payload) -> list[str]:
    return [message["code"] for message in payload.get("messages", [])]


# createTeam


def test_create_team_makes_the_creator_its_owner(make_client, user):
    payload = make_client(user).mutate("createTeam", {"name": "  Platform  "}, TEAM)
    assert payload["__typename"] == "Team"
    assert payload["name"] == "Platform"
    assert payload["role"] == "OWNER"
    assert payload["abilities"] == {"canUpdate": True, "canDelete": True, "canManageMembers": True}
    team = Team.objects.get()
    assert team.organization_id == user.organization_id
    assert team.created_by == user
    assert role_of(user, team) == "owner"
    assert guardian_codenames(user, team) == OWNER_CODENAMES
    assert base64.b64decode(payload["id"]).decode() == f"Team:{team.pk}"


@pytest.mark.parametrize(
    ("name", "code"), [("", "blank"), ("   ", "blank"), ("x" * 101, "max_length")]
)
def test_create_team_refuses_a_bad_name(make_client, user, name, code):
    payload = make_client(user).mutate("createTeam", {"name": name}, TEAM)
    assert [(m["kind"], m["field"], m["code"]) for m in payload["messages"]] == [
        ("VALIDATION", "name", code)
    ]
    assert not Team.objects.exists()


def test_team_mutations_need_a_signed_in_viewer(gql, user):
    team = make_team(user)
    fake = global_id("User", user.guid)
    attempts = [
        ("createTeam", {"name": "X"}),
        ("updateTeam", {"id": team_id(team), "name": "X"}),
        ("deleteTeam", {"id": team_id(team)}),
        ("addTeamMember", {"teamId": team_id(team), "userId": fake, "role": "MEMBER"}),
        ("setTeamRole", {"teamId": team_id(team), "userId": fake, "role": "MEMBER"}),
        ("removeTeamMember", {"teamId": team_id(team), "userId": fake}),
    ]
    for name, input_ in attempts:
        assert codes(gql.mutate(name, input_, "")) == ["UNAUTHENTICATED"], name
    assert Team.objects.get().name == "Platform"
    assert TeamMembership.objects.count() == 1


def test_create_team_without_an_organization_is_refused(make_client, db):
    loner = UserFactory(organization=None)
    assert codes(make_client(loner).mutate("createTeam", {"name": "Solo"}, TEAM)) == [
        "PERMISSION_DENIED"
    ]


# Reads


def test_teams_lists_only_the_viewers_teams_with_their_role(make_client, user):
    colleague = UserFactory(organization=user.organization)
    mine = make_team(user, name="Alpha")
    theirs = make_team(colleague, name="Beta", administrator=[user])
    make_team(colleague, name="Gamma")
    result = make_client(user).execute(TEAMS)
    assert result.errors == []
    teams = result.data["teams"]
    assert teams["totalCount"] == 2
    assert [(e["node"]["name"], e["node"]["role"]) for e in teams["edges"]] == [
        ("Alpha", "OWNER"),
        ("Beta", "ADMINISTRATOR"),
    ]
    assert [e["node"]["id"] for e in teams["edges"]] == [team_id(mine), team_id(theirs)]


def test_teams_pages_are_capped_at_100(make_client, user):
    for index in range(3):
        make_team(user, name=f"Team {index}")
    client = make_client(user)
    first = client.execute(TEAMS, {"first": 2}).data["teams"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    rest = client.execute(TEAMS, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["name"] for e in rest.data["teams"]["edges"]] == ["Team 2"]
    too_many = client.execute(TEAMS, {"first": 101})
    assert too_many.data is None
    assert too_many.error_codes() == ["INVALID"]
    assert "100" in too_many.errors[0]["message"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "Argument 'first' cannot be higher than 100."),
        ("last: -1", "Argument 'last' must be a non-negative integer."),
        ('after: "0"', "Invalid pagination cursor."),
        ('before: "bm90IGEgY3Vyc29y"', "Invalid pagination cursor."),
    ],
)
def test_bad_pagination_arguments_answer_invalid(make_client, user, arguments, message):
    team = make_team(user)
    client = make_client(user)
    queries = [
        (f"query {{ teams({arguments}) {{ totalCount }} }}", {}),
        (
            f"query($id: ID!) {{ team(id: $id) {{ members({arguments}) {{ totalCount }} }} }}",
            {"id": team_id(team)},
        ),
        (
            f"query {{ teams {{ edges {{ node {{ members({arguments}) {{ totalCount }} }} }} }} }}",
            {},
        ),
    ]
    for query, variables in queries:
        result = client.execute(query, variables)
        assert [(e["message"], e["extensions"]) for e in result.errors] == [
            (message, {"code": "INVALID"})
        ], query


def test_teams_and_team_need_a_signed_in_viewer(gql, user):
    team = make_team(user)
    assert gql.execute(TEAMS).error_codes() == ["UNAUTHENTICATED"]
    result = gql.execute(ONE_TEAM, {"id": team_id(team)})
    assert result.error_codes() == ["UNAUTHENTICATED"]
    assert result.data == {"team": None}


def test_team_shows_members_to_a_member(make_client, user):
    member = UserFactory(organization=user.organization)
    team = make_team(user, member=[member])
    result = make_client(member).execute(ONE_TEAM, {"id": team_id(team)})
    data = result.data["team"]
    assert data["role"] == "MEMBER"
    assert data["abilities"] == {"canUpdate": False, "canDelete": False, "canManageMembers": False}
    assert data["members"]["totalCount"] == 2
    assert [e["node"]["user"]["id"] for e in data["members"]["edges"]] == [
        user_id(user),
        user_id(member),
    ]


def test_team_is_null_for_non_members_like_a_missing_team(make_client, user, outsider):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user)
    missing = global_id("Team", "00000000-0000-0000-0000-000000000000")
    for viewer in (colleague, outsider):
        client = make_client(viewer)
        hidden = client.execute(ONE_TEAM, {"id": team_id(team)})
        absent = client.execute(ONE_TEAM, {"id": missing})
        assert hidden.payload == absent.payload == {"data": {"team": None}}
        node = client.execute("query($id: ID!) { node(id: $id) { id } }", {"id": team_id(team)})
        assert node.data == {"node": None}
    wrong_type = make_client(user).execute(ONE_TEAM, {"id": global_id("User", team.pk)})
    assert wrong_type.payload == {"data": {"team": None}}
    garbage = make_client(user).execute(ONE_TEAM, {"id": global_id("Team", "not-a-uuid")})
    assert garbage.payload == {"data": {"team": None}}


def test_team_member_ids_are_opaque_membership_ids(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user, member=[colleague])
    membership = TeamMembership.objects.get(team=team, user=colleague)
    edges = make_client(user).execute(ONE_TEAM, {"id": team_id(team)}).data["team"]["members"]
    node = edges["edges"][1]["node"]
    assert base64.b64decode(node["id"]).decode() == f"TeamMember:{membership.pk}"
    query = "query($id: ID!) { node(id: $id) { ... on TeamMember { role user { email } } } }"
    assert make_client(user).execute(query, {"id": node["id"]}).data == {
        "node": {"role": "MEMBER", "user": {"email": colleague.email}}
    }
    # A team member node is as invisible as its team to everyone else.
    assert make_client(UserFactory(organization=user.organization)).execute(
        query, {"id": node["id"]}
    ).data == {"node": None}


def test_a_member_who_moved_to_another_organization_sees_nothing(
    make_client, user, other_organization
):
    mover = UserFactory(organization=user.organization)
    team = make_team(user, administrator=[mover])
    mover.organization = other_organization
    mover.save()
    client = make_client(mover)
    assert client.execute(TEAMS).data["teams"]["totalCount"] == 0
    assert client.execute(ONE_TEAM, {"id": team_id(team)}).data == {"team": None}
    payload = client.mutate("updateTeam", {"id": team_id(team), "name": "Hijacked"}, TEAM)
    assert codes(payload) == ["NOT_FOUND"]
    # ...and the team no longer lists them.
    members = make_client(user).execute(ONE_TEAM, {"id": team_id(team)}).data["team"]["members"]
    assert members["totalCount"] == 1


# addTeamMember


def test_adding_someone_of_another_organization_answers_like_a_missing_user(
    make_client, user, outsider
):
    team = make_team(user)
    client = make_client(user)
    foreign = client.mutate(
        "addTeamMember",
        {"teamId": team_id(team), "userId": user_id(outsider), "role": "MEMBER"},
        MEMBER,
    )
    missing = client.mutate(
        "addTeamMember",
        {
            "teamId": team_id(team),
            "userId": global_id("User", "00000000-0000-0000-0000-000000000000"),
            "role": "MEMBER",
        },
        MEMBER,
    )
    assert foreign == missing
    assert codes(foreign) == ["NOT_FOUND"]
    assert foreign["messages"][0]["field"] == "userId"
    assert not TeamMembership.objects.filter(user=outsider).exists()
    assert guardian_codenames(outsider, team) == set()


def test_adding_an_existing_member_answers_already_member(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user, member=[colleague])
    payload = make_client(user).mutate(
        "addTeamMember",
        {"teamId": team_id(team), "userId": user_id(colleague), "role": "OWNER"},
        MEMBER,
    )
    assert codes(payload) == ["ALREADY_MEMBER"]
    assert role_of(colleague, team) == "member"


def test_add_member_answers_the_new_member_with_its_abilities(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user)
    payload = make_client(user).mutate(
        "addTeamMember",
        {"teamId": team_id(team), "userId": user_id(colleague), "role": "ADMINISTRATOR"},
        MEMBER,
    )
    assert payload["role"] == "ADMINISTRATOR"
    assert payload["user"] == {"id": user_id(colleague), "email": colleague.email}
    assert payload["abilities"] == {"canRemove": True, "setRoleTo": ["MEMBER", "OWNER"]}
    assert guardian_codenames(colleague, team) == {
        "view_team",
        "change_team",
        "manage_team_members",
    }


def test_ids_of_the_wrong_type_answer_not_found(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user, member=[colleague])
    client = make_client(user)
    wrong_team = client.mutate(
        "setTeamRole",
        {"teamId": global_id("User", team.pk), "userId": user_id(colleague), "role": "OWNER"},
        MEMBER,
    )
    wrong_user = client.mutate(
        "setTeamRole",
        {"teamId": team_id(team), "userId": global_id("Team", colleague.guid), "role": "OWNER"},
        MEMBER,
    )
    assert codes(wrong_team) == codes(wrong_user) == ["NOT_FOUND"]
    assert role_of(colleague, team) == "member"


def test_set_role_of_someone_outside_the_team_answers_not_found(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user)
    payload = make_client(user).mutate(
        "setTeamRole",
        {"teamId": team_id(team), "userId": user_id(colleague), "role": "OWNER"},
        MEMBER,
    )
    assert codes(payload) == ["NOT_FOUND"]
    assert not TeamMembership.objects.filter(user=colleague).exists()


# Roles and guardian permissions stay in step


def test_permissions_follow_every_role_change(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user, member=[colleague])
    client = make_client(user)
    expected = {
        "ADMINISTRATOR": {"view_team", "change_team", "manage_team_members"},
        "OWNER": OWNER_CODENAMES,
        "MEMBER": {"view_team"},
    }
    for role, codenames in expected.items():
        payload = client.mutate(
            "setTeamRole",
            {"teamId": team_id(team), "userId": user_id(colleague), "role": role},
            MEMBER,
        )
        assert payload["role"] == role
        assert guardian_codenames(colleague, team) == codenames
    client.mutate("removeTeamMember", {"teamId": team_id(team), "userId": user_id(colleague)}, "")
    assert guardian_codenames(colleague, team) == set()
    # Django's own permission check agrees with the role (guardian backend).
    assert user.has_perm("directory.delete_team", team)
    fresh = type(colleague).objects.get(pk=colleague.pk)
    assert not fresh.has_perm("directory.view_team", team)


def test_global_permissions_and_superuser_status_grant_no_team_role(make_client, user):
    boss = UserFactory(organization=user.organization, is_superuser=True, is_staff=True)
    team = make_team(user, member=[boss])
    payload = make_client(boss).mutate("deleteTeam", {"id": team_id(team)}, "")
    assert codes(payload) == ["PERMISSION_DENIED"]
    assert Team.objects.filter(pk=team.pk).exists()


def test_two_mutations_in_one_document_each_answer_fresh_abilities(make_client, user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user, owner=[colleague])
    document = """
    mutation($team: ID!, $me: ID!) {
      first: setTeamRole(input: {teamId: $team, userId: $me, role: ADMINISTRATOR}) {
        ... on TeamMember { role abilities { canRemove setRoleTo } }
      }
      second: setTeamRole(input: {teamId: $team, userId: $me, role: OWNER}) {
        ... on TeamMember { role abilities { canRemove setRoleTo } }
        ... on OperationInfo { messages { code } }
      }
    }
    """
    result = make_client(user).execute(document, {"team": team_id(team), "me": user_id(user)})
    assert result.data["first"] == {
        "role": "ADMINISTRATOR",
        "abilities": {"canRemove": True, "setRoleTo": ["MEMBER"]},
    }
    # An administrator may not make itself owner: the second answer sees the new role.
    assert result.data["second"] == {"messages": [{"code": "PERMISSION_DENIED"}]}


# deleteTeam


def test_delete_team_removes_memberships_and_object_permissions(make_client, user):
    admin = UserFactory(organization=user.organization)
    member = UserFactory(organization=user.organization)
    team = make_team(user, administrator=[admin], member=[member])
    other = make_team(user, name="Kept", member=[member])
    content_type = ContentType.objects.get_for_model(Team)
    assert (
        UserObjectPermission.objects.filter(
            content_type=content_type, object_pk=str(team.pk)
        ).count()
        == 5 + 3 + 1
    )
    payload = make_client(user).mutate("deleteTeam", {"id": team_id(team)}, "... on Team { id }")
    assert payload == {"__typename": "Team", "id": team_id(team)}
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not TeamMembership.objects.filter(team_id=team.pk).exists()
    assert not UserObjectPermission.objects.filter(
        content_type=content_type, object_pk=str(team.pk)
    ).exists()
    # Another team's permissions are untouched.
    assert guardian_codenames(member, other) == {"view_team"}
    assert guardian_codenames(user, other) == OWNER_CODENAMES


def test_update_team_renames_it(make_client, user):
    admin = UserFactory(organization=user.organization)
    team = make_team(user, administrator=[admin])
    payload = make_client(admin).mutate(
        "updateTeam", {"id": team_id(team), "name": " Infra "}, TEAM
    )
    assert payload["name"] == "Infra"
    assert payload["role"] == "ADMINISTRATOR"
    bad = make_client(admin).mutate("updateTeam", {"id": team_id(team), "name": ""}, TEAM)
    assert codes(bad) == ["blank"]
    assert Team.objects.get(pk=team.pk).name == "Infra"


def test_leaving_answers_the_team_without_a_role(make_client, user):
    member = UserFactory(organization=user.organization)
    team = make_team(user, member=[member])
    payload = make_client(member).mutate(
        "removeTeamMember", {"teamId": team_id(team), "userId": user_id(member)}, TEAM
    )
    assert payload["role"] is None
    assert payload["abilities"] == {
        "canUpdate": False,
        "canDelete": False,
        "canManageMembers": False,
    }
    assert role_of(member, team) is None


def test_service_refuses_adding_to_another_organizations_team(user, outsider):
    team = make_team(user)
    with pytest.raises(NotFound):
        team_member_add(actor=outsider, team_id=team.pk, user_guid=outsider.guid, role="owner")
