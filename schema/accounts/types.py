"""GraphQL types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection
from strawberry_django.relay.utils import resolve_model_node, resolve_model_nodes

from accounts import models
from accounts.selectors import (
    invitations_addressed_to_user_visible_to,
    invitations_manageable_by,
    organization_members,
    organization_seats_used_expression,
    organization_visible_to,
    organizations_visible_to,
    permission_groups_visible_to,
    users_visible_to,
)
from accounts.services.organizations import organization_seats_used
from schema.directory.types import ContactType
from schema.fields import CountedListConnection, model_field, model_type
from schema.oidc.types import ExternalIdentityType
from schema.permissions import restrict, viewer

if TYPE_CHECKING:
    from schema.organizations.types import InvitationType, OrganizationAbilities


@strawberry.type(name="Plan")
class PlanType:
    key: str
    name: str
    seats: int | None = strawberry.field(description="Seat limit; null for an unlimited plan.")


@model_type(Group, name="PermissionGroup")
class PermissionGroupType(relay.Node):
    name: strawberry.auto

    @classmethod
    def resolve_id_attr(cls) -> str:
        # Group names are unique; the integer key never leaves the server.
        return "name"

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return restrict(queryset, permission_groups_visible_to(user=viewer(info)))


@model_type(models.Organization, name="Organization")
class OrganizationType(relay.Node):
    name: strawberry.auto

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

    @strawberry_django.connection(
        CountedListConnection["UserType"],
        description="Members, searchable by name or email.",
    )
    def members(self, search: str | None = None) -> Iterable[models.User]:
        return organization_members(organization_id=self.pk, search=search)

    @strawberry_django.connection(
        DjangoListConnection[
            Annotated["InvitationType", strawberry.lazy("schema.organizations.types")]
        ],
        description=(
            "Unaccepted invitations, newest first (expired ones too, so they can be resent);"
            " empty for viewers who may not invite."
        ),
    )
    def invitations(self, info: Info) -> Iterable[models.Invitation]:
        return invitations_manageable_by(user=viewer(info)).filter(organization_id=self.pk)

    @strawberry_django.field(only=["id"], description="What the viewer may do here.")
    def abilities(
        self, info: Info
    ) -> Annotated[OrganizationAbilities, strawberry.lazy("schema.organizations.types")]:
        from schema.organizations.types import OrganizationAbilities

        return OrganizationAbilities.of(user=viewer(info), organization=self)

    # No get_queryset: it would make the optimizer fetch every User.organization in a
    # prefetch query of its own instead of joining it. The members-only rule is applied
    # where an organization is reached instead: the root query (its selector), the
    # relation (MembersOnlyOrganization) and node ids (here).
    @classmethod
    def resolve_node(cls, node_id: str, *, info: Info, required: bool = False):
        node = resolve_model_node(cls, node_id, info=info, required=required)
        return _members_only(viewer(info), node)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str] | None, required: bool = False):
        user = viewer(info)
        nodes = resolve_model_nodes(cls, info=info, node_ids=node_ids, required=required)
        if node_ids is None:
            return restrict(nodes, organizations_visible_to(user=user))
        return [_members_only(user, node) for node in nodes]


def _members_only(user, organization: models.Organization | None):
    if organization is None or not organization_visible_to(
        user=user, organization_id=organization.pk
    ):
        return None
    return organization


class MembersOnlyOrganization(FieldExtension):
    """A user's organization shows only to its members, also on objects answered by
    mutations (which bypass ``get_queryset``), e.g. an anonymous ``register`` answer.

    An extension rather than a resolver, so the optimizer still joins the organization
    (or prefetches it, with its annotations, when ``seatsUsed`` is selected)."""

    def resolve(self, next_, source, info, **kwargs):
        if not organization_visible_to(user=viewer(info), organization_id=source.organization_id):
            return None
        return next_(source, info, **kwargs)


# only=["guid"]: the optimizer selects the pk by itself but not a custom NodeID; without
# this hint every User `id` in a list costs one query.
@model_type(models.User, name="User", only=["guid"])
class UserType(relay.Node):
    guid: relay.NodeID[str]
    email: strawberry.auto
    email_verified: strawberry.auto
    language: strawberry.auto
    timezone: strawberry.auto
    permission_groups: list[PermissionGroupType] = strawberry_django.field(field_name="groups")
    external_identities: list[ExternalIdentityType] = strawberry_django.field(
        field_name="external_authentications",
        description="The identities at external providers the user signs in with; "
        "only the user sees their own.",
    )
    profile_contact: ContactType | None = strawberry_django.field(
        description="The user's profile contact, as the viewer sees it (merged view)."
    )

    organization: OrganizationType | None = strawberry_django.field(
        extensions=[MembersOnlyOrganization()]
    )

    first_name: str = model_field(field_name="profile__first_name")

    last_name: str = model_field(field_name="profile__last_name")

    description: str = model_field(field_name="profile__description")

    @strawberry_django.field(
        select_related=["avatar"],
        only=["avatar__image"],
        description="Absolute URL of the avatar image; null without an avatar.",
    )
    def avatar_url(self, info: Info) -> str | None:
        return _avatar_file_url(self, "image", info)

    @strawberry_django.field(
        select_related=["avatar"],
        only=["avatar__thumbnail"],
        description="Absolute URL of the square avatar thumbnail; null without an avatar.",
    )
    def avatar_thumb_url(self, info: Info) -> str | None:
        return _avatar_file_url(self, "thumbnail", info)

    @strawberry_django.connection(
        DjangoListConnection[
            Annotated["InvitationType", strawberry.lazy("schema.organizations.types")]
        ],
        description="Pending invitations addressed to this user's email (only the viewer's own).",
    )
    def invitations(self, info: Info) -> Iterable[models.Invitation]:
        return invitations_addressed_to_user_visible_to(user=self, viewer=viewer(info))

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return restrict(queryset, users_visible_to(user=viewer(info)))


def _avatar_file_url(user: models.User, field: str, info: Info) -> str | None:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    avatar = getattr(user, "avatar", None)
    file = getattr(avatar, field, None) if avatar is not None else None
    if not file:
        return None
    return info.context.request.build_absolute_uri(file.url)


@strawberry.type(description="The request was accepted (the same answer for any email).")
class EmailRequestAccepted:
    ok: bool = True


@strawberry.type(description="The session has ended.")
class LoggedOut:
    ok: bool = True
