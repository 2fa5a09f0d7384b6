"""The team role matrix: the one place that says who may do what in a team.

A role is stored on the membership and mirrored as django-guardian object permissions on
the team (``ROLE_PERMISSIONS``). Every decision below takes the actor's permission
codenames on the team, so the mutations (directory/services/teams.py), the ``abilities``
fields (schema/teams/types.py) and the tests all ask these functions.

| may ...                                  | member | administrator | owner |
| ---------------------------------------- | :----: | :-----------: | :---: |
| view the team and its members            |   x    |       x       |   x   |
| rename the team                          |        |       x       |   x   |
| add a member as member or administrator  |        |       x       |   x   |
| add a member as owner                    |        |               |   x   |
| change the role of a non-owner           |        |       x       |   x   |
| (to member or administrator)             |        |               |       |
| give the owner role, change an owner     |        |               |   x   |
| remove a non-owner                       |        |       x       |   x   |
| remove an owner                          |        |               |   x   |
| delete the team                          |        |               |   x   |
| leave (remove oneself)                   |   x    |       x       |   x   |

On top of the matrix: a team always keeps at least one owner, so an owner may leave or
step down only while another owner remains (``keeps_an_owner``; refusal ``LAST_OWNER``).
"""

from __future__ import annotations

from collections.abc import Set

from directory.models import TeamRole

VIEW = "view_team"
CHANGE = "change_team"
DELETE = "delete_team"
MANAGE_MEMBERS = "manage_team_members"
MANAGE_OWNERS = "manage_team_owners"

ROLE_PERMISSIONS: dict[TeamRole, frozenset[str]] = {
    TeamRole.MEMBER: frozenset({VIEW}),
    TeamRole.ADMINISTRATOR: frozenset({VIEW, CHANGE, MANAGE_MEMBERS}),
    TeamRole.OWNER: frozenset({VIEW, CHANGE, MANAGE_MEMBERS, DELETE, MANAGE_OWNERS}),
}
TEAM_PERMISSIONS: frozenset[str] = ROLE_PERMISSIONS[TeamRole.OWNER]

# The actor's permission codenames on one team (directory.team_selectors.team_permissions_of).
Permissions = Set[str]


def permissions_for_role(role: TeamRole | str | None) -> frozenset[str]:
    if role is None:
        return frozenset()
    return ROLE_PERMISSIONS[TeamRole(role)]


def can_update(perms: Permissions) -> bool:
    return CHANGE in perms


def can_delete(perms: Permissions) -> bool:
    return DELETE in perms


def can_manage_members(perms: Permissions) -> bool:
    return MANAGE_MEMBERS in perms


def can_give(perms: Permissions, role: TeamRole | str) -> bool:
    """May the actor give ``role`` (when adding someone or changing a role)?"""
    if TeamRole(role) == TeamRole.OWNER:
        return MANAGE_OWNERS in perms
    return MANAGE_MEMBERS in perms


def can_manage(perms: Permissions, target_role: TeamRole | str) -> bool:
    """May the actor change or remove a member who holds ``target_role``?"""
    if TeamRole(target_role) == TeamRole.OWNER:
        return MANAGE_OWNERS in perms
    return MANAGE_MEMBERS in perms


def can_add(perms: Permissions, role: TeamRole | str) -> bool:
    return can_give(perms, role)


def can_set_role(perms: Permissions, *, target_role: TeamRole | str, role: TeamRole | str) -> bool:
    return can_manage(perms, target_role) and can_give(perms, role)


def can_remove(perms: Permissions, *, target_role: TeamRole | str, is_self: bool) -> bool:
    """Removing oneself is leaving, which every member may do."""
    return is_self or can_manage(perms, target_role)


def keeps_an_owner(
    *, target_role: TeamRole | str, new_role: TeamRole | str | None, other_owner: bool
) -> bool:
    """Does the team still have an owner after ``target_role`` becomes ``new_role``?

    ``new_role`` is ``None`` for a removal; ``other_owner`` says whether an owner other
    than the target exists.
    """
    if TeamRole(target_role) != TeamRole.OWNER:
        return True
    if new_role is not None and TeamRole(new_role) == TeamRole.OWNER:
        return True
    return other_owner


def roles_settable(
    perms: Permissions, *, target_role: TeamRole | str, other_owner: bool
) -> list[TeamRole]:
    """The roles the actor may give this member now (never its current role)."""
    current = TeamRole(target_role)
    return [
        role
        for role in TeamRole
        if role != current
        and can_set_role(perms, target_role=current, role=role)
        and keeps_an_owner(target_role=current, new_role=role, other_owner=other_owner)
    ]


def removable(
    perms: Permissions, *, target_role: TeamRole | str, is_self: bool, other_owner: bool
) -> bool:
    return can_remove(perms, target_role=target_role, is_self=is_self) and keeps_an_owner(
        target_role=target_role, new_role=None, other_owner=other_owner
    )
