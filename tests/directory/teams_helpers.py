"""Shared set-up for the team tests: global ids, teams with members, guardian rows."""

from __future__ import annotations

import base64

from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from directory.models import Team, TeamMembership
from directory.services.teams import team_create, team_member_add

TEAM_FIELDS = "id name role abilities { canUpdate canDelete canManageMembers }"
MEMBER_FIELDS = "id role user { id email } abilities { canRemove setRoleTo }"


def global_id(type_name: str, value) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def team_id(team) -> str:
    return global_id("Team", team.pk)


def user_id(user) -> str:
    return global_id("User", user.guid)


def make_team(creator, name: str = "Platform", **members_by_role) -> Team:
    """A team created (so owned) by ``creator``; ``members_by_role`` maps a role to a list of users."""
    team = team_create(actor=creator, name=name)
    for role, users in members_by_role.items():
        for user in users:
            team_member_add(actor=creator, team_id=team.pk, user_guid=user.guid, role=role)
    return team


def guardian_codenames(user, team) -> set[str]:
    return set(
        UserObjectPermission.objects.filter(
            user=user,
            content_type=ContentType.objects.get_for_model(Team),
            object_pk=str(team.pk),
        ).values_list("permission__codename", flat=True)
    )


def role_of(user, team) -> str | None:
    return (
        TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    )


# The guardian permissions an owner holds on the team (written out, not derived).
OWNER_CODENAMES = {
    "view_team",
    "change_team",
    "manage_team_members",
    "delete_team",
    "manage_team_owners",
}
