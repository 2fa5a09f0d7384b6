"""Organizations: creation and membership basics; who may do what, seats, wipe-out."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext

from accounts.audit import (
    Target,
    audit_events_of_organization,
    audit_organization_forget,
    audit_record,
)
from accounts.groups import user_is_administrator, user_is_inviter
from accounts.models import Avatar, Organization, User
from accounts.selectors import invitations_pending
from accounts.services.groups import permission_groups_setup
from accounts.signals import organization_wiping_out
from backend.errors import Invalid, PermissionDenied, SeatLimitReached, Unauthenticated
from backend.i18n import language_is_valid, language_require
from backend.validation import fields_validate


@transaction.atomic
def organization_create(*, name: str, administrator: User, plan: str | None = None) -> Organization:
    """A new organization on the default plan with ``administrator`` as its first member;
    its invitations are written in the founder's language until an administrator says."""
    organization = Organization.objects.create(
        name=name.strip()[:100],
        plan=plan or settings.DEFAULT_SUBSCRIPTION,
        language=administrator.language
        if language_is_valid(administrator.language)
        else settings.LANGUAGE_CODE,
    )
    administrator.organization = organization
    administrator.save(update_fields=["organization"])
    administrators = _group(settings.ADMINISTRATORS_GROUP)
    administrator.groups.add(administrators)
    audit_record(
        "organization.created",
        actor=administrator,
        organization=organization,
        target=Target.organization(organization),
        metadata={"plan": organization.plan},
    )
    return organization


def _group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        permission_groups_setup()
        group = Group.objects.get(name=name)
    return group


# Who may do what. Each rule is one function, used by the services that enforce it,
# by ``Organization.abilities`` and by the tests.


def _is_member(user, organization) -> bool:
    return (
        organization is not None
        and getattr(user, "is_authenticated", False)
        and user.organization_id is not None
        and user.organization_id == organization.pk
    )


def user_can_update_organization(*, user, organization) -> bool:
    return _is_member(user, organization) and user_is_administrator(user)


def user_can_read_audit_trail(*, user, organization) -> bool:
    return _is_member(user, organization) and user_is_administrator(user)


