"""The audit trail: who did what, when, from where; append-only and tamper-evident.

- ``audit_record`` appends an event in the caller's transaction (no change without its
  event, no event for a change rolled back). Where the request came from (client
  address through ``TRUSTED_PROXY_COUNT``, user agent, request id) is taken from the
  request being served (``AuditContextMiddleware``).
- Each event belongs to a chain, its organization's (or the chain of events without
  one), and stores the SHA-256 of a canonical serialisation of itself and of the hash of
  the event before it. The chain's head (``AuditChain``) is locked while an event is
  appended: concurrent events of one organization still form one chain.
  ``audit_verify`` finds the first broken link after a row was edited or removed.
- Nothing in the application updates or deletes an event. On PostgreSQL a trigger
  refuses UPDATE always and DELETE unless the transaction declared the maintenance of
  the trail (``audit_maintenance``): retention (``audit_prune``) and an organization's
  wipe-out (``audit_organization_forget``) only.
- Never recorded: secrets, tokens, passwords, codes.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AuditChain, AuditEvent, Organization, User
from backend import metrics

GENESIS = "0" * 64
NO_ORGANIZATION = ""

# A sign-in's outcome, whatever the method (password, passkey, OIDC...): counted in the
# metrics as well.
SIGN_IN_ACTIONS = frozenset({"user.login.succeeded", "user.login.failed"})

# The actions ``me.securityEvents`` answers: what happened to the viewer's own sign-ins
# and credentials.
SECURITY_ACTIONS = frozenset(
    {
        "user.login.succeeded",
        "user.login.failed",
        "user.logout",
        "user.password.changed",
        "user.password.change_failed",
        "user.password.reset",
        "user.password_reset.requested",
        "user.reauthenticated",
        "user.reauthentication.failed",
        "user.email.change_requested",
        "user.email.changed",
        "user.email.change_reverted",
        "user.mfa.challenged",
        "user.mfa.failed",
        "user.mfa.totp.enabled",
        "user.mfa.totp.disabled",
        "user.mfa.recovery_codes.regenerated",
        "user.mfa.recovery_code.used",
        "user.mfa.passkey.added",
        "user.mfa.passkey.removed",
        "user.identity.linked",
        "user.session.revoked",
    }
)


# Where the request came from --------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    ip_address: str | None
    user_agent: str
    request_id: str


_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar(
    "roster_audit_origin", default=None
)


class AuditContextMiddleware:
    """Keeps where the request came from for the events it records (after
    ``ObservabilityMiddleware``, which gives the request its id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts.ratelimit import client_ip

        token = _origin.set(
            Origin(
                ip_address=client_ip(request) or None,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                request_id=request.request_id,
            )
        )
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)


# Recording ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    type: str
    id: str
    label: str

    @classmethod
    def user(cls, user: User) -> Target:
        return cls("User", str(user.guid), user.email)

    @classmethod
    def organization(cls, organization: Organization) -> Target:
        return cls("Organization", str(organization.pk), organization.name)


def audit_record(
    action: str,
    *,
    actor: User | None = None,
    organization: Organization | None = None,
    target: Target | None = None,
    metadata: dict | None = None,
    actor_email: str | None = None,
) -> AuditEvent:
    """Append an event to ``organization``'s chain (or to the chain of events without
    one), in the caller's transaction."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    origin = _origin.get() or Origin(ip_address=None, user_agent="", request_id="")
    # The address as the column stores it (IPv6 forms normalised), which the hash covers.
    ip_address = AuditEvent._meta.get_field("ip_address").to_python(origin.ip_address)
    key = str(organization.pk) if organization is not None else NO_ORGANIZATION
    with transaction.atomic():
        head = _chain_head(key)
        event = AuditEvent(
            chain=key,
            sequence=head.length + 1,
            occurred_at=timezone.now(),
            action=action,
            organization=organization,
            actor=actor,
            actor_email=actor_email if actor_email is not None else getattr(actor, "email", ""),
            target_type=target.type if target else "",
            target_id=target.id if target else "",
            target_label=(target.label if target else "")[:255],
            ip_address=ip_address,
            user_agent=origin.user_agent,
            request_id=origin.request_id,
            metadata=metadata or {},
            previous_hash=head.last_hash,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.length = event.sequence
        head.last_hash = event.hash
        head.save(update_fields=["length", "last_hash"])
    if action in SIGN_IN_ACTIONS:
        metrics.login_counted(succeeded=action == "user.login.succeeded")
    return event


def audit_user_event(
    action: str, user: User, *, anonymous: bool = False, metadata: dict | None = None
) -> AuditEvent:
    """An event about ``user``'s own account (a sign-in, a credential changed...), in their
    organization's chain, done by ``user`` (or, ``anonymous``, by whoever asked)."""
    return audit_record(
        action,
        actor=None if anonymous else user,
        actor_email="" if anonymous else None,
        organization=user.organization if user.organization_id is not None else None,
        target=Target.user(user),
        metadata=metadata,
    )


