"""GraphQL types of the organization side: invitations, previews, abilities, results."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import relay

from accounts import models
from accounts.selectors import invitations_visibility, user_display_name_expression
from accounts.services.invitations import InvitationPreview, RevokedInvitation
from accounts.services.members import RemovedMember
from accounts.services.organizations import (
    OrganizationWipeOut,
    user_can_invite,
    user_can_manage_permission_groups,
    user_can_remove_members,
    user_can_update_organization,
    user_can_wipe_out_organization,
)
from schema.accounts.types import OrganizationType, PermissionGroupType, UserType
from schema.permissions import Scoped


@strawberry_django.type(models.Invitation, name="Invitation")
class InvitationType(Scoped, relay.Node):
    visibility = staticmethod(invitations_visibility)
    email: strawberry.auto
    created_at: strawberry.auto
    expires_at: strawberry.auto
    inviter: UserType | None = strawberry_django.field(
        description="Who invited; null when the viewer may not see that user."
    )
    permission_groups: list[PermissionGroupType]

    @strawberry_django.field(only=["expires_at"])
    def expired(self) -> bool:
        return self.is_expired

    @strawberry_django.field(
        select_related=["organization"],
        only=["organization__name"],
        description="The inviting organization's name.",
    )
    def organization_name(self) -> str:
        return self.organization.name

    @strawberry_django.field(
        annotate={"_inviter_name": user_display_name_expression("inviter__")},
        description="The inviter's name (also for invitations from another organization).",
    )
    def inviter_name(self) -> str:
        return self._inviter_name or ""


@strawberry.type(name="InvitationPreview")
class InvitationPreviewType:
    organization_name: str
    inviter_name: str
    email: str
    expires_at: datetime

    @classmethod
    def from_preview(cls, preview: InvitationPreview) -> InvitationPreviewType:
        return cls(
            organization_name=preview.organization_name,
            inviter_name=preview.inviter_name,
            email=preview.email,
            expires_at=preview.expires_at,
        )


@strawberry.type(name="OrganizationAbilities")
class OrganizationAbilities:
    can_update: bool
    can_invite: bool
    can_manage_permission_groups: bool
    can_remove_members: bool
    can_wipe_out: bool

    @classmethod
    def of(cls, *, user, organization) -> OrganizationAbilities:
        return cls(
            can_update=user_can_update_organization(user=user, organization=organization),
            can_invite=user_can_invite(user=user, organization=organization),
            can_manage_permission_groups=user_can_manage_permission_groups(
                user=user, organization=organization
            ),
            can_remove_members=user_can_remove_members(user=user, organization=organization),
            can_wipe_out=user_can_wipe_out_organization(user=user, organization=organization),
        )


@strawberry.type(name="RevokedInvitation")
class RevokedInvitationType:
    invitation_id: relay.GlobalID = strawberry.field(description="The revoked invitation's id.")
    email: str
    organization: OrganizationType

    @classmethod
    def from_result(cls, result: RevokedInvitation) -> RevokedInvitationType:
        return cls(
            invitation_id=relay.GlobalID("Invitation", str(result.invitation_id)),
            email=result.email,
            organization=result.organization,
        )


@strawberry.type(name="RemovedMember")
class RemovedMemberType:
    user_id: relay.GlobalID = strawberry.field(description="The removed user's id.")
    organization: OrganizationType

    @classmethod
    def from_result(cls, result: RemovedMember) -> RemovedMemberType:
        return cls(
            user_id=relay.GlobalID("User", str(result.user_guid)),
            organization=result.organization,
        )


@strawberry.type(name="OrganizationWipeOut", description="What wipeOutOrganization deleted.")
class OrganizationWipeOutType:
    name: str
    members: int
    invitations: int
    teams: int
    contacts: int

    @classmethod
    def from_result(cls, result: OrganizationWipeOut) -> OrganizationWipeOutType:
        return cls(
            name=result.name,
            members=result.members,
            invitations=result.invitations,
            teams=result.teams,
            contacts=result.contacts,
        )
