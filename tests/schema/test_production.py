"""Production configuration: deploy checks, explorer/introspection/suggestions off."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "GRAPHIQL", "ROSTER_TESTING", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="roster.example.com",
        EMAIL_HOST="smtp.example.com",
        DJANGO_SETTINGS_MODULE="backend.settings",
        **extra,
    )
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_session_cookie_is_host_only_over_https(gql, user):
    """``__Host-``: Secure, path "/", no Domain, so a sibling subdomain cannot set it."""
    probe = "from django.conf import settings; print(settings.SESSION_COOKIE_NAME)"
    output = manage("shell", "-c", probe, env=production_env()).stdout
    assert output.strip().splitlines()[-1] == "__Host-sessionid"
    response = gql.http.post(
        "/api/user/graphql/",
        {
            "query": "mutation($i: LoginInput!) { login(input: $i) { __typename } }",
            "variables": {"i": {"email": user.email, "password": PASSWORD}},
        },
        content_type="application/json",
        HTTP_X_CSRFTOKEN=gql.csrf_token,
    )
    cookie = response.cookies["__Host-sessionid"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# The schema is configured once, from the settings a server process starts with.
SUGGESTION_PROBE = (
    "from schema.schema import schema; "
    "print(schema.execute_sync('{ me { emial } }').errors[0].message)"
)


def test_field_suggestions_are_hidden_without_the_explorer():
    result = manage("shell", "-c", SUGGESTION_PROBE, env=production_env())
    assert "Cannot query field 'emial' on type 'User'." in result.stdout, result.stderr
    assert "Did you mean" not in result.stdout


def test_field_suggestions_are_shown_with_the_explorer():
    result = manage("shell", "-c", SUGGESTION_PROBE, env=production_env(GRAPHIQL="1"))
    assert "Did you mean 'email'" in result.stdout, result.stderr


def test_tokens_are_limited(gql):
    fields = " ".join("__typename" for _ in range(settings.GRAPHQL_MAX_TOKENS))
    result = gql.execute("{ " + fields + " }")
    assert result.errors


def test_depth_is_limited(gql):
    depth = settings.GRAPHQL_MAX_DEPTH + 2
    query = "{ " + "me { organization { " * depth + "id" + " } }" * depth + " }"
    result = gql.execute(query)
    assert result.errors
    assert "depth" in result.errors[0]["message"]
