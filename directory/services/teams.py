"""Teams: creation, membership and roles (the rules: directory/roles.py).

Every change of a team's memberships runs in one transaction that first locks the team's
row (``SELECT ... FOR UPDATE``): changes of one team are serialized, so the last-owner
check always counts committed owners, also when two owners step down at the same moment.
The guardian object permissions of a member change in the same transaction as its role,
and so does the change's audit event (``accounts.audit``).
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.audit import Target, audit_record
from accounts.selectors import users_visible_to
from backend.errors import (
    AlreadyMember,
    LastOwner,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from backend.validation import fields_validate
from directory import roles
from directory.models import Team, TeamMembership, TeamRole
from directory.team_selectors import team_has_other_owner, team_permissions_of


def _require_actor(actor) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()


def _name_set(team: Team, name: str | None) -> None:
    """Give ``team`` its stripped name, checked by the model's validators."""
    team.name = (name or "").strip()
    fields_validate(team, ["name"])


def _team_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Team)


def _permissions_sync(*, team: Team, user_id: int, role: TeamRole | None) -> None:
    """Make the user's guardian permissions on the team exactly those of ``role``."""
    wanted = roles.permissions_for_role(role)
    content_type = _team_content_type()
    held = UserObjectPermission.objects.filter(
        user_id=user_id, content_type=content_type, object_pk=str(team.pk)
    )
    held.exclude(permission__codename__in=wanted).delete()
    missing = wanted - set(held.values_list("permission__codename", flat=True))
    if missing:
        UserObjectPermission.objects.bulk_create(
            UserObjectPermission(
                user_id=user_id,
                permission=permission,
                content_type=content_type,
                object_pk=str(team.pk),
            )
            for permission in Permission.objects.filter(
                content_type=content_type, codename__in=missing
            )
        )


def _locked_team(*, actor, team_id) -> tuple[Team, frozenset[str]]:
    """Lock the team's row and answer it with the actor's permissions on it.

    A team the actor is not a member of answers NOT_FOUND, like a missing one.
    Call inside ``transaction.atomic()``.
    """
    _require_actor(actor)
    team = None
    if team_id is not None and actor.organization_id:
        team = (
            Team.objects.select_for_update()
            .filter(pk=team_id, organization_id=actor.organization_id)
            .first()
        )
    if team is None or not TeamMembership.objects.filter(team=team, user_id=actor.pk).exists():
        raise NotFound(gettext("Team not found."), field="teamId")
    return team, team_permissions_of(user=actor, team_ids=[team.pk])[team.pk]


def _team_target(team: Team, pk=None) -> Target:
    return Target("Team", str(pk or team.pk), team.name)


def _team_metadata(team: Team, **extra) -> dict:
    return {"team": str(team.pk), "team_name": team.name, **extra}


def _team_audit(action: str, *, actor, team: Team, target: Target, metadata=None) -> None:
    """An administrative event of the team's organization, in the caller's transaction."""
    audit_record(
        action, actor=actor, organization=team.organization, target=target, metadata=metadata
    )


def _target_membership(*, team: Team, user_guid) -> TeamMembership:
    membership = None
    if user_guid is not None:
        membership = (
            TeamMembership.objects.select_for_update(of=("self",))
            .filter(team=team, user__guid=user_guid, user__organization_id=team.organization_id)
            .first()
        )
    if membership is None:
        raise NotFound(gettext("Team member not found."), field="userId")
    return membership


def team_create(*, actor, name: str) -> Team:
    """A team in the actor's organization, with the actor as its owner."""
    _require_actor(actor)
    if not actor.organization_id:
        raise PermissionDenied(gettext("Join an organization before creating teams."))
    team = Team(organization_id=actor.organization_id, created_by=actor)
    _name_set(team, name)
    with transaction.atomic():
        team.save(force_insert=True)
        TeamMembership.objects.create(team=team, user=actor, role=TeamRole.OWNER)
        _permissions_sync(team=team, user_id=actor.pk, role=TeamRole.OWNER)
        _team_audit("team.created", actor=actor, team=team, target=_team_target(team))
    return team


def team_update(*, actor, team_id, name: str) -> Team:
    with transaction.atomic():
        team, perms = _locked_team(actor=actor, team_id=team_id)
        if not roles.can_update(perms):
            raise PermissionDenied()
        old = team.name
        _name_set(team, name)
        team.save(update_fields=["name"])
        if team.name != old:
            _team_audit(
                "team.renamed",
                actor=actor,
                team=team,
                target=_team_target(team),
                metadata={"old": old, "new": team.name},
            )
    return team


def team_delete(*, actor, team_id) -> Team:
    """Delete the team, its memberships and every object permission on it.

    Guardian's generic permission rows are not cascaded by the database, so they go
    explicitly, in the same transaction. Answers the deleted team (its id kept).
    """
    with transaction.atomic():
        team, perms = _locked_team(actor=actor, team_id=team_id)
        if not roles.can_delete(perms):
            raise PermissionDenied()
        pk = team.pk
        members = TeamMembership.objects.filter(team=team).count()
        team_permissions_purge(team_id=pk)
        team.delete()
        _team_audit(
            "team.deleted",
            actor=actor,
            team=team,
            target=_team_target(team, pk),
            metadata={"members": members},
        )
    team.pk = pk
    return team


