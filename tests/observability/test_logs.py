"""One JSON log line per request, with what an operator needs and nothing a client
must keep secret (README, "Production")."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings

from accounts.models import User
from tests.accounts.auth_helpers import STRONG_PASSWORD, mails_to, token_from
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory
from tests.processes import settings_refusal

pytestmark = pytest.mark.django_db

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { __typename ... on OperationInfo { messages { code } } }
}
"""


def test_a_request_line_has_its_fields(json_log, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    ada = UserFactory(email="ada@example.com")
    client = GraphQLClient()
    refused = client.execute(
        LOGIN,
        {"input": {"email": ada.email, "password": "not the password"}},
        HTTP_X_REQUEST_ID="lb-7f3a",
    )
    signed_in = client.execute(LOGIN, {"input": {"email": ada.email, "password": PASSWORD}})
    unnamed = client.execute('{ me { email } node(id: "bad") { id } }')

    lines = [line for line in json_log.requests() if line["path"] == "/api/user/graphql/"]
    assert [line["request_id"] for line in lines] == [
        "lb-7f3a",
        signed_in.http["X-Request-ID"],
        unnamed.http["X-Request-ID"],
    ]
    assert refused.http["X-Request-ID"] == "lb-7f3a"
    first, second, third = lines
    assert first["method"] == "POST" and first["status"] == 200
    assert (first["operation_name"], first["operation_type"]) == ("Login", "mutation")
    assert first["error_codes"] == ["INVALID_CREDENTIALS"]
    assert first["user_id"] is None
    assert first["level"] == "INFO" and first["time"].endswith("+00:00")
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] > 0
    # The request ends signed in: the line names the user by their public id.
    assert second["error_codes"] == [] and second["user_id"] == str(ada.guid)
    assert (third["operation_name"], third["operation_type"]) == (None, "query")
    assert third["user_id"] == str(ada.guid)


def test_every_line_written_while_serving_carries_the_request_id(json_log, monkeypatch):
    import accounts.services.auth

    login = accounts.services.auth.user_login

    def logging_login(**kwargs):
        logging.getLogger("accounts.services.auth").warning("signing in")
        return login(**kwargs)

    monkeypatch.setattr(accounts.services.auth, "user_login", logging_login)
    answer = GraphQLClient().execute(LOGIN, {"input": {"email": "a@example.com", "password": "x"}})
    [line] = [entry for entry in json_log.entries() if entry["message"] == "signing in"]
    assert line["request_id"] == answer.http["X-Request-ID"]
    assert line["logger"] == "accounts.services.auth" and "operation_name" not in line


def test_an_unexpected_error_is_logged_without_the_document(json_log, monkeypatch):
    """Logged with its trace, by the field's path: not quoting the document around the
    field (graphql-core's str(error) does), where a password may be written inline."""
    import accounts.services.auth

    def failing(**kwargs):
        raise RuntimeError("the service failed")

    monkeypatch.setattr(accounts.services.auth, "user_login", failing)
    inline = "inline-Secret-Passw0rd"
    literal = f"{{email: {json.dumps('a@example.com')}, password: {json.dumps(inline)}}}"
    answer = GraphQLClient().execute("mutation { login(input: " + literal + ") { __typename } }")
    assert answer.errors[0]["message"] == "Unexpected error."
    [error] = [entry for entry in json_log.entries() if entry["level"] == "ERROR"]
    assert error["message"] == "GraphQL field login failed: the service failed"
    assert "RuntimeError: the service failed" in error["exception"]
    assert inline not in json_log.text
    assert json_log.requests()[-1]["error_codes"] == ["INTERNAL_ERROR"]


def test_a_refusal_before_graphql_is_logged_with_its_code(json_log):
    client = GraphQLClient()
    answer = client.http.get("/api/user/graphql/", {"query": "{ me { email } }"})
    assert answer.status_code == 400
    [line] = [line for line in json_log.requests() if line["path"] == "/api/user/graphql/"]
    assert line["status"] == 400 and line["error_codes"] == ["PREFLIGHT_REQUIRED"]


