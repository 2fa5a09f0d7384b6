"""Re-authentication through the identity provider, for accounts without a password:
``/api/user/oidc/authenticate/?reauthenticate=1`` asks the provider for the credentials
again (``prompt=login``, ``max_age=0``); its callback marks the session only when the
signed-in viewer's own identity signed in again, after the request."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from accounts.models import Organization, User
from tests.conftest import GraphQLClient, operation_codes
from tests.oidc_provider import browser_sign_in, provider_serving

pytestmark = pytest.mark.django_db

REAUTHENTICATE = {"reauthenticate": "1"}
ME = "{ me { email } }"


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


@pytest.fixture
def ada(oidc_provider) -> GraphQLClient:
    """Ada, signed in through the provider (no password), administrator of her organization."""
    client = GraphQLClient()
    browser_sign_in(client.http)
    assert client.execute(ME).data["me"] == {"email": "ada@example.net"}
    return client


def wipe_out(client: GraphQLClient) -> dict:
    return client.mutate(
        "wipeOutOrganization",
        {"confirmName": "Ada Lovelace"},
        "... on OrganizationWipeOut { name }",
    )


def error_of(response) -> str | None:
    return parse_qs(urlsplit(response["Location"]).query).get("error", [None])[0]


def test_a_fresh_sign_in_at_the_provider_opens_sensitive_operations(ada, oidc_provider):
    assert operation_codes(wipe_out(ada)) == ["REAUTHENTICATION_REQUIRED"]
    session_key = ada.http.cookies[settings.SESSION_COOKIE_NAME].value

    response, _, _ = browser_sign_in(ada.http, authenticate_query=REAUTHENTICATE)

    assert response.status_code == 302 and error_of(response) is None
    sent = oidc_provider.authorize_params[-1]
    assert (sent["prompt"], sent["max_age"]) == ("login", "0")
    assert (
        ada.http.cookies[settings.SESSION_COOKIE_NAME].value == session_key
    )  # the same session, marked
    assert wipe_out(ada)["__typename"] == "OrganizationWipeOut"


def test_another_person_at_the_provider_neither_signs_in_nor_opens_anything(ada, oidc_provider):
    oidc_provider.user.update(sub="subject-2", email="bob@example.net", given_name="Bob")

    response, _, _ = browser_sign_in(ada.http, authenticate_query=REAUTHENTICATE)

    assert error_of(response) == "INVALID_CREDENTIALS"
    assert ada.execute(ME).data["me"] == {"email": "ada@example.net"}  # still Ada
    assert operation_codes(wipe_out(ada)) == ["REAUTHENTICATION_REQUIRED"]
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.net"]


def test_a_provider_that_does_not_ask_again_opens_nothing(ada, oidc_provider):
    oidc_provider.honours_prompt_login = False  # its ID token keeps the old auth_time

    response, _, _ = browser_sign_in(ada.http, authenticate_query=REAUTHENTICATE)

    assert error_of(response) == "INVALID_CREDENTIALS"
    assert operation_codes(wipe_out(ada)) == ["REAUTHENTICATION_REQUIRED"]
    assert Organization.objects.filter(name="Ada Lovelace").exists()


def test_reauthentication_needs_a_signed_in_viewer(oidc_provider):
    response = GraphQLClient().http.get("/api/user/oidc/authenticate/", REAUTHENTICATE)
    assert response["Location"].startswith(settings.LOGIN_REDIRECT_URL_FAILURE)
    assert error_of(response) == "UNAUTHENTICATED"
    assert oidc_provider.hits["/authorize"] == 0


def test_failed_reauthentications_are_rate_limited_like_logins(ada, oidc_provider, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (2, 900)}
    oidc_provider.honours_prompt_login = False
    for _ in range(2):
        response, _, _ = browser_sign_in(ada.http, authenticate_query=REAUTHENTICATE)
        assert error_of(response) == "INVALID_CREDENTIALS"
    third = ada.http.get("/api/user/oidc/authenticate/", REAUTHENTICATE)
    assert error_of(third) == "RATE_LIMITED"


def test_a_successful_reauthentication_is_not_counted(ada, oidc_provider, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (1, 900)}
    for _ in range(2):
        response, _, _ = browser_sign_in(ada.http, authenticate_query=REAUTHENTICATE)
        assert error_of(response) is None


def test_an_abandoned_reauthentication_leaves_a_later_sign_in_alone(oidc_provider):
    client = GraphQLClient()
    browser_sign_in(client.http)
    client.http.get("/api/user/oidc/authenticate/", REAUTHENTICATE)  # never comes back
    other = GraphQLClient()
    oidc_provider.user.update(sub="subject-2", email="bob@example.net")
    browser_sign_in(other.http)
    # A plain sign-in from the first browser, as someone else, is a sign-in again.
    response, _, _ = browser_sign_in(client.http)
    assert error_of(response) is None
    assert client.execute(ME).data["me"] == {"email": "bob@example.net"}


def test_cancelling_at_the_provider_keeps_the_session(ada, oidc_provider):
    ada.http.get("/api/user/oidc/authenticate/", REAUTHENTICATE)
    response = ada.http.get("/api/user/oidc/callback/", {"error": "access_denied", "state": "x"})
    assert error_of(response) == "INVALID_CREDENTIALS"
    assert ada.execute(ME).data["me"] == {"email": "ada@example.net"}
    assert operation_codes(wipe_out(ada)) == ["REAUTHENTICATION_REQUIRED"]
