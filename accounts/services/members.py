"""Members of an organization: their permission groups, removal and leaving. Each change
by an administrator records its audit event (``accounts.audit``) in its transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from accounts.audit import Target, audit_organization_forget, audit_record
from accounts.groups import manageable_groups, user_is_administrator, user_is_inviter
from accounts.models import Organization, User
from accounts.selectors import members_visible_to, permission_groups_visible_to
from accounts.services.organizations import (
    organization_of_actor_locked,
    user_can_manage_permission_groups,
    user_can_remove_members,
)
from accounts.signals import membership_ended
from backend.errors import Invalid, LastAdministrator, NotFound, PermissionDenied

PERMISSION_GROUP_IDS = "permissionGroupIds"


def permission_groups_grantable_by(*, actor) -> QuerySet[Group]:
    """The manageable groups ``actor`` may give: all of them for administrators; inviters
    may pass on only the groups they hold themselves (an inviter cannot mint administrators)."""
    if user_is_administrator(actor):
        return manageable_groups()
    if user_is_inviter(actor):
        return manageable_groups().filter(user=actor)
    return Group.objects.none()


def permission_groups_for_grant(*, actor, names: Iterable[str]) -> list[Group]:
    """Resolve group names sent by ``actor``: INVALID for an unknown or non-manageable group,
    PERMISSION_DENIED for a manageable group the actor may not give."""
    wanted = {name for name in names}
    if not wanted:
        return []
    groups = list(
        permission_groups_visible_to(user=actor).filter(
            name__in=wanted, pk__in=manageable_groups().values("pk")
        )
    )
    if len(groups) != len(wanted):
        raise Invalid(
            gettext("Only manageable permission groups can be given."),
            field=PERMISSION_GROUP_IDS,
        )
    grantable = set(permission_groups_grantable_by(actor=actor).values_list("pk", flat=True))
    if any(group.pk not in grantable for group in groups):
        raise PermissionDenied(
            gettext("You may not give these permission groups."), field=PERMISSION_GROUP_IDS
        )
    return groups


def member_of_actor(*, actor, user_guid: uuid.UUID | None, lock: bool = False) -> User:
    """A member of the actor's organization by GUID; NOT_FOUND for anyone else (or no GUID,
    what a malformed id names), exactly as for an id that does not exist."""
    if user_guid is None:
        raise NotFound()
    members = members_visible_to(user=actor).filter(guid=user_guid)
    if lock:
        members = members.select_for_update()
    member = members.first()
    if member is None:
        raise NotFound()
    return member


def user_is_last_administrator(*, user: User, organization: Organization) -> bool:
    """``user`` is an administrator of ``organization`` and nobody else there is. Reads the
    database, not a cached group list: run it with the organization row locked."""
    administrators = User.objects.filter(
        organization_id=organization.pk, groups__name=settings.ADMINISTRATORS_GROUP
    )
    return (
        administrators.filter(pk=user.pk).exists()
        and not administrators.exclude(pk=user.pk).exists()
    )


@transaction.atomic
def member_set_permission_groups(
    *, actor, user_guid: str, permission_group_names: Iterable[str]
) -> User:
    """Replace the member's manageable groups (other groups stay). Administrators only; the
    last administrator keeps that group (LAST_ADMINISTRATOR)."""
    organization = organization_of_actor_locked(actor=actor)
    if not user_can_manage_permission_groups(user=actor, organization=organization):
        raise PermissionDenied()
    member = member_of_actor(actor=actor, user_guid=user_guid)
    groups = permission_groups_for_grant(actor=actor, names=permission_group_names)
    keeps_administrators = any(g.name == settings.ADMINISTRATORS_GROUP for g in groups)
    if not keeps_administrators and user_is_last_administrator(
        user=member, organization=organization
    ):
        raise LastAdministrator()
    held = set(
        member.groups.filter(pk__in=manageable_groups().values("pk")).values_list("name", flat=True)
    )
    wanted = {group.name for group in groups}
    member.groups.remove(*manageable_groups().exclude(pk__in=[g.pk for g in groups]))
    member.groups.add(*groups)
    if held != wanted:
        audit_record(
            "organization.member.groups.changed",
            actor=actor,
            organization=organization,
            target=Target.user(member),
            metadata={"added": sorted(wanted - held), "removed": sorted(held - wanted)},
        )
    user_permission_caches_clear(member)
    if member.pk == actor.pk:
        user_permission_caches_clear(actor)
    return member


@dataclass(frozen=True)
class RemovedMember:
    user_guid: uuid.UUID
    organization: Organization


@transaction.atomic
def member_remove(*, actor, user_guid: str) -> RemovedMember:
    """Take a member out of the organization (administrators only). The removed user keeps
    the account, with no organization and none of its manageable groups."""
    organization = organization_of_actor_locked(actor=actor)
    if not user_can_remove_members(user=actor, organization=organization):
        raise PermissionDenied()
    member = member_of_actor(actor=actor, user_guid=user_guid, lock=True)
    membership_end(user=member, organization=organization, may_empty=False)
    member.organization = None
    member.save(update_fields=["organization"])
    audit_record(
        "organization.member.removed",
        actor=actor,
        organization=organization,
        target=Target.user(member),
    )
    if member.pk == actor.pk:
        actor.organization = None
        user_permission_caches_clear(actor)
    return RemovedMember(user_guid=member.guid, organization=organization)


def membership_end(*, user: User, organization: Organization, may_empty: bool) -> None:
    """What leaving ``organization`` takes away: its manageable groups, and what the
    receivers of ``membership_ended`` end (the directory: its teams).

    The last administrator cannot leave while others stay (LAST_ADMINISTRATOR); with
    ``may_empty`` false it cannot leave at all (the organization would have nobody to
    run it). The caller changes ``user.organization`` and, when ``may_empty``, deletes
    the organization if it is left empty (``organization_delete_if_empty``). Run with the
    organization row locked.
    """
    if user_is_last_administrator(user=user, organization=organization):
        others = User.objects.filter(organization_id=organization.pk).exclude(pk=user.pk)
        if not may_empty or others.exists():
            raise LastAdministrator()
    user.groups.remove(*manageable_groups())
    membership_ended.send(sender=User, user=user, organization=organization)
    user_permission_caches_clear(user)


def organization_delete_if_empty(*, organization: Organization) -> bool:
    """Delete an organization nobody belongs to any more; answer whether it was deleted."""
    if User.objects.filter(organization_id=organization.pk).exists():
        return False
    # Its events go as in a wipe-out (nobody is left to read them); one stays.
    audit_organization_forget(organization=organization, actor=None, action="organization.deleted")
    organization.delete()  # its teams go with it; their object permissions on post_delete
    return True


def user_permission_caches_clear(user) -> None:
    """Forget group and permission lists cached on this user object."""
    for name in ("_group_names_cache", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        vars(user).pop(name, None)
