"""The `organization`, `manageablePermissionGroups` queries and `User.invitations`."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings

from accounts.models import Invitation
from tests.accounts.organizations.conftest import ADMINISTRATORS, INVITERS, group_id
from tests.factories import UserFactory

ORGANIZATION = """
query($search: String, $first: Int) {
  organization {
    id name seatsUsed
    plan { name seats }
    abilities { canUpdate canInvite canManagePermissionGroups canRemoveMembers canWipeOut }
    members(search: $search, first: $first) {
      totalCount
      edges { node { id email firstName lastName permissionGroups { id name } } }
    }
    invitations {
      totalCount
      edges { node {
        id email createdAt expiresAt expired organizationName inviterName
        inviter { id email }
        permissionGroups { name }
      } }
    }
  }
}
"""


def members_of(result):
    return [edge["node"] for edge in result.data["organization"]["members"]["edges"]]


def test_anonymous_gets_unauthenticated(gql):
    result = gql.execute(ORGANIZATION)
    assert result.error_codes() == ["UNAUTHENTICATED"]
    assert result.data is None or result.data["organization"] is None


def test_user_without_organization_gets_null(make_client, db):
    loner = UserFactory(organization=None)
    result = make_client(loner).execute(ORGANIZATION)
    assert not result.errors
    assert result.data == {"organization": None}


def test_administrator_sees_details_members_invitations_and_abilities(
    make_client, admin, invite, organization
):
    colleague = UserFactory(organization=organization, groups=[INVITERS])
    UserFactory(organization=None)  # not a member
    invite(admin, "new@example.com", groups=[INVITERS])

    result = make_client(admin).execute(ORGANIZATION)

    assert not result.errors, result.errors
    org = result.data["organization"]
    assert org["name"] == organization.name
    assert org["plan"] == {"name": "Team", "seats": 50}
    assert org["seatsUsed"] == 3  # two members and one pending invitation
    assert base64.b64decode(org["id"]).decode() == f"Organization:{organization.pk}"
    assert org["abilities"] == {
        "canUpdate": True,
        "canInvite": True,
        "canManagePermissionGroups": True,
        "canRemoveMembers": True,
        "canWipeOut": True,
    }
    members = {m["email"]: m for m in members_of(result)}
    assert set(members) == {admin.email, colleague.email}
    assert [g["name"] for g in members[colleague.email]["permissionGroups"]] == [INVITERS]
    assert members[colleague.email]["permissionGroups"][0]["id"] == group_id(INVITERS)
    invitations = org["invitations"]
    assert invitations["totalCount"] == 1
    node = invitations["edges"][0]["node"]
    assert node["email"] == "new@example.com"
    assert node["inviter"]["email"] == admin.email
    assert node["inviterName"] == admin.profile.full_name
    assert node["organizationName"] == organization.name
    assert node["permissionGroups"] == [{"name": INVITERS}]
    assert node["expired"] is False
    assert node["createdAt"] < node["expiresAt"]


def test_plain_member_has_no_abilities_and_sees_no_invitations(make_client, admin, user, invite):
    invite(admin, "new@example.com")
    result = make_client(user).execute(ORGANIZATION)
    org = result.data["organization"]
    assert set(org["abilities"].values()) == {False}
    assert org["invitations"] == {"totalCount": 0, "edges": []}
    assert org["seatsUsed"] == 3  # the count is not a secret; the addresses are


def test_inviter_may_invite_but_not_administer(make_client, inviter):
    org = make_client(inviter).execute(ORGANIZATION).data["organization"]
    assert org["abilities"] == {
        "canUpdate": False,
        "canInvite": True,
        "canManagePermissionGroups": False,
        "canRemoveMembers": False,
        "canWipeOut": False,
    }


def test_unlimited_plan_has_null_seats(make_client, admin, organization):
    organization.plan = "enterprise"
    organization.save()
    org = make_client(admin).execute(ORGANIZATION).data["organization"]
    assert org["plan"] == {"name": "Enterprise", "seats": None}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ada", {"ada@example.com"}),
        ("LOVELACE", {"ada@example.com"}),
        ("grace@", {"grace@example.com"}),
        ("example.com", {"ada@example.com", "grace@example.com"}),
        ("nobody", set()),
    ],
)
def test_members_search_by_name_or_email(make_client, organization, search, expected):
    ada = UserFactory(
        organization=organization, email="ada@example.com", first_name="Ada", last_name="Lovelace"
    )
    UserFactory(
        organization=organization, email="grace@example.com", first_name="Grace", last_name="Hopper"
    )
    UserFactory(organization=None, email="ada.outside@example.com", first_name="Ada")
    result = make_client(ada).execute(ORGANIZATION, {"search": search})
    assert {m["email"] for m in members_of(result)} == expected


def test_members_are_paginated_and_capped(make_client, organization):
    members = UserFactory.create_batch(3, organization=organization)
    result = make_client(members[0]).execute(ORGANIZATION, {"first": 2})
    assert len(members_of(result)) == 2
    assert result.data["organization"]["members"]["totalCount"] == 3
    capped = make_client(members[0]).execute(ORGANIZATION, {"first": 101})
    assert capped.error_codes() == ["INVALID"]  # more than 100 per page is refused
    assert capped.errors[0]["message"] == "Argument 'first' cannot be higher than 100."


@pytest.mark.parametrize(
    "arguments", ["first: -1", "last: 101", 'after: "0"', 'after: "YWJj"', 'before: "VXNlcjox"']
)
def test_bad_pagination_arguments_are_invalid_not_unexpected(make_client, user, arguments):
    result = make_client(user).execute(
        "{ organization { members(" + arguments + ") { totalCount } } }"
    )
    assert result.error_codes() == ["INVALID"]
    assert result.errors[0]["message"] != "Unexpected error."


def test_members_pages_follow_cursors(make_client, organization):
    members = UserFactory.create_batch(3, organization=organization)
    client = make_client(members[0])
    query = """query($after: String) { organization { members(first: 2, after: $after) {
      pageInfo { hasNextPage endCursor } edges { node { email } } } } }"""
    first = client.execute(query).data["organization"]["members"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = client.execute(query, {"after": first["pageInfo"]["endCursor"]})
    page = second.data["organization"]["members"]
    assert page["pageInfo"]["hasNextPage"] is False
    emails = [e["node"]["email"] for e in first["edges"] + page["edges"]]
    assert sorted(emails) == sorted(m.email for m in members)


def _populate(organization, admin, count):
    UserFactory.create_batch(count - 1, organization=organization, groups=[INVITERS])
    for n in range(count):
        invitation = Invitation.objects.create(
            organization=organization,
            inviter=admin,
            email=f"invited{n}@example.com",
            token_hash=f"{n:064d}",
            expires_at=admin.date_joined + settings.INVITATION_LIFETIME * 100,
        )
        invitation.permission_groups.add(*admin.groups.all())


@pytest.mark.parametrize("count", [2, 200])
def test_query_count_does_not_grow_with_members(
    make_client, admin, organization, django_assert_num_queries, count
):
    organization.plan = "enterprise"
    organization.save()
    _populate(organization, admin, count)
    client = make_client(admin)
    client.csrf_token  # fetch the cookie outside the counted block
    # viewer, organization with its seats, viewer's groups (abilities), members page
    # + their groups, the members' count (bounded: DIRECTORY_COUNT_EXACT_UP_TO),
    # invitations page + inviters + their groups.
    with django_assert_num_queries(9):
        result = client.execute(ORGANIZATION, {"first": 100})
    assert not result.errors, result.errors
    assert len(members_of(result)) == min(count, 100)
    assert result.data["organization"]["members"]["totalCount"] == count


MANAGEABLE = "{ manageablePermissionGroups { id name } }"


def test_manageable_permission_groups(make_client, user):
    result = make_client(user).execute(MANAGEABLE)
    assert result.data["manageablePermissionGroups"] == [
        {"id": group_id(ADMINISTRATORS), "name": ADMINISTRATORS},
        {"id": group_id(INVITERS), "name": INVITERS},
    ]


def test_manageable_permission_groups_needs_sign_in(gql):
    assert gql.execute(MANAGEABLE).error_codes() == ["UNAUTHENTICATED"]


MY_INVITATIONS = """
{ me { email invitations { totalCount edges { node { email organizationName inviterName
  inviter { email } } } } } }
