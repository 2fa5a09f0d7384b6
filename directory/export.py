"""What the directory holds about one person, for their data export (``exportMyData``)."""

from __future__ import annotations

from typing import Any

from directory.models import Contact, TeamMembership


def user_directory_export(*, user) -> dict[str, Any]:
    """The contacts ``user`` owns (their profile contact, personal contacts and private
    overrides of colleagues' contacts) and their team memberships."""
    contacts = []
    for contact in Contact.objects.filter(owner_id=user.pk).order_by("created_at", "id"):
        kind = "profile" if contact.user_id else "override" if contact.override_id else "personal"
        contacts.append(
            {
                "id": str(contact.pk),
                "kind": kind,
                "overrides": str(contact.override_id) if contact.override_id else None,
                "full_name": contact.full_name,
                "short_name": contact.short_name,
                "notes": contact.notes,
                "data": contact.data,
                "created_at": contact.created_at.isoformat(),
                "updated_at": contact.updated_at.isoformat(),
            }
        )
    teams = [
        {
            "team": str(membership.team_id),
            "name": membership.team.name,
            "role": membership.role,
            "since": membership.created_at.isoformat(),
        }
        for membership in TeamMembership.objects.filter(user_id=user.pk).select_related("team")
    ]
    return {"contacts": contacts, "team_memberships": teams}
