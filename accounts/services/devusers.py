from __future__ import annotations

from django.db import transaction

from accounts.models import Organization, User
from accounts.services.groups import permission_groups_setup
from accounts.services.organizations import organization_create

DEV_ORGANIZATION = "Admin Organization"
DEV_USERNAME = "user"
DEV_EMAIL = "user@example.com"
DEV_PASSWORD = "string"


@transaction.atomic
def dev_users_setup() -> list[str]:
    """Create the development organization and superuser; answer what was created."""
    permission_groups_setup()
    created: list[str] = []
    user = User.objects.filter(email__iexact=DEV_EMAIL).first()
    if user is None:
        user = User.objects.create_superuser(
            email=DEV_EMAIL,
            password=DEV_PASSWORD,
            username=DEV_USERNAME,
            first_name="Dev",
            last_name="User",
            email_verified=True,
        )
        created.append(f"user {DEV_EMAIL}")
    if user.organization_id is None:
        organization = Organization.objects.filter(name=DEV_ORGANIZATION).first()
        if organization is None:
            organization_create(name=DEV_ORGANIZATION, administrator=user, plan="enterprise")
            created.append(f"organization {DEV_ORGANIZATION}")
        else:
            user.organization = organization
            user.save(update_fields=["organization"])
    return created
