"""Permission groups: creating the plan, system and manageable groups."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.groups import permission_group_names


@transaction.atomic
def permission_groups_setup() -> list[str]:
    """Create the missing groups; answer the names created (empty when nothing changed)."""
    created = []
    for name in permission_group_names():
        _, was_created = Group.objects.get_or_create(name=name)
        if was_created:
            created.append(name)
    return created
