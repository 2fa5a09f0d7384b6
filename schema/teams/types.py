"""GraphQL types of teams: Team, TeamMember, their abilities and the TeamRole enum.

Abilities ask the role matrix (directory/roles.py) with the viewer's guardian object
permissions on the team. Those are loaded for a whole page of teams in one query
(``TeamConnection``) and kept per request and per root field, so neither ``teams`` nor a
team's ``members`` costs one query per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from directory import roles
from directory.models import Team, TeamMembership
from directory.models import TeamRole as TeamRoleChoices
from directory.team_selectors import (
    other_owner_exists,
    team_has_other_owner,
    team_memberships_visibility,
    team_permissions_of,
    team_role_of,
    teams_visibility,
    viewer_role,
)
from schema.accounts.types import UserType
from schema.pagination import connection
from schema.permissions import Scoped, viewer

TeamRole = strawberry.enum(
    TeamRoleChoices,
    name="TeamRole",
    description="A member's role in a team: MEMBER views, ADMINISTRATOR manages "
    "non-owners, OWNER does everything.",
)


def _root_field_key(info: Info) -> str | int:
    path = info.path
    while path.prev is not None:
        path = path.prev
    return path.key


def _permissions_cache(info: Info) -> dict[uuid.UUID, frozenset[str]]:
    """The viewer's team permissions known so far in this root field of the request.

    Keyed by root field, so a later mutation in the same document never reads
    permissions cached before it ran.
    """
    request = info.context.request
    caches = request.__dict__.setdefault("_roster_team_permissions", {})
    return caches.setdefault(_root_field_key(info), {})


def team_permissions_prime(info: Info, team_ids: Iterable[Any]) -> None:
    cache = _permissions_cache(info)
    missing = {uuid.UUID(str(team_id)) for team_id in team_ids} - cache.keys()
    if missing:
        cache.update(team_permissions_of(user=viewer(info), team_ids=missing))


def viewer_team_permissions(info: Info, team_id: Any) -> frozenset[str]:
    team_permissions_prime(info, [team_id])
    return _permissions_cache(info)[uuid.UUID(str(team_id))]


@strawberry.type(name="TeamAbilities")
class TeamAbilities:
    can_update: bool = strawberry.field(description="Rename the team.")
    can_delete: bool = strawberry.field(description="Delete the team.")
    can_manage_members: bool = strawberry.field(
        description="Add members and change or remove non-owners."
    )


@strawberry.type(name="TeamMemberAbilities")
class TeamMemberAbilities:
    can_remove: bool = strawberry.field(
        description="Remove this member (for oneself: leave the team)."
    )
    set_role_to: list[TeamRole] = strawberry.field(
        description="The roles the viewer may give this member now (never its current role)."
    )


@strawberry_django.type(TeamMembership, name="TeamMember")
class TeamMemberType(Scoped, relay.Node):
    visibility = staticmethod(team_memberships_visibility)
    user: UserType

    @strawberry_django.field(only=["role"])
    def role(self) -> TeamRole:
        return TeamRoleChoices(self.role)

    @strawberry_django.field(
        only=["role", "team_id", "user_id"],
        annotate={"has_other_owner": other_owner_exists()},
    )
    def abilities(self, info: Info) -> TeamMemberAbilities:
        perms = viewer_team_permissions(info, self.team_id)
        other_owner = getattr(self, "has_other_owner", None)
        if other_owner is None:  # a membership answered by a mutation
            other_owner = team_has_other_owner(membership=self)
        user = viewer(info)
        return TeamMemberAbilities(
            can_remove=roles.removable(
                perms,
                target_role=self.role,
                is_self=user is not None and self.user_id == user.pk,
                other_owner=other_owner,
            ),
            set_role_to=[
                TeamRoleChoices(role)
                for role in roles.roles_settable(
                    perms, target_role=self.role, other_owner=other_owner
                )
            ],
        )


_NO_ROLE = object()


@strawberry_django.type(Team, name="Team")
class TeamType(Scoped, relay.Node):
    visibility = staticmethod(teams_visibility)
    name: strawberry.auto
    members: DjangoListConnection[TeamMemberType] = connection(
        field_name="memberships",
        description="The team's members, in the order they joined.",
    )

    @strawberry_django.field(
        annotate={"viewer_role": lambda info: viewer_role(user=viewer(info))},
        description="The viewer's role in this team; null once the viewer is no longer "
        "a member (e.g. in the answer of leaving or deleting the team).",
    )
    def role(self, info: Info) -> TeamRole | None:
        role = getattr(self, "viewer_role", _NO_ROLE)
        if role is _NO_ROLE:  # a team answered by a mutation
            role = team_role_of(team_id=self.pk, user=viewer(info))
        return TeamRoleChoices(role) if role else None

    @strawberry_django.field(only=["id"])
    def abilities(self, info: Info) -> TeamAbilities:
        perms = viewer_team_permissions(info, self.pk)
        return TeamAbilities(
            can_update=roles.can_update(perms),
            can_delete=roles.can_delete(perms),
            can_manage_members=roles.can_manage_members(perms),
        )


@strawberry.type(name="TeamConnection", description="A page of teams.")
class TeamConnection(DjangoListConnection[TeamType]):
    @classmethod
    def resolve_connection(cls, nodes, *, info: Info, **kwargs):
        page = super().resolve_connection(nodes, info=info, **kwargs)
        if isinstance(page, TeamConnection):
            # One query for the viewer's permissions on every team of the page.
            team_permissions_prime(info, [edge.node.pk for edge in page.edges])
        return page
