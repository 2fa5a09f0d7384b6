"""Sessions: Django's cached-database engine on a session model that records its user.

Django documents this extension point ("Extending database-backed session engines"):
``get_model_class`` names the model and ``create_model_instance`` fills its extra
column. Knowing the user lets Roster end every session of an account at once, in the
database and in the cache (Redis when configured), which Django's own session table
cannot do without decoding every row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches
from django.db.models import QuerySet

# Session data key: what ``SessionActivityMiddleware`` records of the signed-in device
# ({id, created_at, last_active_at, ip, user_agent}; times in seconds since the epoch).
DEVICE = "roster.device"


class SessionStore(CachedDBStore):
    @classmethod
    def get_model_class(cls):
        from accounts.models import Session

        return Session

    def create_model_instance(self, data):
        """The row of this session: its user, and its device from the session data, so
        the row says the same however often the data is saved."""
        instance = super().create_model_instance(data)
        instance.user_id = data.get(SESSION_KEY)
        device = data.get(DEVICE) or {}
        if device.get("id"):
            instance.public_id = device["id"]
        instance.created_at = _moment(device.get("created_at"))
        instance.last_active_at = _moment(device.get("last_active_at"))
        instance.ip_address = device.get("ip") or None
        instance.user_agent = device.get("user_agent") or ""
        return instance


def _moment(seconds) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if isinstance(seconds, (int, float)) else None


def sessions_delete(sessions: QuerySet) -> int:
    """End these sessions now, in the database and the cache: their cookies are
    anonymous on the next request, in every server process. Answers how many ended."""
    keys = list(sessions.values_list("session_key", flat=True))
    if keys:
        caches[settings.SESSION_CACHE_ALIAS].delete_many(
            [SessionStore.cache_key_prefix + key for key in keys]
        )
    deleted, _ = sessions.model.objects.filter(session_key__in=keys).delete()
    return deleted


def sessions_end(*, user_ids: Iterable) -> int:
    """End every session of these users now."""
    from accounts.models import Session

    return sessions_delete(Session.objects.filter(user_id__in=list(user_ids)))
