from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import ProfileData, User


@receiver(post_save, sender=User, dispatch_uid="accounts.user_post_create")
def user_post_create(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    """Post-creation steps of every account, however it was created (exactly once)."""
    if not created or raw:
        return
    ProfileData.objects.get_or_create(
        user=instance,
        defaults={
            "first_name": (instance.first_name or "")[:50],
            "last_name": (instance.last_name or "")[:50],
        },
    )
