"""GraphQL types of OIDC sign-in."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry.types import Info

from accounts import models
from accounts.selectors import external_identities_visibility
from schema.permissions import Scoped


@strawberry_django.type(models.UserExternalAuthentication, name="ExternalIdentity")
class ExternalIdentityType(Scoped):
    """An identity at an external provider through which the user signs in.

    A value of its user (no node id: it is only reached through ``User``)."""

    visibility = staticmethod(external_identities_visibility)

    provider: strawberry.auto = strawberry_django.field(
        description="The provider: its configured name or its issuer URL."
    )
    external_id: strawberry.auto = strawberry_django.field(
        description="The user's subject (`sub`) at that provider."
    )
    created_at: strawberry.auto

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return super().get_queryset(queryset, info, **kwargs).order_by("created_at", "pk")