"""


def test_user_sees_invitations_addressed_to_them(make_client, outsider_admin, invite, user):
    invite(outsider_admin, user.email.upper())
    result = make_client(user).execute(MY_INVITATIONS)
    invitations = result.data["me"]["invitations"]
    assert invitations["totalCount"] == 1
    node = invitations["edges"][0]["node"]
    assert node["email"] == user.email
    assert node["organizationName"] == outsider_admin.organization.name
    assert node["inviterName"] == outsider_admin.profile.full_name
    assert node["inviter"] is None  # a user of another organization stays hidden


def test_an_unverified_email_sees_no_invitations(make_client, outsider_admin, invite, user):
    invite(outsider_admin, user.email)
    user.email_verified = False
    user.save(update_fields=["email_verified"])
    result = make_client(user).execute(MY_INVITATIONS)
    assert result.data["me"]["invitations"]["totalCount"] == 0


def test_invitations_of_other_users_are_empty(
    make_client, admin, organization, outsider_admin, invite
):
    colleague = UserFactory(organization=organization)
    invite(outsider_admin, colleague.email)
    query = """
    { organization { members { edges { node { email invitations { totalCount } } } } } }
    """
    result = make_client(admin).execute(query)
    counts = {
        edge["node"]["email"]: edge["node"]["invitations"]["totalCount"]
        for edge in result.data["organization"]["members"]["edges"]
    }
    assert counts == {admin.email: 0, colleague.email: 0}
    own = make_client(colleague).execute(MY_INVITATIONS)
    assert own.data["me"]["invitations"]["totalCount"] == 1
