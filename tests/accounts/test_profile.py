"""updateProfile through the real endpoint: given fields only, limits, contact sync."""

from __future__ import annotations

import pytest

from accounts.models import ProfileData
from directory.models import Contact
from tests.conftest import operation_codes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SELECTION = "... on User { firstName lastName description language timezone }"


def _update(client, **fields):
    return client.mutate("updateProfile", fields, SELECTION)


def test_anonymous_is_refused(gql):
    payload = _update(gql, firstName="Ann")
    assert payload["__typename"] == "OperationInfo"
    assert operation_codes(payload) == ["UNAUTHENTICATED"]


def test_updates_every_field(make_client, user):
    payload = _update(
        make_client(user),
        firstName="Ada",
        lastName="Lovelace",
        description="Analyst of engines",
        language="fr",
        timezone="Europe/Paris",
    )
    assert payload == {
        "__typename": "User",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "description": "Analyst of engines",
        "language": "fr",
        "timezone": "Europe/Paris",
    }
    user.refresh_from_db()
    profile = ProfileData.objects.get(user=user)
    assert (profile.first_name, profile.last_name) == ("Ada", "Lovelace")
    assert profile.description == "Analyst of engines"
    # The names are stored once, in the profile data; the profile contact's copy follows.
    assert Contact.objects.get(user=user).full_name == "Ada Lovelace"
    assert (user.language, user.timezone) == ("fr", "Europe/Paris")


def test_only_given_fields_change(make_client):
    user = UserFactory(first_name="Grace", last_name="Hopper", timezone="America/New_York")
    ProfileData.objects.filter(user=user).update(description="Admiral")
    payload = _update(make_client(user), lastName="Murray")
    assert payload["firstName"] == "Grace"
    assert payload["lastName"] == "Murray"
    assert payload["description"] == "Admiral"
    assert payload["timezone"] == "America/New_York"
    profile = ProfileData.objects.get(user=user)
    assert (profile.first_name, profile.last_name) == ("Grace", "Murray")


def test_explicit_null_leaves_a_field_unchanged(make_client):
    user = UserFactory(first_name="Grace", last_name="Hopper")
    payload = _update(make_client(user), firstName=None, description="Compiler pioneer")
    assert payload["firstName"] == "Grace"
    assert payload["description"] == "Compiler pioneer"


def test_profile_contact_follows_the_names(make_client, user):
    _update(make_client(user), firstName="Ada", lastName="Lovelace")
    assert Contact.objects.get(user=user).full_name == "Ada Lovelace"


def test_description_change_keeps_the_contact_name(make_client):
    user = UserFactory(first_name="Grace", last_name="Hopper")
    Contact.objects.filter(user=user).update(full_name="Grace Hopper")
    _update(make_client(user), description="Admiral")
    assert Contact.objects.get(user=user).full_name == "Grace Hopper"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("firstName", "x" * 51, "max_length"),
        ("lastName", "y" * 51, "max_length"),
        ("description", "z" * 141, "max_length"),
        ("language", "xx", "INVALID"),
        ("language", "EN", "INVALID"),
        ("timezone", "Mars/Olympus_Mons", "INVALID"),
        ("timezone", "../../etc/passwd", "INVALID"),
        ("timezone", "", "INVALID"),
    ],
)
def test_invalid_values_are_refused_with_the_field_named(make_client, field, value, code):
    user = UserFactory(first_name="Grace", last_name="Hopper", language="en", timezone="UTC")
    payload = _update(make_client(user), **{field: value})
    assert payload["__typename"] == "OperationInfo"
    assert [(m["code"], m["field"]) for m in payload["messages"]] == [(code, field)]
    user.refresh_from_db()
    profile = ProfileData.objects.get(user=user)
    assert (profile.first_name, profile.last_name, profile.description) == ("Grace", "Hopper", "")
    assert (user.language, user.timezone) == ("en", "UTC")


def test_limits_are_inclusive(make_client, user):
    payload = _update(
        make_client(user), firstName="x" * 50, lastName="y" * 50, description="z" * 140
    )
    assert payload["__typename"] == "User"
    assert len(payload["description"]) == 140


def test_every_invalid_field_is_reported(make_client, user):
    payload = _update(make_client(user), firstName="x" * 51, timezone="Nowhere/Land")
    assert sorted(m["field"] for m in payload["messages"]) == ["firstName", "timezone"]
    assert set(operation_codes(payload)) == {"max_length", "INVALID"}


def test_changes_only_the_viewer(make_client, user, outsider):
    before = ProfileData.objects.get(user=outsider).first_name
    _update(make_client(user), firstName="Changed")
    assert ProfileData.objects.get(user=outsider).first_name == before


def test_me_shows_the_new_profile(make_client, user):
    client = make_client(user)
    _update(client, firstName="Ada", description="Engines")
    me = client.execute("{ me { firstName description } }").data["me"]
    assert me == {"firstName": "Ada", "description": "Engines"}
