"""Pre-registration hijacking (Sudhodanan & Paverd, USENIX Security 2022), performed
over the real endpoint: whatever someone does with an address they do not control, once
the owner proves it the attacker holds nothing (no password that works, no session, no
linked identity, no organization the owner did not choose)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import (
    Organization,
    PendingRegistration,
    User,
    UserExternalAuthentication,
)
from tests.accounts.auth_helpers import (
    OTHER_PASSWORD,
    STRONG_PASSWORD,
    USER_FIELDS,
    mails_to,
    register_input,
    session_cookie,
    token_from,
)
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import administrator
from tests.oidc_provider import browser_sign_in, provider_serving

pytestmark = pytest.mark.django_db(transaction=True)

VICTIM = "victim@example.test"
ATTACKER_PASSWORD = "attacker-chosen pw 991"
ME = "{ me { email organization { name } externalIdentities { externalId } } }"


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


def register(client: GraphQLClient, password: str, organization: str, **extra) -> dict:
    data = register_input(email=VICTIM, password=password, organizationName=organization)
    return client.mutate("register", {**data, **extra}, USER_FIELDS)


def latest_link_token() -> str:
    return token_from(mails_to(VICTIM)[-1], "/verify-email")


def verify(client: GraphQLClient, token: str, **completion) -> dict:
    return client.mutate("verifyEmail", {"token": token, **completion}, USER_FIELDS)


def login(password: str) -> list:
    payload = GraphQLClient().mutate("login", {"email": VICTIM, "password": password}, USER_FIELDS)
    return operation_codes(payload) if payload["__typename"] == "OperationInfo" else []


def assert_owner_holds_the_account(organization: str) -> None:
    """The victim signs in with their password, in the organization they chose; the
    attacker's password, organization and identities are gone."""
    assert login(ATTACKER_PASSWORD) == ["INVALID_CREDENTIALS"]
    assert login(OTHER_PASSWORD) == []
    user = User.objects.get(email=VICTIM)
    assert user.email_verified
    assert user.organization.name == organization
    assert not Organization.objects.filter(name="Acme").exists()
    assert not UserExternalAuthentication.objects.filter(user=user).exists()
    assert not PendingRegistration.objects.exists()


def test_the_classic_attack_asks_the_clicker_for_the_password(settings):
    attacker = GraphQLClient()
    assert register(attacker, ATTACKER_PASSWORD, "Acme")["__typename"] == "User"
    token = latest_link_token()
    assert login(ATTACKER_PASSWORD) == ["EMAIL_NOT_VERIFIED"]

    victim = GraphQLClient()
    # The victim clicks the link from their own browser: it cannot prove the address for
    # the attacker's password. The token stays unused.
    assert operation_codes(verify(victim, token)) == ["REGISTRATION_COMPLETION_REQUIRED"]
    assert login(ATTACKER_PASSWORD) == ["EMAIL_NOT_VERIFIED"]
    # The organization name is required for a new registration; a weak password refused.
    assert operation_codes(verify(victim, token, newPassword=OTHER_PASSWORD)) == [
        "REGISTRATION_COMPLETION_REQUIRED"
    ]
    weak = verify(victim, token, newPassword="short", organizationName="Victim Co")
    assert operation_codes(weak) == ["password_too_short"]

    done = verify(
        victim,
        token,
        newPassword=OTHER_PASSWORD,
        organizationName="Victim Co",
        firstName="Vera",
        lastName="Victim",
    )
    assert done["emailVerified"] is True and done["firstName"] == "Vera"
    assert_owner_holds_the_account("Victim Co")
    # Nothing the attacker set survives: not even the names they typed.
    assert User.objects.get(email=VICTIM).profile.last_name == "Victim"


