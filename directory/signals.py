from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from directory.services.contacts import profile_contact_create


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="directory.profile_contact")
def create_profile_contact(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        profile_contact_create(user=instance)
