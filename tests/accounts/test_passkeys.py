"""Passkeys (issue #19) through a software authenticator (ES256 and RS256): adding one,
signing in with one alone or after a password, and the refusals (wrong origin, wrong
relying party, replayed challenge, a counter that goes backwards, another user's
credential, no user verification)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core import mail

from accounts.models import Passkey
from tests.accounts.auth_helpers import mails_to
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory
from tests.webauthn_authenticator import SoftAuthenticator, b64url

pytestmark = pytest.mark.django_db(transaction=True)

OPTIONS = "... on PasskeyOptions { publicKeyJson }"
PASSKEY = "... on Passkey { id name createdAt lastUsedAt }"
USER = "... on User { email }"
LOGIN = "... on User { email } ... on MfaChallenge { methods }"
ME = "{ me { email mfa { passkeyCount passkeys { name lastUsedAt } } } }"


def origin() -> str:
    return settings.WEBAUTHN_ORIGINS[0]


def signed_in(user) -> GraphQLClient:
    client = GraphQLClient()
    answer = client.mutate("login", {"email": user.email, "password": PASSWORD}, LOGIN)
    assert answer["__typename"] == "User", answer
    return client


def register(client, authenticator: SoftAuthenticator, name: str = "Laptop", **answer) -> dict:
    options = client.mutate("passkeyRegistrationBegin", None, OPTIONS)["publicKeyJson"]
    credential = authenticator.create(options, origin=answer.pop("origin", origin()), **answer)
    return client.mutate(
        "passkeyRegistrationFinish", {"credentialJson": credential, "name": name}, PASSKEY
    )


def authenticate(client, authenticator: SoftAuthenticator, email: str | None = None, **answer):
    begin = {"email": email} if email else {}
    options = client.mutate("passkeyAuthenticationBegin", begin, OPTIONS)["publicKeyJson"]
    credential = authenticator.get(options, origin=answer.pop("origin", origin()), **answer)
    return client.mutate("passkeyAuthenticationFinish", {"credentialJson": credential}, USER)


def reauthenticate(client, authenticator: SoftAuthenticator, **answer) -> dict:
    """``reauthenticate`` with a passkey: its options name the viewer's own passkeys."""
    options = client.mutate("passkeyAuthenticationBegin", {}, OPTIONS)["publicKeyJson"]
    credential = authenticator.get(options, origin=answer.pop("origin", origin()), **answer)
    return client.mutate(
        "reauthenticate", {"credentialJson": credential}, "... on Reauthenticated { validUntil }"
    )


@pytest.fixture
def ada():
    return UserFactory(email="ada@example.net")


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_passkey_signs_in_on_its_own(ada, algorithm):
    authenticator = SoftAuthenticator(algorithm)
    client = signed_in(ada).reauthenticated()
    mail.outbox.clear()
    added = register(client, authenticator)
    assert added["__typename"] == "Passkey" and added["name"] == "Laptop"
    [notice] = mails_to(ada.email)
    assert notice.subject == "A passkey was added to your Roster account"

    browser = GraphQLClient()
    assert authenticate(browser, authenticator) == {"__typename": "User", "email": ada.email}
    me = browser.execute(ME).data["me"]
    assert me["mfa"]["passkeyCount"] == 1
    assert me["mfa"]["passkeys"][0]["name"] == "Laptop"
    assert me["mfa"]["passkeys"][0]["lastUsedAt"] is not None


def test_after_a_password_a_passkey_is_the_second_factor(ada):
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    client = GraphQLClient()
    challenge = client.mutate("login", {"email": ada.email, "password": PASSWORD}, LOGIN)
    assert challenge == {"__typename": "MfaChallenge", "methods": ["PASSKEY"]}
    assert client.execute(ME).data["me"] is None
    assert authenticate(client, authenticator, email=ada.email)["__typename"] == "User"
    assert client.execute(ME).data["me"]["email"] == ada.email


def test_another_accounts_passkey_does_not_complete_a_sign_in(ada):
    grace = UserFactory(email="grace@example.net")
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    register(signed_in(grace).reauthenticated(), SoftAuthenticator())
    # Grace gives her password, then Ada's passkey.
    client = GraphQLClient()
    client.mutate("login", {"email": grace.email, "password": PASSWORD}, LOGIN)
    refused = authenticate(client, authenticator)
    assert operation_codes(refused) == ["INVALID_CREDENTIALS"]
    assert client.execute(ME).data["me"] is None


