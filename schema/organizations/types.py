"""GraphQL types of the organization side: the organization, invitations, previews,
abilities, results."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
import strawberry_django
from django.conf import settings
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from accounts import models
from accounts.names import user_display_name_expression
from accounts.selectors import (
    invitations_manageable_by,
    invitations_visibility,
    organization_members,
    organization_seats_used_expression,
    organizations_visibility,
)
from accounts.services.invitations import InvitationPreview, RevokedInvitation
from accounts.services.members import RemovedMember
from accounts.services.organizations import (
    OrganizationWipeOut,
    audit_trail_read,
    organization_seats_used,
    user_can_invite,
    user_can_manage_permission_groups,
    user_can_read_audit_trail,
    user_can_remove_members,
    user_can_update_organization,
    user_can_wipe_out_organization,
)
from accounts.services.sso import sso_visible_to
from backend.keyset import Count, Position, count_up_to, keyset_between
from schema.accounts.types import PermissionGroupType, UserType
from schema.audit.types import AuditEventConnection
from schema.ids import node_uuid
from schema.pagination import KeysetConnection, connection
from schema.permissions import Scoped, viewer
from schema.sso.types import OrganizationSsoType


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


@strawberry.type(name="Plan")
class PlanType:
    key: str
    name: str
    seats: int | None = strawberry.field(description="Seat limit; null for an unlimited plan.")


@strawberry.type(
    name="UserConnection",
    description=(
        "A page of an organization's members, read by position: a cursor holds a member's "
        "email, so every page costs what the first one does."
    ),
)
class MemberConnection(KeysetConnection[UserType]):
    CURSOR_PREFIX = "member"

    @classmethod
    def page(cls, nodes, *, info, limit, after, before, backwards, **kwargs) -> list:
        # ``nodes``: the members, scoped and optimized for the selection, in MEMBER_ORDER.
        rows = keyset_between(nodes, key="email", id="guid", after=after, before=before)
        if backwards:
            rows = rows.reverse()
        return list(rows[:limit])

    @classmethod
    def position(cls, node: models.User) -> Position:
        return Position(key=node.email, id=node.guid)

    @classmethod
    def count(cls, nodes, *, info, **kwargs) -> Count:
        # In the members' order: the first rows of the index range (for a broad search,
        # the first matches among them), or for a selective search the few matches the
        # trigram index finds, sorted; the planner chooses.
        return count_up_to([nodes.values("pk")], settings.DIRECTORY_COUNT_EXACT_UP_TO)


@strawberry_django.type(models.Organization, name="Organization")
class OrganizationType(Scoped, relay.Node):
    visibility = staticmethod(organizations_visibility)
    name: strawberry.auto
    mfa_required: bool = strawberry_django.field(
        description="Every member must set up a second factor (see MFA_REQUIRED)."
    )
    language: str = strawberry_django.field(
        description="The language of invitations to people who have no account yet."
    )

    @strawberry_django.field(only=["plan"])
    def plan(self) -> PlanType:
        plan = self.plan_settings
        return PlanType(key=self.plan, name=plan["name"], seats=plan["seats"])

    @strawberry_django.field(
        annotate={"seats_used_annotated": lambda info: organization_seats_used_expression()},
        description="Members plus pending invitations.",
    )
    def seats_used(self) -> int:
        annotated = getattr(self, "seats_used_annotated", None)
        if annotated is not None:
            return annotated
        return organization_seats_used(organization=self)  # an object a mutation answered

    @connection(
        MemberConnection,
        description=(
            "Members by email, searchable by name or email (every word, case and accents ignored)."
        ),
    )
    def members(self, search: str | None = None) -> Iterable[models.User]:
        return organization_members(organization_id=self.pk, search=search)

    @connection(
        DjangoListConnection[InvitationType],
        description=(
            "Unaccepted invitations, newest first (expired ones too, so they can be resent);"
            " empty for viewers who may not invite."
        ),
    )
    def invitations(self, info: Info) -> Iterable[models.Invitation]:
        return invitations_manageable_by(user=viewer(info)).filter(organization_id=self.pk)

    @connection(
        AuditEventConnection,
        description=(
            "The audit trail, newest first, for administrators (PERMISSION_DENIED for "
            "others): actions (dotted names, README lists them), actorId (a User id), "
            "since and until (occurredAt, until excluded) narrow it."
        ),
    )
    def audit_events(
        self,
        info: Info,
        actions: list[str] | None = None,
        actor_id: relay.GlobalID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterable[models.AuditEvent]:
        return audit_trail_read(
            viewer=viewer(info),
            organization=self,
            actions=actions,
            actor_guid=node_uuid(actor_id, "User") if actor_id is not None else None,
            since=since,
            until=until,
        )

    @strawberry_django.field(
        only=["id"],
        description="The organization's own provider, for administrators (null otherwise).",
    )
    def sso(self, info: Info) -> OrganizationSsoType | None:
        return sso_visible_to(user=viewer(info), organization=self)

    @strawberry_django.field(only=["id"], description="What the viewer may do here.")
    def abilities(self, info: Info) -> OrganizationAbilities:
        return OrganizationAbilities.of(user=viewer(info), organization=self)


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
    can_read_audit_trail: bool

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
            can_read_audit_trail=user_can_read_audit_trail(user=user, organization=organization),
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
