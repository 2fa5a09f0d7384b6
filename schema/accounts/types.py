"""GraphQL types of the accounts domain."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts import models
from accounts.selectors import (
    organizations_visible_to,
    permission_groups_visible_to,
    users_visible_to,
)
from schema.permissions import viewer


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

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(pk__in=organizations_visible_to(user=viewer(info)).values("pk"))


# only=["guid"]: the optimizer selects the pk by itself but not a custom NodeID; without
# this hint every User `id` in a list costs one query.
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

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(pk__in=users_visible_to(user=viewer(info)).values("pk"))
