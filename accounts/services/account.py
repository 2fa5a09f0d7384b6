"""The viewer's own account: export everything Roster holds about it, or delete it."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_user_event
from accounts.models import Organization, User, email_normalize
from accounts.names import user_display_name
from accounts.ratelimit import rate_limit_hit
from accounts.services import mfa
from accounts.services.members import membership_end, organization_delete_if_empty
from accounts.signals import user_data_exporting
from backend.errors import Invalid, Unauthenticated

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "roster.data-export/1"


def _viewer(actor) -> User:
    if not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    return actor


def account_export(*, actor) -> dict[str, Any]:
    """Everything Roster holds about the actor, as JSON-ready data (GDPR articles 15 and
    20; the shape is ``EXPORT_FORMAT``, documented in README). Rate limited per user."""
    user = _viewer(actor)
    rate_limit_hit(scope="data-export-user", identity=str(user.pk))
    user = User.objects.select_related("profile", "organization", "avatar").get(pk=user.pk)
    profile = getattr(user, "profile", None)
    avatar = getattr(user, "avatar", None)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "account": {
            "id": str(user.guid),
            "email": user.email,
            "email_verified": user.email_verified,
            "display_name": user_display_name(user),
            "language": user.language,
            "timezone": user.timezone,
            "joined_at": user.date_joined.isoformat(),
            "last_login_at": user.last_login.isoformat() if user.last_login else None,
            "has_password": user.has_usable_password(),
            # Whether each factor is set up, never its secret or codes.
            "second_factor": {
                "totp_enabled": mfa.totp_enabled(user),
                "recovery_codes_left": mfa.recovery_codes_left(user),
                "passkeys": [
                    {
                        "name": name,
                        "created_at": created.isoformat(),
                        "last_used_at": used.isoformat() if used else None,
                    }
                    for name, created, used in user.passkeys.order_by("created_at").values_list(
                        "name", "created_at", "last_used_at"
                    )
                ],
            },
        },
        "profile": {
            "first_name": profile.first_name if profile else "",
            "last_name": profile.last_name if profile else "",
            "description": profile.description if profile else "",
            "avatar": avatar.image.name if avatar else None,
        },
        "organization": (
            {
                "id": str(user.organization.pk),
                "name": user.organization.name,
                "plan": user.organization.plan,
            }
            if user.organization
            else None
        ),
        "permission_groups": sorted(user.groups.values_list("name", flat=True)),
        "external_identities": [
            {"provider": provider, "external_id": external_id, "linked_at": linked.isoformat()}
            for provider, external_id, linked in user.external_authentications.values_list(
                "provider", "external_id", "created_at"
            )
        ],
        "sessions": [
            {
                "signed_in_at": _iso(created),
                "last_active_at": _iso(active),
                "ip_address": address,
                "user_agent": agent,
            }
            for created, active, address, agent in user.sessions.filter(
                expire_date__gt=timezone.now()
            ).values_list("created_at", "last_active_at", "ip_address", "user_agent")
        ],
    }
    # Other apps add what they hold (the directory: contacts and team memberships).
    for _, part in user_data_exporting.send(sender=User, user=user):
        data.update(part or {})
    logger.info("User %s exported their data", user.pk)
    audit_user_event("user.data.exported", user)
    return data


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


@transaction.atomic
def account_delete(*, actor, request: HttpRequest, confirm_email: str) -> None:
    """Delete the actor's account and personal data in one transaction, then sign out.

    As when a member leaves: their teams hand the owner role on, and the last
    administrator of an organization with other members cannot go (LAST_ADMINISTRATOR).
    Profile, avatar (files after commit), contacts and overrides, team memberships,
    sessions and identities go with the account; an organization left empty is deleted.
    ``confirm_email`` must repeat the account's email."""
    user = _viewer(actor)
    if email_normalize(confirm_email) != user.email:
        raise Invalid(
            gettext("Type your email address exactly to confirm."),
            field="confirmEmail",
            code="INVALID",
        )
    organization = (
        Organization.objects.select_for_update().filter(pk=user.organization_id).first()
        if user.organization_id
        else None
    )
    user = User.objects.select_for_update().get(pk=user.pk)
    if organization is not None:
        membership_end(user=user, organization=organization, may_empty=True)
    logger.info("User %s deleted their account", user.pk)
    audit_user_event("user.deleted", user)
    user.delete()  # its sessions end with it (accounts.signals)
    if organization is not None:
        organization_delete_if_empty(organization=organization)
    auth_logout(request)
