"""Cross-site requests: a page cannot make its visitors' browsers run GET operations (and
spend their rate limits), and a flood of directives answers one error."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import GRAPHQL_URL, GraphQLClient

pytestmark = pytest.mark.django_db

PREVIEWS = (
    "{ " + " ".join(f'p{i}: invitationPreview(token: "x{i}") {{ email }}' for i in range(10)) + " }"
)
VERIFY = """mutation($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { __typename ... on OperationInfo { messages { code } } }
}"""


def test_a_cross_site_get_cannot_spend_the_visitors_token_budget():
    # What a page on another site can make a browser send: a GET without custom headers.
    browser = Client(enforce_csrf_checks=True)
    for _ in range(3):
        response = browser.get(GRAPHQL_URL, {"query": PREVIEWS})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "PREFLIGHT_REQUIRED"
    # The visitor's own verification from the same address is not rate limited.
    result = GraphQLClient().execute(VERIFY, {"input": {"token": "not-a-token"}})
    assert result.data["verifyEmail"]["messages"][0]["code"] == "TOKEN_INVALID"


def test_the_budget_is_still_counted_for_preflighted_gets():
    client = Client(enforce_csrf_checks=True)
    for _ in range(3):
        response = client.get(GRAPHQL_URL, {"query": PREVIEWS}, HTTP_GRAPHQL_REQUIRE_PREFLIGHT="1")
        assert response.status_code == 200
    result = GraphQLClient().execute(VERIFY, {"input": {"token": "not-a-token"}})
    assert result.data["verifyEmail"]["messages"][0]["code"] == "RATE_LIMITED"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_GRAPHQL_REQUIRE_PREFLIGHT": "1"},
        {"HTTP_X_CSRFTOKEN": "anything"},
        {"CONTENT_TYPE": "application/json"},
    ],
)
def test_a_preflighted_get_runs_queries(headers):
    response = Client(enforce_csrf_checks=True).get(
        GRAPHQL_URL, {"query": "{ me { id } }"}, **headers
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"me": None}}


def test_a_refused_get_still_hands_out_the_csrf_cookie():
    response = Client(enforce_csrf_checks=True).get(GRAPHQL_URL, {"query": "{ me { id } }"})
    assert response.status_code == 400
    assert "csrftoken" in response.cookies


def test_a_flood_of_directives_answers_one_error(gql):
    flood = gql.execute("{ __typename " + "@aa" * 200 + " }")
    assert len(flood.errors) == 1
    assert flood.errors[0]["extensions"]["code"] == "INVALID"
    repeated = gql.execute("{ __typename " + "@skip(if: false)" * 25 + " }")
    assert len(repeated.errors) == 1


def test_a_few_directives_are_validated_as_usual(gql):
    assert gql.execute("{ __typename @include(if: true) }").data == {"__typename": "Query"}
    unknown = gql.execute("{ __typename @aa @bb }")
    assert len(unknown.errors) == 2
