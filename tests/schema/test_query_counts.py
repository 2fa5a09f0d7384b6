"""The N+1 guard: every list of the schema costs the same number of SQL queries for 2
and for 200 rows, with the nested fields a client would select. And every connection
refuses a page larger than 100 with INVALID."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Invitation, UserExternalAuthentication
from directory.models import Contact, TeamRole
from directory.services.teams import team_create, team_member_add
from tests.factories import OrganizationFactory, UserFactory, administrator

pytestmark = pytest.mark.django_db

USER_FIELDS = """
  id email firstName lastName description avatarUrl avatarThumbUrl
  organization { id name }
  permissionGroups { id name }
  profileContact { id fullName data isProfile abilities { canUpdate canDelete canOverride } }
"""

LISTS = {
    "organization.members": f"""
        {{ organization {{ members(first: 100) {{ totalCount edges {{ node {{ {USER_FIELDS} }} }} }} }} }}
    """,
    "organization.invitations": """
        { organization { invitations(first: 100) { totalCount edges { node {
            id email createdAt expiresAt expired inviter { id email } permissionGroups { name }
        } } } } }
    """,
    "me.invitations": """
        { me { invitations(first: 100) { totalCount edges { node {
            id email organizationName inviterName permissionGroups { name }
        } } } } }
    """,
    "me.permissionGroups": "{ me { permissionGroups { id name } } }",
    "me.externalIdentities": "{ me { externalIdentities { provider externalId createdAt } } }",
    "contacts": """
        { contacts(first: 100) { totalCount edges { node {
            id fullName shortName notes data isProfile
            base { id fullName } override { id fullName }
            abilities { canUpdate canDelete canOverride }
        } } } }
    """,
    "contacts(search)": """
        { contacts(first: 100, search: "person") { totalCount edges { node { id fullName data } } } }
    """,
    "teams": """
        { teams(first: 100) { totalCount edges { node {
            id name role abilities { canUpdate canDelete canManageMembers }
            members(first: 5) { totalCount edges { node { id role user { id email } } } }
        } } } }
    """,
    "team.members": """
        query($id: ID!) { team(id: $id) { members(first: 100) { totalCount edges { node {
            id role abilities { canRemove setRoleTo } user { id email firstName }
        } } } } }
    """,
    "nodes": """
        query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { email firstName organization { name } } } }
    """,
}

CONNECTIONS = {
    "organization.members": "{ organization { members(first: 101) { totalCount } } }",
    "organization.invitations": "{ organization { invitations(first: 101) { totalCount } } }",
    "me.invitations": "{ me { invitations(first: 101) { totalCount } } }",
    "contacts": "{ contacts(first: 101) { totalCount } }",
    "teams": "{ teams(first: 101) { totalCount } }",
    "team.members": "query($id: ID!) { team(id: $id) { members(first: 101) { totalCount } } }",
}


def global_id(type_name: str, value) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def seed(rows: int) -> tuple:
    """An organization whose viewer has ``rows`` of everything listed above."""
    organization = OrganizationFactory(plan="enterprise")
    viewer = administrator(organization=organization, email=f"viewer{rows}@example.com")
    inviters = Group.objects.get_or_create(name=settings.INVITERS_GROUP)[0]
    members = UserFactory.create_batch(rows, organization=organization)
    for member in members:
        member.groups.add(inviters)
    expires = timezone.now() + timedelta(days=3)
    for index in range(rows):
        invitation = Invitation.objects.create(
            organization=organization,
            inviter=members[index % len(members)],
            email=f"invited{index}@example.org",
            token_hash=f"{rows}-{index}".rjust(64, "0"),
            expires_at=expires,
        )
        invitation.permission_groups.add(inviters)
        other = OrganizationFactory()
        addressed = Invitation.objects.create(
            organization=other,
            inviter=UserFactory(organization=other),
            email=viewer.email,
            token_hash=f"{rows}-{index}-addressed".rjust(64, "0"),
            expires_at=expires,
        )
        addressed.permission_groups.add(inviters)
        Contact.objects.create(owner=viewer, full_name=f"Person {index}", data={})
        UserExternalAuthentication.objects.create(
            user=viewer, provider="https://id.example.com", external_id=f"sub-{rows}-{index}"
        )
        viewer.groups.add(Group.objects.get_or_create(name=f"Extra group {index}")[0])
    overridden = members[0].profile_contact
    Contact.objects.create(owner=viewer, override=overridden, full_name="Override", data={})
    for index in range(rows):
        team_create(actor=viewer, name=f"Team {index}")
    team = team_create(actor=viewer, name="Big team")
    for index, member in enumerate(members):
        role = TeamRole.ADMINISTRATOR if index % 3 == 0 else TeamRole.MEMBER
        team_member_add(actor=viewer, team_id=team.pk, user_guid=str(member.guid), role=role)
    variables = {
        "team.members": {"id": global_id("Team", team.pk)},
        "nodes": {"ids": [global_id("User", member.guid) for member in members]},
    }
    return viewer, variables


def count_queries(client, name: str, variables: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = client.execute(LISTS[name], variables.get(name))
    assert result.status_code == 200
    assert not result.errors, result.errors
    return len(queries)


def test_every_list_query_count_is_the_same_for_2_and_200_rows(make_client):
    small_viewer, small_variables = seed(2)
    large_viewer, large_variables = seed(200)
    small_client, large_client = make_client(small_viewer), make_client(large_viewer)
    counts = {
        name: (
            count_queries(small_client, name, small_variables),
            count_queries(large_client, name, large_variables),
        )
        for name in sorted(LISTS)
    }
    growing = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    assert not growing, f"queries for (2 rows, 200 rows): {growing}"


@pytest.mark.parametrize("name", sorted(CONNECTIONS))
def test_every_connection_refuses_a_page_over_100(make_client, name):
    viewer, variables = seed(2)
    result = make_client(viewer).execute(CONNECTIONS[name], variables.get(name))
    assert result.errors, result.payload
    assert result.error_codes() == ["INVALID"], result.errors
    assert result.errors[0]["message"] != "Unexpected error."
