"""Enterprise SSO through the GraphQL endpoint: configuring (administrators, after a
re-authentication), proving domains, how an email signs in, and enforcement."""

from __future__ import annotations

import json

import pytest

from accounts.services.external import external_user_resolve
from backend.errors import SsoRequired
from tests.accounts.auth_helpers import mails_to
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory, administrator
from tests.oidc_provider import LocalProvider

pytestmark = pytest.mark.django_db

SSO = "sso { issuer clientId enforced domains { name verified verificationRecord } }"
ORGANIZATION = f"... on Organization {{ name {SSO} }}"
DOMAIN = "... on OrganizationDomain { name verified verificationRecord }"
OPTIONS = """query ($email: String!) {
  signInOptions(email: $email) { password sso { organizationName authenticateUrl } }
}"""
USER = "... on User { email }"


@pytest.fixture
def admin(organization):
    return administrator(organization=organization, email="admin@acme.example")


def configure(client, provider, **overrides):
    input_ = {
        "issuer": provider.issuer,
        "clientId": provider.client_id,
        "clientSecret": provider.client_secret,
        "domains": ["acme.example"],
        "enforced": False,
        **overrides,
    }
    return client.mutate("configureSso", input_, ORGANIZATION)


def verified(client, dns, organization, domain="acme.example"):
    dns.records[domain] = [organization.domains.get(name=domain).verification_record]
    return client.mutate("verifyDomain", {"domain": domain}, DOMAIN)


def options(email: str) -> dict:
    return GraphQLClient().execute(OPTIONS, {"email": email}).data["signInOptions"]


def test_an_administrator_configures_sso_after_confirming_it_is_them(organization, admin, provider):
    client = GraphQLClient().login_as(admin)
    assert operation_codes(configure(client, provider)) == ["REAUTHENTICATION_REQUIRED"]
    answer = configure(client.reauthenticated(), provider)
    assert answer["sso"]["issuer"] == provider.issuer
    assert answer["sso"]["clientId"] == provider.client_id
    [domain] = answer["sso"]["domains"]
    assert domain["name"] == "acme.example" and domain["verified"] is False
    assert domain["verificationRecord"].startswith("roster-verification=")
    again = client.execute(f"{{ organization {{ {SSO} }} }}")
    assert provider.client_secret not in json.dumps(answer) + json.dumps(again.payload)


def test_members_neither_configure_nor_see_it(organization, admin, user, provider):
    configure(GraphQLClient().login_as(admin).reauthenticated(), provider)
    member = GraphQLClient().login_as(user).reauthenticated()
    assert operation_codes(configure(member, provider)) == ["PERMISSION_DENIED"]
    assert operation_codes(member.mutate("verifyDomain", {"domain": "acme.example"}, DOMAIN)) == [
        "PERMISSION_DENIED"
    ]
    assert member.execute(f"{{ organization {{ {SSO} }} }}").data["organization"]["sso"] is None


def test_a_domain_is_verified_through_the_api(organization, admin, provider, dns):
    client = GraphQLClient().login_as(admin).reauthenticated()
    configure(client, provider)
    refused = client.mutate("verifyDomain", {"domain": "acme.example"}, DOMAIN)
    assert [(m["code"], m["field"]) for m in refused["messages"]] == [
        ("DOMAIN_NOT_VERIFIED", "domain")
    ]
    answer = verified(client, dns, organization)
    assert (answer["name"], answer["verified"]) == ("acme.example", True)


def test_sign_in_options_depend_on_the_domain_only(organization, admin, provider, dns):
    client = GraphQLClient().login_as(admin).reauthenticated()
    configure(client, provider)
    assert options("someone@acme.example") == {"password": True, "sso": None}  # unverified
    verified(client, dns, organization)
    known = options(admin.email)
    unknown = options("nobody-yet@acme.example")
    assert known == unknown
    assert known["password"] is True
    assert known["sso"]["organizationName"] == organization.name
    assert known["sso"]["authenticateUrl"] == (
        f"http://testserver/api/user/oidc/{organization.pk}/authenticate/"
    )
    assert options("ada@elsewhere.example") == {"password": True, "sso": None}
    configure(client, provider, enforced=True, clientSecret=None)
    assert options("nobody-yet@acme.example")["password"] is False


