"""Sessions: Django's cached-database engine on a session model that records its user.

Django documents this extension point ("Extending database-backed session engines"):
``get_model_class`` names the model and ``create_model_instance`` fills its extra
column. Knowing the user lets Roster end every session of an account at once, in the
database and in the cache (Redis when configured), which Django's own session table
cannot do without decoding every row.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches


class SessionStore(CachedDBStore):
    @classmethod
    def get_model_class(cls):
        from accounts.models import Session

        return Session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.user_id = data.get(SESSION_KEY)
        return instance


def sessions_end(*, user_ids: Iterable) -> int:
    """End every session of these users now: their cookies are anonymous on the next
    request, in every server process. Answers how many sessions ended."""
    from accounts.models import Session

    sessions = Session.objects.filter(user_id__in=list(user_ids))
    keys = list(sessions.values_list("session_key", flat=True))
    if keys:
        caches[settings.SESSION_CACHE_ALIAS].delete_many(
            [SessionStore.cache_key_prefix + key for key in keys]
        )
    deleted, _ = sessions.delete()
    return deleted
