"""GraphQL types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from accounts import models
from accounts.selectors import (
    invitations_addressed_to,
    invitations_manageable_by,
    organization_members,
    organizations_visible_to,
    permission_groups_visible_to,
    users_visible_to,
)
from accounts.services.organizations import organization_seats_used
from schema.permissions import viewer

if TYPE_CHECKING:
    from schema.organizations.types import InvitationType, OrganizationAbilities


@strawberry.type(name="Plan")
class PlanType:
    key: str
    name: str
    seats: int | None = strawberry.field(description="Seat limit; null for an unlimited plan.")


@strawberry_django.type(Group, name="PermissionGroup")
class PermissionGroupType(relay.Node):
    name: strawberry.auto

    @classmethod
    def resolve_id_attr(cls) -> str:
        # Group names are unique; the integer key never leaves the server.
        return "name"

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(pk__in=permission_groups_visible_to(user=viewer(info)).values("pk"))


@strawberry_django.type(models.Organization, name="Organization")
class OrganizationType(relay.Node):
    name: strawberry.auto

    @strawberry_django.field(only=["plan"])
    def plan(self) -> PlanType:
        plan = self.plan_settings
        return PlanType(key=self.plan, name=plan["name"], seats=plan["seats"])

    @strawberry_django.field(only=["id"], description="Members plus pending invitations.")
    def seats_used(self) -> int:
        return organization_seats_used(organization=self)

    @strawberry_django.connection(
        DjangoListConnection[Annotated["UserType", strawberry.lazy("schema.accounts.types")]],
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

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(pk__in=organizations_visible_to(user=viewer(info)).values("pk"))


# The node id is the guid: load it with every User, or each id costs a query (N+1).
@strawberry_django.type(models.User, name="User", only=["guid"])
class UserType(relay.Node):
    guid: relay.NodeID[str]
    email: strawberry.auto
    email_verified: strawberry.auto
    language: strawberry.auto
    timezone: strawberry.auto
    organization: OrganizationType | None
    permission_groups: list[PermissionGroupType] = strawberry_django.field(field_name="groups")

    @strawberry_django.field(select_related=["profile"], only=["profile__first_name"])
    def first_name(self) -> str:
        return self.profile.first_name

    @strawberry_django.field(select_related=["profile"], only=["profile__last_name"])
    def last_name(self) -> str:
        return self.profile.last_name

    @strawberry_django.field(select_related=["profile"], only=["profile__description"])
    def description(self) -> str:
        return self.profile.description

    @strawberry_django.connection(
        DjangoListConnection[
            Annotated["InvitationType", strawberry.lazy("schema.organizations.types")]
        ],
        description="Pending invitations addressed to this user's email (only the viewer's own).",
    )
    def invitations(self, info: Info) -> Iterable[models.Invitation]:
        user = viewer(info)
        if user is None or user.pk != self.pk:
            return models.Invitation.objects.none()
        return invitations_addressed_to(user=user)

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(pk__in=users_visible_to(user=viewer(info)).values("pk"))
