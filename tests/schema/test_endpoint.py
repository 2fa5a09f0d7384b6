"""The GraphQL endpoint itself: transport, CSRF, health, error masking, SDL."""

from __future__ import annotations

import base64
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.test import Client

from tests.conftest import GRAPHQL_URL

pytestmark = pytest.mark.django_db

ME = "query { me { id email firstName lastName organization { name } permissionGroups { name } } }"


def test_schema_graphql_is_current():
    call_command("exportschema", "--check")  # schema.graphql in the repository root


def test_exportschema_check_fails_on_stale_file(tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { stale: Int }\n")
    with pytest.raises(CommandError, match="is stale"):
        call_command("exportschema", "--check", output=str(stale))
    call_command("exportschema", output=str(stale))
    call_command("exportschema", "--check", output=str(stale))


def test_me_is_null_for_anonymous(gql):
    result = gql.execute(ME)
    assert result.status_code == 200
    assert result.payload == {"data": {"me": None}}


def test_me_answers_the_signed_in_viewer(make_client, user):
    result = make_client(user).execute(ME)
    me = result.data["me"]
    assert me["email"] == user.email
    assert me["firstName"] == user.profile.first_name
    assert me["organization"]["name"] == user.organization.name
    assert base64.b64decode(me["id"]).decode() == f"User:{user.guid}"


def test_post_without_csrf_token_is_refused(make_client, user):
    client = make_client(user)
    result = client.execute(ME, csrf=False)
    assert result.status_code == 403


def test_get_sets_csrf_cookie_and_runs_queries():
    client = Client(enforce_csrf_checks=True)
    response = client.get(
        GRAPHQL_URL, {"query": "{ me { id } }"}, HTTP_GRAPHQL_REQUIRE_PREFLIGHT="1"
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"me": None}}
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("path", [GRAPHQL_URL, "/api/user/health/"])
def test_a_csrf_cookie_is_renewed_on_every_response(path):
    """A browser holding the cookie gets the same one again (its expiry renewed); one
    holding a malformed cookie gets a new valid one."""
    client = Client(enforce_csrf_checks=True)
    first = client.get(path, {"query": "{ __typename }"}).cookies["csrftoken"]
    again = client.get(path, {"query": "{ __typename }"}).cookies["csrftoken"]
    assert again.value == first.value and again["max-age"] == first["max-age"]
    client.cookies["csrftoken"] = "not a token"
    replaced = client.get(path, {"query": "{ __typename }"}).cookies["csrftoken"].value
    assert replaced != "not a token" and len(replaced) == len(first.value)


def test_mutations_never_run_over_get():
    client = Client(enforce_csrf_checks=True)
    response = client.get(
        GRAPHQL_URL,
        {"query": "mutation { logout { __typename } }"},
        HTTP_GRAPHQL_REQUIRE_PREFLIGHT="1",
    )
    assert response.status_code in (400, 405)


def test_form_encoded_body_is_refused(gql):
    token = gql.csrf_token
    response = gql.http.post(GRAPHQL_URL, {"query": "{ me { id } }"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_mutation_in_a_simple_request_body_is_refused(make_client, user, content_type):
    """Bodies a cross-site form can send never run, even with a valid session and token."""
    client = make_client(user)
    body = json.dumps({"query": "mutation { logout { __typename } }"})
    response = client.http.post(
        GRAPHQL_URL, body, content_type=content_type, HTTP_X_CSRFTOKEN=client.csrf_token
    )
    assert response.status_code == 400
    assert client.execute("{ me { email } }").data["me"]["email"] == user.email


def test_health_answers_ok_and_sets_csrf_cookie():
    response = Client().get("/api/user/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "csrftoken" in response.cookies


def test_health_answers_503_when_the_database_fails(monkeypatch):
    from backend import views

    class Broken:
        def __enter__(self):
            raise DatabaseError("down")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(views.connection, "cursor", lambda: Broken())
    response = Client().get("/api/user/health/")
    assert response.status_code == 503


def test_unexpected_errors_are_masked(gql, monkeypatch, caplog):
    from schema.accounts import queries

    def boom(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM table")

    monkeypatch.setattr(queries, "viewer", boom)
    result = gql.execute("{ me { id } }")
    assert result.errors[0]["message"] == "Unexpected error."
    assert "secret" not in json.dumps(result.payload)
    assert "SELECT secret" in caplog.text


def test_graphiql_served_in_development(settings):
    settings.GRAPHIQL = True
    response = Client().get(GRAPHQL_URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


def test_graphiql_and_introspection_off_when_disabled(settings, gql):
    settings.GRAPHIQL = False
    response = Client().get(GRAPHQL_URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    result = gql.execute("{ __schema { types { name } } }")
    assert result.errors and "introspection" in result.errors[0]["message"]


def test_aliases_are_limited(gql):
    many = " ".join(f"a{i}: me {{ id }}" for i in range(settings.GRAPHQL_MAX_ALIASES + 1))
    result = gql.execute("{ " + many + " }")
    assert result.errors