def test_the_victim_registering_later_replaces_the_pending_account():
    register(GraphQLClient(), ATTACKER_PASSWORD, "Acme")

    victim = GraphQLClient()
    assert register(victim, OTHER_PASSWORD, "Victim Co")["__typename"] == "User"
    # From the browser that registered, the link completes the registration at once.
    assert verify(victim, latest_link_token())["emailVerified"] is True
    assert_owner_holds_the_account("Victim Co")


def test_the_victim_registered_first_and_clicks_the_attackers_link():
    victim = GraphQLClient()
    register(victim, STRONG_PASSWORD, "Victim Co")
    first_link = latest_link_token()
    attacker = GraphQLClient()
    register(attacker, ATTACKER_PASSWORD, "Acme")  # replaces the victim's pending account
    attackers_link = latest_link_token()

    assert operation_codes(verify(victim, first_link)) == ["TOKEN_INVALID"]
    # This browser registered an earlier account of the address, not this one.
    assert operation_codes(verify(victim, attackers_link)) == ["REGISTRATION_COMPLETION_REQUIRED"]
    completion = {"newPassword": OTHER_PASSWORD, "organizationName": "Victim Co"}
    assert verify(victim, attackers_link, **completion)["emailVerified"] is True
    assert_owner_holds_the_account("Victim Co")


def test_the_attackers_session_ends_when_the_owner_takes_over(oidc_provider):
    """Attacker starts an OIDC link: their provider claims the victim's address without
    verifying it. Roster makes a pending account and mails the link to the victim."""
    oidc_provider.user.update(email=VICTIM, email_verified=False, sub="attacker-sub")
    attacker = GraphQLClient()
    browser_sign_in(attacker.http)
    me = attacker.execute(ME).data["me"]
    assert me["email"] == VICTIM and me["organization"] is None  # nothing usable
    token = latest_link_token()

    victim = GraphQLClient()
    assert operation_codes(verify(victim, token)) == ["REGISTRATION_COMPLETION_REQUIRED"]
    completion = {"newPassword": OTHER_PASSWORD, "organizationName": "Victim Co"}
    assert verify(victim, token, **completion)["emailVerified"] is True

    assert attacker.execute(ME).data["me"] is None  # the old cookie is dead
    assert_owner_holds_the_account("Victim Co")
    # Signing in again through the unverified claim is refused: the address is proven.
    again = GraphQLClient()
    response, _, _ = browser_sign_in(again.http)
    assert "error=INVALID_CREDENTIALS" in response["Location"]
    assert again.execute(ME).data["me"] is None


def test_a_verified_sign_in_replaces_the_attackers_pending_registration(oidc_provider):
    register(GraphQLClient(), ATTACKER_PASSWORD, "Acme")
    oidc_provider.user.update(email=VICTIM, email_verified=True, sub="victim-sub")

    victim = GraphQLClient()
    browser_sign_in(victim.http)

    me = victim.execute(ME).data["me"]
    assert me["email"] == VICTIM
    assert me["externalIdentities"] == [{"externalId": "victim-sub"}]
    assert me["organization"]["name"] != "Acme"
    assert login(ATTACKER_PASSWORD) == ["INVALID_CREDENTIALS"]
    assert not PendingRegistration.objects.exists()


def test_an_invitation_takes_over_the_attackers_pending_account(oidc_provider):
    """The attacker holds a pending OIDC session of the address and administers another
    organization, which invites the address: the invitation reaches only the victim."""
    evil_admin = GraphQLClient().login_as(administrator(email="boss@evil.test"))
    oidc_provider.user.update(email=VICTIM, email_verified=False, sub="attacker-sub")
    attacker = GraphQLClient()
    browser_sign_in(attacker.http)
    mail.outbox.clear()
    invited = evil_admin.mutate("invite", {"email": VICTIM}, "__typename")
    assert invited["__typename"] == "Invitation", invited
    invitation_token = token_from(mails_to(VICTIM)[-1], "/invitation")

    # The pending session neither sees the invitation nor can accept it without the token.
    seen = attacker.execute("{ me { invitations { totalCount } } }").data["me"]["invitations"]
    assert seen == {"totalCount": 0}
    guessed = attacker.mutate("acceptInvitation", {"token": "guess"}, "__typename")
    assert operation_codes(guessed) == ["TOKEN_INVALID"]

    victim = GraphQLClient()
    joined = victim.mutate(
        "register",
        register_input(
            email=VICTIM,
            password=OTHER_PASSWORD,
            organizationName="",
            invitationToken=invitation_token,
        ),
        USER_FIELDS,
    )
    assert joined["emailVerified"] is True
    assert attacker.execute(ME).data["me"] is None
    assert login(ATTACKER_PASSWORD) == ["INVALID_CREDENTIALS"]
    user = User.objects.get(email=VICTIM)
    assert list(user.external_authentications.all()) == []
    assert user.check_password(OTHER_PASSWORD)


