"""A user's names are stored once (ProfileData); the full name follows one rule, computed
alike in Python and in SQL."""

from __future__ import annotations

import pytest

from accounts.models import ProfileData, User
from accounts.names import full_name, user_display_name, user_display_name_expression
from directory.models import Contact
from directory.services.contacts import FULL_NAME_MAX, profile_contact_full_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_user_row_holds_no_names():
    fields = {field.name for field in User._meta.get_fields()}
    assert not fields & {"first_name", "last_name"}
    assert {"first_name", "last_name"} <= {field.name for field in ProfileData._meta.get_fields()}


def test_create_user_stores_the_names_in_the_profile():
    user = User.objects.create_user(email="ada@example.com", first_name="Ada", last_name="L")
    profile = ProfileData.objects.get(user=user)
    assert (profile.first_name, profile.last_name) == ("Ada", "L")
    assert Contact.objects.get(user=user).full_name == "Ada L"


def test_a_user_created_without_names_gets_empty_profile_data():
    user = User.objects.create(email="plain@example.com", username="plain")
    assert ProfileData.objects.filter(user=user, first_name="", last_name="").exists()
    assert Contact.objects.get(user=user).full_name == "plain@example.com"


@pytest.mark.parametrize(
    ("first_name", "last_name", "expected"),
    [
        ("Ada", "Lovelace", "Ada Lovelace"),
        ("Ada", "", "Ada"),
        ("", "Lovelace", "Lovelace"),
        ("", "", ""),
        (" Ada ", " Lovelace ", "Ada   Lovelace"),
        ("Zoë", "Łopez", "Zoë Łopez"),
    ],
)
def test_full_name(first_name, last_name, expected):
    assert full_name(first_name, last_name) == expected


NAMES = [
    ("Ada", "Lovelace"),
    ("Ada", ""),
    ("", "Lovelace"),
    ("", ""),
    ("  Ada", "Lovelace  "),  # stored as given (the services strip; the admin may not)
    ("\tAda", "Lovelace\n"),
    ("Zoë", "Łopez"),
    ("A" * 50, "B" * 50),
]


def test_python_and_sql_display_names_agree():
    users = []
    for n, (first_name, last_name) in enumerate(NAMES):
        user = UserFactory(email=f"person{n}@example.com")
        ProfileData.objects.filter(user=user).update(first_name=first_name, last_name=last_name)
        users.append(user)
    no_profile = UserFactory(email="noprofile@example.com")
    ProfileData.objects.filter(user=no_profile).delete()
    users.append(no_profile)

    rows = User.objects.filter(pk__in=[user.pk for user in users]).select_related("profile")
    sql = dict(rows.annotate(name=user_display_name_expression()).values_list("pk", "name"))
    python = {
        user.pk: user_display_name(user)
        for user in User.objects.filter(pk__in=sql).select_related("profile")
    }
    assert python == sql
    assert sql[users[0].pk] == "Ada Lovelace"
    assert sql[users[3].pk] == "person3@example.com"
    assert sql[no_profile.pk] == "noprofile@example.com"
    assert user_display_name(None) == ""


def test_the_profile_contact_name_is_the_display_name():
    user = UserFactory(first_name="Grace", last_name="Hopper")
    assert profile_contact_full_name(user) == user_display_name(user) == "Grace Hopper"
    long = UserFactory(first_name="", last_name="", email=f"{'x' * 200}@example.com")
    assert profile_contact_full_name(long) == long.email[:FULL_NAME_MAX]
    assert Contact.objects.get(user=long).full_name == long.email[:FULL_NAME_MAX]
