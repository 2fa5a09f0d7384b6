import pytest
from tests.directory.teams_helpers import *
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

def test_smoke(make_client, user):
    client = make_client(user)
    p = client.mutate("createTeam", {"name": "A"}, f"... on Team {{ {TEAM_FIELDS} }}")
    print(p)
    other = UserFactory(organization=user.organization)
    p2 = client.mutate("addTeamMember", {"teamId": p["id"], "userId": user_id(other), "role": "ADMINISTRATOR"}, f"... on TeamMember {{ {MEMBER_FIELDS} }}")
    print(p2)
    r = client.execute("query { teams { totalCount edges { node { %s members { totalCount edges { node { %s } } } } } } }" % (TEAM_FIELDS, MEMBER_FIELDS))
    print(r.payload)
    r = client.execute("query($id: ID!) { team(id: $id) { %s members { totalCount edges { node { %s } } } } }" % (TEAM_FIELDS, MEMBER_FIELDS), {"id": p["id"]})
    print(r.payload)
    r = client.execute("query($id: ID!) { node(id: $id) { ... on TeamMember { %s } } }" % (MEMBER_FIELDS), {"id": p2["id"]})
    print(r.payload)
    assert 0