def test_known_and_pending_addresses_answer_like_new_ones():
    """Enumeration safety: the answer and the cookies do not tell a proven address (a
    look-alike), a pending one (replaced) and a new one apart."""
    administrator(email=VICTIM)  # proven
    answers = []
    for email in (VICTIM, "pending@example.test", "pending@example.test"):
        client = GraphQLClient()
        payload = client.mutate("register", register_input(email=email), USER_FIELDS)
        answers.append(
            ({k: v for k, v in payload.items() if k not in {"id", "email"}}, session_cookie(client))
        )
    shapes = [shape for shape, _ in answers]
    assert shapes[0] == shapes[1] == shapes[2]
    assert all(cookie for _, cookie in answers)


def test_pending_registrations_expire_and_are_pruned(settings):
    register(GraphQLClient(), ATTACKER_PASSWORD, "Acme")
    token = latest_link_token()
    other = GraphQLClient()
    other.mutate("register", register_input(email="fresh@example.test"), "__typename")
    PendingRegistration.objects.filter(user__email=VICTIM).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    mail.outbox.clear()

    completion = {"newPassword": OTHER_PASSWORD, "organizationName": "Victim Co"}
    assert operation_codes(verify(GraphQLClient(), token, **completion)) == ["TOKEN_EXPIRED"]
    GraphQLClient().mutate("resendVerificationEmail", {"email": VICTIM}, "__typename")
    assert mails_to(VICTIM) == []  # only a new registration renews it

    out = StringIO()
    call_command("prunependingregistrations", stdout=out)
    assert "Deleted 1 expired pending registration" in out.getvalue()
    assert list(User.objects.values_list("email", flat=True)) == ["fresh@example.test"]


def test_a_pending_registration_gets_no_reset_link():
    """The attacker cannot turn their registration into a verified account through the
    reset flow; the owner registers again instead."""
    register(GraphQLClient(), ATTACKER_PASSWORD, "Acme")
    mail.outbox.clear()
    answer = GraphQLClient().mutate(
        "requestPasswordReset", {"email": VICTIM}, "... on EmailRequestAccepted { ok }"
    )
    assert answer["ok"] is True
    assert mails_to(VICTIM) == []


def test_a_pending_account_that_accepts_an_invitation_is_complete(oidc_provider):
    """The owner, signed in through an unverified claim, accepts an invitation with its
    token: the invitation proves the address, and the pending registration ends."""
    boss = GraphQLClient().login_as(administrator(email="boss@corp.test"))
    oidc_provider.user.update(email=VICTIM, email_verified=False)
    owner = GraphQLClient()
    browser_sign_in(owner.http)
    boss.mutate("invite", {"email": VICTIM}, "__typename")
    token = token_from(mails_to(VICTIM)[-1], "/invitation")

    accepted = owner.mutate("acceptInvitation", {"token": token}, "... on Organization { name }")
    assert accepted["__typename"] == "Organization"
    user = User.objects.get(email=VICTIM)
    assert user.email_verified and user.organization.name == accepted["name"]
    assert not PendingRegistration.objects.exists()
    assert Organization.objects.count() == 1  # none made for the pending registration
