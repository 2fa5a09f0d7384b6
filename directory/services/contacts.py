"""Directory business rules: contacts and teams."""

from __future__ import annotations

from directory.models import Contact


def profile_contact_create(*, user) -> Contact:
    """The profile contact every user has, owned by that user."""
    full_name = f"{user.first_name} {user.last_name}".strip() or user.email
    contact, _ = Contact.objects.get_or_create(
        user=user,
        defaults={
            "owner": user,
            "full_name": full_name[:150],
            "data": {"emails": [{"type": "Work", "value": user.email}]} if user.email else {},
        },
    )
    return contact


def profile_contact_sync(*, user) -> None:
    """Keep the profile contact's name in step with the user's profile names."""
    profile = user.profile
    full_name = f"{profile.first_name} {profile.last_name}".strip() or user.email
    Contact.objects.filter(user=user).update(full_name=full_name[:150])
