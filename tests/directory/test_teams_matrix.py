"""Acceptance check of the team role matrix, through the endpoint.

Every actor tries every action on every target role; the answers (and the database
afterwards) are compared with the tables below. The tables are written out by hand:
they are the specification, not a copy of directory/roles.py.
"""

from __future__ import annotations

import pytest

from directory.models import Team, TeamMembership
from tests.directory.teams_helpers import (
    guardian_codenames,
    make_team,
    role_of,
    team_id,
    user_id,
)
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["MEMBER", "ADMINISTRATOR", "OWNER"]
ACTORS = ["owner", "administrator", "member", "outsider", "foreigner"]

# Actors act on other people: the targets hold the role named in the action; the team
# always has a second owner, so no answer here is about the last owner.
MATRIX_TEXT = """
action                          owner  administrator  member   outsider   foreigner
update                          OK     OK             DENIED   NOT_FOUND  NOT_FOUND
delete                          OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
add MEMBER                      OK     OK             DENIED   NOT_FOUND  NOT_FOUND
add ADMINISTRATOR               OK     OK             DENIED   NOT_FOUND  NOT_FOUND
add OWNER                       OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
set MEMBER MEMBER               OK     OK             DENIED   NOT_FOUND  NOT_FOUND
set MEMBER ADMINISTRATOR        OK     OK             DENIED   NOT_FOUND  NOT_FOUND
set MEMBER OWNER                OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
set ADMINISTRATOR MEMBER        OK     OK             DENIED   NOT_FOUND  NOT_FOUND
set ADMINISTRATOR ADMINISTRATOR OK     OK             DENIED   NOT_FOUND  NOT_FOUND
set ADMINISTRATOR OWNER         OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
set OWNER MEMBER                OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
set OWNER ADMINISTRATOR         OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
set OWNER OWNER                 OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
remove MEMBER                   OK     OK             DENIED   NOT_FOUND  NOT_FOUND
remove ADMINISTRATOR            OK     OK             DENIED   NOT_FOUND  NOT_FOUND
remove OWNER                    OK     DENIED         DENIED   NOT_FOUND  NOT_FOUND
"""

# Acting on oneself. "owner" has a co-owner, "sole owner" is the only one.
SELF_TEXT = """
action                owner  sole_owner  administrator  member
leave                 OK     LAST_OWNER  OK             OK
set MEMBER            OK     LAST_OWNER  OK             DENIED
set ADMINISTRATOR     OK     LAST_OWNER  OK             DENIED
set OWNER             OK     OK          DENIED         DENIED
"""

# The guardian permissions each role must hold on its team (spelled out, not imported).
ROLE_CODENAMES = {
    "member": {"view_team"},
    "administrator": {"view_team", "change_team", "manage_team_members"},
    "owner": {
        "view_team",
        "change_team",
        "manage_team_members",
        "delete_team",
        "manage_team_owners",
    },
}

CODES = {"OK": None, "DENIED": "PERMISSION_DENIED"}


def _parse(text: str) -> dict[tuple[str, str], str]:
    lines = text.strip().splitlines()
    columns = lines[0].split()[1:]
    table = {}
    for line in lines[1:]:
        words = line.split()
        answers = words[-len(columns) :]
        action = " ".join(words[: -len(columns)])
        for column, answer in zip(columns, answers, strict=True):
            table[action, column] = answer
    return table


MATRIX = _parse(MATRIX_TEXT)
SELF = _parse(SELF_TEXT)


def expected_code(answer: str) -> str | None:
    return CODES.get(answer, answer)


@pytest.fixture
def cast(organization):
    """One team with an actor of each kind and a target of each role."""
    people = {
        "owner": UserFactory(organization=organization),
        "administrator": UserFactory(organization=organization),
        "member": UserFactory(organization=organization),
        "outsider": UserFactory(organization=organization),
        "foreigner": UserFactory(organization=OrganizationFactory(name="Elsewhere")),
        "target MEMBER": UserFactory(organization=organization),
        "target ADMINISTRATOR": UserFactory(organization=organization),
        "target OWNER": UserFactory(organization=organization),
        "newcomer": UserFactory(organization=organization),
    }
    team = make_team(
        people["owner"],
        administrator=[people["administrator"], people["target ADMINISTRATOR"]],
        member=[people["member"], people["target MEMBER"]],
        owner=[people["target OWNER"]],
    )
    return team, people


def run_action(client, action: str, team, people) -> dict:
    verb, *args = action.split()
    member = "... on TeamMember { role }"
    if verb == "update":
        return client.mutate("updateTeam", {"id": team_id(team), "name": "Renamed"}, "")
    if verb == "delete":
        return client.mutate("deleteTeam", {"id": team_id(team)}, "")
    if verb == "add":
        target = people["newcomer"]
        payload = {"teamId": team_id(team), "userId": user_id(target), "role": args[0]}
        return client.mutate("addTeamMember", payload, member)
    target = people[f"target {args[0]}"]
    if verb == "set":
        payload = {"teamId": team_id(team), "userId": user_id(target), "role": args[1]}
        return client.mutate("setTeamRole", payload, member)
    payload = {"teamId": team_id(team), "userId": user_id(target)}
    return client.mutate("removeTeamMember", payload, "")


