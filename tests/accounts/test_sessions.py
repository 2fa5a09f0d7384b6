"""The viewer's sessions (devices): listed, ended one by one or all but this one, over
the real endpoint; another person's sessions are neither shown nor ended."""

from __future__ import annotations

import pytest
from strawberry import relay

from accounts.models import Session
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = """
{ me { sessions { totalCount edges { node {
    id current createdAt lastActiveAt ipAddress userAgent
} } } } }
"""
REVOKED = "... on SessionsRevoked { revoked }"


def sign_in(user, **headers) -> GraphQLClient:
    client = GraphQLClient(**headers)
    payload = client.mutate("login", {"email": user.email, "password": PASSWORD}, "__typename")
    assert payload["__typename"] == "User"
    return client


def sessions(client: GraphQLClient) -> list[dict]:
    return [edge["node"] for edge in client.execute(SESSIONS).data["me"]["sessions"]["edges"]]


@pytest.fixture
def ada():
    return UserFactory(email="ada@example.net")


def test_the_viewer_sees_their_sessions_and_never_a_session_key(ada):
    laptop = sign_in(ada, HTTP_USER_AGENT="Laptop/1.0", REMOTE_ADDR="10.0.0.1")
    sign_in(ada, HTTP_USER_AGENT="Phone/2.0", REMOTE_ADDR="10.0.0.2")
    sign_in(UserFactory())  # someone else's

    listed = sessions(laptop)
    assert len(listed) == 2
    current = [session for session in listed if session["current"]]
    assert [(s["userAgent"], s["ipAddress"]) for s in current] == [("Laptop/1.0", "10.0.0.1")]
    assert {s["userAgent"] for s in listed} == {"Laptop/1.0", "Phone/2.0"}
    assert all(s["createdAt"] and s["lastActiveAt"] for s in listed)
    response = laptop.http.post(
        "/api/user/graphql/",
        {"query": SESSIONS},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=laptop.csrf_token,
    )
    for key in Session.objects.values_list("session_key", flat=True):
        assert key not in response.content.decode()


def test_revoking_a_session_ends_it_at_once(ada):
    laptop = sign_in(ada)
    phone = sign_in(ada)
    [phone_session] = [s["id"] for s in sessions(laptop) if not s["current"]]

    payload = laptop.mutate("revokeSession", {"id": phone_session}, REVOKED)
    assert payload == {"__typename": "SessionsRevoked", "revoked": 1}
    assert phone.execute("{ me { email } }").data["me"] is None
    assert laptop.execute("{ me { email } }").data["me"] == {"email": ada.email}
    # Gone: revoking it again finds nothing.
    again = laptop.mutate("revokeSession", {"id": phone_session}, REVOKED)
    assert operation_codes(again) == ["NOT_FOUND"]


def test_another_persons_session_is_not_found_and_stays(ada):
    eve = sign_in(UserFactory(email="eve@example.net"))
    laptop = sign_in(ada)
    [adas] = [s["id"] for s in sessions(laptop)]
    for bad in (adas, "garbage", "VXNlcjox"):
        assert operation_codes(eve.mutate("revokeSession", {"id": bad}, REVOKED)) == ["NOT_FOUND"]
    assert laptop.execute("{ me { email } }").data["me"] == {"email": ada.email}
    node = eve.execute("query($id: ID!) { node(id: $id) { id } }", {"id": adas}).data
    assert node == {"node": None}
    anonymous = GraphQLClient().mutate("revokeSession", {"id": adas}, REVOKED)
    assert operation_codes(anonymous) == ["UNAUTHENTICATED"]


def test_revoke_other_sessions_keeps_only_this_one(ada):
    laptop = sign_in(ada)
    others = [sign_in(ada), sign_in(ada)]
    payload = laptop.mutate("revokeOtherSessions", None, REVOKED)
    assert payload == {"__typename": "SessionsRevoked", "revoked": 2}
    assert all(client.execute("{ me { email } }").data["me"] is None for client in others)
    assert [s["current"] for s in sessions(laptop)] == [True]


def test_activity_is_written_at_most_once_a_minute(ada, settings):
    laptop = sign_in(ada)
    row = Session.objects.get(user=ada)
    for _ in range(3):
        laptop.execute("{ me { email } }")
    assert Session.objects.get(user=ada).last_active_at == row.last_active_at  # no writes

    settings.SESSION_ACTIVITY_INTERVAL = 0
    laptop.execute("{ me { email } }")
    later = Session.objects.get(user=ada)
    assert later.last_active_at > row.last_active_at
    assert later.public_id == row.public_id  # the same session, the same id


def test_another_persons_sessions_field_is_empty(ada, make_client):
    colleague = UserFactory(organization=ada.organization)
    sign_in(ada)
    client = make_client(colleague)
    query = "query($id: ID!) { node(id: $id) { ... on User { sessions { totalCount } } } }"
    data = client.execute(query, {"id": str(relay.GlobalID("User", str(ada.guid)))}).data
    assert data == {"node": {"sessions": {"totalCount": 0}}}