def audit_sign_in_failed(action: str, *, email: str, user: User | None, reason: str) -> None:
    """A failed attempt to prove who one is (no actor: the request is anonymous, or not
    yet who it claims): about the account when ``email`` has one, else recorded without
    an account (the email it tried in the metadata)."""
    if user is None:
        # Only an address (never whatever was typed: a password in the wrong field, or
        # megabytes of it).
        audit_record(
            action,
            actor_email="",
            metadata={"email": email if _is_email(email) else None, "reason": reason},
        )
        return
    audit_record(
        action,
        actor_email="",
        organization=user.organization if user.organization_id is not None else None,
        target=Target.user(user),
        metadata={"reason": reason},
    )


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return len(value) <= 254


def _chain_head(key: str) -> AuditChain:
    """The head of chain ``key``, locked until the transaction ends (made at first use;
    two first events racing both insert-or-ignore, then both lock the one row)."""
    head = AuditChain.objects.select_for_update().filter(key=key).first()
    if head is not None:
        return head
    AuditChain.objects.bulk_create(
        [AuditChain(key=key, last_hash=GENESIS, pruned_hash=GENESIS)], ignore_conflicts=True
    )
    return AuditChain.objects.select_for_update().get(key=key)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 of the event's canonical serialisation (sorted keys, no spaces, UTC
    times), which includes the hash of the event before it."""
    content = {
        "chain": event.chain,
        "sequence": event.sequence,
        "previous_hash": event.previous_hash,
        "guid": str(event.guid),
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "action": event.action,
        "organization": str(event.organization_id) if event.organization_id else None,
        "actor": event.actor_id,
        "actor_email": event.actor_email,
        "target": [event.target_type, event.target_id, event.target_label],
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "metadata": event.metadata,
    }
    serialised = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(serialised.encode()).hexdigest()


# Verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    sequence: int
    reason: str


def audit_verify(*, chain: str | None = None) -> list[BrokenLink]:
    """The first broken link of each chain (or of ``chain``): an event whose content no
    longer matches its hash (edited), or that does not follow the event before it
    (removed), or a chain whose last event is not its head's (removed at the end)."""
    heads = AuditChain.objects.all() if chain is None else AuditChain.objects.filter(key=chain)
    broken = []
    for head in heads.order_by("key"):
        link = _chain_first_break(head)
        if link is not None:
            broken.append(link)
    return broken


def _chain_first_break(head: AuditChain) -> BrokenLink | None:
    expected_sequence, expected_previous = head.pruned_through + 1, head.pruned_hash
    events = AuditEvent.objects.filter(chain=head.key).order_by("sequence")
    for event in events.iterator(chunk_size=2000):
        if event.sequence != expected_sequence or event.previous_hash != expected_previous:
            return BrokenLink(head.key, expected_sequence, "missing or reordered event")
        if event_hash(event) != event.hash:
            return BrokenLink(head.key, event.sequence, "edited event")
        expected_sequence, expected_previous = event.sequence + 1, event.hash
    if expected_sequence != head.length + 1 or expected_previous != head.last_hash:
        return BrokenLink(head.key, expected_sequence, "missing events at the end")
    return None


# Maintenance: retention and wipe-out -------------------------------------------------------