def test_a_client_request_id_is_not_taken_without_a_trusted_proxy(json_log, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    answer = GraphQLClient().execute("{ me { email } }", HTTP_X_REQUEST_ID="someone-elses-id")
    given = answer.http["X-Request-ID"]
    assert given != "someone-elses-id" and len(given) == 32
    assert json_log.requests()[-1]["request_id"] == given


def test_no_secret_reaches_the_logs(json_log, capfd, django_capture_on_commit_callbacks):
    """Passwords, tokens, emails and variables sent to the server appear in no line any
    logger writes, nor anywhere on stdout or stderr, even on refusals."""
    email = "grace.secret@example.com"
    grace = UserFactory(email=email)
    client = GraphQLClient()
    wrong_password = "wrong-Horse-Battery-91"
    client.execute(LOGIN, {"input": {"email": email, "password": wrong_password}})
    with django_capture_on_commit_callbacks(execute=True):
        client.execute(
            "mutation($email: String!) { requestPasswordReset(input: {email: $email}) "
            "{ __typename } }",
            {"email": email},
        )
    token = token_from(mails_to(email)[-1], "/reset-password")
    reset = """
    mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { __typename } }
    """
    # A token spent once, then again (refused), a bad token, a bearer token, and a password
    # inline in a document (a literal, not a variable).
    client.execute(reset, {"input": {"token": token, "newPassword": STRONG_PASSWORD}})
    client.execute(reset, {"input": {"token": token, "newPassword": STRONG_PASSWORD}})
    client.execute(reset, {"input": {"token": token[::-1], "newPassword": "x"}})
    bearer = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWJlYXJlcg.c2lnbmF0dXJl"
    GraphQLClient().execute("{ me { email } }", HTTP_AUTHORIZATION=f"Bearer {bearer}")
    inline = "inline-Secret-Passw0rd"
    literal = f"{{email: {json.dumps(email)}, password: {json.dumps(inline)}}}"
    client.execute("mutation { login(input: " + literal + ") { __typename } }")
    client.execute(LOGIN, {"input": {"email": email, "password": STRONG_PASSWORD}})
    assert User.objects.get(pk=grace.pk).check_password(STRONG_PASSWORD)

    output = capfd.readouterr()
    everything = json_log.text + output.out + output.err
    assert len(json_log.requests()) >= 8
    for secret in (wrong_password, token, token[::-1], bearer, inline, STRONG_PASSWORD, email):
        assert secret not in everything, secret
    assert "grace.secret" not in everything


def test_log_format_json_makes_every_logger_write_json():
    """``LOG_FORMAT=json`` as an operator sets it: the process's own configuration."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('some.library').warning('disk %s full', 'nearly')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "backend.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    [line] = [json.loads(line) for line in done.stderr.splitlines()]
    assert line["logger"] == "some.library" and line["message"] == "disk nearly full"
    assert line["level"] == "WARNING"


def test_an_unknown_log_format_is_refused():
    assert "LOG_FORMAT must be text or json" in settings_refusal(LOG_FORMAT="xml")


def test_a_client_cannot_forge_a_line_of_the_readable_log(settings):
    """A line break in the path (decoded from %0A) or in ``operationName`` (any string a
    client sends) would start a line of the client's making in the text log."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["text"]["format"]))
    request_logger = logging.getLogger("roster.request")
    request_logger.addHandler(handler)
    forged = "\n2026-12-04 08:00:00,000 INFO roster.request POST /admin/ 200 forged"
    try:
        client = GraphQLClient()
        client.http.get("/api/user/" + quote(forged))
        client.http.post(
            "/api/user/graphql/",
            json.dumps({"query": "query Me { me { email", "operationName": "Me" + forged}),
            content_type="application/json",
            HTTP_X_CSRFTOKEN=client.csrf_token,
        )
    finally:
        request_logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # the two requests and the CSRF cookie's
    assert not any(line.startswith("2026-12-04 08:00:00") for line in lines)
    assert "\\n2026-12-04 08:00:00" in lines[0]  # the path, escaped
    # The document does not parse: answered GRAPHQL_INVALID, the name is no GraphQL name.
    assert lines[2].endswith("ms [GRAPHQL_INVALID]")