def team_permissions_purge(*, team_id) -> None:
    """Delete every guardian object permission (user and group) on a team.

    The rows point at the team through a generic relation, which the database does not
    cascade: ``team_delete`` calls this explicitly, and a ``post_delete`` receiver calls
    it for teams deleted with their organization.
    """
    content_type = _team_content_type()
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type=content_type, object_pk=str(team_id)).delete()


def team_member_add(*, actor, team_id, user_guid, role: TeamRole | str) -> TeamMembership:
    """Add a member of the team's organization; anyone else answers NOT_FOUND."""
    role = TeamRole(role)
    with transaction.atomic():
        team, perms = _locked_team(actor=actor, team_id=team_id)
        user = None
        if user_guid is not None:
            user = (
                users_visible_to(user=actor)
                .filter(guid=user_guid, organization_id=team.organization_id)
                .first()
            )
        if user is None:
            raise NotFound(gettext("User not found."), field="userId")
        if not roles.can_add(perms, role):
            raise PermissionDenied()
        if TeamMembership.objects.filter(team=team, user=user).exists():
            raise AlreadyMember(
                gettext("This person is already a member of the team."), field="userId"
            )
        membership = TeamMembership.objects.create(team=team, user=user, role=role)
        _permissions_sync(team=team, user_id=user.pk, role=role)
        _team_audit(
            "team.member.added",
            actor=actor,
            team=team,
            target=Target.user(user),
            metadata=_team_metadata(team, role=role.value),
        )
    return membership


def team_role_set(*, actor, team_id, user_guid, role: TeamRole | str) -> TeamMembership:
    role = TeamRole(role)
    with transaction.atomic():
        team, perms = _locked_team(actor=actor, team_id=team_id)
        membership = _target_membership(team=team, user_guid=user_guid)
        if not roles.can_set_role(perms, target_role=membership.role, role=role):
            raise PermissionDenied()
        if membership.role == role:
            return membership
        if not roles.keeps_an_owner(
            target_role=membership.role,
            new_role=role,
            other_owner=team_has_other_owner(membership=membership),
        ):
            raise _last_owner()
        old = TeamRole(membership.role)
        membership.role = role
        membership.save(update_fields=["role"])
        _permissions_sync(team=team, user_id=membership.user_id, role=role)
        _team_audit(
            "team.role.changed",
            actor=actor,
            team=team,
            target=Target.user(membership.user),
            metadata=_team_metadata(team, old=old.value, new=role.value),
        )
    return membership


def team_member_remove(*, actor, team_id, user_guid) -> Team:
    """Remove a member; removing oneself is leaving. Answers the team."""
    with transaction.atomic():
        team, perms = _locked_team(actor=actor, team_id=team_id)
        membership = _target_membership(team=team, user_guid=user_guid)
        is_self = membership.user_id == actor.pk
        if not roles.can_remove(perms, target_role=membership.role, is_self=is_self):
            raise PermissionDenied()
        if not roles.keeps_an_owner(
            target_role=membership.role,
            new_role=None,
            other_owner=team_has_other_owner(membership=membership),
        ):
            raise _last_owner()
        member = membership.user
        membership.delete()
        _permissions_sync(team=team, user_id=member.pk, role=None)
        _team_audit(
            "team.member.removed",
            actor=actor,
            team=team,
            target=Target.user(member),
            metadata=_team_metadata(team, role=TeamRole(membership.role).value),
        )
    return team


def team_memberships_end(*, user, organization_id) -> None:
    """End ``user``'s memberships in the teams of an organization they are leaving.

    For the organization services (member removed, member moved by an invitation), inside
    their transaction. A team whose last owner leaves passes the owner role to its
    longest-standing administrator, else to its longest-standing member; a team left
    empty is deleted.
    """
    team_ids = TeamMembership.objects.filter(
        user_id=user.pk, team__organization_id=organization_id
    ).values("team_id")
    successors_first = Case(
        When(role=TeamRole.ADMINISTRATOR, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    with transaction.atomic():
        # Locked in primary-key order, so concurrent callers cannot deadlock.
        for team in Team.objects.select_for_update().filter(pk__in=team_ids).order_by("pk"):
            membership = TeamMembership.objects.filter(team=team, user_id=user.pk).first()
            if membership is None:
                continue
            if membership.role == TeamRole.OWNER and not team_has_other_owner(
                membership=membership
            ):
                successor = (
                    TeamMembership.objects.filter(team=team)
                    .exclude(pk=membership.pk)
                    .order_by(successors_first, "created_at", "id")
                    .first()
                )
                if successor is None:
                    team_permissions_purge(team_id=team.pk)
                    team.delete()
                    continue
                successor.role = TeamRole.OWNER
                successor.save(update_fields=["role"])
                _permissions_sync(team=team, user_id=successor.user_id, role=TeamRole.OWNER)
            membership.delete()
            _permissions_sync(team=team, user_id=user.pk, role=None)


def _last_owner() -> LastOwner:
    return LastOwner("A team must keep at least one owner: give the owner role to someone first.")
