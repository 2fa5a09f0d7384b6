"""GraphQL types of OIDC sign-in."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry.types import Info

from accounts import models
from accounts.selectors import external_identities_visible_to
from schema.fields import model_type
from schema.permissions import restrict, viewer


@model_type(models.UserExternalAuthentication, name="ExternalIdentity")
class ExternalIdentityType:
    """An identity at an external provider through which the user signs in.

    A value of its user (no node id: it is only reached through ``User``)."""

    provider: strawberry.auto = strawberry_django.field(
        description="The provider: its configured name or its issuer URL."
    )
    external_id: strawberry.auto = strawberry_django.field(
        description="The user's subject (`sub`) at that provider."
    )
    created_at: strawberry.auto

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        visible = external_identities_visible_to(user=viewer(info))
        return restrict(queryset, visible).order_by("created_at", "pk")
