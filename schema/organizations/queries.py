from __future__ import annotations

import strawberry
import strawberry_django
from strawberry.types import Info

from accounts.groups import manageable_groups
from accounts.ratelimit import client_address
from accounts.selectors import organizations_visible_to, permission_groups_visible_to
from accounts.services.invitations import invitation_preview
from schema.accounts.types import PermissionGroupType
from schema.organizations.types import InvitationPreviewType, OrganizationType
from schema.permissions import require_viewer


@strawberry.type
class Query:
    @strawberry_django.field(
        description="The viewer's organization; null when the viewer belongs to none."
    )
    def organization(self, info: Info) -> OrganizationType | None:
        user = require_viewer(info)
        return organizations_visible_to(user=user)  # scoped, optimized, first row: the field

    @strawberry_django.field(
        description="The permission groups organization administrators may give to members."
    )
    def manageable_permission_groups(self, info: Info) -> list[PermissionGroupType]:
        user = require_viewer(info)
        groups = permission_groups_visible_to(user=user).filter(
            pk__in=manageable_groups().values("pk")
        )
        return list(groups.order_by("name"))

    @strawberry.field(
        description=(
            "What an invitation token invites to, for anyone holding it; null for an"
            " unknown, used, expired or revoked token."
        )
    )
    def invitation_preview(self, info: Info, token: str) -> InvitationPreviewType | None:
        preview = invitation_preview(token=token, address=client_address(info.context.request))
        return InvitationPreviewType.from_preview(preview) if preview else None
