from __future__ import annotations

import strawberry
import strawberry_django
from strawberry.types import Info

from accounts.selectors import viewer_with_relations
from schema.accounts.types import UserType
from schema.permissions import viewer


@strawberry.type
class Query:
    @strawberry_django.field(description="The signed-in user, or null when anonymous.")
    def me(self, info: Info) -> UserType | None:
        user = viewer(info)
        if user is None:
            return None
        # One row: join its one-to-one relations as a hand-written view would. Planning
        # the query from the selection cost more than running it; lists under `me`
        # (groups, identities, invitations) are still optimized when they resolve.
        return viewer_with_relations(user=user)