def test_a_session_left_open_cannot_add_a_passkey(ada):
    # Someone at the keyboard of a browser left signed in (or holding its cookie) would
    # otherwise add a passkey of their own: a way in that outlives the session.
    client = signed_in(ada)
    refused = client.mutate("passkeyRegistrationBegin", None, OPTIONS)
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    # Nor finish a ceremony the owner began while re-authenticated.
    options = client.reauthenticated().mutate("passkeyRegistrationBegin", None, OPTIONS)
    credential = SoftAuthenticator().create(options["publicKeyJson"], origin=origin())
    client.reauthentication_forget()
    refused = client.mutate(
        "passkeyRegistrationFinish", {"credentialJson": credential, "name": "Mine"}, PASSKEY
    )
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    assert not Passkey.objects.exists()


def test_the_options_never_tell_whether_an_email_has_passkeys(ada):
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)

    def options(client, email=None):
        begin = {"email": email} if email else {}
        answer = client.mutate("passkeyAuthenticationBegin", begin, OPTIONS)
        return {k: v for k, v in json.loads(answer["publicKeyJson"]).items() if k != "challenge"}

    known = options(GraphQLClient(), ada.email)
    assert known == options(GraphQLClient(), "nobody@example.net") == options(GraphQLClient())
    assert known["allowCredentials"] == [] and known["userVerification"] == "required"
    # Once the password was right, the options name the account's passkeys.
    client = GraphQLClient()
    client.mutate("login", {"email": ada.email, "password": PASSWORD}, LOGIN)
    [descriptor] = options(client)["allowCredentials"]
    assert descriptor["id"] == b64url(authenticator.credential_id)


def test_beginning_sign_ins_is_rate_limited_per_address(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "passkey-begin-address": (3, 900)}
    answers = [GraphQLClient().mutate("passkeyAuthenticationBegin", {}, OPTIONS) for _ in range(4)]
    assert [operation_codes(a) for a in answers] == [[]] * 3 + [["RATE_LIMITED"]]


def test_a_passkey_made_for_another_origin_is_refused(ada):
    refused = register(
        signed_in(ada).reauthenticated(), SoftAuthenticator(), origin="https://evil.example"
    )
    assert operation_codes(refused) == ["INVALID"]
    assert not Passkey.objects.exists()


def test_a_passkey_without_user_verification_is_refused(ada):
    refused = register(signed_in(ada).reauthenticated(), SoftAuthenticator(), verified=False)
    assert operation_codes(refused) == ["INVALID"]
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    refused = authenticate(GraphQLClient(), authenticator, verified=False)
    assert operation_codes(refused) == ["INVALID_CREDENTIALS"]


def test_an_assertion_for_another_relying_party_is_refused(ada):
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    browser = GraphQLClient()
    refused = authenticate(browser, authenticator, rp_id="evil.example")
    assert operation_codes(refused) == ["INVALID_CREDENTIALS"]
    refused = authenticate(browser, authenticator, origin="https://evil.example")
    assert operation_codes(refused) == ["INVALID_CREDENTIALS"]
    assert browser.execute(ME).data["me"] is None


def test_a_challenge_is_good_once(ada):
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    browser = GraphQLClient()
    options = browser.mutate("passkeyAuthenticationBegin", {}, OPTIONS)["publicKeyJson"]
    answer = authenticator.get(options, origin=origin())
    first = browser.mutate("passkeyAuthenticationFinish", {"credentialJson": answer}, USER)
    assert first["__typename"] == "User"
    replayed = GraphQLClient().mutate(
        "passkeyAuthenticationFinish", {"credentialJson": answer}, USER
    )
    assert operation_codes(replayed) == ["TOKEN_EXPIRED"]  # no challenge in that browser
    again = browser.mutate("passkeyAuthenticationFinish", {"credentialJson": answer}, USER)
    assert operation_codes(again) == ["TOKEN_EXPIRED"]  # used up in this one


def test_a_counter_that_goes_backwards_is_refused(ada):
    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    assert authenticate(GraphQLClient(), authenticator, counter_step=5)["__typename"] == "User"
    cloned = authenticate(GraphQLClient(), authenticator, counter_step=-2)
    assert operation_codes(cloned) == ["INVALID_CREDENTIALS"]


