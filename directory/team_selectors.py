"""Scoped reads of teams: every query of team data starts from one of these."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from guardian.models import UserObjectPermission

from accounts.selectors import NOTHING
from directory.models import Team, TeamMembership, TeamRole
from directory.roles import TEAM_PERMISSIONS


def _signed_in_with_organization(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.organization_id)


def viewer_role(*, user) -> Subquery:
    """Annotation: the role ``user`` holds in the team of the row (``None`` if not a member)."""
    return Subquery(
        TeamMembership.objects.filter(team_id=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    )


def teams_visibility(*, user) -> Q:
    """Teams of the viewer's organization that the viewer is a member of.

    A membership left behind in another organization (the user moved) opens nothing.
    """
    if not _signed_in_with_organization(user):
        return NOTHING
    return Q(
        organization_id=user.organization_id,
        pk__in=TeamMembership.objects.filter(user_id=user.pk).values("team_id"),
    )


def teams_visible_to(*, user) -> QuerySet[Team]:
    return Team.objects.filter(teams_visibility(user=user))


def other_owner_exists() -> Exists:
    """Annotation on memberships: does the team have an owner other than this member?"""
    return Exists(
        TeamMembership.objects.filter(team_id=OuterRef("team_id"), role=TeamRole.OWNER).exclude(
            pk=OuterRef("pk")
        )
    )


def team_has_other_owner(*, membership: TeamMembership) -> bool:
    """Does the team of ``membership`` have an owner other than that member?"""
    return (
        TeamMembership.objects.filter(team_id=membership.team_id, role=TeamRole.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


def team_role_of(*, team_id, user) -> str | None:
    """The role ``user`` holds in the team (``None`` if not a member or anonymous)."""
    if user is None:
        return None
    return (
        TeamMembership.objects.filter(team_id=team_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def team_memberships_visibility(*, user) -> Q:
    """Memberships of the viewer's teams whose people belong to the team's organization."""
    if not _signed_in_with_organization(user):
        return NOTHING
    return Q(team__in=teams_visible_to(user=user), user__organization_id=user.organization_id)


def team_memberships_visible_to(*, user) -> QuerySet[TeamMembership]:
    return TeamMembership.objects.filter(team_memberships_visibility(user=user))


def team_permissions_of(*, user, team_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
    """The user's guardian object permissions on many teams, in one query.

    Only permissions given to the user on the team count: superuser status, groups and
    global model permissions never grant a team role.
    """
    ids = {uuid.UUID(str(team_id)) for team_id in team_ids}
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    if ids and getattr(user, "is_authenticated", False) and user.is_active:
        rows = UserObjectPermission.objects.filter(
            user_id=user.pk,
            content_type=ContentType.objects.get_for_model(Team),
            object_pk__in=[str(team_id) for team_id in ids],
            permission__codename__in=TEAM_PERMISSIONS,
        ).values_list("object_pk", "permission__codename")
        for object_pk, codename in rows:
            found[uuid.UUID(object_pk)].add(codename)
    return {team_id: frozenset(found.get(team_id, ())) for team_id in ids}
