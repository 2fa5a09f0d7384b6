"""GraphQL types of the audit trail (``accounts.audit``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
import strawberry_django
from django.conf import settings
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from accounts import models
from accounts.audit import audit_events_visibility
from backend.keyset import Count, Position, count_up_to, keyset_between
from schema.pagination import KeysetConnection
from schema.permissions import Scoped, viewer

if TYPE_CHECKING:
    from schema.accounts.types import UserType
    from schema.organizations.types import OrganizationType


@strawberry.type(name="AuditTarget")
class AuditTargetType:
    type: str = strawberry.field(description="What was acted on: User, Team, Invitation...")
    id: strawberry.ID = strawberry.field(description="Its node id (as `node(id:)` takes).")
    label: str = strawberry.field(description="Its name or email as it was then.")


@strawberry_django.type(models.AuditEvent, name="AuditEvent", only=["guid", "sequence"])
class AuditEventType(Scoped, relay.Node):
    """One entry of the audit trail: who did what, when, from where. Append-only."""

    visibility = staticmethod(audit_events_visibility)
    guid: relay.NodeID[str]
    occurred_at: datetime
    action: str = strawberry_django.field(
        description="A dotted name (user.login.failed, team.role.changed); README lists them."
    )
    actor_email: str = strawberry_django.field(
        description="The actor's email as it was (kept when the account is gone); empty "
        "for an anonymous request."
    )
    ip_address: str | None = strawberry_django.field(description="The client's address.")
    user_agent: str
    request_id: str = strawberry_django.field(description="The request's X-Request-ID.")
    metadata: JSON = strawberry_django.field(
        description="What changed (old and new role, groups added and removed...); never a "
        "secret, token or password."
    )

    @strawberry_django.field(
        select_related=["actor"],
        description="Who did it, while their account exists and the viewer may see it.",
    )
    def actor(
        self, info: Info
    ) -> Annotated[UserType, strawberry.lazy("schema.accounts.types")] | None:
        actor, current = self.actor, viewer(info)
        if actor is None or current is None:
            return None
        same = actor.pk == current.pk or (
            actor.organization_id is not None and actor.organization_id == current.organization_id
        )
        return actor if same else None

    @strawberry_django.field(
        select_related=["organization"],
        description="The organization it happened in, while it exists.",
    )
    def organization(
        self, info: Info
    ) -> Annotated[OrganizationType, strawberry.lazy("schema.organizations.types")] | None:
        current = viewer(info)
        organization = self.organization
        if organization is None or current is None or organization.pk != current.organization_id:
            return None
        return organization

    @strawberry_django.field(only=["target_type", "target_id", "target_label"])
    def target(self) -> AuditTargetType | None:
        if not self.target_type:
            return None
        return AuditTargetType(
            type=self.target_type,
            id=strawberry.ID(str(relay.GlobalID(self.target_type, self.target_id))),
            label=self.target_label,
        )


class _EventsByPosition(KeysetConnection[AuditEventType]):
    """Events newest first, read by position: a cursor holds an event's place (``KEY``,
    an increasing number), so events recorded meanwhile never shift the next page."""

    KEY: ClassVar[str]

    @classmethod
    def page(cls, nodes, *, info, limit, after, before, backwards, **kwargs) -> list:
        # Newest first: the rows "after" a cursor are the older ones.
        rows = keyset_between(nodes, key=cls.KEY, id="guid", after=before, before=after)
        order = (cls.KEY, "guid") if backwards else (f"-{cls.KEY}", "-guid")
        return list(rows.order_by(*order)[:limit])

    @classmethod
    def position(cls, node: models.AuditEvent) -> Position:
        return Position(key=f"{getattr(node, cls.KEY):020d}", id=node.guid)

    @classmethod
    def count(cls, nodes, *, info, **kwargs) -> Count:
        return count_up_to([nodes.values("pk")], settings.DIRECTORY_COUNT_EXACT_UP_TO)


@strawberry.type(name="AuditEventConnection")
class AuditEventConnection(_EventsByPosition):
    """An organization's events, by their place in its chain."""

    CURSOR_PREFIX = "audit"
    KEY = "sequence"


@strawberry.type(name="SecurityEventConnection")
class SecurityEventConnection(_EventsByPosition):
    """A person's security events (of any chain), in the order they were recorded."""

    CURSOR_PREFIX = "security"
    KEY = "id"
