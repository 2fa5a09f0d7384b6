"""Two production server processes sharing PostgreSQL and Redis behave as one service:
a session started on one is valid on the other, and a rate limit reached on one holds
on the other."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import PASSWORD
from tests.processes import (
    Browser,
    free_port,
    gunicorn_start,
    http_server_environment,
    process_stop,
    production_user,
    wait_until_up,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) {
    __typename
    ... on User { email }
    ... on OperationInfo { messages { code } }
  }
}
"""


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker):
    env = http_server_environment(RATE_LIMIT_LOGIN_EMAIL="3")
    ports = [free_port(), free_port()]
    processes = [gunicorn_start(env, port) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=True):
            wait_until_up(url, process)
        yield urls
    finally:
        for process in processes:
            process_stop(process)
        with django_db_blocker.unblock():
            connection.close()


def test_session_started_on_one_process_is_valid_on_the_other(two_servers):
    first, second = two_servers
    user = production_user("scale@example.com")
    browser = Browser()
    result = browser.graphql(first, LOGIN, {"input": {"email": user.email, "password": PASSWORD}})
    assert result["data"]["login"]["__typename"] == "User", result
    # Both servers are 127.0.0.1 (different ports): one cookie jar, as behind a load balancer.
    assert browser.cookie("sessionid")
    me = browser.graphql(second, "{ me { email } }")
    assert me["data"]["me"]["email"] == user.email


def test_rate_limit_reached_on_one_process_holds_on_the_other(two_servers):
    first, second = two_servers
    user = production_user("limited@example.com")
    browser = Browser()
    wrong = {"input": {"email": user.email, "password": "not the password at all"}}
    for _ in range(3):
        result = browser.graphql(first, LOGIN, wrong)
        codes = [m["code"] for m in result["data"]["login"]["messages"]]
        assert codes == ["INVALID_CREDENTIALS"], result
    result = browser.graphql(second, LOGIN, wrong)
    assert [m["code"] for m in result["data"]["login"]["messages"]] == ["RATE_LIMITED"]
    # Even the right password is refused while the limit holds, on either process.
    right = {"input": {"email": user.email, "password": PASSWORD}}
    result = browser.graphql(second, LOGIN, right)
    assert [m["code"] for m in result["data"]["login"]["messages"]] == ["RATE_LIMITED"]


def test_a_session_revoked_on_one_process_is_dead_on_the_other(two_servers):
    first, second = two_servers
    user = production_user("revoked@example.com")
    laptop, phone = Browser(), Browser()
    for browser in (laptop, phone):
        login = {"input": {"email": user.email, "password": PASSWORD}}
        assert browser.graphql(first, LOGIN, login)["data"]["login"]["__typename"] == "User"
    assert phone.graphql(second, "{ me { email } }")["data"]["me"]["email"] == user.email

    sessions = laptop.graphql(first, "{ me { sessions { edges { node { id current } } } } }")
    [other] = [
        edge["node"]["id"]
        for edge in sessions["data"]["me"]["sessions"]["edges"]
        if not edge["node"]["current"]
    ]
    revoke = "mutation($id: ID!) { revokeSession(input: {id: $id}) { __typename } }"
    assert laptop.graphql(first, revoke, {"id": other})["data"]["revokeSession"] == {
        "__typename": "SessionsRevoked"
    }
    # The phone's cookie is anonymous on the other process at once (Redis cache included).
    assert phone.graphql(second, "{ me { email } }")["data"]["me"] is None
    assert laptop.graphql(second, "{ me { email } }")["data"]["me"]["email"] == user.email