@pytest.fixture
def enforced(organization, admin, provider, dns):
    client = GraphQLClient().login_as(admin).reauthenticated()
    configure(client, provider, enforced=True)
    verified(client, dns, organization)
    return client


def login(email: str, password: str) -> dict:
    return GraphQLClient().mutate("login", {"email": email, "password": password}, USER)


def test_enforced_sso_refuses_members_passwords_whether_right_or_wrong(organization, enforced):
    member = UserFactory(organization=organization, email="bob@acme.example")
    assert operation_codes(login(member.email, PASSWORD)) == ["SSO_REQUIRED"]
    assert operation_codes(login(member.email, "wrong password")) == ["SSO_REQUIRED"]
    assert operation_codes(login("nobody@acme.example", "whatever")) == ["SSO_REQUIRED"]
    # Elsewhere, passwords work as always.
    other = UserFactory(organization=organization, email="carol@elsewhere.example")
    assert login(other.email, PASSWORD)["email"] == other.email


def test_administrators_keep_their_password_to_get_back_in(admin, enforced):
    assert login(admin.email, PASSWORD)["email"] == admin.email
    assert operation_codes(login(admin.email, "wrong password")) == ["SSO_REQUIRED"]


def test_enforced_sso_sends_members_no_reset_link(
    organization, admin, enforced, django_capture_on_commit_callbacks
):
    member = UserFactory(organization=organization, email="bob@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        for email in (member.email, admin.email):
            answer = GraphQLClient().mutate("requestPasswordReset", {"email": email}, "__typename")
            assert answer["__typename"] != "OperationInfo"
    assert mails_to(member.email) == []
    assert len(mails_to(admin.email)) == 1


def test_removing_sso_gives_members_their_passwords_back(
    organization, enforced, django_capture_on_commit_callbacks
):
    member = UserFactory(organization=organization, email="bob@acme.example")
    answer = enforced.mutate("removeSso", None, ORGANIZATION)
    assert answer["sso"] is None
    assert login(member.email, PASSWORD)["email"] == member.email
    with django_capture_on_commit_callbacks(execute=True):
        GraphQLClient().mutate("requestPasswordReset", {"email": member.email}, "__typename")
    assert len(mails_to(member.email)) == 1
    assert options(member.email) == {"password": True, "sso": None}


def test_the_global_provider_does_not_sign_in_an_enforced_domain(organization, enforced):
    claims = {"sub": "global-1", "email": "bob@acme.example", "email_verified": True}
    with pytest.raises(SsoRequired):
        external_user_resolve(provider="https://global.example", claims=claims)


def test_the_global_provider_does_not_sign_in_an_enforced_account_by_its_identity(
    organization, enforced
):
    """The global provider's claims name another address, but the identity it knows
    belongs to an account of the enforced domain."""
    from accounts.models import UserExternalAuthentication

    member = UserFactory(organization=organization, email="bob@acme.example")
    UserExternalAuthentication.objects.create(
        user=member, provider="https://global.example", external_id="global-2", auth_type="oidc"
    )
    claims = {"sub": "global-2", "email": "bob@personal.example", "email_verified": True}
    with pytest.raises(SsoRequired):
        external_user_resolve(provider="https://global.example", claims=claims)


def test_a_kept_secret_never_goes_to_another_provider_or_client(organization, admin, provider):
    client = GraphQLClient().login_as(admin).reauthenticated()
    configure(client, provider)
    another = LocalProvider(key_name="another").start()
    try:
        for change in ({"clientId": "another-client"}, {"issuer": another.issuer}):
            refused = configure(client, provider, clientSecret=None, **change)
            assert [(m["code"], m["field"]) for m in refused["messages"]] == [
                ("INVALID", "clientSecret")
            ], change
    finally:
        another.stop()


def test_an_account_of_another_organization_with_such_an_address_keeps_its_password(
    organization, enforced, other_organization, django_capture_on_commit_callbacks
):
    elsewhere = UserFactory(organization=other_organization, email="eve@acme.example")
    assert login(elsewhere.email, PASSWORD)["email"] == elsewhere.email
    assert operation_codes(login(elsewhere.email, "wrong password")) == ["SSO_REQUIRED"]
    with django_capture_on_commit_callbacks(execute=True):
        GraphQLClient().mutate("requestPasswordReset", {"email": elsewhere.email}, "__typename")
    assert len(mails_to(elsewhere.email)) == 1


def test_a_member_cannot_sign_in_with_a_passkey_alone_once_sso_is_enforced(
    organization, admin, provider, dns
):
    from tests.accounts.test_passkeys import authenticate, register
    from tests.webauthn_authenticator import SoftAuthenticator

    member = UserFactory(organization=organization, email="bob@acme.example")
    authenticator = SoftAuthenticator()
    register(GraphQLClient().login_as(member).reauthenticated(), authenticator)
    assert authenticate(GraphQLClient(), authenticator)["__typename"] == "User"
    client = GraphQLClient().login_as(admin).reauthenticated()
    configure(client, provider, enforced=True)
    verified(client, dns, organization)
    assert operation_codes(authenticate(GraphQLClient(), authenticator)) == ["SSO_REQUIRED"]


def test_a_member_cannot_move_their_address_out_of_the_organizations_domains(
    organization, enforced
):
    member = UserFactory(organization=organization, email="bob@acme.example")
    client = GraphQLClient().login_as(member).reauthenticated()
    refused = client.mutate(
        "requestEmailChange", {"newEmail": "bob@personal.example"}, "__typename"
    )
    assert [(m["code"], m["field"]) for m in refused["messages"]] == [("SSO_REQUIRED", "newEmail")]
    within = client.mutate("requestEmailChange", {"newEmail": "robert@acme.example"}, "__typename")
    assert within["__typename"] != "OperationInfo"


def test_domains_are_compared_as_written():
    from accounts import oidc_client
    from accounts.services.sso import domain_normalize

    assert domain_normalize("Straße.example") is None  # Python's IDNA would make it strasse
    assert domain_normalize("xn--bcher-kva.example") == "xn--bcher-kva.example"
    party = oidc_client.OrganizationParty(
        organization_id=1, issuer="https://idp", client_id="c", client_secret="hush"
    )
    assert "hush" not in repr(party)


def test_removing_a_domain_gives_its_members_their_passwords_back(
    organization, provider, enforced, django_capture_on_commit_callbacks
):
    member = UserFactory(organization=organization, email="bob@acme.example")
    configure(enforced, provider, enforced=True, clientSecret=None, domains=["other.example"])
    assert login(member.email, PASSWORD)["email"] == member.email
    with django_capture_on_commit_callbacks(execute=True):
        GraphQLClient().mutate("requestPasswordReset", {"email": member.email}, "__typename")
    assert len(mails_to(member.email)) == 1


def test_no_client_secret_in_any_answer_or_log(organization, admin, provider, dns, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    client = GraphQLClient().login_as(admin).reauthenticated()
    answers = [
        configure(client, provider),
        configure(client, provider, issuer="http://127.0.0.1:9/nothing-here"),  # refused
        client.mutate("verifyDomain", {"domain": "acme.example"}, DOMAIN),  # refused
        client.execute(f"{{ organization {{ {SSO} }} }}").payload,
        verified(client, dns, organization),
        client.mutate("removeSso", None, ORGANIZATION),
    ]
    assert provider.client_secret not in json.dumps(answers)
    assert provider.client_secret not in caplog.text


def test_removing_sso_needs_an_administrator_who_confirmed_it_is_them(
    organization, admin, user, provider
):
    configure(GraphQLClient().login_as(admin).reauthenticated(), provider)
    assert operation_codes(
        GraphQLClient().login_as(admin).mutate("removeSso", None, ORGANIZATION)
    ) == ["REAUTHENTICATION_REQUIRED"]
    member = GraphQLClient().login_as(user).reauthenticated()
    assert operation_codes(member.mutate("removeSso", None, ORGANIZATION)) == ["PERMISSION_DENIED"]
    assert organization.domains.count() == 1
