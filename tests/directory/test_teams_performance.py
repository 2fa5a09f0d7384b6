"""Team reads cost the same number of SQL queries for 2 and 200 rows; the last owner
survives concurrent step-downs (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from directory.models import TeamMembership
from directory.services import teams as team_services
from tests.conftest import GraphQLClient
from tests.directory.teams_helpers import make_team, team_id, user_id
from tests.factories import OrganizationFactory, UserFactory

TEAMS = """
query {
  teams(first: 100) {
    totalCount
    edges {
      node {
        id name role
        abilities { canUpdate canDelete canManageMembers }
        members(first: 5) {
          totalCount
          edges { node { id role user { id email firstName } abilities { canRemove setRoleTo } } }
        }
      }
    }
  }
}
"""

MEMBERS = """
query($id: ID!) {
  team(id: $id) {
    id name role
    abilities { canUpdate canDelete canManageMembers }
    members(first: 100) {
      totalCount
      edges { node { id role user { id email firstName lastName } abilities { canRemove setRoleTo } } }
    }
  }
}
"""

# viewer (the session comes from the cache), the page of teams with its total count and
# the viewer's role, the first members of every team of the page (window pagination),
# their users, the viewer's permissions on the page's teams.
TEAMS_QUERIES = 5
# viewer, the team with the viewer's role, its members page, their users, the viewer's
# permissions on the team.
MEMBERS_QUERIES = 5


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 200])
def test_teams_query_count_does_not_grow(make_client, user, django_assert_num_queries, count):
    colleague = UserFactory(organization=user.organization)
    for index in range(count):
        make_team(user, name=f"Team {index:03}", administrator=[colleague])
    client = make_client(user)
    client.csrf_token  # fetch the CSRF cookie outside the measured request
    with django_assert_num_queries(TEAMS_QUERIES):
        result = client.execute(TEAMS)
    assert result.errors == []
    teams = result.data["teams"]
    assert teams["totalCount"] == count
    assert len(teams["edges"]) == min(count, 100)
    for edge in teams["edges"]:
        node = edge["node"]
        assert node["role"] == "OWNER"
        assert node["abilities"]["canDelete"] is True
        assert node["members"]["totalCount"] == 2
        roles = [(m["node"]["role"], m["node"]["abilities"]) for m in node["members"]["edges"]]
        assert roles == [
            ("OWNER", {"canRemove": False, "setRoleTo": []}),
            ("ADMINISTRATOR", {"canRemove": True, "setRoleTo": ["MEMBER", "OWNER"]}),
        ]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 200])
def test_members_query_count_does_not_grow(make_client, user, django_assert_num_queries, count):
    people = [UserFactory(organization=user.organization) for _ in range(count - 1)]
    team = make_team(user, member=people)
    viewer = people[0]
    client = make_client(viewer)
    client.csrf_token
    with django_assert_num_queries(MEMBERS_QUERIES):
        result = client.execute(MEMBERS, {"id": team_id(team)})
    assert result.errors == []
    members = result.data["team"]["members"]
    assert members["totalCount"] == count
    assert len(members["edges"]) == min(count, 100)
    assert all(
        edge["node"]["abilities"]
        == {"canRemove": edge["node"]["user"]["id"] == user_id(viewer), "setRoleTo": []}
        for edge in members["edges"]
    )


STEP_DOWN = {
    "set": (
        "setTeamRole",
        lambda team, me: {"teamId": team_id(team), "userId": user_id(me), "role": "MEMBER"},
    ),
    "leave": (
        "removeTeamMember",
        lambda team, me: {"teamId": team_id(team), "userId": user_id(me)},
    ),
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("first", "second"), [("set", "set"), ("set", "leave"), ("leave", "leave")]
)
def test_two_owners_stepping_down_at_once_keep_one_owner(monkeypatch, first, second):
    organization = OrganizationFactory()
    alice = UserFactory(organization=organization)
    bob = UserFactory(organization=organization)
    team = make_team(alice, owner=[bob])

    # Widen the window between counting the other owners and writing the change: without
    # the team row lock both requests would count two owners and both step down.
    count_other_owners = team_services.team_has_other_owner

    def slow_count(**kwargs):
        answer = count_other_owners(**kwargs)
        time.sleep(0.5)
        return answer

    monkeypatch.setattr(team_services, "team_has_other_owner", slow_count)

    clients = {}
    for person in (alice, bob):
        client = GraphQLClient().login_as(person)
        client.csrf_token
        clients[person.pk] = client
    barrier = threading.Barrier(2)
    answers: dict[int, dict] = {}
    failures: list[BaseException] = []

    def step_down(person, how):
        try:
            name, make_input = STEP_DOWN[how]
            barrier.wait(timeout=10)
            answers[person.pk] = clients[person.pk].mutate(name, make_input(team, person), "")
        except BaseException as error:  # surfaced below
            failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=step_down, args=(alice, first)),
        threading.Thread(target=step_down, args=(bob, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    outcomes = sorted(
        [message["code"] for message in answer.get("messages", [])] for answer in answers.values()
    )
    assert outcomes == [[], ["LAST_OWNER"]]
    owners = TeamMembership.objects.filter(team=team, role="owner")
    assert owners.count() == 1