@contextlib.contextmanager
def audit_maintenance() -> Iterator[None]:
    """A transaction allowed to delete audit events (on PostgreSQL the trigger refuses
    it otherwise): retention and wipe-out only."""
    with transaction.atomic():
        _maintenance_set("on")
        yield
        # Only this block: the rest of an outer transaction may not delete events.
        _maintenance_set("off")


def _maintenance_set(value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('roster.audit_maintenance', %s, true)", [value])


def audit_prune(*, now: datetime | None = None, days: int | None = None) -> int:
    """Remove the events older than ``days`` (``AUDIT_RETENTION_DAYS``); each chain stays
    verifiable from its oldest kept event (its head records the last removed one)."""
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    for key in AuditChain.objects.values_list("key", flat=True):
        with audit_maintenance():
            head = AuditChain.objects.select_for_update().get(key=key)
            old = AuditEvent.objects.filter(chain=key, occurred_at__lt=cutoff)
            last = old.order_by("-sequence").values("sequence", "hash").first()
            if last is None:
                continue
            # Whole prefixes only: an event is kept if a later one is (clocks agree).
            count, _ = AuditEvent.objects.filter(chain=key, sequence__lte=last["sequence"]).delete()
            head.pruned_through, head.pruned_hash = last["sequence"], last["hash"]
            head.save(update_fields=["pruned_through", "pruned_hash"])
            removed += count
    return removed


def audit_organization_forget(
    *,
    organization: Organization,
    actor: User | None,
    action: str = "organization.wiped_out",
    counts: dict[str, int] | None = None,
) -> None:
    """An organization is deleted (wiped out, or left empty by its last member): its
    events go with it, and one ``action`` event of no organization keeps what went
    (counts only), for the operator."""
    key = str(organization.pk)
    with audit_maintenance():
        removed, _ = AuditEvent.objects.filter(chain=key).delete()
        AuditChain.objects.filter(key=key).delete()
        audit_record(
            action,
            actor=actor,
            target=Target.organization(organization),
            metadata={**(counts or {}), "events_removed": removed},
        )


# Reading -----------------------------------------------------------------------------------


def _security_events_q(user: User) -> Q:
    return Q(target_type="User", target_id=str(user.guid), action__in=SECURITY_ACTIONS)


def audit_events_visibility(*, user) -> Q:
    """Who reads which events: administrators their organization's, everyone the
    security events of their own account."""
    from accounts.services.organizations import user_can_read_audit_trail

    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    visible = _security_events_q(user)
    if user.organization_id is not None and user_can_read_audit_trail(
        user=user, organization=user.organization
    ):
        visible |= Q(chain=str(user.organization_id))
    return visible


def audit_chain_key(organization_id: str) -> str:
    """The chain of an organization id as typed (any case); ValueError unless the
    organization exists or its chain does."""
    try:
        key = str(uuid.UUID(organization_id))
    except ValueError as error:
        raise ValueError(f"Not an organization id: {organization_id!r}.") from error
    if not (
        AuditChain.objects.filter(key=key).exists() or Organization.objects.filter(pk=key).exists()
    ):
        raise ValueError(f"No organization {organization_id!r}.")
    return key


def audit_events_of_organization(
    organization_id,
    *,
    actions: list[str] | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """An organization's events, newest first, narrowed by the filters given."""
    events = AuditEvent.objects.filter(chain=str(organization_id))
    if actions:
        events = events.filter(action__in=actions)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    return events.order_by("-sequence")


def security_events_of(user: User) -> QuerySet[AuditEvent]:
    """The events of ``user``'s own sign-ins and credentials, newest first."""
    return AuditEvent.objects.filter(_security_events_q(user)).order_by("-id")


def event_export_line(event: AuditEvent) -> str:
    """One event as a line of NDJSON (for a SIEM)."""
    return json.dumps(
        {
            "id": str(event.guid),
            "occurred_at": event.occurred_at.isoformat(),
            "action": event.action,
            "organization": str(event.organization_id) if event.organization_id else None,
            "actor_email": event.actor_email,
            "target": {
                "type": event.target_type,
                "id": event.target_id,
                "label": event.target_label,
            },
            "ip_address": event.ip_address,
            "user_agent": event.user_agent,
            "request_id": event.request_id,
            "metadata": event.metadata,
            "chain": event.chain,
            "sequence": event.sequence,
            "hash": event.hash,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
