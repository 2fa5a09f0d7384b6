from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Password authentication by email (case-insensitive).

    ModelBackend already runs the hasher once for unknown users, so known and
    unknown emails take similar time.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(request, username=email or username, password=password)
