"""login and logout through the real endpoint."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.models import Session

from tests.accounts.auth_helpers import USER_FIELDS, session_cookie
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = "{ me { email } }"


def login(client, email, password=PASSWORD):
    return client.mutate("login", {"email": email, "password": password}, USER_FIELDS)


@pytest.fixture
def hasher_calls(monkeypatch):
    calls = []
    original = MD5PasswordHasher.encode

    def encode(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", encode)
    return calls


def test_login_starts_a_session_and_answers_the_user(gql, user):
    payload = login(gql, user.email)
    assert payload["__typename"] == "User"
    assert payload["email"] == user.email
    assert payload["organization"]["name"] == user.organization.name
    assert session_cookie(gql)
    assert gql.execute(ME).data == {"me": {"email": user.email}}


def test_login_email_is_case_insensitive(gql, user):
    assert login(gql, f"  {user.email.upper()} ")["__typename"] == "User"


def test_login_rotates_the_session_key_and_the_csrf_token(gql, user):
    session = gql.http.session  # an anonymous session exists before signing in
    session["before"] = "kept"
    session.save()
    anonymous_key = session.session_key
    csrf_before = gql.csrf_token

    login(gql, user.email)

    assert session_cookie(gql) not in (None, anonymous_key)
    assert not Session.objects.filter(session_key=anonymous_key).exists()
    assert gql.http.cookies["csrftoken"].value != csrf_before
    # The old CSRF token no longer passes; the new one does.
    stale = gql.http.post(
        "/api/user/graphql/",
        data='{"query": "mutation { logout { __typename } }"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_before,
    )
    assert stale.status_code == 403
    assert gql.execute(ME).data["me"] is not None


@pytest.mark.parametrize("email", ["person-unknown@example.com", "WRONG"])
def test_unknown_email_and_wrong_password_answer_alike(gql, user, email, hasher_calls):
    wrong_password = login(gql, user.email, "not the password at all")
    assert len(hasher_calls) == 1
    hasher_calls.clear()
    unknown = login(gql, email, "not the password at all")
    assert len(hasher_calls) == 1  # the hasher runs for unknown emails too

    assert operation_codes(wrong_password) == operation_codes(unknown) == ["INVALID_CREDENTIALS"]
    assert wrong_password == unknown
    assert session_cookie(gql) is None
    assert gql.execute(ME).data == {"me": None}


def test_account_without_a_password_answers_invalid_credentials(gql, organization, hasher_calls):
    oidc_user = UserFactory(organization=organization, password=None)
    oidc_user.set_unusable_password()
    oidc_user.save()
    hasher_calls.clear()
    payload = login(gql, oidc_user.email, "")
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert len(hasher_calls) == 1


def test_unverified_email_is_said_only_after_the_right_password(gql, organization):
    unverified = UserFactory(organization=organization, email_verified=False)
    assert operation_codes(login(gql, unverified.email, "wrong password!")) == [
        "INVALID_CREDENTIALS"
    ]
    assert operation_codes(login(gql, unverified.email)) == ["EMAIL_NOT_VERIFIED"]
    assert session_cookie(gql) is None


def test_disabled_account_is_said_only_after_the_right_password(gql, organization):
    disabled = UserFactory(organization=organization, is_active=False)
    assert operation_codes(login(gql, disabled.email, "wrong password!")) == ["INVALID_CREDENTIALS"]
    assert operation_codes(login(gql, disabled.email)) == ["ACCOUNT_DISABLED"]
    assert session_cookie(gql) is None
    assert gql.execute(ME).data == {"me": None}


def test_logout_ends_the_session_server_side(gql, user):
    login(gql, user.email)
    old_cookie = session_cookie(gql)

    payload = gql.mutate("logout", None, "... on LoggedOut { ok }")

    assert payload == {"__typename": "LoggedOut", "ok": True}
    assert gql.execute(ME).data == {"me": None}
    assert not Session.objects.filter(session_key=old_cookie).exists()
    replay = GraphQLClient()
    replay.http.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert replay.execute(ME).data == {"me": None}


def test_logout_when_anonymous_is_harmless(gql):
    assert gql.mutate("logout", None, "... on LoggedOut { ok }")["ok"] is True


def test_failed_logins_are_limited_per_email(gql, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (3, 900)}
    for _ in range(3):
        assert operation_codes(login(gql, user.email, "wrong password!")) == ["INVALID_CREDENTIALS"]
    # Even the right password is refused now, from any address.
    other_address = GraphQLClient(REMOTE_ADDR="10.1.1.1")
    assert operation_codes(login(other_address, user.email)) == ["RATE_LIMITED"]
    assert operation_codes(login(gql, user.email.upper())) == ["RATE_LIMITED"]
    assert session_cookie(gql) is None
    # Other accounts are not affected.
    someone = UserFactory(organization=user.organization)
    assert login(gql, someone.email)["__typename"] == "User"


def test_successful_logins_do_not_count(gql, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (2, 900)}
    for _ in range(5):
        assert login(GraphQLClient(), user.email)["__typename"] == "User"
    assert operation_codes(login(gql, user.email, "wrong password!")) == ["INVALID_CREDENTIALS"]


def test_failed_logins_are_limited_per_address(gql, organization, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-address": (3, 900)}
    for index in range(3):
        payload = login(gql, f"guess{index}@example.com", "wrong password!")
        assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    victim = UserFactory(organization=organization)
    assert operation_codes(login(gql, victim.email)) == ["RATE_LIMITED"]
    # Another address still signs in.
    assert login(GraphQLClient(REMOTE_ADDR="10.2.2.2"), victim.email)["__typename"] == "User"


def aliased_logins(count: int) -> str:
    fields = " ".join(
        f"try{i}: login(input: $wrong) {{ __typename ... on OperationInfo {{ messages {{ code }} }} }}"
        for i in range(count - 1)
    )
    return (
        "mutation($wrong: LoginInput!, $right: LoginInput!) { "
        + fields
        + " last: login(input: $right) { __typename ... on OperationInfo { messages { code } } } }"
    )


def test_fifty_aliased_logins_in_one_document_get_no_try(gql, user, settings, hasher_calls):
    settings.GRAPHQL_MAX_ALIASES = 60
    wrong = {"email": user.email, "password": "wrong password!"}
    right = {"email": user.email, "password": PASSWORD}

    result = gql.execute(aliased_logins(50), {"wrong": wrong, "right": right})

    assert result.errors
    assert result.data is None
    assert hasher_calls == []
    assert session_cookie(gql) is None


def test_aliased_logins_count_one_by_one_without_the_document_rule(
    gql, user, settings, hasher_calls, monkeypatch
):
    """Defence in depth: even if a document could carry many logins, each one counts."""
    monkeypatch.setattr("schema.limits.SENSITIVE_FIELDS", frozenset())
    monkeypatch.setattr("schema.policy.SIGN_IN_FIELDS", frozenset())  # (a sign-in is alone)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (3, 900)}
    settings.GRAPHQL_MAX_ALIASES = 60
    wrong = {"email": user.email, "password": "wrong password!"}
    right = {"email": user.email, "password": PASSWORD}

    result = gql.execute(aliased_logins(50), {"wrong": wrong, "right": right})

    assert not result.errors, result.errors
    answers = [result.data[f"try{i}"] for i in range(49)] + [result.data["last"]]
    codes = [answer["messages"][0]["code"] for answer in answers]
    assert codes[:3] == ["INVALID_CREDENTIALS"] * 3
    assert codes[3:] == ["RATE_LIMITED"] * 47  # the right password in the last one too
    assert len(hasher_calls) == 3  # no password was even tried past the limit
    assert session_cookie(gql) is None
