"""Signing in through an organization's own provider: two real providers on 127.0.0.1,
with their own keys and clients, for two organizations whose domains DNS proved."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from accounts.models import User, UserExternalAuthentication
from accounts.services import sso
from tests.conftest import GraphQLClient, operation_codes
from tests.dns_server import LocalDns
from tests.factories import OrganizationFactory, UserFactory, administrator
from tests.oidc_provider import LocalProvider, browser_sign_in

pytestmark = pytest.mark.django_db

ME = "{ me { email organization { name } } }"


def _provider(name: str, email: str) -> LocalProvider:
    return LocalProvider(
        client_id=f"{name}-roster",
        client_secret=f"{name}-secret-value",
        key_name=name,
        user={
            "sub": f"{name}-subject-1",
            "email": email,
            "email_verified": True,
            "given_name": "Ada",
            "family_name": "Lovelace",
        },
    ).start()


@pytest.fixture
def world(settings):
    """Acme and Globex, each with its own provider and a verified domain; no global
    provider at all."""
    settings.OIDC_ENABLED = False
    settings.OIDC_RP_CLIENT_ID = ""
    dns = LocalDns().start()
    settings.SSO_DNS_RESOLVER = dns.address
    acme_idp = _provider("acme", "ada@acme.example")
    globex_idp = _provider("globex", "hank@globex.example")
    organizations = {}
    for name, idp in (("acme", acme_idp), ("globex", globex_idp)):
        organization = OrganizationFactory(name=name.title())
        admin = administrator(organization=organization, email=f"admin@{name}.example")
        sso.sso_configure(
            actor=admin,
            issuer=idp.issuer,
            client_id=idp.client_id,
            client_secret=idp.client_secret,
            domains=[f"{name}.example"],
            enforced=False,
        )
        record = organization.domains.get().verification_record
        dns.records[f"{name}.example"] = [record]
        sso.domain_verify(actor=admin, domain=f"{name}.example")
        organizations[name] = organization
    yield {
        "acme": acme_idp,
        "globex": globex_idp,
        **{f"{k}_org": v for k, v in organizations.items()},
    }
    acme_idp.stop()
    globex_idp.stop()
    dns.stop()


def start_path(organization) -> str:
    return f"/api/user/oidc/{organization.pk}/authenticate/"


def error_of(response) -> str | None:
    return dict(parse_qsl(urlsplit(response["Location"]).query)).get("error")


def test_each_organization_signs_in_through_its_own_provider(world):
    for name, email in (("acme", "ada@acme.example"), ("globex", "hank@globex.example")):
        client = GraphQLClient()
        done, path, _ = browser_sign_in(client.http, start_path=start_path(world[f"{name}_org"]))
        assert path == "/api/user/oidc/sso/callback/"
        assert done.status_code == 302 and error_of(done) is None, done["Location"]
        me = client.execute(ME).data["me"]
        assert me == {"email": email, "organization": {"name": name.title()}}
        identity = UserExternalAuthentication.objects.get(user__email=email)
        assert identity.provider == world[name].issuer.rstrip("/")
        assert (
            world[name]
            .authorize_params[-1]["redirect_uri"]
            .endswith("/api/user/oidc/sso/callback/")
        )


def test_a_provider_may_not_sign_in_another_organizations_people(world):
    """Globex's provider vouches for an Acme address: refused, no account anywhere."""
    world["globex"].user["email"] = "ada@acme.example"
    done, _, _ = browser_sign_in(GraphQLClient().http, start_path=start_path(world["globex_org"]))
    assert error_of(done) == "INVALID_CREDENTIALS"
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_a_code_from_another_provider_is_refused_at_the_callback(world):
    """A sign-in started for Acme, answered with a code Globex's provider issued: the
    code is exchanged at Acme's provider, which never issued it."""
    http = GraphQLClient().http
    start = http.get(start_path(world["acme_org"]))
    state = dict(parse_qsl(urlsplit(start["Location"]).query))["state"]
    globex_start = GraphQLClient().http.get(start_path(world["globex_org"]))
    at_globex = requests.get(globex_start["Location"], allow_redirects=False, timeout=10)
    code = dict(parse_qsl(urlsplit(at_globex.headers["Location"]).query))["code"]
    done = http.get("/api/user/oidc/sso/callback/", {"code": code, "state": state})
    assert error_of(done) == "INVALID_CREDENTIALS"
    assert not User.objects.filter(email="hank@globex.example").exists()


