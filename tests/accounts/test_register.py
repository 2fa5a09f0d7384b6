"""register through the real endpoint."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.emails import emails_deliver_to
from accounts.models import (
    Organization,
    OutgoingEmail,
    PendingRegistration,
    ProfileData,
    User,
    VerificationToken,
)
from tests.accounts.auth_helpers import (
    STRONG_PASSWORD,
    USER_FIELDS,
    link_from,
    mails_to,
    register_input,
    session_cookie,
    token_from,
)
from tests.conftest import operation_codes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


WIDE_USER_FIELDS = (
    USER_FIELDS + " ... on User { description language timezone permissionGroups { id name }"
    " organization { id } }"
)


def register(client, **overrides):
    return client.mutate("register", register_input(**overrides), USER_FIELDS)


def test_register_creates_a_pending_account_that_gets_its_organization_once_verified(
    gql, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payload = register(gql)

    assert payload["__typename"] == "User", payload
    assert payload["email"] == "new.person@example.com"
    assert payload["emailVerified"] is False
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password(STRONG_PASSWORD)
    assert not user.email_verified
    profile = ProfileData.objects.get(user=user)
    assert (profile.first_name, profile.last_name) == ("Ada", "Lovelace")
    # Nothing usable before the address is proven: no organization, no group, no session.
    assert user.organization is None
    assert not user.groups.exists()
    assert not Organization.objects.exists()
    assert PendingRegistration.objects.get(user=user).organization_name == "Analytical Engines"
    assert session_cookie(gql) is not None  # anonymous: it only remembers the registration
    assert gql.execute("{ me { id } }").data == {"me": None}

    token = token_from(mails_to("new.person@example.com")[-1], "/verify-email")
    verified = gql.mutate("verifyEmail", {"token": token}, USER_FIELDS)
    assert verified["emailVerified"] is True
    user.refresh_from_db()
    organization = user.organization
    assert organization.name == "Analytical Engines"
    assert organization.plan == settings.DEFAULT_SUBSCRIPTION
    assert list(user.groups.values_list("name", flat=True)) == [settings.ADMINISTRATORS_GROUP]
    assert not PendingRegistration.objects.exists()


def test_register_emails_a_verification_link_from_frontend_url(
    gql, settings, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = "https://app.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        register(gql, email="Mixed.Case@Example.com")

    [message] = mail.outbox
    assert message.to == ["mixed.case@example.com"]
    link = link_from(message, "/verify-email")
    assert link.startswith("https://app.example.org/verify-email?token=")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link.replace("&", "&amp;") in html
    assert VerificationToken.objects.filter(user__email="mixed.case@example.com").count() == 1


def test_no_email_before_the_transaction_commits(gql, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        register(gql)
    assert mail.outbox == []
    assert callbacks


def test_existing_email_answers_like_success_and_notifies_the_owner(
    gql, make_client, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="taken@example.com")
    password_before = owner.password
    counts_before = (User.objects.count(), Organization.objects.count())

    with django_capture_on_commit_callbacks(execute=True):
        fresh = make_client().mutate(
            "register", register_input(email="fresh@example.com"), WIDE_USER_FIELDS
        )
        taken = gql.mutate("register", register_input(email="TAKEN@example.com"), WIDE_USER_FIELDS)

    def shape(payload):  # all but what differs by design
        return {k: v for k, v in payload.items() if k not in {"id", "email"}}

    assert taken["__typename"] == "User"
    assert taken["email"] == "taken@example.com"
    assert shape(taken) == shape(fresh)
    # Nobody but its members sees an organization, so neither answer shows one.
    assert taken["organization"] is None and fresh["organization"] is None
    assert taken["id"] != fresh["id"]
    assert User.objects.count() == counts_before[0] + 1  # only "fresh"
    assert Organization.objects.count() == counts_before[1]  # none until "fresh" is verified
    owner.refresh_from_db()
    assert owner.password == password_before
    [notice] = mails_to("taken@example.com")
    assert "already has one" in notice.body
    assert "/verify-email" not in notice.body
    assert not VerificationToken.objects.filter(user=owner).exists()
    # The look-alike id resolves to nothing, as for the real unverified account.
    for payload in (taken, fresh):
        node = gql.execute("query($id: ID!) { node(id: $id) { id } }", {"id": payload["id"]})
        assert node.data == {"node": None}


def every_user_field(depth: int = 3) -> str:
    """A selection of every field of User, nested ``depth`` levels (connections count their
    edges and nodes), so fields added later are compared between a fresh account and the
    look-alike too."""
    from graphql import (
        Undefined,
        get_named_type,
        is_interface_type,
        is_leaf_type,
        is_non_null_type,
        is_union_type,
    )

    from schema.schema import schema

    def selection(type_, level: int) -> str:
        parts = ["__typename"]
        for name, field in type_.fields.items():
            if any(
                is_non_null_type(a.type) and a.default_value is Undefined
                for a in field.args.values()
            ):
                continue
            named = get_named_type(field.type)
            if is_leaf_type(named):
                parts.append(name)
            elif level > 0 and not (is_union_type(named) or is_interface_type(named)):
                parts.append(f"{name} {{ {selection(named, level - 1)} }}")
        return " ".join(parts)

    return "... on User { " + selection(schema._schema.type_map["User"], depth) + " }"


def test_existing_email_answers_alike_on_every_user_field(gql, make_client):
    UserFactory(email="taken@example.com")
    selection = every_user_field()
    fresh = make_client().mutate("register", register_input(email="fresh@example.com"), selection)
    taken = gql.mutate("register", register_input(email="taken@example.com"), selection)
    assert fresh.keys() == taken.keys()
    assert len(fresh) > 8
    differs = {key for key in fresh if fresh[key] != taken[key]}
    assert differs == {"id", "email", "profileContact"}
    # Nested values may differ only where any two accounts differ: ids, times, the email.
    assert _anonymized(fresh, "fresh@example.com") == _anonymized(taken, "taken@example.com")


def _anonymized(value, email: str):
    if isinstance(value, dict):
        return {
            key: "<id>"
            if key == "id"
            else "<time>"
            if key.endswith("At")
            else _anonymized(v, email)
            for key, v in value.items()
        }
    if isinstance(value, list):
        return [_anonymized(item, email) for item in value]
    return "<email>" if value == email else value


def test_existing_email_runs_the_hasher(gql, monkeypatch):
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(
        MD5PasswordHasher, "encode", lambda self, *a: calls.append(1) or original(self, *a)
    )
    UserFactory(email="taken@example.com")
    calls.clear()
    register(gql, email="first@example.com")
    new_account_hashes = len(calls)
    calls.clear()
    register(gql, email="taken@example.com")
    assert new_account_hashes == len(calls) == 1


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1A!", "password_too_short"),
        ("password1234", "password_too_common"),
        ("84736251908374", "password_entirely_numeric"),
        ("lovelace.ada@example.com", "password_too_similar"),
    ],
)
def test_password_validators_answer_their_codes_on_password(gql, password, code):
    payload = register(gql, password=password, email="lovelace.ada@example.com")
    assert payload["__typename"] == "OperationInfo"
    assert code in operation_codes(payload)
    assert {m["field"] for m in payload["messages"]} == {"password"}
    assert not User.objects.filter(email="lovelace.ada@example.com").exists()


def test_password_similar_to_the_name_is_refused(gql):
    payload = register(gql, firstName="Zebediah", password="Zebediah12345")
    assert "password_too_similar" in operation_codes(payload)


def test_weak_password_answers_the_same_for_an_existing_email(gql):
    UserFactory(email="taken@example.com")
    payload = register(gql, email="taken@example.com", password="short")
    assert "password_too_short" in operation_codes(payload)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"firstName": "x" * 51}, "firstName"),
        ({"lastName": "x" * 51}, "lastName"),
        ({"organizationName": ""}, "organizationName"),
        ({"organizationName": "x" * 101}, "organizationName"),
    ],
)
def test_invalid_fields_are_refused(gql, overrides, field):
    payload = register(gql, **overrides)
    assert payload["__typename"] == "OperationInfo"
    assert [m["field"] for m in payload["messages"]] == [field]
    assert User.objects.count() == 0


def test_bogus_invitation_token_answers_token_invalid_and_creates_nothing(
    gql, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payload = register(gql, invitationToken="not-a-real-token", organizationName="")
    assert operation_codes(payload) == ["TOKEN_INVALID"]
    assert User.objects.count() == 0
    assert Organization.objects.count() == 0
    assert ProfileData.objects.count() == 0
    assert VerificationToken.objects.count() == 0
    assert mail.outbox == []


def test_bogus_invitation_token_answers_the_same_for_an_existing_email(gql):
    UserFactory(email="taken@example.com")
    payload = register(gql, email="taken@example.com", invitationToken="not-a-real-token")
    assert operation_codes(payload) == ["TOKEN_INVALID"]


def test_valid_invitation_joins_and_signs_in_at_once(gql, organization, monkeypatch):
    """register hands the token to the invitation service inside its transaction and
    starts a session when that proved the email."""
    from accounts.services import registration

    seen = {}

    def join(*, user, token):
        seen["token"] = token
        user.organization = organization
        user.email_verified = True
        user.save(update_fields=["organization", "email_verified"])
        return organization

    monkeypatch.setattr(registration, "invitation_join_new_user", join)
    payload = register(gql, invitationToken="the-token", organizationName="")
    assert payload["__typename"] == "User", payload
    assert payload["emailVerified"] is True
    assert seen == {"token": "the-token"}
    assert Organization.objects.count() == 1  # no new organization
    assert session_cookie(gql)
    me = gql.execute("{ me { email organization { name } } }").data["me"]
    assert me == {"email": "new.person@example.com", "organization": {"name": organization.name}}


def test_failing_invitation_rolls_back_the_account(gql, organization, monkeypatch):
    from accounts.services import registration
    from backend.errors import SeatLimitReached

    def join(*, user, token):
        user.organization = organization
        user.save(update_fields=["organization"])
        raise SeatLimitReached()

    monkeypatch.setattr(registration, "invitation_join_new_user", join)
    payload = register(gql, invitationToken="the-token")
    assert operation_codes(payload) == ["SEAT_LIMIT_REACHED"]
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_registrations_are_rate_limited_per_address(gql, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "register-address": (2, 3600)}
    assert register(gql, email="a@example.com")["__typename"] == "User"
    assert register(gql, email="b@example.com")["__typename"] == "User"
    payload = register(gql, email="c@example.com")
    assert operation_codes(payload) == ["RATE_LIMITED"]
    assert not User.objects.filter(email="c@example.com").exists()
    # Another address is not affected.
    other = type(gql)(REMOTE_ADDR="10.0.0.9")
    assert register(other, email="d@example.com")["__typename"] == "User"


def test_failing_mail_server_keeps_the_account_and_its_email(
    gql, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.accounts.test_register.BrokenEmailBackend"
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        payload = register(gql)
    assert payload["__typename"] == "User"
    assert User.objects.filter(email="new.person@example.com").exists()
    # Waiting for its next attempt, logged with the recipient's domain only.
    waiting = OutgoingEmail.objects.get(to="new.person@example.com")
    assert waiting.attempts == 1 and waiting.next_attempt_at is not None
    assert "'verify_email' to a recipient at example.com not delivered" in caplog.text
    assert "new.person@" not in caplog.text

    # Once mail works, the next attempt delivers it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    assert emails_deliver_to("new.person@example.com") == 1
    [message] = mails_to("new.person@example.com")
    assert "/verify-email" in message.body
    assert not OutgoingEmail.objects.exists()


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP is down")
