"""Queries of teams: the viewer's teams and one team."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry.types import Info

from directory.models import Team
from directory.team_selectors import teams_visible_to
from schema.ids import node_uuid
from schema.pagination import connection
from schema.permissions import require_viewer
from schema.teams.types import TeamConnection, TeamType, team_permissions_prime


@strawberry.type
class Query:
    @connection(
        TeamConnection,
        description="The teams the viewer is a member of (at most 100 a page).",
    )
    def teams(self, info: Info) -> QuerySet[Team]:
        return teams_visible_to(user=require_viewer(info))

    @strawberry_django.field(description="One team the viewer is a member of; null otherwise.")
    def team(self, info: Info, id: strawberry.ID) -> TeamType | None:
        user = require_viewer(info)
        pk = node_uuid(id, "Team")
        if pk is None:
            return None
        team_permissions_prime(info, [pk])
        return teams_visible_to(user=user).filter(pk=pk)  # scoped, optimized, first row
