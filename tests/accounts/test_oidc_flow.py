"""OIDC browser flow against a real provider on 127.0.0.1 (tests/oidc_provider.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.utils import timezone

from accounts import oidc_client
from accounts.models import Invitation, Organization, User, UserExternalAuthentication
from directory.models import Contact
from tests.accounts.auth_helpers import mails_to, token_from
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.oidc_provider import browser_sign_in, provider_serving

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


ME = """
query {
  me {
    email emailVerified firstName lastName
    organization { name }
    permissionGroups { name }
    externalIdentities { provider externalId createdAt }
  }
}
"""


def signed_in_email(client: GraphQLClient) -> str | None:
    me = client.execute(ME).data["me"]
    return me and me["email"]


def assert_failed(response, code: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        settings.LOGIN_REDIRECT_URL_FAILURE
    )
    assert parse_qs(location.query)["error"] == [code]


def test_first_sign_in_creates_the_account_and_signs_in(oidc_provider):
    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)

    assert response.status_code == 302
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert settings.SESSION_COOKIE_NAME in response.cookies
    me = client.execute(ME).data["me"]
    assert me["email"] == "ada@example.net"
    assert me["emailVerified"] is True
    assert (me["firstName"], me["lastName"]) == ("Ada", "Lovelace")
    assert me["organization"]["name"] == "Ada Lovelace"
    assert {"name": settings.ADMINISTRATORS_GROUP} in me["permissionGroups"]
    assert [(i["provider"], i["externalId"]) for i in me["externalIdentities"]] == [
        (oidc_provider.issuer, "subject-1")
    ]
    user = User.objects.get(email="ada@example.net")
    assert not user.has_usable_password()
    assert user.profile.first_name == "Ada"
    assert Contact.objects.get(user=user).full_name == "Ada Lovelace"


def test_flow_uses_pkce_nonce_and_discovery(oidc_provider, monkeypatch):
    seen = {}
    authorize = oidc_provider.authorize

    def spy(params):
        seen.update(params)
        return authorize(params)

    monkeypatch.setattr(oidc_provider, "authorize", spy)
    browser_sign_in(GraphQLClient().http)
    browser_sign_in(GraphQLClient().http)

    assert seen["code_challenge_method"] == "S256" and len(seen["code_challenge"]) >= 43
    assert len(seen["nonce"]) >= 32 and len(seen["state"]) >= 32
    assert seen["redirect_uri"] == "http://testserver/api/user/oidc/callback/"
    assert oidc_provider.hits["/.well-known/openid-configuration"] == 1  # cached


def test_wrong_pkce_verifier_is_refused_by_the_provider(oidc_provider, monkeypatch):
    from mozilla_django_oidc import views

    monkeypatch.setattr(views, "generate_code_challenge", lambda verifier, method: "x" * 43)
    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)
    assert_failed(response, "INVALID_CREDENTIALS")
    assert signed_in_email(client) is None
    assert not User.objects.exists()


def test_session_is_rotated_on_sign_in(oidc_provider):
    client = GraphQLClient()
    client.http.get("/api/user/oidc/authenticate/")
    before = client.http.cookies[settings.SESSION_COOKIE_NAME].value
    browser_sign_in(client.http)
    assert client.http.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert signed_in_email(client) == "ada@example.net"


def test_returning_user_is_found_by_sub_and_updated_from_claims(oidc_provider):
    browser_sign_in(GraphQLClient().http)
    user = User.objects.get()
    oidc_provider.user.update(
        email="ada.king@example.net", given_name="Augusta", family_name="King"
    )

    client = GraphQLClient()
    browser_sign_in(client.http)

    me = client.execute(ME).data["me"]
    assert (me["email"], me["firstName"], me["lastName"]) == (
        "ada.king@example.net",
        "Augusta",
        "King",
    )
    assert User.objects.get().pk == user.pk
    assert UserExternalAuthentication.objects.count() == 1
    assert Contact.objects.get(user=user).full_name == "Augusta King"


def test_unverified_email_change_is_not_taken(oidc_provider):
    browser_sign_in(GraphQLClient().http)
    oidc_provider.user.update(email="someone-else@example.net", email_verified=False)
    client = GraphQLClient()
    browser_sign_in(client.http)
    assert signed_in_email(client) == "ada@example.net"


def test_changed_sub_with_verified_email_links_the_account(oidc_provider, organization):
    existing = UserFactory(email="ada@example.net", organization=organization)
    oidc_provider.user["sub"] = "new-subject"

    client = GraphQLClient()
    browser_sign_in(client.http)

    assert signed_in_email(client) == "ada@example.net"
    assert User.objects.count() == 1
    identity = UserExternalAuthentication.objects.get()
    assert (identity.user_id, identity.external_id) == (existing.pk, "new-subject")
    existing.refresh_from_db()
    assert existing.organization_id == organization.pk
    assert existing.check_password(PASSWORD)  # the password still works


def test_verified_owner_takes_over_an_account_never_verified(oidc_provider, make_client):
    # Someone registered the address first (password, unverified) or signed in with an
    # unverified claim of it: when the owner proves it, those ways in are gone.
    squatter = UserFactory(email="ada@example.net", email_verified=False)
    squatter_session = make_client(squatter)
    UserExternalAuthentication.objects.create(
        user=squatter, provider=oidc_provider.issuer, external_id="squatter-sub"
    )

    client = GraphQLClient()
    browser_sign_in(client.http)

    assert signed_in_email(client) == "ada@example.net"
    squatter.refresh_from_db()
    assert squatter.email_verified
    assert not squatter.has_usable_password()
    assert list(UserExternalAuthentication.objects.values_list("external_id", flat=True)) == [
        "subject-1"
    ]
    assert signed_in_email(squatter_session) is None


def test_unverified_email_is_pending_and_does_not_join_the_domain_organization(
    oidc_provider, django_capture_on_commit_callbacks
):
    OrganizationFactory(name="Analytical Engines", domain="example.net")
    oidc_provider.user["email_verified"] = False
    client = GraphQLClient()
    with django_capture_on_commit_callbacks(execute=True):
        browser_sign_in(client.http)
    me = client.execute(ME).data["me"]
    assert me["organization"] is None and me["permissionGroups"] == []

    # Proven from the signed-in session, the registration completes.
    token = token_from(mails_to("ada@example.net")[-1], "/verify-email")
    verified = client.mutate("verifyEmail", {"token": token}, "... on User { emailVerified }")
    assert verified == {"__typename": "User", "emailVerified": True}
    me = client.execute(ME).data["me"]
    assert me["organization"]["name"] == "Ada Lovelace"
    assert {"name": settings.ADMINISTRATORS_GROUP} in me["permissionGroups"]


def test_changed_sub_with_unverified_email_is_refused(oidc_provider, organization):
    UserFactory(email="ada@example.net", organization=organization)
    oidc_provider.user.update(sub="new-subject", email_verified=False)

    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)

    assert_failed(response, "INVALID_CREDENTIALS")
    assert signed_in_email(client) is None
    assert User.objects.count() == 1
    assert not UserExternalAuthentication.objects.exists()


def test_unverified_email_of_a_new_person_creates_an_unverified_account(oidc_provider):
    oidc_provider.user["email_verified"] = False
    client = GraphQLClient()
    browser_sign_in(client.http)
    me = client.execute(ME).data["me"]
    assert me["email"] == "ada@example.net" and me["emailVerified"] is False


def test_disabled_user_is_refused(oidc_provider):
    browser_sign_in(GraphQLClient().http)
    User.objects.update(is_active=False)

    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)

    assert_failed(response, "ACCOUNT_DISABLED")
    assert signed_in_email(client) is None


def test_disabling_ends_existing_oidc_sessions(oidc_provider):
    client = GraphQLClient()
    browser_sign_in(client.http)
    User.objects.update(is_active=False)
    assert signed_in_email(client) is None


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"sign_with_other_key": True}, id="bad-signature"),
        pytest.param({"aud": "another-client"}, id="wrong-audience"),
        pytest.param({"aud": ["roster-test", "another-client"]}, id="foreign-azp"),
        pytest.param({"iss": "http://127.0.0.1:1"}, id="wrong-issuer"),
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
        pytest.param({"nonce": "not-this-sign-in"}, id="wrong-nonce"),
        pytest.param({"sub": "not-the-userinfo-subject"}, id="subject-mismatch"),
    ],
)
def test_bad_id_tokens_are_refused(oidc_provider, breakage):
    if breakage.pop("sign_with_other_key", False):
        oidc_provider.sign_with_other_key = True
    oidc_provider.id_token_claims.update(breakage)

    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)

    assert_failed(response, "INVALID_CREDENTIALS")
    assert signed_in_email(client) is None
    assert not User.objects.exists()


def test_good_id_token_passes_the_same_checks(oidc_provider):
    # The control of the test above: the untouched provider signs in.
    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert signed_in_email(client) == "ada@example.net"


def test_signing_keys_are_cached_and_refetched_when_the_provider_rotates(
    oidc_provider, monkeypatch
):
    monkeypatch.setattr(oidc_client, "JWKS_REFETCH_COOLDOWN", 0)
    browser_sign_in(GraphQLClient().http)
    browser_sign_in(GraphQLClient().http)
    assert oidc_provider.hits["/jwks"] == 1  # cached

    # The provider signs with a new key under a new kid: the key set is fetched again.
    oidc_provider.key, oidc_provider.kid = oidc_provider.other_key, "rotated"
    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert signed_in_email(client) == "ada@example.net"
    assert oidc_provider.hits["/jwks"] == 2


def test_unknown_key_ids_refetch_the_key_set_at_most_once_per_cooldown(oidc_provider):
    browser_sign_in(GraphQLClient().http)
    oidc_provider.kid = "made-up"
    for _ in range(2):
        client = GraphQLClient()
        response, _, _ = browser_sign_in(client.http)
        assert_failed(response, "INVALID_CREDENTIALS")
        assert signed_in_email(client) is None
    assert oidc_provider.hits["/jwks"] == 1


def test_replayed_state_is_refused(oidc_provider):
    client = GraphQLClient()
    first, path, query = browser_sign_in(client.http)
    assert first["Location"] == settings.LOGIN_REDIRECT_URL

    second = client.http.get(path, query)
    assert_failed(second, "INVALID_CREDENTIALS")
    assert oidc_provider.hits["/token"] == 1  # refused before the code exchange

    stranger = GraphQLClient()
    stranger.http.get("/api/user/oidc/authenticate/")  # has a session, but not that state
    third = stranger.http.get(path, query)
    assert_failed(third, "INVALID_CREDENTIALS")
    assert signed_in_email(stranger) is None
    assert oidc_provider.hits["/token"] == 1


def test_callback_without_a_session_is_refused(oidc_provider):
    client = GraphQLClient()
    _, path, query = browser_sign_in(GraphQLClient().http)
    response = client.http.get(path, query)
    assert_failed(response, "INVALID_CREDENTIALS")
    assert signed_in_email(client) is None


def test_provider_error_on_callback_is_a_failure(oidc_provider):
    client = GraphQLClient()
    client.http.get("/api/user/oidc/authenticate/")
    response = client.http.get("/api/user/oidc/callback/", {"error": "access_denied", "state": "x"})
    assert_failed(response, "INVALID_CREDENTIALS")


def test_new_user_joins_the_organization_claiming_the_email_domain(oidc_provider):
    claimed = OrganizationFactory(name="Analytical Engines", domain="Example.NET")
    client = GraphQLClient()
    browser_sign_in(client.http)

    me = client.execute(ME).data["me"]
    assert me["organization"]["name"] == "Analytical Engines"
    assert me["permissionGroups"] == []  # a plain member
    assert Organization.objects.count() == 1
    assert User.objects.get().organization_id == claimed.pk


def test_domain_organization_without_free_seats_refuses(oidc_provider):
    full = OrganizationFactory(domain="example.net", plan="free")
    UserFactory.create_batch(full.seats, organization=full)

    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)

    assert_failed(response, "SEAT_LIMIT_REACHED")
    assert not User.objects.filter(email="ada@example.net").exists()
    assert not UserExternalAuthentication.objects.exists()


def test_pending_invitations_keep_their_seats_from_domain_sign_ins(oidc_provider):
    full = OrganizationFactory(domain="example.net", plan="free")
    members = UserFactory.create_batch(full.seats - 1, organization=full)
    Invitation.objects.create(
        organization=full,
        inviter=members[0],
        email="invited@example.org",
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )

    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)

    assert_failed(response, "SEAT_LIMIT_REACHED")
    assert not User.objects.filter(email="ada@example.net").exists()


def test_next_url_outside_allowed_hosts_is_ignored(oidc_provider):
    client = GraphQLClient()
    response, _, _ = browser_sign_in(
        client.http, authenticate_query={"next": "https://evil.example.com/steal"}
    )
    assert response["Location"] == settings.LOGIN_REDIRECT_URL


def test_next_url_on_the_frontend_is_followed(oidc_provider):
    target = f"{settings.FRONTEND_URL}/contacts"
    response, _, _ = browser_sign_in(GraphQLClient().http, authenticate_query={"next": target})
    assert response["Location"] == target


def test_logout_ends_the_session_and_visits_the_provider(oidc_provider):
    client = GraphQLClient()
    browser_sign_in(client.http)
    assert client.http.get("/api/user/oidc/logout/").status_code == 405

    refused = client.http.post("/api/user/oidc/logout/")  # no CSRF token
    assert refused.status_code == 403
    assert signed_in_email(client) == "ada@example.net"

    response = client.http.post("/api/user/oidc/logout/", HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == oidc_provider.url("/logout")
    params = parse_qs(location.query)
    assert params["client_id"] == [oidc_provider.client_id]
    assert params["post_logout_redirect_uri"] == [settings.LOGOUT_REDIRECT_URL]
    assert signed_in_email(client) is None


def test_explicit_endpoints_without_discovery(oidc_provider, settings):
    settings.OIDC_OP_ISSUER = ""
    settings.OIDC_PROVIDER_NAME = "test-idp"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = oidc_provider.url("/authorize")
    settings.OIDC_OP_TOKEN_ENDPOINT = oidc_provider.url("/token")
    settings.OIDC_OP_USER_ENDPOINT = oidc_provider.url("/userinfo")
    settings.OIDC_OP_JWKS_ENDPOINT = oidc_provider.url("/jwks")

    client = GraphQLClient()
    browser_sign_in(client.http)

    me = client.execute(ME).data["me"]
    assert me["externalIdentities"][0]["provider"] == "test-idp"
    assert oidc_provider.hits["/.well-known/openid-configuration"] == 0


def test_issuer_with_a_trailing_slash(oidc_provider, settings):
    oidc_provider.issuer_trailing_slash = True
    settings.OIDC_OP_ISSUER = oidc_provider.issuer
    client = GraphQLClient()
    browser_sign_in(client.http)
    me = client.execute(ME).data["me"]
    assert me["externalIdentities"][0]["provider"] == oidc_provider.base_url


def test_discovery_naming_another_issuer_is_not_trusted(oidc_provider):
    oidc_provider.discovery_issuer = "https://evil.example.com"
    response = GraphQLClient().http.get("/api/user/oidc/authenticate/")
    assert_failed(response, "PROVIDER_UNAVAILABLE")


def test_client_secret_by_basic_auth(oidc_provider, settings):
    settings.OIDC_TOKEN_USE_BASIC_AUTH = True
    client = GraphQLClient()
    browser_sign_in(client.http)
    assert signed_in_email(client) == "ada@example.net"


def test_wrong_client_secret_fails(oidc_provider, settings):
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)
    assert_failed(response, "INVALID_CREDENTIALS")
    assert signed_in_email(client) is None


def test_oidc_off_answers_that_it_is_off(settings):
    settings.OIDC_ENABLED = False
    for path in ("/api/user/oidc/authenticate/", "/api/user/oidc/callback/", "/api/user/oidc/"):
        response = GraphQLClient().http.get(path)
        assert response.status_code == 404
        assert "OIDC is off" in response.json()["detail"]


def test_password_login_still_works_with_the_oidc_backend(oidc_provider, user):
    assert "accounts.oidc.OIDCBackend" in settings.AUTHENTICATION_BACKENDS
    # code and state in the query must not send a password login to the OIDC backend
    request = RequestFactory().get("/", {"code": "x", "state": "y"})
    found = authenticate(request, email=user.email, password=PASSWORD)
    assert found == user
    assert found.backend == "accounts.backends.EmailBackend"
    assert authenticate(request, email=user.email, password="wrong") is None
    assert oidc_provider.hits["/token"] == 0


def test_settings_need_an_issuer_or_endpoints_once_a_client_is_set():
    import os
    import subprocess
    import sys

    def check(**extra):
        env = {**os.environ, "ROSTER_TESTING": "1", **extra}
        return subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = check(OIDC_RP_CLIENT_ID="roster")
    assert refused.returncode != 0
    assert "OIDC_OP_ISSUER" in refused.stderr
    # Discovery is lazy: an unreachable issuer does not stop the server from starting.
    started = check(OIDC_RP_CLIENT_ID="roster", OIDC_OP_ISSUER="http://127.0.0.1:9")
    assert started.returncode == 0, started.stderr
