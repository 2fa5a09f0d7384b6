"""Scoped reads: every query of account data starts from one of these."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet

from accounts.models import Organization, User, UserExternalAuthentication


def users_visible_to(*, user) -> QuerySet[User]:
    """The viewer and the members of the viewer's organization."""
    if not getattr(user, "is_authenticated", False):
        return User.objects.none()
    if user.organization_id is None:
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(Q(organization_id=user.organization_id) | Q(pk=user.pk))


def organizations_visible_to(*, user) -> QuerySet[Organization]:
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return Organization.objects.none()
    return Organization.objects.filter(pk=user.organization_id)


def permission_groups_visible_to(*, user) -> QuerySet[Group]:
    """Group names are service configuration, not organization data."""
    if not getattr(user, "is_authenticated", False):
        return Group.objects.none()
    return Group.objects.all()


def external_identities_visible_to(*, user) -> QuerySet[UserExternalAuthentication]:
    """A person's sign-in identities are theirs alone: colleagues do not see them."""
    if not getattr(user, "is_authenticated", False):
        return UserExternalAuthentication.objects.none()
    return UserExternalAuthentication.objects.filter(user_id=user.pk)
