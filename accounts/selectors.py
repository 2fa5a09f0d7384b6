"""Scoped reads: every query of account data starts from one of these."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.groups import user_is_inviter
from accounts.models import Invitation, Organization, Session, User
from backend.text import search_normalize


def viewer_with_relations(*, user: User) -> User:
    """The signed-in user again, with profile, avatar and organization in the same query."""
    return User.objects.select_related("profile", "avatar", "organization").get(pk=user.pk)


# A type's rows for a viewer are given as a condition (``Q``): the schema filters the
# queryset it is handed with it (``schema.permissions.Scoped``), and the selectors below
# filter their model's rows with the same condition.
NOTHING = Q(pk__in=[])


def users_visibility(*, user) -> Q:
    """The viewer and the members of the viewer's organization."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.organization_id is None:
        return Q(pk=user.pk)
    return Q(organization_id=user.organization_id) | Q(pk=user.pk)


def users_visible_to(*, user) -> QuerySet[User]:
    return User.objects.filter(users_visibility(user=user))


def organizations_visibility(*, user) -> Q:
    """Only members see their organization (its name, plan, seats, members...)."""
    if not organization_visible_to(
        user=user, organization_id=getattr(user, "organization_id", None)
    ):
        return NOTHING
    return Q(pk=user.organization_id)


def organizations_visible_to(*, user) -> QuerySet[Organization]:
    return Organization.objects.filter(organizations_visibility(user=user))


def organization_visible_to(*, user, organization_id) -> bool:
    """``organizations_visibility`` for one organization id, without a query."""
    return (
        getattr(user, "is_authenticated", False)
        and organization_id is not None
        and user.organization_id == organization_id
    )


def permission_groups_visibility(*, user) -> Q:
    """Group names are service configuration, not organization data."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    return Q()


def permission_groups_visible_to(*, user) -> QuerySet[Group]:
    return Group.objects.filter(permission_groups_visibility(user=user))


def external_identities_visibility(*, user) -> Q:
    """A person's sign-in identities are theirs alone: colleagues do not see them."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    return Q(user_id=user.pk)


def sessions_visibility(*, user) -> Q:
    """A person's signed-in sessions are theirs alone, and only while they last."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    return Q(user_id=user.pk, expire_date__gt=timezone.now())


def sessions_of(*, user) -> QuerySet[Session]:
    """``user``'s own live sessions, most recently active first."""
    return Session.objects.filter(sessions_visibility(user=user)).order_by(
        F("last_active_at").desc(nulls_last=True), "-expire_date"
    )


# Organizations: members and invitations (issue 4).

MEMBER_SEARCH_MAX_WORDS = 5
# The members' order, read from the index (organization, email): a position is an email
# (unique; the public id only makes the order total).
MEMBER_ORDER = ("email", "guid")


def organization_members(*, organization_id, search: str | None = None) -> QuerySet[User]:
    """Members of one organization, by email, optionally narrowed to those whose names and
    email hold every word of ``search`` (case and accents ignored: ``User.search_text``,
    a trigram index on PostgreSQL)."""
    members = User.objects.filter(organization_id=organization_id)
    for word in (search or "").split()[:MEMBER_SEARCH_MAX_WORDS]:
        members = members.filter(search_text__contains=search_normalize(word))
    return members.order_by(*MEMBER_ORDER)


def members_visible_to(*, user) -> QuerySet[User]:
    """Members of the viewer's organization (the viewer included); nobody without one."""
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return User.objects.none()
    return users_visible_to(user=user).filter(organization_id=user.organization_id)


def invitations_pending(*, organization_id) -> QuerySet[Invitation]:
    """Invitations that hold a seat: not accepted and not expired."""
    return Invitation.objects.filter(
        organization_id=organization_id,
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


def organization_seats_used_expression():
    """``seats used`` (members plus pending invitations) as an SQL expression over the
    organization rows, so a list of organizations counts them in the same query."""
    members = (
        User.objects.filter(organization_id=OuterRef("pk"))
        .order_by()
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    pending = (
        Invitation.objects.filter(
            organization_id=OuterRef("pk"),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by()
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(members), 0) + Coalesce(Subquery(pending), 0)


def invitations_manageable_by(*, user) -> QuerySet[Invitation]:
    """Unaccepted invitations (expired ones too, so they can be resent) of the viewer's
    organization, for those who may invite; nothing for anyone else."""
    if not user_is_inviter(user):
        return Invitation.objects.none()
    return Invitation.objects.filter(
        organization_id=user.organization_id, accepted_at__isnull=True
    ).order_by("-created_at", "pk")


def invitations_addressed_to(*, user) -> QuerySet[Invitation]:
    """Pending invitations sent to the viewer's own, proven email address (an unverified
    claim to an address never reads another organization's invitations)."""
    if not getattr(user, "is_authenticated", False) or not user.email or not user.email_verified:
        return Invitation.objects.none()
    return Invitation.objects.filter(
        email__iexact=user.email, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "pk")


def invitations_addressed_to_user_visible_to(*, user, viewer) -> QuerySet[Invitation]:
    """``User.invitations``: only the user themself reads the invitations sent to them."""
    if viewer is None or getattr(viewer, "pk", None) != user.pk:
        return Invitation.objects.none()
    return invitations_addressed_to(user=viewer)


def invitations_visibility(*, user) -> Q:
    """What a viewer may see of invitations: those they manage and those addressed to them."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    manageable = invitations_manageable_by(user=user).values("pk")
    addressed = invitations_addressed_to(user=user).values("pk")
    return Q(pk__in=manageable) | Q(pk__in=addressed)


def invitation_by_token_hash(*, token_hash: str) -> Invitation | None:
    """The invitation a token's holder may redeem or preview (any state; callers check)."""
    return (
        Invitation.objects.select_related("organization", "inviter__profile")
        .filter(token_hash=token_hash)
        .first()
    )
