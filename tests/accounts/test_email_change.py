"""Changing one's email: requestEmailChange, confirmEmailChange, revertEmailChange over
the real endpoint, with their refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import EmailChange, User
from tests.accounts.auth_helpers import mails_to, token_from
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTED = "... on EmailRequestAccepted { ok }"
USER = "... on User { email emailVerified }"
NEW = "ada.new@example.org"


@pytest.fixture
def ada():
    return UserFactory(email="ada@example.net")


def signed_in(user) -> GraphQLClient:
    client = GraphQLClient()
    payload = client.mutate("login", {"email": user.email, "password": PASSWORD}, "__typename")
    assert payload["__typename"] == "User"
    return client


def request_change(client: GraphQLClient, new_email: str = NEW) -> dict:
    mail.outbox.clear()
    return client.mutate("requestEmailChange", {"newEmail": new_email}, ACCEPTED)


def login_codes(email: str, password: str = PASSWORD) -> list:
    payload = GraphQLClient().mutate("login", {"email": email, "password": password}, "__typename")
    return operation_codes(payload) if payload["__typename"] == "OperationInfo" else []


def test_a_change_needs_a_recent_reauthentication(ada):
    payload = request_change(signed_in(ada))
    assert operation_codes(payload) == ["REAUTHENTICATION_REQUIRED"]
    anonymous = GraphQLClient().mutate("requestEmailChange", {"newEmail": NEW}, ACCEPTED)
    assert operation_codes(anonymous) == ["UNAUTHENTICATED"]
    assert mail.outbox == []


def test_the_new_address_confirms_and_the_old_one_is_told(ada):
    client = signed_in(ada).reauthenticated()
    assert request_change(client) == {"__typename": "EmailRequestAccepted", "ok": True}
    [notice] = mails_to(ada.email)
    [confirmation] = mails_to(NEW)
    assert "/revert-email-change" in notice.body
    assert User.objects.get(pk=ada.pk).email == ada.email  # nothing changed yet

    token = token_from(confirmation, "/confirm-email-change")
    confirmed = GraphQLClient().mutate("confirmEmailChange", {"token": token}, USER)
    assert confirmed == {"__typename": "User", "email": NEW, "emailVerified": True}
    assert login_codes(NEW) == []
    assert login_codes(ada.email) == ["INVALID_CREDENTIALS"]
    again = GraphQLClient().mutate("confirmEmailChange", {"token": token}, USER)
    assert operation_codes(again) == ["TOKEN_INVALID"]


def test_an_expired_confirmation_changes_nothing(ada):
    request_change(signed_in(ada).reauthenticated())
    token = token_from(mails_to(NEW)[0], "/confirm-email-change")
    EmailChange.objects.update(confirm_expires_at=timezone.now() - timedelta(seconds=1))
    payload = GraphQLClient().mutate("confirmEmailChange", {"token": token}, USER)
    assert operation_codes(payload) == ["TOKEN_EXPIRED"]
    assert User.objects.get(pk=ada.pk).email == ada.email


def test_an_address_of_another_account_answers_alike_and_its_owner_is_told(ada):
    bob = UserFactory(email="bob@example.org")
    client = signed_in(ada).reauthenticated()
    assert request_change(client, "BOB@example.org") == {
        "__typename": "EmailRequestAccepted",
        "ok": True,
    }
    [told] = mails_to(bob.email)
    assert "/confirm-email-change" not in told.body  # no way to take it
    assert len(mails_to(ada.email)) == 1  # the same notice as for a free address
    assert User.objects.get(pk=ada.pk).email == ada.email


def test_bad_addresses_are_refused(ada):
    client = signed_in(ada).reauthenticated()
    for address, code in (("not an email", "invalid"), (ada.email, "INVALID")):
        payload = request_change(client, address)
        assert [(m["field"], m["code"]) for m in payload["messages"]] == [("newEmail", code)]


def test_reverting_restores_the_old_address_and_recovers_the_account(ada):
    client = signed_in(ada).reauthenticated()  # say, a thief with the password
    request_change(client)
    revert = token_from(mails_to(ada.email)[0], "/revert-email-change")
    confirm = token_from(mails_to(NEW)[0], "/confirm-email-change")
    GraphQLClient().mutate("confirmEmailChange", {"token": confirm}, USER)

    restored = GraphQLClient().mutate("revertEmailChange", {"token": revert}, USER)

    assert restored == {"__typename": "User", "email": ada.email, "emailVerified": True}
    assert client.execute("{ me { email } }").data["me"] is None  # every session ended
    assert login_codes(ada.email) == ["INVALID_CREDENTIALS"]  # the password is gone
    assert login_codes(NEW) == ["INVALID_CREDENTIALS"]
    again = GraphQLClient().mutate("revertEmailChange", {"token": revert}, USER)
    assert operation_codes(again) == ["TOKEN_INVALID"]


def test_reverting_before_confirmation_cancels_the_request(ada):
    request_change(signed_in(ada).reauthenticated())
    revert = token_from(mails_to(ada.email)[0], "/revert-email-change")
    confirm = token_from(mails_to(NEW)[0], "/confirm-email-change")
    assert GraphQLClient().mutate("revertEmailChange", {"token": revert}, USER)["email"] == (
        ada.email
    )
    payload = GraphQLClient().mutate("confirmEmailChange", {"token": confirm}, USER)
    assert operation_codes(payload) == ["TOKEN_INVALID"]
    assert User.objects.get(pk=ada.pk).email == ada.email


def test_an_expired_revert_link_does_nothing(ada):
    request_change(signed_in(ada).reauthenticated())
    revert = token_from(mails_to(ada.email)[0], "/revert-email-change")
    EmailChange.objects.update(revert_expires_at=timezone.now() - timedelta(seconds=1))
    payload = GraphQLClient().mutate("revertEmailChange", {"token": revert}, USER)
    assert operation_codes(payload) == ["TOKEN_EXPIRED"]
    assert login_codes(ada.email) == []


def test_reverting_removes_the_ways_in_a_thief_added_before_changing_the_address(ada):
    import pyotp

    from accounts.models import Passkey, TotpDevice
    from tests.accounts.test_passkeys import authenticate, register
    from tests.webauthn_authenticator import SoftAuthenticator

    # A thief with the password adds a passkey and an app of their own, then changes
    # the address.
    thief = signed_in(ada).reauthenticated()
    thiefs = SoftAuthenticator()
    register(thief, thiefs)
    secret = thief.mutate("totpSetupBegin", None, "... on TotpSetup { secret }")["secret"]
    thief.mutate("totpSetupConfirm", {"code": pyotp.TOTP(secret).now()}, "__typename")
    request_change(thief)
    revert = token_from(mails_to(ada.email)[0], "/revert-email-change")

    GraphQLClient().mutate("revertEmailChange", {"token": revert}, USER)

    assert operation_codes(authenticate(GraphQLClient(), thiefs)) == ["INVALID_CREDENTIALS"]
    assert not Passkey.objects.filter(user=ada).exists()
    assert not TotpDevice.objects.filter(user=ada).exists()


def test_reverting_keeps_the_second_factors_set_up_long_before(ada):
    from accounts.models import Passkey
    from tests.accounts.test_passkeys import authenticate, reauthenticate, register
    from tests.webauthn_authenticator import SoftAuthenticator

    owners = SoftAuthenticator()
    register(signed_in(ada).reauthenticated(), owners)
    Passkey.objects.filter(user=ada).update(created_at=timezone.now() - timedelta(days=30))
    client = GraphQLClient()
    assert authenticate(client, owners)["__typename"] == "User"
    assert reauthenticate(client, owners)["__typename"] == "Reauthenticated"
    request_change(client)
    revert = token_from(mails_to(ada.email)[0], "/revert-email-change")

    GraphQLClient().mutate("revertEmailChange", {"token": revert}, USER)

    assert Passkey.objects.filter(user=ada).count() == 1
    assert authenticate(GraphQLClient(), owners)["__typename"] == "User"
