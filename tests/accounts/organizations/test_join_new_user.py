"""accounts.services.invitations.invitation_join_new_user: the hook `register` calls with an
invitation token (the endpoint test is added with `register`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.groups import manageable_groups
from accounts.models import Invitation, User
from accounts.services.invitations import invitation_create, invitation_join_new_user
from backend.errors import (
    InvitationEmailMismatch,
    SeatLimitReached,
    TokenExpired,
    TokenInvalid,
)
from tests.accounts.auth_helpers import USER_FIELDS, register_input
from tests.accounts.organizations.conftest import INVITERS, token_from
from tests.conftest import operation_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(admin, django_capture_on_commit_callbacks, mailoutbox):
    """(invitation, token) for new.person@example.com with the Inviters group."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(
            actor=admin, email="new.person@example.com", permission_group_names=[INVITERS]
        )
    return invitation, token_from(mailoutbox[-1])


def new_user(email="new.person@example.com"):
    return User.objects.create_user(email=email, password=None, first_name="New")


def test_new_user_joins_the_inviting_organization_verified(invited, organization):
    invitation, token = invited
    with transaction.atomic():
        user = new_user("New.Person@example.com")
        joined = invitation_join_new_user(user=user, token=token)
    assert joined == organization
    user.refresh_from_db()
    assert user.organization == organization
    assert user.email_verified
    assert list(user.groups.values_list("name", flat=True)) == [INVITERS]
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    # single use
    with pytest.raises(TokenInvalid):
        invitation_join_new_user(user=new_user("other@example.com"), token=token)


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ("unknown", TokenInvalid),
        ("expired", TokenExpired),
        ("revoked", TokenInvalid),
        ("mismatch", InvitationEmailMismatch),
        ("full", SeatLimitReached),
    ],
)
def test_join_refusals_leave_the_user_outside(invited, organization, settings, setup, error):
    invitation, token = invited
    email = "new.person@example.com"
    if setup == "unknown":
        token = "not-a-token"
    elif setup == "expired":
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif setup == "revoked":
        invitation.delete()
    elif setup == "mismatch":
        email = "someone.else@example.com"
    elif setup == "full":
        plans = {k: dict(v) for k, v in settings.SUBSCRIPTIONS_AVAILABLE.items()}
        plans["free"]["seats"] = 1
        settings.SUBSCRIPTIONS_AVAILABLE = plans
        organization.plan = "free"
        organization.save()
    user = new_user(email)
    with pytest.raises(error):
        invitation_join_new_user(user=user, token=token)
    user.refresh_from_db()
    assert user.organization is None
    assert not user.email_verified
    assert not user.groups.filter(pk__in=manageable_groups()).exists()
    assert not Invitation.objects.filter(accepted_at__isnull=False).exists()


# Through the real endpoint: register(input: {..., invitationToken}).


def _register(client, **overrides):
    return client.mutate("register", register_input(**overrides), USER_FIELDS)


def test_register_with_an_invitation_joins_verified_and_signed_in(gql, invited, organization):
    invitation, token = invited
    payload = _register(
        gql, email="new.person@example.com", invitationToken=token, organizationName=""
    )
    assert payload["__typename"] == "User", payload
    assert payload["emailVerified"] is True
    user = User.objects.get(email="new.person@example.com")
    assert user.organization == organization
    assert list(user.groups.values_list("name", flat=True)) == [INVITERS]
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    me = gql.execute("{ me { email organization { name } } }").data["me"]
    assert me == {"email": "new.person@example.com", "organization": {"name": organization.name}}


@pytest.mark.parametrize(
    ("email", "code"),
    [("someone.else@example.com", "INVITATION_EMAIL_MISMATCH"), (None, "TOKEN_EXPIRED")],
)
def test_register_with_a_refused_invitation_creates_nothing(gql, invited, email, code):
    _, token = invited
    if email is None:
        email = "new.person@example.com"
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    payload = _register(gql, email=email, invitationToken=token, organizationName="")
    assert operation_codes(payload) == [code]
    assert not User.objects.filter(email=email).exists()
    assert gql.execute("{ me { id } }").data == {"me": None}
