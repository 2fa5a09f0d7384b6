"""Account events (issue #20): what a person's own sign-ins and credentials leave in the
trail, ``me.securityEvents``, and failed sign-ins with and without an account."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from tests.accounts.auth_helpers import admin_login
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory
from tests.oidc_provider import browser_sign_in, provider_serving

pytestmark = pytest.mark.django_db

SECURITY = (
    "{ me { securityEvents(first: 50) { totalCount edges { node { action ipAddress"
    " userAgent metadata actorEmail actor { email } target { type label } } } } } }"
)


def login(email: str, password: str) -> GraphQLClient:
    client = GraphQLClient(HTTP_USER_AGENT="Test/1.0")
    client.mutate("login", {"email": email, "password": password}, "__typename")
    return client


def security_events(client: GraphQLClient) -> list[dict]:
    answer = client.execute(SECURITY)
    assert answer.errors == [], answer.errors
    return [edge["node"] for edge in answer.data["me"]["securityEvents"]["edges"]]


def test_a_person_sees_their_own_sign_ins_and_failures_newest_first(organization):
    ada = UserFactory(organization=organization, email="ada@example.net")
    bob = UserFactory(organization=organization, email="bob@example.net")
    login(ada.email, "not the password")
    login(bob.email, "not the password")
    client = login(ada.email, PASSWORD)
    client.mutate("createTeam", {"name": "Platform"}, "__typename")  # not a security event
    events = security_events(client)
    assert [(e["action"], e["metadata"]) for e in events] == [
        ("user.login.succeeded", {"method": "password"}),
        ("user.login.failed", {"reason": "password"}),
    ]
    succeeded, failed = events
    assert succeeded["actor"] == {"email": ada.email} and succeeded["userAgent"] == "Test/1.0"
    assert failed["actor"] is None and failed["actorEmail"] == ""
    assert failed["ipAddress"] == "127.0.0.1"
    assert failed["target"] == {"type": "User", "label": ada.email}
    # Bob's failure is his alone.
    bob_events = security_events(login(bob.email, PASSWORD))
    assert [e["action"] for e in bob_events] == ["user.login.succeeded", "user.login.failed"]
    # Nobody reads another account's events through its User.
    other = client.execute(
        "query($id: ID!) { node(id: $id) { ... on User { securityEvents(first: 5)"
        " { totalCount } } } }",
        {"id": _user_global_id(bob)},
    )
    node = other.data["node"]
    assert node is None or node["securityEvents"]["totalCount"] == 0


def _user_global_id(user) -> str:
    import base64

    return base64.b64encode(f"User:{user.guid}".encode()).decode()


def test_a_failed_sign_in_of_an_unknown_email_is_recorded_without_an_account():
    login("nobody@example.net", "a guess")
    event = AuditEvent.objects.get(action="user.login.failed")
    assert event.chain == "" and event.organization_id is None
    assert (event.target_type, event.actor_id) == ("", None)
    assert event.metadata == {"email": "nobody@example.net", "reason": "password"}
    # What is not an address is not kept: a password typed in the wrong field, or
    # megabytes meant to fill the trail.
    for typed in ("hunter2-secret!", "x" * 100_000 + "@example.net"):
        login(typed, "a guess")
        last = AuditEvent.objects.order_by("-id").first()
        assert last.metadata == {"email": None, "reason": "password"}


def test_failed_confirmations_of_ones_own_account_are_security_events(organization):
    ada = UserFactory(organization=organization)
    client = login(ada.email, PASSWORD)
    client.mutate("reauthenticate", {"password": "wrong"}, "__typename")
    client.mutate(
        "changePassword",
        {"currentPassword": "wrong", "newPassword": "a long new passphrase"},
        "__typename",
    )
    assert [e["action"] for e in security_events(client)][:2] == [
        "user.password.change_failed",
        "user.reauthentication.failed",
    ]


def test_the_admin_records_its_sign_ins_and_changes(organization):
    staff = UserFactory(is_staff=True, is_superuser=True, organization=organization)
    client = GraphQLClient()
    admin_login(client, staff.email, "wrong")
    admin_login(client, staff.email, PASSWORD)
    assert [
        (e.action, e.metadata)
        for e in AuditEvent.objects.filter(target_id=str(staff.guid)).order_by("id")
    ] == [
        ("user.login.failed", {"reason": "admin:password"}),
        ("user.login.succeeded", {"method": "admin"}),
    ]
    csrf = {"csrfmiddlewaretoken": client.http.cookies["csrftoken"].value}
    renamed = client.http.post(
        f"/admin/accounts/organization/{organization.pk}/change/",
        {"name": "Renamed", "plan": organization.plan, "domain": "", "language": "en", **csrf},
    )
    assert renamed.status_code == 302
    event = AuditEvent.objects.get(action="admin.organization.changed")
    assert (event.actor_id, event.chain) == (staff.pk, str(organization.pk))
    assert "Name" in str(event.metadata["change"]) and "Renamed" not in str(event.metadata)
    bob = UserFactory(organization=organization)
    deleted = client.http.post(f"/admin/accounts/user/{bob.pk}/delete/", {"post": "yes", **csrf})
    assert deleted.status_code == 302
    event = AuditEvent.objects.get(action="admin.user.deleted")
    assert (event.actor_id, event.target_id, event.target_label) == (
        staff.pk,
        str(bob.guid),
        bob.email,
    )


def test_security_events_cost_the_same_queries_for_2_and_for_20(organization, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (100, 900)}
    ada = UserFactory(organization=organization)
    client = login(ada.email, PASSWORD)
    login(ada.email, "wrong")
    security_events(client)
    with CaptureQueriesContext(connection) as few:
        assert len(security_events(client)) == 2
    for _ in range(18):
        login(ada.email, "wrong")
    with CaptureQueriesContext(connection) as many:
        assert len(security_events(client)) == 20
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


def test_provider_sign_ins_are_recorded(oidc_provider):
    client = GraphQLClient()
    browser_sign_in(client.http)  # creates ada@example.net
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "metadata"))
    [registered] = [metadata for action, metadata in actions if action == "user.registered"]
    assert set(registered) == {"provider"}
    assert actions[-1] == ("user.login.succeeded", {"method": "oidc"})
    token = oidc_provider.access_token_issue()
    GraphQLClient().mutate("loginExternal", {"accessToken": token}, "__typename")
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.metadata) == ("user.login.succeeded", {"method": "access_token"})
    assert last.actor.email == "ada@example.net"


def test_security_events_page_by_position(organization, settings):
    from tests.paging import walk

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (100, 900)}
    ada = UserFactory(organization=organization)
    for _ in range(4):
        login(ada.email, "wrong")
    client = login(ada.email, PASSWORD)
    query = (
        "query($first: Int, $after: String, $last: Int, $before: String) { me {"
        " securityEvents(first: $first, after: $after, last: $last, before: $before) {"
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
        " edges { node { action } } } } }"
    )

    def fetch(**page):
        return client.execute(query, page).data["me"]["securityEvents"]

    forward = walk(fetch, lambda node: node["action"], size=2)
    assert forward == ["user.login.succeeded"] + ["user.login.failed"] * 4
    assert walk(fetch, lambda node: node["action"], size=2, backwards=True) == forward
