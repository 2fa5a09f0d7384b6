from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from accounts.models import Avatar, ProfileData, User
from accounts.sessions import sessions_end


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


@receiver(post_delete, sender=Avatar, dispatch_uid="accounts.avatar_files_delete")
def avatar_post_delete(sender, instance: Avatar, **kwargs) -> None:
    """A removed avatar's files go once the deletion is committed (also on cascades)."""
    from accounts.services.profile import avatar_files_delete

    names = [instance.image.name, instance.thumbnail.name]
    transaction.on_commit(lambda: avatar_files_delete(names=names))


@receiver(pre_delete, sender=User, dispatch_uid="accounts.user_sessions_end_on_delete")
def user_sessions_end_on_delete(sender, instance: User, **kwargs) -> None:
    """A deleted account's sessions die with it, in the cache too (a cascade would only
    delete the rows)."""
    sessions_end(user_ids=[instance.pk])


@receiver(post_save, sender=User, dispatch_uid="accounts.user_sessions_end_on_disable")
def user_sessions_end_on_disable(
    sender, instance: User, created: bool, raw: bool = False, **kwargs
) -> None:
    """A disabled account is signed out everywhere at once."""
    if not created and not raw and not instance.is_active:
        sessions_end(user_ids=[instance.pk])
