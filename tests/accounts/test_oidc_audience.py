"""Access tokens must be meant for Roster (issue #16 part 2).

The provider issues tokens to Roster and to another application; its userinfo endpoint
answers for both. A token of the other application must not open Roster, neither
through ``loginExternal`` nor as ``Authorization: Bearer``; checked by introspection
(RFC 7662) for opaque tokens and against the provider's keys for JWT access tokens
(RFC 9068)."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import GRAPHQL_URL, GraphQLClient, operation_codes
from tests.oidc_provider import OTHER_CLIENT_ID, provider_serving

pytestmark = pytest.mark.django_db

ME = "query { me { email } }"


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


@pytest.fixture(params=["introspection", "jwt"])
def token_kind(request, oidc_provider):
    """Run a test once with opaque tokens checked by introspection and once with JWT
    access tokens checked locally (the provider then offers no introspection at all)."""
    if request.param == "jwt":
        oidc_provider.jwt_access_tokens = True
        oidc_provider.introspection = False
    return request.param


def login_external(token: str) -> tuple[GraphQLClient, dict]:
    client = GraphQLClient()
    return client, client.mutate("loginExternal", {"accessToken": token}, "... on User { email }")


def bearer(token: str):
    return Client(enforce_csrf_checks=True).post(
        GRAPHQL_URL,
        data={"query": ME},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_another_clients_token_is_refused_and_rosters_accepted(oidc_provider, token_kind):
    other = oidc_provider.access_token_issue(client_id=OTHER_CLIENT_ID)
    client, payload = login_external(other)
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert client.execute(ME).data["me"] is None
    assert not User.objects.exists()  # nothing created for the other application's user
    response = bearer(other)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"

    own = oidc_provider.access_token_issue()
    client, payload = login_external(own)
    assert payload == {"__typename": "User", "email": "ada@example.net"}
    assert bearer(own).json()["data"] == {"me": {"email": "ada@example.net"}}
    if token_kind == "jwt":
        assert oidc_provider.hits["/introspect"] == 0  # verified with the provider's keys


def test_allowed_audiences_are_configurable(oidc_provider, token_kind, settings):
    settings.OIDC_ALLOWED_AUDIENCES = ["roster-test", OTHER_CLIENT_ID]
    other = oidc_provider.access_token_issue(client_id=OTHER_CLIENT_ID)
    assert login_external(other)[1]["__typename"] == "User"


def test_expired_tokens_are_refused(oidc_provider, token_kind):
    expired = oidc_provider.access_token_issue(expires_in=-120)  # beyond the clock skew
    assert operation_codes(login_external(expired)[1]) == ["INVALID_CREDENTIALS"]


def test_an_id_token_is_not_an_access_token(oidc_provider):
    """Token confusion: an ID token is signed by the provider and names Roster as its
    audience, but it is not an access token (no at+jwt type) and opens nothing."""
    id_token = oidc_provider.id_token(oidc_provider.user, nonce=None)
    oidc_provider.access_tokens[id_token] = {
        "claims": dict(oidc_provider.user),
        "sub": oidc_provider.user["sub"],
        "client_id": "roster-test",
        "exp": time.time() + 300,
    }  # even if userinfo accepted it
    oidc_provider.introspection = False
    assert operation_codes(login_external(id_token)[1]) == ["INVALID_CREDENTIALS"]


def test_a_jwt_access_token_signed_by_another_key_is_refused(oidc_provider):
    oidc_provider.jwt_access_tokens = True
    oidc_provider.sign_with_other_key = True
    token = oidc_provider.access_token_issue()
    assert operation_codes(login_external(token)[1]) == ["INVALID_CREDENTIALS"]


def test_userinfo_must_name_the_tokens_subject(oidc_provider, token_kind):
    token = oidc_provider.access_token_issue()
    # The token was issued for subject-1; userinfo answers for someone else.
    issued = oidc_provider.access_tokens[token]
    issued["claims"] = {**issued["claims"], "sub": "someone-else", "email": "eve@example.net"}
    assert operation_codes(login_external(token)[1]) == ["INVALID_CREDENTIALS"]
    assert not User.objects.exists()


def test_without_introspection_or_jwt_tokens_every_token_is_refused(oidc_provider, settings):
    oidc_provider.introspection = False
    token = oidc_provider.access_token_issue()
    assert operation_codes(login_external(token)[1]) == ["INVALID_CREDENTIALS"]
    assert bearer(token).status_code == 401
    assert oidc_provider.hits["/userinfo"] == 0


def test_userinfo_only_is_an_explicit_opt_in_that_accepts_any_client(oidc_provider, settings):
    """The documented risk of OIDC_ACCESS_TOKEN_USERINFO_ONLY: another application's
    token signs its holder in."""
    settings.OIDC_ACCESS_TOKEN_USERINFO_ONLY = True
    oidc_provider.introspection = False
    other = oidc_provider.access_token_issue(client_id=OTHER_CLIENT_ID)
    assert login_external(other)[1]["__typename"] == "User"


def test_a_cached_bearer_token_dies_with_its_expiry(oidc_provider, settings):
    settings.OIDC_BEARER_CACHE_TTL = 60
    token = oidc_provider.access_token_issue(expires_in=3)
    assert bearer(token).status_code == 200
    time.sleep(max(0.0, oidc_provider.access_tokens[token]["exp"] - time.time()) + 0.3)
    assert bearer(token).status_code == 401  # asked again, and the provider said no
