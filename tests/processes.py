"""Helpers for tests that start Roster processes (servers, workers) on the test database."""

from __future__ import annotations

import os
import secrets

from django.db import connection


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
