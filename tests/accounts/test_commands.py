from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import Organization, User

pytestmark = pytest.mark.django_db


def run(name: str) -> str:
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def test_setupgroups_is_idempotent():
    first = run("setupgroups")
    assert "Created group 'Administrators'" in first
    count = Group.objects.count()
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Administrators", "Inviters", *settings.SYSTEM_PERMISSION_GROUPS} <= names
    assert {f"Plan: {p['name']}" for p in settings.SUBSCRIPTIONS_AVAILABLE.values()} <= names
    second = run("setupgroups")
    assert "nothing changed" in second
    assert Group.objects.count() == count


def test_setupdevusers_is_idempotent():
    first = run("setupdevusers")
    assert "Created user user@example.com" in first
    user = User.objects.get(email="user@example.com")
    assert user.username == "user"
    assert user.is_superuser and user.email_verified
    assert user.check_password("string")
    assert user.organization.name == "Admin Organization"
    assert user.groups.filter(name=settings.ADMINISTRATORS_GROUP).exists()
    second = run("setupdevusers")
    assert "nothing changed" in second
    assert User.objects.count() == 1
    assert Organization.objects.count() == 1


def test_user_creation_runs_post_creation_steps_once():
    user = User.objects.create_user(email="New@Example.com", password="x" * 12, first_name="Ann")
    assert user.email == "new@example.com"
    assert user.profile.first_name == "Ann"
    assert user.profile_contact.owner == user
    user.save()
    assert user.owned_contacts.count() == 1


def test_email_is_unique_case_insensitively():
    from django.db import IntegrityError, transaction

    User.objects.create_user(email="a@example.com", password="x" * 12)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="A@EXAMPLE.COM", password="x" * 12)
