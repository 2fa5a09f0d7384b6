"""Mutations of teams: each unpacks its input and calls one service."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from directory.services import teams as services
from schema.ids import node_uuid
from schema.mutations import input_mutation
from schema.permissions import require_viewer
from schema.teams.types import TeamMemberType, TeamRole, TeamType


@strawberry.type
class Mutation:
    @input_mutation(description="Create a team in the viewer's organization; the viewer owns it.")
    def create_team(self, info: Info, name: str) -> TeamType:
        return services.team_create(actor=require_viewer(info), name=name)

    @input_mutation(description="Rename a team (administrators and owners).")
    def update_team(self, info: Info, id: strawberry.ID, name: str) -> TeamType:
        return services.team_update(
            actor=require_viewer(info), team_id=node_uuid(id, "Team"), name=name
        )

    @input_mutation(description="Delete a team with its memberships (owners).")
    def delete_team(self, info: Info, id: strawberry.ID) -> TeamType:
        return services.team_delete(actor=require_viewer(info), team_id=node_uuid(id, "Team"))

    @input_mutation(
        description="Add a member of the team's organization with a role (administrators "
        "give MEMBER or ADMINISTRATOR, owners any role)."
    )
    def add_team_member(
        self,
        info: Info,
        team_id: strawberry.ID,
        user_id: strawberry.ID,
        role: TeamRole = TeamRole.MEMBER,
    ) -> TeamMemberType:
        return services.team_member_add(
            actor=require_viewer(info),
            team_id=node_uuid(team_id, "Team"),
            user_guid=node_uuid(user_id, "User"),
            role=role,
        )

    @input_mutation(description="Change a member's role (see TeamMember.abilities.setRoleTo).")
    def set_team_role(
        self, info: Info, team_id: strawberry.ID, user_id: strawberry.ID, role: TeamRole
    ) -> TeamMemberType:
        return services.team_role_set(
            actor=require_viewer(info),
            team_id=node_uuid(team_id, "Team"),
            user_guid=node_uuid(user_id, "User"),
            role=role,
        )

    @input_mutation(description="Remove a member; removing oneself is leaving the team.")
    def remove_team_member(
        self, info: Info, team_id: strawberry.ID, user_id: strawberry.ID
    ) -> TeamType:
        return services.team_member_remove(
            actor=require_viewer(info),
            team_id=node_uuid(team_id, "Team"),
            user_guid=node_uuid(user_id, "User"),
        )
