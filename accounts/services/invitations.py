"""Invitations into an organization: invite, resend, revoke, preview, accept.

A token reaches the invitee once, by email; only its hash (Purpose.INVITATION) is stored.
Seat checks run with the inviting organization's row locked, so concurrent invites and
accepts never exceed the plan. Each change records its audit event (``accounts.audit``)
in its transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.audit import Target, audit_record
from accounts.emails import email_send, frontend_url
from accounts.groups import manageable_groups
from accounts.models import Invitation, Organization, User, email_normalize
from accounts.names import user_display_name
from accounts.ratelimit import rate_limit_hit
from accounts.selectors import invitation_by_token_hash, invitations_manageable_by
from accounts.services.members import (
    membership_end,
    organization_delete_if_empty,
    permission_groups_for_grant,
    user_permission_caches_clear,
)
from accounts.services.organizations import (
    organization_of_actor_locked,
    organization_seats_check_invite,
    organization_seats_check_join,
    user_can_invite,
)
from accounts.services.ownership import registration_complete
from accounts.tokens import Purpose, token_hash, token_new
from backend.errors import (
    AlreadyMember,
    InvitationEmailMismatch,
    NotFound,
    PermissionDenied,
    TokenExpired,
    TokenInvalid,
    Unauthenticated,
)
from backend.i18n import language_require
from backend.validation import fields_validate

TOKEN_SCOPE = "token-address"


def _hash(token: str) -> str:
    return token_hash(token or "", purpose=Purpose.INVITATION)


def _email_normalized(email: str) -> str:
    email = email_normalize(email)
    fields_validate(Invitation(email=email), ["email"])
    return email


def _invitation_send(invitation: Invitation, token: str) -> None:
    """Email the invitation: to an account's owner in their language and time zone, to
    anyone else in the invitation's language, else the organization's (in UTC)."""
    inviter = invitation.inviter
    email_send(
        to=invitation.email,
        template="invitation",
        context={
            "organization_name": invitation.organization.name,
            "inviter_name": user_display_name(inviter),
            "email": invitation.email,
            "expires_at": invitation.expires_at,
            "link": frontend_url("invitation", token=token),
        },
        # An account whose address is proven; a pending registration's language is the
        # choice of whoever registered the address, not necessarily its owner.
        recipient=User.objects.filter(email__iexact=invitation.email, email_verified=True).first(),
        language=invitation.language or invitation.organization.language,
    )


@transaction.atomic
def invitation_create(
    *,
    actor,
    email: str,
    permission_group_names: Iterable[str] = (),
    language: str | None = None,
) -> Invitation:
    """Invite ``email`` into the actor's organization (administrators and inviters).

    A pending invitation to the same address is replaced (its token dies), never
    duplicated. SEAT_LIMIT_REACHED when members plus pending invitations would exceed
    the plan; ALREADY_MEMBER for a member's address. ``language`` is the email's when
    the address has no account (default: the organization's).
    """
    organization = organization_of_actor_locked(actor=actor)
    if not user_can_invite(user=actor, organization=organization):
        raise PermissionDenied()
    language_require(language)
    email = _email_normalized(email)
    groups = permission_groups_for_grant(actor=actor, names=permission_group_names)
    _invitation_email_limit(actor=actor, email=email)
    if User.objects.filter(organization_id=organization.pk, email__iexact=email).exists():
        raise AlreadyMember()
    previous = Invitation.objects.filter(
        organization_id=organization.pk, email__iexact=email, accepted_at__isnull=True
    ).first()
    organization_seats_check_invite(organization=organization, replacing=previous)
    metadata: dict = {"permission_groups": sorted(group.name for group in groups)}
    if previous is not None:
        metadata["replaced"] = str(previous.pk)
        previous.delete()
    token = token_new()
    invitation = Invitation.objects.create(
        organization=organization,
        inviter=actor,
        email=email,
        token_hash=_hash(token),
        expires_at=timezone.now() + settings.INVITATION_LIFETIME,
        language=language or "",
    )
    invitation.permission_groups.set(groups)
    audit_record(
        "invitation.created",
        actor=actor,
        organization=organization,
        target=_invitation_target(invitation),
        metadata=metadata,
    )
    _invitation_send(invitation, token)
    return invitation


def _invitation_target(invitation: Invitation) -> Target:
    return Target("Invitation", str(invitation.pk), invitation.email)


def _invitation_email_limit(*, actor, email: str) -> None:
    """Invitation emails are rate limited per recipient and per sender, per call, so no
    one can flood an inbox through invite/resend loops or aliases."""
    rate_limit_hit(scope="invitation-email", identity=email)
    rate_limit_hit(scope="invitation-actor", identity=str(actor.pk))


def _invitation_of_actor(*, actor, invitation_id) -> Invitation:
    if invitation_id is None:
        raise NotFound()
    invitation = invitations_manageable_by(user=actor).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound()
    return invitation


@transaction.atomic
def invitation_resend(*, actor, invitation_id) -> Invitation:
    """A new token and a new expiry, emailed again; the old token stops working. An expired
    invitation takes a seat again, so the seat limit is checked."""
    organization = organization_of_actor_locked(actor=actor)
    if not user_can_invite(user=actor, organization=organization):
        raise PermissionDenied()
    invitation = _invitation_of_actor(actor=actor, invitation_id=invitation_id)
    # Re-issuing grants the invitation's groups anew: the actor must be allowed to give them.
    permission_groups_for_grant(
        actor=actor, names=invitation.permission_groups.values_list("name", flat=True)
    )
    _invitation_email_limit(actor=actor, email=invitation.email)
    organization_seats_check_invite(organization=organization, replacing=invitation)
    token = token_new()
    invitation.token_hash = _hash(token)
    invitation.expires_at = timezone.now() + settings.INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "expires_at"])
    invitation.organization = organization
    audit_record(
        "invitation.resent",
        actor=actor,
        organization=organization,
        target=_invitation_target(invitation),
    )
    _invitation_send(invitation, token)
    return invitation


@dataclass(frozen=True)
class RevokedInvitation:
    invitation_id: uuid.UUID
    email: str
    organization: Organization


@transaction.atomic
def invitation_revoke(*, actor, invitation_id) -> RevokedInvitation:
    """Delete a pending invitation; its token stops working and its seat is free."""
    organization = organization_of_actor_locked(actor=actor)
    if not user_can_invite(user=actor, organization=organization):
        raise PermissionDenied()
    invitation = _invitation_of_actor(actor=actor, invitation_id=invitation_id)
    revoked = RevokedInvitation(
        invitation_id=invitation.pk, email=invitation.email, organization=organization
    )
    target = _invitation_target(invitation)
    invitation.delete()
    audit_record("invitation.revoked", actor=actor, organization=organization, target=target)
    return revoked


@dataclass(frozen=True)
class InvitationPreview:
    organization_name: str
    inviter_name: str
    email: str
    expires_at: datetime


def invitation_preview(*, token: str, address: str | None = None) -> InvitationPreview | None:
    """What the holder of a token is invited to; None for an unknown, used, revoked or
    expired token (all alike). Counts against the token-redemption rate limit."""
    rate_limit_hit(scope=TOKEN_SCOPE, identity=address)
    invitation = invitation_by_token_hash(token_hash=_hash(token))
    if invitation is None or invitation.accepted_at is not None or invitation.is_expired:
        return None
    return InvitationPreview(
        organization_name=invitation.organization.name,
        inviter_name=user_display_name(invitation.inviter),
        email=invitation.email,
        expires_at=invitation.expires_at,
    )


@transaction.atomic
def invitation_accept(*, actor, token: str, address: str | None = None) -> Organization:
    """The signed-in user whose email matches moves into the inviting organization with
    the invited groups. Rate limited per client address."""
    if not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    rate_limit_hit(scope=TOKEN_SCOPE, identity=address)
    organization = _invitation_redeem(user=actor, token=token)
    user_permission_caches_clear(actor)
    return organization


def invitation_join_new_user(*, user: User, token: str) -> Organization:
    """Called by ``register`` inside its transaction when an invitation token is given.

    Validates the token (TOKEN_INVALID, TOKEN_EXPIRED, INVITATION_EMAIL_MISMATCH,
    SEAT_LIMIT_REACHED), moves ``user`` into the inviting organization with the invited
    groups, marks the invitation accepted and the email verified (the token reached
    that address), and answers the organization.
    """
    with transaction.atomic():
        return _invitation_redeem(user=user, token=token)


def _invitation_redeem(*, user: User, token: str) -> Organization:
    found = invitation_by_token_hash(token_hash=_hash(token))
    _redeemable_check(found, user)
    if user.organization_id == found.organization_id:
        raise AlreadyMember()
    locked = _organizations_lock(user=user, organization_ids={found.organization_id})
    if user.organization_id == found.organization_id:
        raise AlreadyMember()
    organization = locked.get(found.organization_id)
    # Re-read under the lock: a concurrent accept, resend or revoke may have won.
    invitation = (
        Invitation.objects.select_for_update()
        .filter(pk=found.pk, token_hash=found.token_hash)
        .first()
    )
    if organization is None or invitation is None:
        raise TokenInvalid()
    _redeemable_check(invitation, user)
    organization_seats_check_join(organization=organization)
    previous = locked.get(user.organization_id)
    if previous is not None:
        membership_end(user=user, organization=previous, may_empty=True)
    else:
        user.groups.remove(*manageable_groups())
    user.organization = organization
    user.email_verified = True
    user.save(update_fields=["organization", "email_verified"])
    user.groups.add(*invitation.permission_groups.filter(pk__in=manageable_groups().values("pk")))
    registration_complete(user=user)  # a pending registration ends: it joined instead
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    inviter_email = (
        User.objects.filter(pk=invitation.inviter_id).values_list("email", flat=True).first()
    )
    audit_record(
        "invitation.accepted",
        actor=user,
        organization=organization,
        target=_invitation_target(invitation),
        metadata={"inviter_email": inviter_email} if inviter_email else None,
    )
    if previous is not None:
        organization_delete_if_empty(organization=previous)
    user_permission_caches_clear(user)
    return organization


def _organizations_lock(*, user: User, organization_ids: set) -> dict:
    """Lock the given organizations and the one ``user`` is leaving, in one order (by key)
    so that crossing moves can't deadlock. The user's organization is read again under
    the lock: a concurrent request may have moved them meanwhile."""
    locked: dict = {}
    wanted = set(organization_ids)
    while True:
        keys = sorted((wanted | {user.organization_id}) - {None} - set(locked))
        rows = Organization.objects.select_for_update().filter(pk__in=keys).order_by("pk")
        locked.update({org.pk: org for org in rows})
        current = User.objects.filter(pk=user.pk).values_list("organization_id", flat=True).first()
        if current is None or current in locked:
            user.organization_id = current
            return locked
        user.organization_id = current


def _redeemable_check(invitation: Invitation | None, user: User) -> None:
    if invitation is None or invitation.accepted_at is not None:
        raise TokenInvalid()
    if invitation.is_expired:
        raise TokenExpired()
    if email_normalize(invitation.email) != email_normalize(user.email):
        raise InvitationEmailMismatch()
