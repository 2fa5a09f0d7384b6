"""The directory follows accounts through the signals accounts sends (accounts/signals.py).

Each receiver runs inside the sender's transaction and under its locks."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Organization, User
from accounts.signals import (
    membership_ended,
    organization_wiping_out,
    user_created,
    user_data_exporting,
    user_display_name_changed,
    user_look_alike_built,
)
from directory.export import user_directory_export
from directory.models import Contact, Team
from directory.services.contacts import (
    profile_contact_build,
    profile_contact_create,
    profile_contact_organization_sync,
    profile_contact_sync,
)
from directory.services.teams import team_memberships_end, team_permissions_purge


@receiver(user_created, sender=User, dispatch_uid="directory.profile_contact_create")
def create_profile_contact(sender, user, **kwargs) -> None:
    profile_contact_create(user=user)


@receiver(user_look_alike_built, sender=User, dispatch_uid="directory.profile_contact_build")
def build_profile_contact(sender, user, **kwargs) -> None:
    user.profile_contact = profile_contact_build(user=user)


@receiver(user_display_name_changed, sender=User, dispatch_uid="directory.profile_contact_sync")
def sync_profile_contact(sender, user, **kwargs) -> None:
    profile_contact_sync(user=user)


@receiver(post_save, sender=User, dispatch_uid="directory.profile_contact_organization")
def follow_organization(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    """Every change of a user's organization goes through saving the user (joining,
    leaving, an administrator's edit); a new user's profile contact starts with it."""
    update_fields = kwargs.get("update_fields")
    if created or raw or (update_fields is not None and "organization" not in update_fields):
        return
    profile_contact_organization_sync(user=instance)


@receiver(membership_ended, sender=User, dispatch_uid="directory.team_memberships_end")
def end_team_memberships(sender, user, organization, **kwargs) -> None:
    # Teams hand the owner role on (or are deleted when left empty) and drop the
    # leaver's object permissions.
    team_memberships_end(user=user, organization_id=organization.pk)


@receiver(user_data_exporting, sender=User, dispatch_uid="directory.data_export")
def export_user_data(sender, user, **kwargs) -> dict:
    return user_directory_export(user=user)


@receiver(organization_wiping_out, sender=Organization, dispatch_uid="directory.wipe_out")
def wipe_out_organization(sender, organization, **kwargs) -> dict[str, int]:
    """Count the organization's teams and its members' contacts, then delete the teams
    (the contacts go with their owners)."""
    teams = Team.objects.filter(organization_id=organization.pk)
    counts = {
        "teams": teams.count(),
        "contacts": Contact.objects.filter(owner__organization_id=organization.pk).count(),
    }
    teams.delete()  # their guardian rows are purged on post_delete (below)
    return counts


@receiver(post_delete, sender=Team, dispatch_uid="directory.team_permissions_purge")
def purge_team_permissions(sender, instance: Team, **kwargs) -> None:
    # Guardian's generic rows are not cascaded, e.g. when an organization is deleted.
    team_permissions_purge(team_id=instance.pk)