def test_a_state_started_in_another_browser_is_refused(world):
    start = GraphQLClient().http.get(start_path(world["acme_org"]))
    at_acme = requests.get(start["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_acme.headers["Location"])
    done = GraphQLClient().http.get(back.path, dict(parse_qsl(back.query)))
    assert error_of(done) == "INVALID_CREDENTIALS"
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_an_account_of_another_organization_is_refused_not_moved(world):
    elsewhere = UserFactory(email="ada@acme.example", organization=world["globex_org"])
    done, _, _ = browser_sign_in(GraphQLClient().http, start_path=start_path(world["acme_org"]))
    assert error_of(done) == "INVALID_CREDENTIALS"
    elsewhere.refresh_from_db()
    assert elsewhere.organization == world["globex_org"]
    assert not UserExternalAuthentication.objects.filter(user=elsewhere).exists()


def test_a_member_with_a_password_is_linked_on_first_sso_sign_in(world):
    member = UserFactory(email="ada@acme.example", organization=world["acme_org"])
    client = GraphQLClient()
    done, _, _ = browser_sign_in(client.http, start_path=start_path(world["acme_org"]))
    assert error_of(done) is None
    assert client.execute(ME).data["me"]["email"] == member.email
    assert UserExternalAuthentication.objects.filter(user=member).count() == 1


def test_a_first_sign_in_needs_a_free_seat(world, settings):
    acme = world["acme_org"]
    acme.plan = "free"
    acme.save()
    seats = acme.plan_settings["seats"]
    for number in range(seats - acme.members.count()):
        UserFactory(organization=acme, email=f"member{number}@acme.example")
    done, _, _ = browser_sign_in(GraphQLClient().http, start_path=start_path(acme))
    assert error_of(done) == "SEAT_LIMIT_REACHED"
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_an_organization_without_sso_or_an_unknown_one_has_no_sign_in(world):
    plain = OrganizationFactory()
    for path in (
        start_path(plain),
        "/api/user/oidc/00000000-0000-0000-0000-000000000000/authenticate/",
    ):
        response = GraphQLClient().http.get(path)
        assert response.status_code == 302
        assert error_of(response) == "NOT_FOUND"


def test_no_client_secret_reaches_a_log(world, caplog):
    caplog.set_level(logging.DEBUG)
    world["globex"].user["email"] = "ada@acme.example"  # a refusal, which logs
    browser_sign_in(GraphQLClient().http, start_path=start_path(world["globex_org"]))
    browser_sign_in(GraphQLClient().http, start_path=start_path(world["acme_org"]))
    for secret in ("acme-secret-value", "globex-secret-value"):
        assert secret not in caplog.text


def test_an_sso_account_reauthenticates_through_its_organizations_provider(world):
    """No password: a fresh sign-in at the organization's provider opens sensitive
    operations in the same session."""
    client = GraphQLClient()
    browser_sign_in(client.http, start_path=start_path(world["acme_org"]))
    change = {"newEmail": "ada.new@acme.example"}
    assert operation_codes(client.mutate("requestEmailChange", change, "__typename")) == [
        "REAUTHENTICATION_REQUIRED"
    ]
    done, _, _ = browser_sign_in(
        client.http,
        start_path=start_path(world["acme_org"]),
        authenticate_query={"reauthenticate": "1"},
    )
    assert error_of(done) is None, done["Location"]
    assert world["acme"].authorize_params[-1]["prompt"] == "login"
    answer = client.mutate("requestEmailChange", change, "__typename")
    assert answer["__typename"] != "OperationInfo", answer


def test_another_organizations_provider_cannot_reauthenticate_a_member(world):
    client = GraphQLClient()
    browser_sign_in(client.http, start_path=start_path(world["acme_org"]))
    done, _, _ = browser_sign_in(
        client.http,
        start_path=start_path(world["globex_org"]),
        authenticate_query={"reauthenticate": "1"},
    )
    assert error_of(done) is not None
    assert client.execute(ME).data["me"]["email"] == "ada@acme.example"  # still Ada
    change = {"newEmail": "ada.new@acme.example"}
    assert operation_codes(client.mutate("requestEmailChange", change, "__typename")) == [
        "REAUTHENTICATION_REQUIRED"
    ]


@pytest.mark.parametrize(
    ("knob", "path"), [("token_redirect", "/token"), ("jwks_redirect", "/jwks")]
)
def test_an_endpoint_that_redirects_does_not_send_roster_elsewhere(world, knob, path):
    """An organization's provider answers the code exchange, or the key set fetch, with
    a redirect to another server: Roster does not follow it, and the sign-in fails."""
    from accounts.oidc_client import provider_caches_clear

    provider_caches_clear()  # the key set is fetched anew
    elsewhere = LocalProvider(key_name="elsewhere").start()
    try:
        setattr(world["acme"], knob, elsewhere.url(path))
        done, _, _ = browser_sign_in(GraphQLClient().http, start_path=start_path(world["acme_org"]))
        assert error_of(done) in ("INVALID_CREDENTIALS", "PROVIDER_UNAVAILABLE")
        assert elsewhere.hits[path] == 0
        assert not User.objects.filter(email="ada@acme.example").exists()
    finally:
        elsewhere.stop()


def test_a_browser_keeps_the_states_of_its_latest_sso_sign_ins_only(world):
    """Each started sign-in stores its state in the session: a browser that starts many
    keeps the latest ten, so the session cannot be grown without bound."""
    from accounts.oidc import SSO_STATES, SSO_STATES_KEPT

    http = GraphQLClient().http
    starts = [http.get(start_path(world["acme_org"])) for _ in range(SSO_STATES_KEPT + 3)]
    states = [dict(parse_qsl(urlsplit(s["Location"]).query))["state"] for s in starts]
    assert list(http.session[SSO_STATES]) == states[-SSO_STATES_KEPT:]
    at_acme = requests.get(starts[0]["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_acme.headers["Location"])
    assert error_of(http.get(back.path, dict(parse_qsl(back.query)))) == "INVALID_CREDENTIALS"
