from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def session_user(backend: ModelBackend, user_id):
    """The user of a session, with their organization in the same query (every request
    asks whether it requires a second factor: ``accounts.services.mfa``); None when the
    account may not sign in (ModelBackend's rule)."""
    user = get_user_model()._default_manager.select_related("organization").filter(pk=user_id)
    user = user.first()
    return user if user is not None and backend.user_can_authenticate(user) else None


class EmailBackend(ModelBackend):
    """Password authentication by email (case-insensitive).

    ModelBackend already runs the hasher once for unknown users, so known and
    unknown emails take similar time.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(request, username=email or username, password=password)

    def get_user(self, user_id):
        return session_user(self, user_id)
