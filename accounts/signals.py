"""Signals accounts sends, and its own receivers.

Other apps (the directory) keep their data in step with accounts through these signals
instead of being called by accounts: accounts never imports them. Every signal is sent
synchronously (``Signal.send``) from inside the sender's transaction, with the rows the
sender locked still locked, so a receiver's writes commit or roll back with the
sender's, and an exception in a receiver aborts the sender's operation.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal, receiver

from accounts.models import Avatar, ProfileData, User
from accounts.sessions import sessions_end

# Sent with ``user`` once a new account and its profile data exist (``sender``: User).
user_created = Signal()

# Sent with ``user``, an unsaved look-alike of a new account that an answer must show
# exactly as it would show a fresh one (``sender``: User). Receivers attach, unsaved
# and without queries, what ``user_created`` would have created for it.
user_look_alike_built = Signal()

# Sent with ``user`` when the name others see changed: the profile's names, or the
# email that stands in for an empty name (``sender``: User). ``user.profile`` holds
# the new names.
user_display_name_changed = Signal()

# Sent with ``user`` and ``organization`` while ``user`` leaves ``organization``,
# before ``user.organization`` changes, with the organization row locked (``sender``:
# User). Receivers end what belonged to the membership.
membership_ended = Signal()

# Sent with ``user`` while their data is exported (``sender``: User). Receivers answer a
# ``dict`` of JSON-ready sections to add (e.g. ``{"contacts": [...]}``).
user_data_exporting = Signal()

# Sent with ``organization`` while it is wiped out, its row locked, before its members
# are deleted (``sender``: Organization). Receivers delete what would not go with the
# members and answer a ``dict`` of counts of what goes (e.g. ``{"teams": 2}``), taken
# before anything is deleted.
organization_wiping_out = Signal()


@receiver(post_save, sender=User, dispatch_uid="accounts.user_post_create")
def user_post_create(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    """Post-creation steps of every account, however it was created (exactly once).

    Names given to ``User.objects.create_user`` arrive as the user's unsaved ``profile``;
    any other new user gets empty profile data."""
    if not created or raw:
        return
    try:
        profile = instance.profile
    except ProfileData.DoesNotExist:
        profile = ProfileData()
    profile.user = instance
    profile.save()
    user_created.send(sender=User, user=instance)


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