def test_removing_a_passkey_needs_a_reauthentication_and_is_own_only(ada):
    grace = UserFactory(email="grace@example.net")
    grace_key = register(signed_in(grace).reauthenticated(), SoftAuthenticator())["id"]
    client = signed_in(ada).reauthenticated()
    authenticator = SoftAuthenticator()
    mine = register(client, authenticator)["id"]
    client.reauthentication_forget()  # later, in the same session
    refused = client.mutate("passkeyRemove", {"id": mine}, USER)
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    reauthenticate(client, authenticator)
    assert operation_codes(client.mutate("passkeyRemove", {"id": grace_key}, USER)) == ["NOT_FOUND"]
    mail.outbox.clear()
    assert client.mutate("passkeyRemove", {"id": mine}, USER)["__typename"] == "User"
    assert [m.subject for m in mails_to(ada.email)] == [
        "A passkey was removed from your Roster account"
    ]
    assert Passkey.objects.filter(user=grace).count() == 1


def test_once_a_passkey_is_the_second_factor_a_password_alone_reauthenticates_nothing(ada):
    # Someone with the session and the password (phished) must not remove the passkey
    # or add their own: re-authenticating needs the passkey, like signing in.
    grace = UserFactory(email="grace@example.net")
    grace_authenticator = SoftAuthenticator()
    register(signed_in(grace).reauthenticated(), grace_authenticator)
    client = signed_in(ada).reauthenticated()
    authenticator = SoftAuthenticator()
    register(client, authenticator)
    client.reauthentication_forget()
    REAUTHENTICATED = "... on Reauthenticated { validUntil }"
    refused = client.mutate("reauthenticate", {"password": PASSWORD}, REAUTHENTICATED)
    assert [(m["field"], m["code"]) for m in refused["messages"]] == [
        ("credentialJson", "MFA_CODE_INVALID")
    ]
    assert operation_codes(client.mutate("passkeyRegistrationBegin", None, OPTIONS)) == [
        "REAUTHENTICATION_REQUIRED"
    ]
    # Nor another account's passkey, nor a replayed answer.
    assert operation_codes(reauthenticate(client, grace_authenticator)) == ["INVALID_CREDENTIALS"]
    options = client.mutate("passkeyAuthenticationBegin", {}, OPTIONS)["publicKeyJson"]
    [named] = json.loads(options)["allowCredentials"]
    assert named["id"] == b64url(authenticator.credential_id)  # the viewer's own
    answer = authenticator.get(options, origin=origin())
    proof = {"credentialJson": answer}
    assert client.mutate("reauthenticate", proof, REAUTHENTICATED)["__typename"] == (
        "Reauthenticated"
    )
    client.reauthentication_forget()
    assert operation_codes(client.mutate("reauthenticate", proof, REAUTHENTICATED)) == [
        "TOKEN_EXPIRED"
    ]
    assert operation_codes(
        reauthenticate(client, authenticator, origin="https://evil.example")
    ) == ["INVALID_CREDENTIALS"]
    assert reauthenticate(client, authenticator)["__typename"] == "Reauthenticated"
    assert client.mutate("passkeyRegistrationBegin", None, OPTIONS)["__typename"] == (
        "PasskeyOptions"
    )


def test_finishing_a_registration_needs_its_beginning_and_a_name(ada):
    client = signed_in(ada).reauthenticated()
    authenticator = SoftAuthenticator()
    options = client.mutate("passkeyRegistrationBegin", None, OPTIONS)["publicKeyJson"]
    credential = authenticator.create(options, origin=origin())
    unnamed = client.mutate(
        "passkeyRegistrationFinish", {"credentialJson": credential, "name": " "}, PASSKEY
    )
    assert operation_codes(unnamed) == ["INVALID"]
    never_begun = (
        GraphQLClient()
        .login_as(ada)
        .reauthenticated()
        .mutate(
            "passkeyRegistrationFinish", {"credentialJson": credential, "name": "Laptop"}, PASSKEY
        )
    )
    assert operation_codes(never_begun) == ["TOKEN_EXPIRED"]
    assert not Passkey.objects.exists()


def test_a_passkey_does_not_sign_in_an_unverified_account(ada):
    # As a password sign-in: an address nobody proved (a pending registration) gives no
    # session, whatever way in its account holds.
    from accounts.models import AuditEvent, User

    authenticator = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), authenticator)
    User.objects.filter(pk=ada.pk).update(email_verified=False)
    client = GraphQLClient()
    assert operation_codes(authenticate(client, authenticator)) == ["EMAIL_NOT_VERIFIED"]
    assert client.execute(ME).data["me"] is None
    failed = AuditEvent.objects.filter(action="user.login.failed").last()
    assert failed.metadata == {"reason": "passkey:EMAIL_NOT_VERIFIED"}
