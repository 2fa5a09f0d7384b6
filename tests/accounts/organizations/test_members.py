"""setPermissionGroups, removeMember, updateOrganization and wipeOutOrganization."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from guardian.shortcuts import assign_perm, get_perms

from accounts.models import Avatar, Invitation, Organization, ProfileData, User
from directory.models import Contact, Team, TeamMembership
from tests.accounts.organizations.conftest import (
    ADMINISTRATORS,
    INVITERS,
    global_id,
    group_id,
    user_id,
)
from tests.conftest import operation_codes
from tests.factories import UserFactory

USER = "... on User { id email permissionGroups { name } }"


def set_groups(client, target, groups):
    return client.mutate(
        "setPermissionGroups",
        {"userId": user_id(target), "permissionGroupIds": [group_id(g) for g in groups]},
        USER,
    )


def group_names(user):
    return set(user.groups.values_list("name", flat=True))


# setPermissionGroups


def test_administrator_replaces_manageable_groups_and_leaves_others(make_client, admin, user):
    user.groups.add(Group.objects.get(name="Service staff"), Group.objects.get(name=INVITERS))
    payload = set_groups(make_client(admin), user, [ADMINISTRATORS])
    assert payload["__typename"] == "User"
    assert payload["id"] == user_id(user)
    assert {g["name"] for g in payload["permissionGroups"]} == {ADMINISTRATORS, "Service staff"}
    assert group_names(user) == {ADMINISTRATORS, "Service staff"}
    payload = set_groups(make_client(admin), user, [])
    assert group_names(user) == {"Service staff"}


def test_only_administrators_set_groups(make_client, inviter, user, gql):
    assert operation_codes(set_groups(make_client(inviter), user, [INVITERS])) == [
        "PERMISSION_DENIED"
    ]
    assert operation_codes(set_groups(make_client(user), user, [ADMINISTRATORS])) == [
        "PERMISSION_DENIED"
    ]
    assert operation_codes(set_groups(gql, user, [INVITERS])) == ["UNAUTHENTICATED"]
    assert group_names(user) == set()


@pytest.mark.parametrize("name", ["Service staff", "Plan: Team", "Nope"])
def test_only_manageable_groups_can_be_given(make_client, admin, user, name):
    payload = set_groups(make_client(admin), user, [name])
    assert operation_codes(payload) == ["INVALID"]
    assert payload["messages"][0]["field"] == "permissionGroupIds"
    assert group_names(user) == set()


def test_last_administrator_keeps_the_group(make_client, admin, user):
    client = make_client(admin)
    assert operation_codes(set_groups(client, admin, [INVITERS])) == ["LAST_ADMINISTRATOR"]
    assert group_names(admin) == {ADMINISTRATORS}
    set_groups(client, user, [ADMINISTRATORS])
    # With a second administrator, the first may step down.
    assert set_groups(client, admin, [INVITERS])["__typename"] == "User"
    assert group_names(admin) == {INVITERS}


def test_unknown_or_foreign_user_is_not_found(make_client, admin, outsider):
    client = make_client(admin)
    foreign = set_groups(client, outsider, [ADMINISTRATORS])
    missing = client.mutate(
        "setPermissionGroups",
        {
            "userId": global_id("User", "00000000-0000-0000-0000-000000000000"),
            "permissionGroupIds": [],
        },
        USER,
    )
    assert operation_codes(foreign) == operation_codes(missing) == ["NOT_FOUND"]
    assert foreign["messages"] == missing["messages"]
    assert group_names(outsider) == set()


# removeMember

REMOVED = "... on RemovedMember { userId organization { members { totalCount } } }"


def test_administrator_removes_a_member(make_client, admin, organization):
    member = UserFactory(organization=organization, groups=[INVITERS, "Service staff"])
    team = Team.objects.create(organization=organization, name="T")
    TeamMembership.objects.create(team=team, user=member, role="administrator")
    assign_perm("directory.manage_team_members", member, team)

    payload = make_client(admin).mutate("removeMember", {"userId": user_id(member)}, REMOVED)

    assert payload["userId"] == user_id(member)
    assert payload["organization"]["members"]["totalCount"] == 1
    member.refresh_from_db()
    assert member.organization is None
    assert group_names(member) == {"Service staff"}
    assert not TeamMembership.objects.filter(user=member).exists()
    assert get_perms(User.objects.get(pk=member.pk), team) == []


def test_remove_member_refusals(make_client, admin, inviter, user, outsider, gql):
    assert operation_codes(
        make_client(inviter).mutate("removeMember", {"userId": user_id(user)}, REMOVED)
    ) == ["PERMISSION_DENIED"]
    assert operation_codes(gql.mutate("removeMember", {"userId": user_id(user)}, REMOVED)) == [
        "UNAUTHENTICATED"
    ]
    client = make_client(admin)
    assert operation_codes(client.mutate("removeMember", {"userId": user_id(outsider)}, "")) == [
        "NOT_FOUND"
    ]
    assert operation_codes(
        client.mutate("removeMember", {"userId": global_id("Organization", user.guid)}, "")
    ) == ["NOT_FOUND"]
    assert operation_codes(client.mutate("removeMember", {"userId": user_id(admin)}, "")) == [
        "LAST_ADMINISTRATOR"
    ]
    outsider.refresh_from_db()
    user.refresh_from_db()
    assert outsider.organization is not None and user.organization is not None


def test_administrator_may_leave_when_another_remains(make_client, admin, organization):
    UserFactory(organization=organization, groups=[ADMINISTRATORS])
    client = make_client(admin)
    payload = client.mutate("removeMember", {"userId": user_id(admin)}, "__typename")
    assert payload["__typename"] == "RemovedMember"
    admin.refresh_from_db()
    assert admin.organization is None and group_names(admin) == set()
    assert client.execute("{ organization { id } }").data == {"organization": None}


# updateOrganization

ORG = "... on Organization { name abilities { canUpdate } }"


def test_administrator_renames_the_organization(make_client, admin, organization):
    payload = make_client(admin).mutate("updateOrganization", {"name": "  Renamed  "}, ORG)
    assert payload == {
        "__typename": "Organization",
        "name": "Renamed",
        "abilities": {"canUpdate": True},
    }
    organization.refresh_from_db()
    assert organization.name == "Renamed"


def test_update_organization_refusals(make_client, admin, inviter, organization, gql):
    assert operation_codes(
        make_client(inviter).mutate("updateOrganization", {"name": "X"}, ORG)
    ) == ["PERMISSION_DENIED"]
    assert operation_codes(gql.mutate("updateOrganization", {"name": "X"}, ORG)) == [
        "UNAUTHENTICATED"
    ]
    client = make_client(admin)
    for bad in ("   ", "x" * 101):
        payload = client.mutate("updateOrganization", {"name": bad}, ORG)
        assert payload["__typename"] == "OperationInfo"
        assert payload["messages"][0]["field"] == "name"
    organization.refresh_from_db()
    assert organization.name != "X"


# wipeOutOrganization

WIPED = "... on OrganizationWipeOut { name members invitations teams contacts }"


def _populated(organization, admin, other_organization):
    member = UserFactory(organization=organization)
    Contact.objects.create(owner=member, full_name="Private contact")
    Avatar.objects.create(
        user=member,
        image=default_storage.save("avatar_images/wipe.png", ContentFile(b"x")),
        thumbnail=default_storage.save("avatar_images/wipe_thumb.png", ContentFile(b"x")),
    )
    team = Team.objects.create(organization=organization, name="Team")
    TeamMembership.objects.create(team=team, user=member, role="owner")
    assign_perm("directory.manage_team_members", member, team)
    Invitation.objects.create(
        organization=organization,
        inviter=admin,
        email="pending@example.com",
        token_hash="a" * 64,
        expires_at=admin.date_joined.replace(year=2100),
    )
    # Data of the other organization, which must survive.
    survivor = UserFactory(organization=other_organization)
    other_team = Team.objects.create(organization=other_organization, name="Other team")
    TeamMembership.objects.create(team=other_team, user=survivor, role="owner")
    return member, team, survivor, other_team


def test_wipe_out_deletes_everything_of_the_organization(
    make_client, admin, organization, other_organization, django_capture_on_commit_callbacks
):
    member, team, survivor, other_team = _populated(organization, admin, other_organization)
    image = Avatar.objects.get(user=member).image.name
    with django_capture_on_commit_callbacks(execute=True):
        payload = (
            make_client(admin)
            .reauthenticated()
            .mutate("wipeOutOrganization", {"confirmName": organization.name}, WIPED)
        )
    assert payload == {
        "__typename": "OrganizationWipeOut",
        "name": organization.name,
        "members": 2,
        "invitations": 1,
        "teams": 1,
        # two profile contacts and one personal contact
        "contacts": 3,
    }
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert not User.objects.filter(pk__in=[admin.pk, member.pk]).exists()
    assert not ProfileData.objects.filter(user_id__in=[admin.pk, member.pk]).exists()
    assert not Contact.objects.filter(owner_id__in=[admin.pk, member.pk]).exists()
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Invitation.objects.exists()
    assert not Avatar.objects.exists()
    assert not default_storage.exists(image)
    # The other organization is untouched.
    assert Organization.objects.filter(pk=other_organization.pk).exists()
    assert User.objects.filter(pk=survivor.pk).exists()
    assert TeamMembership.objects.filter(team=other_team, user=survivor).exists()
    assert Contact.objects.filter(user=survivor).exists()


def test_wipe_out_needs_the_exact_name(make_client, admin, organization):
    client = make_client(admin).reauthenticated()
    for wrong in ("", organization.name.upper(), organization.name + " "):
        payload = client.mutate("wipeOutOrganization", {"confirmName": wrong}, WIPED)
        assert operation_codes(payload) == ["INVALID"]
        assert payload["messages"][0]["field"] == "confirmName"
    assert Organization.objects.filter(pk=organization.pk).exists()
    assert User.objects.filter(pk=admin.pk).exists()


def test_wipe_out_is_for_administrators_only(make_client, inviter, user, organization, gql):
    for actor in (inviter, user):
        payload = (
            make_client(actor)
            .reauthenticated()
            .mutate("wipeOutOrganization", {"confirmName": organization.name}, WIPED)
        )
        assert operation_codes(payload) == ["PERMISSION_DENIED"]
    assert operation_codes(
        gql.mutate("wipeOutOrganization", {"confirmName": organization.name}, WIPED)
    ) == ["UNAUTHENTICATED"]
    assert Organization.objects.filter(pk=organization.pk).exists()


def test_wipe_out_ends_the_session_with_the_account(make_client, admin, organization):
    client = make_client(admin).reauthenticated()
    client.mutate("wipeOutOrganization", {"confirmName": organization.name}, WIPED)
    assert client.execute("{ me { id } }").data == {"me": None}