def assert_state(action: str, succeeded: bool, team, people) -> None:
    verb, *args = action.split()
    exists = Team.objects.filter(pk=team.pk).exists()
    if verb == "delete":
        assert exists is not succeeded
        return
    assert exists
    if verb == "update":
        name = Team.objects.get(pk=team.pk).name
        assert name == ("Renamed" if succeeded else "Platform")
        return
    if verb == "add":
        target, before, after = people["newcomer"], None, args[0].lower()
    elif verb == "set":
        target, before, after = people[f"target {args[0]}"], args[0].lower(), args[1].lower()
    else:
        target, before, after = people[f"target {args[0]}"], args[0].lower(), None
    role = after if succeeded else before
    assert role_of(target, team) == role
    assert guardian_codenames(target, team) == ROLE_CODENAMES.get(role, set())


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", sorted({action for action, _ in MATRIX}))
def test_role_matrix(make_client, cast, actor, action):
    team, people = cast
    expected = expected_code(MATRIX[action, actor])
    payload = run_action(make_client(people[actor]), action, team, people)
    codes = [message["code"] for message in payload.get("messages", [])]
    assert codes == ([] if expected is None else [expected]), payload
    assert_state(action, expected is None, team, people)


SELF_ACTORS = ["owner", "sole_owner", "administrator", "member"]


@pytest.fixture
def self_cast(organization):
    owner = UserFactory(organization=organization)
    people = {
        "owner": owner,
        "sole_owner": owner,
        "administrator": UserFactory(organization=organization),
        "member": UserFactory(organization=organization),
    }
    return people


@pytest.mark.parametrize("actor", SELF_ACTORS)
@pytest.mark.parametrize("action", ["leave", "set MEMBER", "set ADMINISTRATOR", "set OWNER"])
def test_acting_on_oneself(make_client, organization, self_cast, actor, action):
    people = self_cast
    co_owners = [] if actor == "sole_owner" else [UserFactory(organization=organization)]
    team = make_team(
        people["owner"],
        owner=co_owners,
        administrator=[people["administrator"]],
        member=[people["member"]],
    )
    me = people[actor]
    before = role_of(me, team)
    client = make_client(me)
    if action == "leave":
        payload = client.mutate(
            "removeTeamMember", {"teamId": team_id(team), "userId": user_id(me)}, ""
        )
        after = None
    else:
        new_role = action.split()[1]
        payload = client.mutate(
            "setTeamRole",
            {"teamId": team_id(team), "userId": user_id(me), "role": new_role},
            "... on TeamMember { role }",
        )
        after = new_role.lower()
    expected = expected_code(SELF[action, actor])
    codes = [message["code"] for message in payload.get("messages", [])]
    assert codes == ([] if expected is None else [expected]), payload
    role = after if expected is None else before
    assert role_of(me, team) == role
    assert guardian_codenames(me, team) == ROLE_CODENAMES.get(role, set())
    assert TeamMembership.objects.filter(team=team, role="owner").exists()


TEAM_ABILITIES = """
query($id: ID!) {
  team(id: $id) {
    role
    abilities { canUpdate canDelete canManageMembers }
    members(first: 100) {
      edges { node { role user { id } abilities { canRemove setRoleTo } } }
    }
  }
}
"""


def _allowed(table, action, column) -> bool:
    return table[action, column] == "OK"


@pytest.mark.parametrize("actor", ["owner", "administrator", "member"])
def test_abilities_follow_the_matrix(make_client, cast, actor):
    team, people = cast
    result = make_client(people[actor]).execute(TEAM_ABILITIES, {"id": team_id(team)})
    data = result.data["team"]
    assert data["role"] == actor.upper()
    assert data["abilities"] == {
        "canUpdate": _allowed(MATRIX, "update", actor),
        "canDelete": _allowed(MATRIX, "delete", actor),
        "canManageMembers": _allowed(MATRIX, "add MEMBER", actor),
    }
    by_user = {edge["node"]["user"]["id"]: edge["node"] for edge in data["members"]["edges"]}
    for target_role in ROLES:
        node = by_user[user_id(people[f"target {target_role}"])]
        assert node["role"] == target_role
        assert node["abilities"] == {
            "canRemove": _allowed(MATRIX, f"remove {target_role}", actor),
            "setRoleTo": [
                role
                for role in ROLES
                if role != target_role and _allowed(MATRIX, f"set {target_role} {role}", actor)
            ],
        }


@pytest.mark.parametrize("actor", SELF_ACTORS)
def test_own_abilities_follow_the_self_table(make_client, organization, self_cast, actor):
    people = self_cast
    co_owners = [] if actor == "sole_owner" else [UserFactory(organization=organization)]
    team = make_team(
        people["owner"],
        owner=co_owners,
        administrator=[people["administrator"]],
        member=[people["member"]],
    )
    me = people[actor]
    result = make_client(me).execute(TEAM_ABILITIES, {"id": team_id(team)})
    mine = next(
        edge["node"]
        for edge in result.data["team"]["members"]["edges"]
        if edge["node"]["user"]["id"] == user_id(me)
    )
    assert mine["abilities"] == {
        "canRemove": _allowed(SELF, "leave", actor),
        "setRoleTo": [
            role for role in ROLES if role != mine["role"] and _allowed(SELF, f"set {role}", actor)
        ],
    }
