"""Team memberships of someone leaving an organization, and teams deleted with it."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from directory.models import Team, TeamMembership
from directory.services.teams import team_memberships_end
from tests.directory.teams_helpers import OWNER_CODENAMES, guardian_codenames, make_team, role_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def team_permission_rows(team_pk) -> int:
    return UserObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(Team), object_pk=str(team_pk)
    ).count()


def test_deleting_an_organization_deletes_its_teams_and_their_permissions(user):
    colleague = UserFactory(organization=user.organization)
    team = make_team(user, member=[colleague])
    pk = team.pk
    assert team_permission_rows(pk) == 6
    user.organization.delete()
    assert not Team.objects.filter(pk=pk).exists()
    assert team_permission_rows(pk) == 0


def test_leaving_member_loses_membership_and_permissions(user):
    leaver = UserFactory(organization=user.organization)
    team = make_team(user, administrator=[leaver])
    team_memberships_end(user=leaver, organization_id=user.organization_id)
    assert role_of(leaver, team) is None
    assert guardian_codenames(leaver, team) == set()
    assert role_of(user, team) == "owner"


def test_last_owner_leaving_passes_ownership_to_the_first_administrator(user):
    member = UserFactory(organization=user.organization)
    first_admin = UserFactory(organization=user.organization)
    second_admin = UserFactory(organization=user.organization)
    team = make_team(user, member=[member], administrator=[first_admin, second_admin])
    team_memberships_end(user=user, organization_id=user.organization_id)
    assert role_of(user, team) is None
    assert role_of(first_admin, team) == "owner"
    assert guardian_codenames(first_admin, team) == OWNER_CODENAMES
    assert role_of(second_admin, team) == "administrator"
    assert role_of(member, team) == "member"


def test_last_owner_leaving_passes_ownership_to_a_member_when_no_administrator(user):
    member = UserFactory(organization=user.organization)
    team = make_team(user, member=[member])
    team_memberships_end(user=user, organization_id=user.organization_id)
    assert role_of(member, team) == "owner"
    assert guardian_codenames(member, team) == OWNER_CODENAMES


def test_owner_with_a_co_owner_just_leaves(user):
    co_owner = UserFactory(organization=user.organization)
    admin = UserFactory(organization=user.organization)
    team = make_team(user, owner=[co_owner], administrator=[admin])
    team_memberships_end(user=user, organization_id=user.organization_id)
    assert list(
        TeamMembership.objects.filter(team=team, role="owner").values_list("user", flat=True)
    ) == [co_owner.pk]
    assert role_of(admin, team) == "administrator"


def test_a_team_left_empty_is_deleted(user):
    team = make_team(user)
    pk = team.pk
    team_memberships_end(user=user, organization_id=user.organization_id)
    assert not Team.objects.filter(pk=pk).exists()
    assert team_permission_rows(pk) == 0


def test_only_the_left_organizations_teams_change(user, outsider):
    team = make_team(user)
    elsewhere = make_team(outsider)
    team_memberships_end(user=user, organization_id=outsider.organization_id)
    assert role_of(user, team) == "owner"
    assert role_of(outsider, elsewhere) == "owner"
