"""Organizations: creation and membership basics."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Organization, User
from accounts.services.groups import permission_groups_setup


@transaction.atomic
def organization_create(*, name: str, administrator: User, plan: str | None = None) -> Organization:
    """A new organization on the default plan with ``administrator`` as its first member."""
    organization = Organization.objects.create(
        name=name.strip()[:100], plan=plan or settings.DEFAULT_SUBSCRIPTION
    )
    administrator.organization = organization
    administrator.save(update_fields=["organization"])
    administrators = _group(settings.ADMINISTRATORS_GROUP)
    administrator.groups.add(administrators)
    return organization


def _group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        permission_groups_setup()
        group = Group.objects.get(name=name)
    return group
