from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from directory.models import Team
from directory.services.contacts import profile_contact_create
from directory.services.teams import team_permissions_purge


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="directory.profile_contact")
def create_profile_contact(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        profile_contact_create(user=instance)


@receiver(post_delete, sender=Team, dispatch_uid="directory.team_permissions_purge")
def purge_team_permissions(sender, instance: Team, **kwargs) -> None:
    # Guardian's generic rows are not cascaded, e.g. when an organization is deleted.
    team_permissions_purge(team_id=instance.pk)
