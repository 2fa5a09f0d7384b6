"""The viewer's own account: ``exportMyData`` and ``deleteAccount`` over the real endpoint."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from strawberry import relay

from accounts.models import Organization, Session, User
from directory.models import Contact, Team, TeamMembership
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

EXPORT = "... on DataExport { createdAt data }"
DELETED = "... on AccountDeleted { ok }"


def signed_in(user) -> GraphQLClient:
    client = GraphQLClient()
    payload = client.mutate("login", {"email": user.email, "password": PASSWORD}, "__typename")
    assert payload["__typename"] == "User"
    return client


def gid(type_name: str, key) -> str:
    return str(relay.GlobalID(type_name, str(key)))


@pytest.fixture
def organization():
    return Organization.objects.create(name="Analytical Engines", plan="team")


@pytest.fixture
def ada(organization):
    return UserFactory(
        email="ada@example.net", organization=organization, groups=[settings.ADMINISTRATORS_GROUP]
    )


@pytest.fixture
def bob(organization):
    return UserFactory(email="bob@example.net", organization=organization)


def test_export_holds_the_viewers_data_and_nobody_elses(ada, bob):
    client = signed_in(ada)
    mine = client.mutate("createContact", {"fullName": "Charles Babbage"}, "... on Contact { id }")
    bobs = Contact.objects.get(user=bob)
    client.mutate(
        "overrideContact", {"baseId": gid("Contact", bobs.pk), "notes": "Bob!"}, "__typename"
    )
    team = client.mutate("createTeam", {"name": "Engines"}, "... on Team { id }")
    signed_in(bob).mutate("createContact", {"fullName": "Bob's secret friend"}, "__typename")

    payload = client.mutate("exportMyData", None, EXPORT)
    data = payload["data"]
    assert data["format"] == "roster.data-export/1"
    assert data["account"]["email"] == ada.email and data["account"]["has_password"] is True
    assert data["organization"]["name"] == "Analytical Engines"
    assert data["permission_groups"] == [settings.ADMINISTRATORS_GROUP]
    kinds = sorted((c["kind"], c["full_name"] or c["notes"]) for c in data["contacts"])
    assert kinds == [
        ("override", "Bob!"),
        ("personal", "Charles Babbage"),
        ("profile", ada.profile.full_name),
    ]
    assert mine["id"]
    assert [(t["name"], t["role"]) for t in data["team_memberships"]] == [("Engines", "owner")]
    assert team["id"]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["user_agent"] is not None
    text = json.dumps(data)
    assert "secret friend" not in text  # another person's contacts
    assert ada.password not in text  # never the password hash
    for key in Session.objects.values_list("session_key", flat=True):
        assert key not in text  # never a session key


def test_export_is_rate_limited_and_needs_a_viewer(ada, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "data-export-user": (2, 3600)}
    client = signed_in(ada)
    for _ in range(2):
        assert client.mutate("exportMyData", None, EXPORT)["__typename"] == "DataExport"
    assert operation_codes(client.mutate("exportMyData", None, EXPORT)) == ["RATE_LIMITED"]
    anonymous = GraphQLClient().mutate("exportMyData", None, EXPORT)
    assert operation_codes(anonymous) == ["UNAUTHENTICATED"]


def test_deleting_needs_a_recent_reauthentication_and_the_email(ada, bob):
    client = signed_in(bob)
    payload = client.mutate("deleteAccount", {"confirmEmail": bob.email}, DELETED)
    assert operation_codes(payload) == ["REAUTHENTICATION_REQUIRED"]
    client.reauthenticated()
    wrong = client.mutate("deleteAccount", {"confirmEmail": ada.email}, DELETED)
    assert [(m["field"], m["code"]) for m in wrong["messages"]] == [("confirmEmail", "INVALID")]
    anonymous = GraphQLClient().mutate("deleteAccount", {"confirmEmail": bob.email}, DELETED)
    assert operation_codes(anonymous) == ["UNAUTHENTICATED"]
    assert User.objects.filter(pk=bob.pk).exists()


def test_a_member_deletes_their_account_and_everything_personal(ada, bob, organization):
    bob_client = signed_in(bob)
    other_session = signed_in(bob)
    bob_client.mutate("createContact", {"fullName": "Personal"}, "__typename")
    team = bob_client.mutate("createTeam", {"name": "Bob's team"}, "... on Team { id }")
    bob_client.mutate(
        "addTeamMember", {"teamId": team["id"], "userId": gid("User", ada.guid)}, "__typename"
    )

    payload = bob_client.reauthenticated().mutate(
        "deleteAccount", {"confirmEmail": "BOB@example.net"}, DELETED
    )

    assert payload == {"__typename": "AccountDeleted", "ok": True}
    assert not User.objects.filter(email=bob.email).exists()
    assert not Contact.objects.filter(owner_id=bob.pk).exists()
    assert bob_client.execute("{ me { email } }").data["me"] is None  # signed out
    assert other_session.execute("{ me { email } }").data["me"] is None  # every session
    # The team keeps going, owned by its remaining member; the organization stays.
    membership = TeamMembership.objects.get(team__name="Bob's team")
    assert (membership.user_id, membership.role) == (ada.pk, "owner")
    assert Organization.objects.filter(pk=organization.pk).exists()


def test_the_last_administrator_cannot_leave_others_behind(ada, bob):
    client = signed_in(ada).reauthenticated()
    payload = client.mutate("deleteAccount", {"confirmEmail": ada.email}, DELETED)
    assert operation_codes(payload) == ["LAST_ADMINISTRATOR"]
    assert User.objects.filter(pk=ada.pk).exists()


def test_the_last_member_takes_the_organization_along(ada, organization):
    signed_in(ada).mutate("createTeam", {"name": "Solo"}, "__typename")
    client = signed_in(ada).reauthenticated()
    payload = client.mutate("deleteAccount", {"confirmEmail": ada.email}, DELETED)
    assert payload["__typename"] == "AccountDeleted"
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert not Team.objects.exists()
