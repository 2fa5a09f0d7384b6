"""Fixtures of the organization tests: groups set up, an administrator, invitation helpers."""

from __future__ import annotations

import base64
import re

import pytest
from django.conf import settings

from accounts.services.groups import permission_groups_setup
from tests.factories import UserFactory

ADMINISTRATORS = settings.ADMINISTRATORS_GROUP
INVITERS = settings.INVITERS_GROUP


@pytest.fixture(autouse=True)
def _groups(db):
    permission_groups_setup()


@pytest.fixture
def admin(organization):
    return UserFactory(organization=organization, groups=[ADMINISTRATORS])


@pytest.fixture
def inviter(organization):
    return UserFactory(organization=organization, groups=[INVITERS])


@pytest.fixture
def outsider_admin(other_organization):
    return UserFactory(organization=other_organization, groups=[ADMINISTRATORS])


def global_id(type_name: str, value) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def user_id(user) -> str:
    return global_id("User", user.guid)


def group_id(name: str) -> str:
    return global_id("PermissionGroup", name)


def invitation_id(invitation) -> str:
    return global_id("Invitation", invitation.pk)


def token_from(message) -> str:
    """The invitation token in an email's link."""
    match = re.search(r"/invitation\?token=([A-Za-z0-9_\-]+)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def invite(make_client, django_capture_on_commit_callbacks, mailoutbox):
    """Invite through the real endpoint as ``actor``; answer (payload, token or None)."""

    def _invite(actor, email, groups=()):
        sent = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            payload = make_client(actor).mutate(
                "invite",
                {"email": email, "permissionGroupIds": [group_id(g) for g in groups]},
                "... on Invitation { id email expiresAt permissionGroups { name } }",
            )
        token = token_from(mailoutbox[-1]) if len(mailoutbox) > sent else None
        return payload, token

    return _invite
