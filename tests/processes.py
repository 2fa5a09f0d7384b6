"""Helpers for tests that start Roster processes (servers, workers) on the test database."""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection

from tests.factories import PASSWORD, UserFactory


def database_url() -> str:
    """The test database (PostgreSQL), as a ``DATABASE_URL`` for another process."""
    conf = connection.settings_dict
    user = conf.get("USER") or "postgres"
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{conf['NAME']}"


def production_environment(**extra: str) -> dict[str, str]:
    """The environment of a production process (not the test settings) on the test
    database, with ``extra`` variables."""
    env = {
        key: value for key, value in os.environ.items() if key not in {"DEBUG", "ROSTER_TESTING"}
    }
    env.update(
        DATABASE_URL=database_url(),
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        EMAIL_HOST="127.0.0.1",
        DB_CONN_MAX_AGE="0",
    )
    env.update(extra)
    return env


def http_server_environment(**extra: str) -> dict[str, str]:
    """A production server's environment for tests talking plain HTTP to 127.0.0.1,
    sharing the test run's Redis under a prefix of its own."""
    return production_environment(
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=f"server-{uuid.uuid4().hex}",
        EMAIL_PORT="9",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        **extra,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(
    env: dict[str, str], port: int, *, workers: int = 1, threads: int = 2, output=None
) -> subprocess.Popen:
    """A production server on 127.0.0.1:``port`` with ``gunicorn.conf.py``. Its stderr is
    ``output`` (a file), else a pipe the test reads only if the server dies."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--no-control-socket",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.PIPE,
    )


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            with urllib.request.urlopen(f"{url}/api/user/health/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset or timed out while the worker boots
            time.sleep(0.2)
    raise TimeoutError(url)


def process_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def settings_refusal(**env: str) -> str:
    """The error of a process whose settings refuse ``env`` (it must not start)."""
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0, "the settings accepted it"
    return done.stderr


def production_user(email: str):
    """The servers run the production hashers; the test process only has a fast one."""
    user = UserFactory(email=email)
    hasher = Argon2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


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
