"""Every mutation of the schema writes its audit event, or is marked here as not audited
with the reason (issue #20). A new mutation fails ``test_every_mutation_is_listed`` until
it records an event (with a scenario below) or is marked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from django.core import mail
from graphql import build_schema
from PIL import Image

from accounts.models import AuditEvent, User
from accounts.services.groups import permission_groups_setup
from schema.schema import schema
from tests.accounts.auth_helpers import STRONG_PASSWORD, mails_to, register_input, token_from
from tests.accounts.organizations.conftest import group_id, user_id
from tests.accounts.test_avatar import encode, upload_payload
from tests.accounts.test_passkeys import authenticate as passkey_authenticate
from tests.accounts.test_passkeys import register as passkey_register
from tests.accounts.test_second_factor import app_set_up
from tests.conftest import GraphQLClient
from tests.dns_server import dns_serving
from tests.factories import PASSWORD, UserFactory, administrator
from tests.oidc_provider import provider_serving
from tests.webauthn_authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db(transaction=True)

# The event each mutation writes when it succeeds.
EVENTS = {
    "register": "user.registered",
    "verifyEmail": "user.email.verified",
    "login": "user.login.succeeded",
    "verifyMfa": "user.login.succeeded",
    "totpSetupConfirm": "user.mfa.totp.enabled",
    "passkeyRegistrationFinish": "user.mfa.passkey.added",
    "passkeyAuthenticationFinish": "user.login.succeeded",
    "passkeyRemove": "user.mfa.passkey.removed",
    "totpDisable": "user.mfa.totp.disabled",
    "recoveryCodesRegenerate": "user.mfa.recovery_codes.regenerated",
    "logout": "user.logout",
    "requestPasswordReset": "user.password_reset.requested",
    "resetPassword": "user.password.reset",
    "changePassword": "user.password.changed",
    "reauthenticate": "user.reauthenticated",
    "revokeSession": "user.session.revoked",
    "revokeOtherSessions": "user.session.revoked",
    "exportMyData": "user.data.exported",
    "deleteAccount": "user.deleted",
    "requestEmailChange": "user.email.change_requested",
    "confirmEmailChange": "user.email.changed",
    "revertEmailChange": "user.email.change_reverted",
    "updateProfile": "user.profile.updated",
    "updateAvatar": "user.avatar.updated",
    "removeAvatar": "user.avatar.removed",
    "loginExternal": "user.login.succeeded",
    "createTeam": "team.created",
    "updateTeam": "team.renamed",
    "deleteTeam": "team.deleted",
    "addTeamMember": "team.member.added",
    "setTeamRole": "team.role.changed",
    "removeTeamMember": "team.member.removed",
    "invite": "invitation.created",
    "resendInvitation": "invitation.resent",
    "revokeInvitation": "invitation.revoked",
    "acceptInvitation": "invitation.accepted",
    "setPermissionGroups": "organization.member.groups.changed",
    "removeMember": "organization.member.removed",
    "updateOrganization": "organization.renamed",
    "wipeOutOrganization": "organization.wiped_out",
    "configureSso": "organization.sso.configured",
    "removeSso": "organization.sso.removed",
    "verifyDomain": "organization.domain.verified",
}
NOT_AUDITED = {
    "resendVerificationEmail": "a new link for an address nobody proved yet; nothing changes",
    "totpSetupBegin": "nothing changes until totpSetupConfirm",
    "passkeyRegistrationBegin": "nothing changes until passkeyRegistrationFinish",
    "passkeyAuthenticationBegin": "a challenge; passkeyAuthenticationFinish records the sign-in",
    "createContact": "personal contacts are one user's private data",
    "overrideContact": "a private override of one user (the issue excludes them)",
    "updateContact": "personal contacts are one user's private data",
    "deleteContact": "personal contacts are one user's private data",
}


def schema_mutations() -> set[str]:
    """The mutation fields of the schema the endpoint serves, as clients see them."""
    return set(build_schema(schema.as_str()).mutation_type.fields)


def test_every_mutation_is_listed():
    assert not set(EVENTS) & set(NOT_AUDITED)
    assert set(EVENTS) | set(NOT_AUDITED) == schema_mutations()


# Scenarios: each sets the stage and answers the call that performs the mutation.


@dataclass
class World:
    admin: User
    member: User
    fixture: Callable  # another fixture, by name (pytest's getfixturevalue)

    def client(self, user: User, *, reauthenticated: bool = False) -> GraphQLClient:
        client = GraphQLClient().login_as(user)
        return client.reauthenticated() if reauthenticated else client


@pytest.fixture
def world(organization, request) -> World:
    permission_groups_setup()
    return World(
        admin=administrator(organization=organization, first_name="Ada"),
        member=UserFactory(organization=organization, first_name="Bob"),
        fixture=request.getfixturevalue,
    )


Call = Callable[[], dict]
SCENARIOS: dict[str, Callable[[World], Call]] = {}


def scenario(name: str):
    def register(function):
        SCENARIOS[name] = function
        return function

    return register


def call(client: GraphQLClient, name: str, input_: dict | None = None) -> Call:
    return lambda: client.mutate(name, input_, "")


@scenario("register")
def _(w):
    return call(GraphQLClient(), "register", register_input())


@scenario("verifyEmail")
def _(w):
    client = GraphQLClient()
    client.mutate("register", register_input(), "")
    token = token_from(mails_to("new.person@example.com")[-1], "/verify-email")
    return call(client, "verifyEmail", {"token": token})


@scenario("login")
def _(w):
    return call(GraphQLClient(), "login", {"email": w.member.email, "password": PASSWORD})


@scenario("verifyMfa")
def _(w):
    totp, _ = app_set_up(w.client(w.member, reauthenticated=True))
    client = GraphQLClient()
    client.mutate("login", {"email": w.member.email, "password": PASSWORD}, "")
    return call(client, "verifyMfa", {"code": totp.at(time.time() + 30)})


@scenario("totpSetupConfirm")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    secret = client.mutate("totpSetupBegin", None, "... on TotpSetup { secret }")["secret"]
    return call(client, "totpSetupConfirm", {"code": pyotp.TOTP(secret).now()})


@scenario("passkeyRegistrationFinish")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    return lambda: passkey_register(client, SoftAuthenticator())


@scenario("passkeyAuthenticationFinish")
def _(w):
    authenticator = SoftAuthenticator()
    passkey_register(w.client(w.member, reauthenticated=True), authenticator)
    return lambda: passkey_authenticate(GraphQLClient(), authenticator)


@scenario("passkeyRemove")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    passkey_register(client, SoftAuthenticator())
    me = client.execute("{ me { mfa { passkeys { id } } } }").data["me"]
    return call(client, "passkeyRemove", {"id": me["mfa"]["passkeys"][0]["id"]})


@scenario("totpDisable")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    app_set_up(client)
    return call(client, "totpDisable")


@scenario("recoveryCodesRegenerate")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    app_set_up(client)
    return call(client, "recoveryCodesRegenerate")


@scenario("logout")
def _(w):
    return call(w.client(w.member), "logout")


@scenario("requestPasswordReset")
def _(w):
    return call(GraphQLClient(), "requestPasswordReset", {"email": w.member.email})


@scenario("resetPassword")
def _(w):
    client = GraphQLClient()
    client.mutate("requestPasswordReset", {"email": w.member.email}, "")
    token = token_from(mails_to(w.member.email)[-1], "/reset-password")
    return call(client, "resetPassword", {"token": token, "newPassword": STRONG_PASSWORD})


@scenario("changePassword")
def _(w):
    return call(
        w.client(w.member),
        "changePassword",
        {"currentPassword": PASSWORD, "newPassword": STRONG_PASSWORD},
    )


@scenario("reauthenticate")
def _(w):
    return call(w.client(w.member), "reauthenticate", {"password": PASSWORD})


@scenario("revokeSession")
def _(w):
    other = GraphQLClient()
    other.mutate("login", {"email": w.member.email, "password": PASSWORD}, "")
    client = w.client(w.member)
    sessions = client.execute("{ me { sessions(first: 5) { edges { node { id current } } } } }")
    [other_id] = [
        e["node"]["id"]
        for e in sessions.data["me"]["sessions"]["edges"]
        if not e["node"]["current"]
    ]
    return call(client, "revokeSession", {"id": other_id})


@scenario("revokeOtherSessions")
def _(w):
    return call(w.client(w.member), "revokeOtherSessions")


@scenario("exportMyData")
def _(w):
    return call(w.client(w.member), "exportMyData")


@scenario("deleteAccount")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    return call(client, "deleteAccount", {"confirmEmail": w.member.email})


def _email_change(w) -> GraphQLClient:
    client = w.client(w.member, reauthenticated=True)
    client.mutate("requestEmailChange", {"newEmail": "bob.new@example.net"}, "")
    return client


@scenario("requestEmailChange")
def _(w):
    client = w.client(w.member, reauthenticated=True)
    return call(client, "requestEmailChange", {"newEmail": "bob.new@example.net"})


@scenario("confirmEmailChange")
def _(w):
    client = _email_change(w)
    token = token_from(mails_to("bob.new@example.net")[-1], "/confirm-email-change")
    return call(client, "confirmEmailChange", {"token": token})


@scenario("revertEmailChange")
def _(w):
    client = _email_change(w)
    token = token_from(mails_to(w.member.email)[-1], "/revert-email-change")
    return call(client, "revertEmailChange", {"token": token})


@scenario("updateProfile")
def _(w):
    return call(w.client(w.member), "updateProfile", {"firstName": "Robert"})


def _upload(w: World, client: GraphQLClient) -> dict:
    w.fixture("settings").MEDIA_ROOT = str(w.fixture("tmp_path"))
    return upload_payload(client, encode(Image.new("RGB", (8, 8), "red"), "PNG"))


@scenario("updateAvatar")
def _(w):
    client = w.client(w.member)
    return lambda: _upload(w, client)


@scenario("removeAvatar")
def _(w):
    client = w.client(w.member)
    _upload(w, client)
    return call(client, "removeAvatar")


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


@scenario("loginExternal")
def _(w):
    provider = w.fixture("oidc_provider")
    return call(GraphQLClient(), "loginExternal", {"accessToken": provider.access_token_issue()})


def _team(client: GraphQLClient, name: str = "Platform") -> str:
    return client.mutate("createTeam", {"name": name}, "... on Team { id }")["id"]


@scenario("createTeam")
def _(w):
    return call(w.client(w.member), "createTeam", {"name": "Platform"})


@scenario("updateTeam")
def _(w):
    client = w.client(w.member)
    return call(client, "updateTeam", {"id": _team(client), "name": "Core"})


@scenario("deleteTeam")
def _(w):
    client = w.client(w.member)
    return call(client, "deleteTeam", {"id": _team(client)})


@scenario("addTeamMember")
def _(w):
    client = w.client(w.member)
    team = _team(client)
    return call(client, "addTeamMember", {"teamId": team, "userId": user_id(w.admin)})


def _team_with_admin(w) -> tuple[GraphQLClient, str]:
    client = w.client(w.member)
    team = _team(client)
    client.mutate("addTeamMember", {"teamId": team, "userId": user_id(w.admin)}, "")
    return client, team


@scenario("setTeamRole")
def _(w):
    client, team = _team_with_admin(w)
    return call(
        client,
        "setTeamRole",
        {"teamId": team, "userId": user_id(w.admin), "role": "ADMINISTRATOR"},
    )


@scenario("removeTeamMember")
def _(w):
    client, team = _team_with_admin(w)
    return call(client, "removeTeamMember", {"teamId": team, "userId": user_id(w.admin)})


def _invitation(w) -> tuple[GraphQLClient, str]:
    client = w.client(w.admin)
    answer = client.mutate("invite", {"email": "carol@example.net"}, "... on Invitation { id }")
    return client, answer["id"]


@scenario("invite")
def _(w):
    return call(w.client(w.admin), "invite", {"email": "carol@example.net"})


@scenario("resendInvitation")
def _(w):
    client, invitation = _invitation(w)
    return call(client, "resendInvitation", {"id": invitation})


@scenario("revokeInvitation")
def _(w):
    client, invitation = _invitation(w)
    return call(client, "revokeInvitation", {"id": invitation})


@scenario("acceptInvitation")
def _(w):
    _invitation(w)
    token = token_from(mails_to("carol@example.net")[-1], "/invitation")
    carol = UserFactory(email="carol@example.net")
    return call(w.client(carol), "acceptInvitation", {"token": token})


@scenario("setPermissionGroups")
def _(w):
    from django.conf import settings

    return call(
        w.client(w.admin),
        "setPermissionGroups",
        {"userId": user_id(w.member), "permissionGroupIds": [group_id(settings.INVITERS_GROUP)]},
    )


@scenario("removeMember")
def _(w):
    return call(w.client(w.admin), "removeMember", {"userId": user_id(w.member)})


@scenario("updateOrganization")
def _(w):
    return call(w.client(w.admin), "updateOrganization", {"name": "Renamed"})


@scenario("wipeOutOrganization")
def _(w):
    client = w.client(w.admin, reauthenticated=True)
    return call(client, "wipeOutOrganization", {"confirmName": w.admin.organization.name})


@pytest.fixture
def sso_dns(settings):
    yield from dns_serving(settings)


def sso_input(w) -> dict:
    provider = w.fixture("oidc_provider")
    return {
        "issuer": provider.issuer,
        "clientId": provider.client_id,
        "clientSecret": provider.client_secret,
        "domains": ["acme.example"],
        "enforced": True,
    }


def sso_configured(w) -> GraphQLClient:
    client = w.client(w.admin, reauthenticated=True)
    client.mutate("configureSso", sso_input(w), "")
    return client


@scenario("configureSso")
def _(w):
    return call(w.client(w.admin, reauthenticated=True), "configureSso", sso_input(w))


@scenario("removeSso")
def _(w):
    return call(sso_configured(w), "removeSso")


@scenario("verifyDomain")
def _(w):
    client = sso_configured(w)
    dns = w.fixture("sso_dns")
    record = w.admin.organization.domains.get().verification_record
    dns.records["acme.example"] = [record]
    return call(client, "verifyDomain", {"domain": "acme.example"})


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_mutation_records_its_event(world, name):
    assert name in SCENARIOS, f"no scenario for {name}"
    perform = SCENARIOS[name](world)
    mail.outbox.clear()
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    payload = perform()
    assert payload.get("__typename") != "OperationInfo", payload
    actions = list(
        AuditEvent.objects.filter(id__gt=last).order_by("id").values_list("action", flat=True)
    )
    assert EVENTS[name] in actions, actions
