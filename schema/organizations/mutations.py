"""Organization mutations: each unpacks its input, calls one service, returns the result."""

from __future__ import annotations

from typing import Annotated

import strawberry
from django.utils.translation import gettext
from strawberry.types import Info

from accounts.ratelimit import client_address
from accounts.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from accounts.services.members import member_remove, member_set_permission_groups
from accounts.services.organizations import organization_update, organization_wipe_out
from backend.errors import Invalid
from schema.accounts.types import UserType
from schema.ids import node_key, node_uuid
from schema.mutations import input_mutation
from schema.organizations.types import (
    InvitationType,
    OrganizationType,
    OrganizationWipeOutType,
    RemovedMemberType,
    RevokedInvitationType,
)
from schema.permissions import require_viewer


def permission_group_names(ids: list[strawberry.ID] | None) -> list[str]:
    names = []
    for value in ids or []:
        parsed = node_key(value, "PermissionGroup")
        if parsed is None:
            raise Invalid(gettext("Not a permission group id."), field="permissionGroupIds")
        names.append(parsed)
    return names


@strawberry.type
class Mutation:
    @input_mutation(description="Email an invitation into the viewer's organization.")
    def invite(
        self,
        info: Info,
        email: str,
        permission_group_ids: list[strawberry.ID] | None = None,
        language: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "The email's language when the address has no account (an account's "
                    "owner reads it in their own); default: the organization's language."
                )
            ),
        ] = None,
    ) -> InvitationType:
        return invitation_create(
            actor=require_viewer(info),
            email=email,
            permission_group_names=permission_group_names(permission_group_ids),
            language=language,
        )

    @input_mutation(description="Send an invitation again with a new token and expiry.")
    def resend_invitation(self, info: Info, id: strawberry.ID) -> InvitationType:
        return invitation_resend(
            actor=require_viewer(info), invitation_id=node_uuid(id, "Invitation")
        )

    @input_mutation(description="Withdraw a pending invitation; its link stops working.")
    def revoke_invitation(self, info: Info, id: strawberry.ID) -> RevokedInvitationType:
        result = invitation_revoke(
            actor=require_viewer(info), invitation_id=node_uuid(id, "Invitation")
        )
        return RevokedInvitationType.from_result(result)

    @input_mutation(
        description="Join the inviting organization (the viewer's email must be the invited one)."
    )
    def accept_invitation(self, info: Info, token: str) -> OrganizationType:
        return invitation_accept(
            actor=require_viewer(info),
            token=token,
            address=client_address(info.context.request),
        )

    @input_mutation(description="Replace a member's manageable permission groups.")
    def set_permission_groups(
        self, info: Info, user_id: strawberry.ID, permission_group_ids: list[strawberry.ID]
    ) -> UserType:
        return member_set_permission_groups(
            actor=require_viewer(info),
            user_guid=node_uuid(user_id, "User"),
            permission_group_names=permission_group_names(permission_group_ids),
        )

    @input_mutation(description="Take a member out of the organization.")
    def remove_member(self, info: Info, user_id: strawberry.ID) -> RemovedMemberType:
        result = member_remove(actor=require_viewer(info), user_guid=node_uuid(user_id, "User"))
        return RemovedMemberType.from_result(result)

    @input_mutation(
        description=(
            "Rename the viewer's organization, require a second factor of every member "
            "(mfaRequired: until they set one up, members may only do that; see "
            "MFA_REQUIRED) and/or set the language of invitations to people without an "
            "account (language). Fields left out stay."
        )
    )
    def update_organization(
        self,
        info: Info,
        name: str | None = None,
        mfa_required: bool | None = None,
        language: str | None = None,
    ) -> OrganizationType:
        return organization_update(
            actor=require_viewer(info), name=name, mfa_required=mfa_required, language=language
        )

    @input_mutation(
        sensitive=True,
        description=(
            "Delete the organization, its members' accounts and all their data;"
            " confirmName must equal the organization's name."
        ),
    )
    def wipe_out_organization(self, info: Info, confirm_name: str) -> OrganizationWipeOutType:
        result = organization_wipe_out(actor=require_viewer(info), confirm_name=confirm_name)
        return OrganizationWipeOutType.from_result(result)