def audit_trail_read(
    *,
    viewer,
    organization: Organization,
    actions: list[str] | None = None,
    actor_guid=None,
    since=None,
    until=None,
):
    """The organization's audit events for its administrators (PERMISSION_DENIED for
    anyone else), newest first; ``actor_guid`` names one of its members (none match
    another's)."""
    if not user_can_read_audit_trail(user=viewer, organization=organization):
        raise PermissionDenied()
    actor = None
    if actor_guid is not None:
        actor = (
            User.objects.filter(guid=actor_guid, organization_id=organization.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if actor is None:
            return audit_events_of_organization(organization.pk).none()
    return audit_events_of_organization(
        organization.pk, actions=actions, actor_id=actor, since=since, until=until
    )


def user_can_invite(*, user, organization) -> bool:
    return _is_member(user, organization) and user_is_inviter(user)


def user_can_manage_permission_groups(*, user, organization) -> bool:
    return _is_member(user, organization) and user_is_administrator(user)


def user_can_remove_members(*, user, organization) -> bool:
    return _is_member(user, organization) and user_is_administrator(user)


def user_can_wipe_out_organization(*, user, organization) -> bool:
    return _is_member(user, organization) and user_is_administrator(user)


def organization_of_actor_locked(*, actor) -> Organization:
    """The actor's organization, its row locked until the transaction ends, so seat and
    last-administrator checks hold under concurrent requests."""
    if not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    if actor.organization_id is None:
        raise PermissionDenied()
    return Organization.objects.select_for_update().get(pk=actor.organization_id)


def organization_administered_by(*, actor, lock: bool = True) -> Organization:
    """The actor's organization when the actor administers it (its row locked unless
    ``lock`` is off, as before a request to another server); UNAUTHENTICATED or
    PERMISSION_DENIED otherwise."""
    if lock:
        organization = organization_of_actor_locked(actor=actor)
    elif not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    else:
        organization = actor.organization
    if organization is None or not user_can_update_organization(
        user=actor, organization=organization
    ):
        raise PermissionDenied()
    return organization


# Seats: members plus pending invitations never exceed the plan.


def organization_seats_used(*, organization: Organization) -> int:
    """Members plus pending (unaccepted, unexpired) invitations."""
    members = User.objects.filter(organization_id=organization.pk).count()
    return members + invitations_pending(organization_id=organization.pk).count()


def organization_seats_check_invite(*, organization: Organization, replacing=None) -> None:
    """One more pending invitation must fit (``replacing``: an invitation it supersedes).
    Call with the organization row locked."""
    seats = organization.seats
    if seats is None:
        return
    pending = invitations_pending(organization_id=organization.pk)
    if replacing is not None:
        pending = pending.exclude(pk=replacing.pk)
    members = User.objects.filter(organization_id=organization.pk).count()
    if members + pending.count() + 1 > seats:
        raise SeatLimitReached()


def organization_seats_check_join(*, organization: Organization) -> None:
    """One more member must fit. The joining invitation's own reservation is what is being
    used, so other pending invitations don't count here: with five free seats, exactly five
    accepts succeed. Call with the organization row locked."""
    seats = organization.seats
    if seats is None:
        return
    if User.objects.filter(organization_id=organization.pk).count() + 1 > seats:
        raise SeatLimitReached()


# Details and wipe-out.


@transaction.atomic
def organization_update(
    *,
    actor,
    name: str | None = None,
    mfa_required: bool | None = None,
    language: str | None = None,
) -> Organization:
    """Rename the actor's organization, set its second-factor policy and/or the language
    of its invitations to people without an account (what is left out stays)."""
    organization = organization_administered_by(actor=actor)
    language_require(language)
    old_name, old_mfa_required = organization.name, organization.mfa_required
    old_language = organization.language
    fields = []
    if name is not None:
        organization.name = name.strip()
        fields.append("name")
    if mfa_required is not None:
        organization.mfa_required = mfa_required
        fields.append("mfa_required")
    if language is not None:
        organization.language = language
        fields.append("language")
    fields_validate(organization, [field for field in fields if field == "name"])
    organization.save(update_fields=fields)
    for action, old, new in (
        ("organization.renamed", old_name, organization.name),
        ("organization.mfa_policy.changed", old_mfa_required, organization.mfa_required),
        ("organization.language.changed", old_language, organization.language),
    ):
        if old != new:  # one event per change
            audit_record(
                action,
                actor=actor,
                organization=organization,
                target=Target.organization(organization),
                metadata={"old": old, "new": new},
            )
    actor.organization = organization
    return organization


@dataclass(frozen=True)
class OrganizationWipeOut:
    """What ``organization_wipe_out`` deleted."""

    name: str
    members: int
    invitations: int
    teams: int
    contacts: int


@transaction.atomic
def organization_wipe_out(*, actor, confirm_name: str) -> OrganizationWipeOut:
    """Delete the organization with every member's account and data, its invitations, teams
    and contacts, all in one transaction. ``confirm_name`` must repeat the name exactly."""
    organization = organization_of_actor_locked(actor=actor)
    if not user_can_wipe_out_organization(user=actor, organization=organization):
        raise PermissionDenied()
    if (confirm_name or "") != organization.name:
        raise Invalid(
            gettext("Type the organization's name exactly to confirm."),
            field="confirmName",
            code="INVALID",
        )
    members = User.objects.filter(organization_id=organization.pk)
    members_count = members.count()
    invitations_count = organization.invitations.count()
    # The receivers count their own rows (the directory: teams and contacts) and
    # delete what would not go with the members.
    counts: Counter[str] = Counter()
    for _, answer in organization_wiping_out.send(sender=Organization, organization=organization):
        counts.update(answer or {})
    result = OrganizationWipeOut(
        name=organization.name,
        members=members_count,
        invitations=invitations_count,
        teams=counts["teams"],
        contacts=counts["contacts"],
    )
    avatar_files = [
        name
        for image, thumbnail in Avatar.objects.filter(
            user__organization_id=organization.pk
        ).values_list("image", "thumbnail")
        for name in (image, thumbnail)
        if name
    ]
    members.delete()
    # Its events go too (one organization.wiped_out event of no organization stays),
    # after everything that could still record one, before the organization's row.
    audit_organization_forget(
        organization=organization,
        actor=actor,
        counts={
            "members": members_count,
            "invitations": invitations_count,
            "teams": counts["teams"],
            "contacts": counts["contacts"],
        },
    )
    organization.delete()
    transaction.on_commit(lambda: _files_delete(avatar_files))
    return result


def _files_delete(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(OSError):  # a missing file is already what we want
            default_storage.delete(name)
