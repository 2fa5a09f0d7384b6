from __future__ import annotations

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.optimizer import optimize

from accounts.models import User
from schema.accounts.types import UserType
from schema.permissions import viewer


@strawberry.type
class Query:
    @strawberry_django.field(description="The signed-in user, or null when anonymous.")
    def me(self, info: Info) -> UserType | None:
        user = viewer(info)
        if user is None:
            return None
        return optimize(User.objects.filter(pk=user.pk), info).first()
