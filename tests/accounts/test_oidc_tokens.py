"""OIDC access tokens: ``loginExternal``, bearer requests, and ``externalIdentities``."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings

from accounts.models import User, UserExternalAuthentication
from accounts.services.external import _bearer_cache_key
from tests.conftest import GRAPHQL_URL, GraphQLClient, operation_codes
from tests.factories import UserFactory
from tests.oidc_provider import bearer_post, provider_serving

pytestmark = pytest.mark.django_db

ME = "query { me { email firstName externalIdentities { provider externalId } } }"
LOGIN_SELECTION = (
    "... on User { email firstName lastName emailVerified externalIdentities { externalId } }"
)


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


def login_external(client: GraphQLClient, token: str) -> dict:
    return client.mutate("loginExternal", {"accessToken": token}, LOGIN_SELECTION)


# loginExternal ------------------------------------------------------------------------


def test_login_external_with_a_good_token_starts_a_session(oidc_provider):
    token = oidc_provider.access_token_issue()
    client = GraphQLClient()
    client.http.session  # a session before signing in, to see it rotate
    before = client.http.cookies[settings.SESSION_COOKIE_NAME].value

    payload = login_external(client, token)

    assert payload["__typename"] == "User"
    assert (payload["email"], payload["firstName"], payload["lastName"]) == (
        "ada@example.net",
        "Ada",
        "Lovelace",
    )
    assert payload["externalIdentities"] == [{"externalId": "subject-1"}]
    after = client.http.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    me = client.execute(ME).data["me"]
    assert me["externalIdentities"] == [
        {"provider": oidc_provider.issuer, "externalId": "subject-1"}
    ]
    assert oidc_provider.hits["/userinfo"] == 1


def test_login_external_finds_the_same_account_next_time(oidc_provider):
    login_external(GraphQLClient(), oidc_provider.access_token_issue())
    oidc_provider.user["given_name"] = "Augusta"
    payload = login_external(GraphQLClient(), oidc_provider.access_token_issue())
    assert payload["firstName"] == "Augusta"
    assert User.objects.count() == 1


def test_login_external_with_a_bad_token_is_refused(oidc_provider):
    client = GraphQLClient()
    payload = login_external(client, "not-a-token-the-provider-issued")
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert client.execute(ME).data["me"] is None
    assert settings.SESSION_COOKIE_NAME not in client.http.cookies
    assert not User.objects.exists()
    # The provider was asked (introspection), and said no; userinfo never was.
    assert (oidc_provider.hits["/introspect"], oidc_provider.hits["/userinfo"]) == (1, 0)


def test_login_external_refuses_a_disabled_account(oidc_provider):
    login_external(GraphQLClient(), oidc_provider.access_token_issue())
    User.objects.update(is_active=False)
    client = GraphQLClient()
    payload = login_external(client, oidc_provider.access_token_issue())
    assert operation_codes(payload) == ["ACCOUNT_DISABLED"]
    assert client.execute(ME).data["me"] is None


def test_login_external_refuses_an_unverified_email_of_another_account(oidc_provider, user):
    oidc_provider.user.update(email=user.email, email_verified=False)
    payload = login_external(GraphQLClient(), oidc_provider.access_token_issue())
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert not UserExternalAuthentication.objects.exists()
    assert User.objects.count() == 1


@pytest.mark.parametrize("email", [None, "", "not an email", "x" * 250 + "@example.net"])
def test_login_external_without_a_usable_email_creates_nothing(oidc_provider, email):
    oidc_provider.user["email"] = email
    payload = login_external(GraphQLClient(), oidc_provider.access_token_issue())
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert not User.objects.exists()


def test_login_external_is_rate_limited_per_address(oidc_provider, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "external-login-address": (2, 900)}
    token = oidc_provider.access_token_issue()
    assert login_external(GraphQLClient(), "bad")["__typename"] == "OperationInfo"
    assert login_external(GraphQLClient(), token)["__typename"] == "User"
    payload = login_external(GraphQLClient(), token)
    assert operation_codes(payload) == ["RATE_LIMITED"]
    assert oidc_provider.hits["/introspect"] == 2  # refused before asking the provider
    other = GraphQLClient(REMOTE_ADDR="10.0.0.9")
    assert login_external(other, token)["__typename"] == "User"


def test_login_external_with_a_signed_userinfo_answer(oidc_provider):
    oidc_provider.userinfo_as_jwt = True
    payload = login_external(GraphQLClient(), oidc_provider.access_token_issue())
    assert payload["email"] == "ada@example.net"


def test_signed_userinfo_with_a_foreign_key_is_refused(oidc_provider):
    oidc_provider.userinfo_as_jwt = True
    oidc_provider.sign_with_other_key = True
    payload = login_external(GraphQLClient(), oidc_provider.access_token_issue())
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert not User.objects.exists()


def test_login_external_when_the_provider_is_down(oidc_provider):
    token = oidc_provider.access_token_issue()
    oidc_provider.stop()
    query = "mutation($t: String!) { loginExternal(input: {accessToken: $t}) { __typename } }"
    result = GraphQLClient().execute(query, {"t": token})
    assert [error["message"] for error in result.errors] == ["Unexpected error."]
    assert not User.objects.exists()


def test_login_external_when_oidc_is_off(settings):
    settings.OIDC_ENABLED = False
    payload = login_external(GraphQLClient(), "anything")
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]


def test_login_external_needs_the_csrf_token(oidc_provider):
    client = GraphQLClient()
    query = "mutation($t: String!) { loginExternal(input: {accessToken: $t}) { __typename } }"
    result = client.execute(query, {"t": oidc_provider.access_token_issue()}, csrf=False)
    assert result.status_code == 403
    assert oidc_provider.hits["/userinfo"] == 0


# Bearer requests ----------------------------------------------------------------------


def test_bearer_request_needs_no_csrf_and_no_session(oidc_provider):
    token = oidc_provider.access_token_issue()
    response = bearer_post(ME, token)
    assert response.status_code == 200
    assert response.json()["data"]["me"]["email"] == "ada@example.net"
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_bearer_mutation_needs_no_csrf(oidc_provider):
    login = 'mutation { loginExternal(input: {accessToken: "x"}) { __typename } }'
    response = bearer_post(login, oidc_provider.access_token_issue())
    assert response.status_code == 200  # CSRF skipped; the mutation itself then runs
    assert response.json()["data"]["loginExternal"]["__typename"] == "OperationInfo"


def test_valid_bearer_wins_over_a_cookie_session(oidc_provider, make_client):
    client = make_client(UserFactory(email="cookie@example.net"))
    response = bearer_post(ME, oidc_provider.access_token_issue(), client=client.http)
    assert response.json()["data"]["me"]["email"] == "ada@example.net"


def test_bad_bearer_is_refused_and_never_falls_back_to_the_cookie(oidc_provider, make_client):
    cookie_user = UserFactory(email="cookie@example.net")
    client = make_client(cookie_user)
    assert client.execute(ME).data["me"]["email"] == "cookie@example.net"

    for headers in ({"HTTP_X_CSRFTOKEN": client.csrf_token}, {}):
        response = client.http.post(
            GRAPHQL_URL,
            data={"query": ME},
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer forged-token",
            **headers,
        )
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"
        assert "cookie@example.net" not in response.content.decode()

    response = client.http.get(GRAPHQL_URL, {"query": ME}, HTTP_AUTHORIZATION="Bearer forged")
    assert response.status_code == 401


def test_empty_bearer_is_refused(oidc_provider):
    response = bearer_post(ME, "")
    assert response.status_code == 401
    assert oidc_provider.hits["/userinfo"] == 0


def test_bearer_with_oidc_off_is_refused(settings):
    settings.OIDC_ENABLED = False
    response = bearer_post(ME, "anything")
    assert response.status_code == 401


def test_other_authorization_schemes_are_left_alone(make_client, user):
    client = make_client(user)
    basic = "Basic " + base64.b64encode(b"a:b").decode()
    result = client.execute(ME, HTTP_AUTHORIZATION=basic)
    assert result.data["me"]["email"] == user.email
    refused = client.execute(ME, csrf=False, HTTP_AUTHORIZATION=basic)
    assert refused.status_code == 403  # no bearer token, so CSRF still applies


def test_bearer_tokens_are_cached_briefly(oidc_provider, settings):
    token = oidc_provider.access_token_issue()
    assert bearer_post(ME, token).json()["data"]["me"]["email"] == "ada@example.net"
    assert bearer_post(ME, token).json()["data"]["me"]["email"] == "ada@example.net"
    assert oidc_provider.hits["/userinfo"] == 1

    settings.OIDC_BEARER_CACHE_TTL = 0  # nothing remembered: each request asks
    fresh = oidc_provider.access_token_issue()
    bearer_post(ME, fresh)
    bearer_post(ME, fresh)
    assert oidc_provider.hits["/userinfo"] == 3


def test_bearer_cache_key_is_a_hash_of_the_token(oidc_provider):
    token = oidc_provider.access_token_issue()
    key = _bearer_cache_key(token)
    assert token not in key
    assert key != _bearer_cache_key(token + "x")


def test_cached_bearer_of_a_disabled_account_is_refused(oidc_provider):
    token = oidc_provider.access_token_issue()
    assert bearer_post(ME, token).status_code == 200
    User.objects.update(is_active=False)
    response = bearer_post(ME, token)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "ACCOUNT_DISABLED"


def test_rejected_bearer_tokens_are_rate_limited(oidc_provider, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "external-login-address": (2, 900)}
    assert bearer_post(ME, "bad-1").status_code == 401
    assert bearer_post(ME, "bad-2").status_code == 401
    assert bearer_post(ME, "bad-3").status_code == 429
    assert oidc_provider.hits["/introspect"] == 2


def test_provider_outage_is_503_for_bearer_requests(oidc_provider):
    token = oidc_provider.access_token_issue()
    oidc_provider.stop()
    response = bearer_post(ME, token)
    assert response.status_code == 503


# externalIdentities ---------------------------------------------------------------------


def test_colleagues_do_not_see_external_identities(oidc_provider, make_client):
    login_external(GraphQLClient(), oidc_provider.access_token_issue())
    ada = User.objects.get()
    colleague = UserFactory(organization=ada.organization)
    node_id = base64.b64encode(f"User:{ada.guid}".encode()).decode()
    query = "query($id: ID!) { node(id: $id) { ... on User { email externalIdentities { provider } } } }"

    seen_by_colleague = make_client(colleague).execute(query, {"id": node_id}).data["node"]
    assert seen_by_colleague["email"] == ada.email
    assert seen_by_colleague["externalIdentities"] == []

    seen_by_ada = make_client(ada).execute(query, {"id": node_id}).data["node"]
    assert seen_by_ada["externalIdentities"] == [{"provider": oidc_provider.issuer}]


@pytest.mark.parametrize("count", [2, 200])
def test_external_identities_query_count_is_flat(
    make_client, user, count, django_assert_num_queries
):
    UserExternalAuthentication.objects.bulk_create(
        UserExternalAuthentication(user=user, provider=f"p{i}", external_id="s")
        for i in range(count)
    )
    client = make_client(user)
    client.csrf_token
    with django_assert_num_queries(3):
        result = client.execute("{ me { externalIdentities { provider externalId createdAt } } }")
    assert len(result.data["me"]["externalIdentities"]) == count
