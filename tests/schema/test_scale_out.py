"""Two production server processes sharing PostgreSQL and Redis behave as one service:
a session started on one is valid on the other, and a rate limit reached on one holds
on the other."""

from __future__ import annotations

import http.cookiejar
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection

from tests.factories import PASSWORD, UserFactory
from tests.processes import production_environment

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


def production_user(email: str):
    """The servers run the production hashers; the test process only has a fast one."""
    user = UserFactory(email=email)
    hasher = Argon2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker):
    env = production_environment(
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=f"scale-{uuid.uuid4().hex}",
        EMAIL_PORT="9",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        RATE_LIMIT_LOGIN_EMAIL="3",
    )
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "2",
                "--no-control-socket",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=True):
            _wait_until_up(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with django_db_blocker.unblock():
            connection.close()


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            with urllib.request.urlopen(f"{url}/api/user/health/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset or timed out while the worker boots
            time.sleep(0.2)
    raise TimeoutError(url)


class Browser:
    """One cookie jar used against several servers of the same service."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def graphql(self, base: str, query: str, variables: dict | None = None) -> dict:
        if self.cookie("csrftoken") is None:
            self.opener.open(f"{base}/api/user/health/", timeout=10).read()
        request = urllib.request.Request(
            f"{base}/api/user/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.cookie("csrftoken"),
                "Referer": f"{base}/",
            },
            method="POST",
        )
        with self.opener.open(request, timeout=10) as response:
            return json.loads(response.read())


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
