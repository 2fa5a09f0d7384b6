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
from schema.directory.types import ContactType
from schema.oidc.types import ExternalIdentityType
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
    external_identities: list[ExternalIdentityType] = strawberry_django.field(
        field_name="external_authentications",
        description="The identities at external providers the user signs in with; "
        "only the user sees their own.",
    )
    profile_contact: ContactType | None = strawberry_django.field(
        description="The user's profile contact, as the viewer sees it (merged view)."
    )

    @strawberry_django.field(select_related=["profile"], only=["profile__first_name"])
    def first_name(self) -> str:
        return self.profile.first_name

    @strawberry_django.field(select_related=["profile"], only=["profile__last_name"])
    def last_name(self) -> str:
        return self.profile.last_name

    @strawberry_django.field(select_related=["profile"], only=["profile__description"])
    def description(self) -> str:
        return self.profile.description

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

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset.filter(pk__in=users_visible_to(user=viewer(info)).values("pk"))


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
