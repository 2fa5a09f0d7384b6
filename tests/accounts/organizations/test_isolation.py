"""Two organizations: nothing of one is readable or changeable from the other, whatever
groups or global permissions the viewer holds."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Invitation
from tests.accounts.organizations.conftest import (
    ADMINISTRATORS,
    global_id,
    group_id,
    invitation_id,
    user_id,
)
from tests.conftest import operation_codes
from tests.factories import UserFactory

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.fixture
def foreign(outsider_admin, outsider, invite):
    """The other organization's administrator, member and pending invitation."""
    _, token = invite(outsider_admin, "their.invitee@example.com")
    return {
        "admin": outsider_admin,
        "member": outsider,
        "invitation": Invitation.objects.get(email="their.invitee@example.com"),
        "token": token,
    }


@pytest.fixture(params=["administrator", "superuser administrator", "superuser"])
def attacker(request, organization):
    """An administrator of the first organization, possibly also a superuser holding every
    global permission; or such a superuser without organization groups. None of them
    reaches the other organization."""
    groups = [ADMINISTRATORS] if "administrator" in request.param else []
    superuser = "superuser" in request.param
    user = UserFactory(
        organization=organization, groups=groups, is_superuser=superuser, is_staff=superuser
    )
    if superuser:
        user.user_permissions.add(*Permission.objects.all())
    return user


def test_organization_query_shows_only_own_data(make_client, attacker, foreign, invite):
    invite_admin = UserFactory(organization=attacker.organization, groups=[ADMINISTRATORS])
    invite(invite_admin, "ours@example.com")
    query = """
    query($search: String) { organization { id name
      members(search: $search) { edges { node { email } } }
      invitations { edges { node { email } } } } }
    """
    client = make_client(attacker)
    org = client.execute(query).data["organization"]
    assert org["id"] == global_id("Organization", attacker.organization_id)
    emails = {edge["node"]["email"] for edge in org["members"]["edges"]}
    assert foreign["member"].email not in emails and foreign["admin"].email not in emails
    invitation_emails = {edge["node"]["email"] for edge in org["invitations"]["edges"]}
    assert "their.invitee@example.com" not in invitation_emails
    searched = client.execute(query, {"search": foreign["member"].email}).data
    assert searched["organization"]["members"]["edges"] == []


def test_nodes_of_the_other_organization_are_null_like_missing_ones(make_client, attacker, foreign):
    client = make_client(attacker)
    missing = client.execute(
        NODE, {"id": global_id("Invitation", "00000000-0000-0000-0000-000000000000")}
    )
    for hidden_id in (
        invitation_id(foreign["invitation"]),
        user_id(foreign["member"]),
        global_id("Organization", foreign["member"].organization_id),
    ):
        hidden = client.execute(NODE, {"id": hidden_id})
        assert hidden.payload == missing.payload == {"data": {"node": None}}


def test_mutations_on_the_other_organization_answer_not_found(make_client, attacker, foreign):
    client = make_client(attacker)
    # Without an organization group, a superuser may do nothing here at all.
    expected = ["NOT_FOUND"] if attacker.groups.exists() else ["PERMISSION_DENIED"]
    their_invitation = {"id": invitation_id(foreign["invitation"])}
    assert operation_codes(client.mutate("resendInvitation", their_invitation, "")) == expected
    assert operation_codes(client.mutate("revokeInvitation", their_invitation, "")) == expected
    member = {"userId": user_id(foreign["member"])}
    assert operation_codes(client.mutate("removeMember", member, "")) == expected
    assert (
        operation_codes(
            client.mutate(
                "setPermissionGroups",
                {**member, "permissionGroupIds": [group_id(ADMINISTRATORS)]},
                "",
            )
        )
        == expected
    )
    invitation = foreign["invitation"]
    token_hash_before = invitation.token_hash
    invitation.refresh_from_db()
    assert invitation.token_hash == token_hash_before
    foreign["member"].refresh_from_db()
    assert foreign["member"].organization == foreign["admin"].organization
    assert not foreign["member"].groups.exists()


def test_their_invitation_cannot_be_accepted_by_someone_else(make_client, attacker, foreign):
    payload = make_client(attacker).mutate(
        "acceptInvitation", {"token": foreign["token"]}, "__typename"
    )
    assert operation_codes(payload) == ["INVITATION_EMAIL_MISMATCH"]
    attacker.refresh_from_db()
    assert attacker.organization != foreign["admin"].organization


def test_superuser_without_organization_group_has_no_abilities(make_client, organization):
    superuser = UserFactory(organization=organization, is_superuser=True, is_staff=True)
    abilities = (
        make_client(superuser)
        .execute(
            "{ organization { abilities { canUpdate canInvite canManagePermissionGroups"
            " canRemoveMembers canWipeOut } } }"
        )
        .data["organization"]["abilities"]
    )
    assert set(abilities.values()) == {False}


def test_update_and_wipe_out_only_touch_the_viewers_organization(
    make_client, admin, foreign, other_organization
):
    client = make_client(admin).reauthenticated()
    client.mutate("updateOrganization", {"name": "Mine"}, "__typename")
    payload = client.mutate(
        "wipeOutOrganization", {"confirmName": other_organization.name}, "__typename"
    )
    assert operation_codes(payload) == ["INVALID"]
    other_organization.refresh_from_db()
    assert other_organization.name == "Other Org"
    assert foreign["member"].__class__.objects.filter(pk=foreign["member"].pk).exists()


def test_user_without_organization_reaches_nothing(make_client, foreign):
    loner = UserFactory(organization=None, groups=[ADMINISTRATORS])
    client = make_client(loner)
    assert client.execute("{ organization { id } }").data == {"organization": None}
    assert operation_codes(client.mutate("invite", {"email": "x@example.com"}, "")) == [
        "PERMISSION_DENIED"
    ]
    assert operation_codes(
        client.mutate("revokeInvitation", {"id": invitation_id(foreign["invitation"])}, "")
    ) == ["PERMISSION_DENIED"]
    assert operation_codes(
        client.mutate("removeMember", {"userId": user_id(foreign["member"])}, "")
    ) == ["PERMISSION_DENIED"]


@pytest.mark.parametrize("bad_id", ["garbage", "", "VXNlcjo=", global_id("User", "not-a-uuid")])
def test_malformed_ids_answer_like_missing_objects(make_client, admin, bad_id):
    client = make_client(admin)
    for name, input_ in (
        ("removeMember", {"userId": bad_id}),
        ("setPermissionGroups", {"userId": bad_id, "permissionGroupIds": []}),
        ("resendInvitation", {"id": bad_id}),
        ("revokeInvitation", {"id": bad_id}),
    ):
        assert operation_codes(client.mutate(name, input_, "")) == ["NOT_FOUND"], name
    payload = client.mutate(
        "invite", {"email": "a@example.com", "permissionGroupIds": [bad_id]}, ""
    )
    assert operation_codes(payload) == ["INVALID"]
