"""Permission groups as read: their names, the manageable ones, who holds which role.

Read-only predicates, shared by selectors and services (``accounts.services.groups``
creates the groups).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group


def plan_group_name(plan_key: str) -> str:
    return f"Plan: {settings.SUBSCRIPTIONS_AVAILABLE[plan_key]['name']}"


def permission_group_names() -> list[str]:
    plans = [plan_group_name(key) for key in settings.SUBSCRIPTIONS_AVAILABLE]
    return [
        *plans,
        *settings.SYSTEM_PERMISSION_GROUPS,
        *settings.MANAGEABLE_PERMISSION_GROUPS,
    ]


def manageable_groups():
    return Group.objects.filter(name__in=settings.MANAGEABLE_PERMISSION_GROUPS).order_by("name")


def user_is_administrator(user) -> bool:
    """Administrator of their own organization (groups never reach across organizations)."""
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return False
    return _in_group(user, settings.ADMINISTRATORS_GROUP)


def user_is_inviter(user) -> bool:
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return False
    return _in_group(user, settings.ADMINISTRATORS_GROUP) or _in_group(
        user, settings.INVITERS_GROUP
    )


def _in_group(user, name: str) -> bool:
    cache = getattr(user, "_group_names_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._group_names_cache = cache
    return name in cache
