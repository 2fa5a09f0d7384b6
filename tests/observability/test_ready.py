"""Readiness (/api/user/ready/) checks the database, the shared cache when one is
configured, and the task backlog; liveness (/api/user/health/) the database only."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db

READY = "/api/user/ready/"


def use_cache(settings, redis_url: str) -> None:
    settings.REDIS_URL = redis_url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "ready-test",
        }
    }


def test_ready_without_a_shared_cache(client, settings):
    settings.REDIS_URL = ""
    answer = client.get(READY)
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": True,
        "cache": None,
        "tasks": {"oldest_waiting_seconds": 0.0},
    }


def test_not_ready_while_the_cache_is_unreachable(client, settings):
    use_cache(settings, "redis://127.0.0.1:9/0")  # nothing listens there
    answer = client.get(READY)
    assert answer.status_code == 503
    assert answer.json()["cache"] is False and answer.json()["status"] == "unavailable"
    # Liveness does not depend on the cache: restarting the process would not help.
    assert client.get("/api/user/health/").status_code == 200


@pytest.mark.redis
def test_ready_again_once_the_cache_answers(client, settings):
    redis_url = django_settings.REDIS_URL
    use_cache(settings, "redis://127.0.0.1:9/0")
    assert client.get(READY).status_code == 503
    use_cache(settings, redis_url)
    answer = client.get(READY)
    assert answer.status_code == 200 and answer.json()["cache"] is True
