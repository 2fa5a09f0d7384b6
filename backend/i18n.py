"""Languages: which one a request is answered in, and which one an email is written in.

API messages are in the caller's language: the signed-in user's ``language``, else the
request's ``Accept-Language``, else ``LANGUAGE_CODE``. Emails are in the recipient's
language and time zone (``accounts.emails``). Machine-readable parts (``code``,
``field``, ``kind``) never depend on the language.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext

from backend.errors import ErrorMessage, Invalid


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_is_valid(name: str) -> bool:
    """A name of the IANA database (``Europe/Paris``, ``UTC``), nothing else."""
    return name in _timezone_names()


def language_is_valid(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def language_error(code: str | None, *, field: str = "language") -> ErrorMessage | None:
    """The INVALID message for a language code Roster does not speak (None: it does)."""
    if code is None or language_is_valid(code):
        return None
    choices = ", ".join(known for known, _name in settings.LANGUAGES)
    return ErrorMessage(
        gettext("Choose one of: %(choices)s.") % {"choices": choices}, "INVALID", field
    )


def language_require(code: str | None, *, field: str = "language") -> None:
    """INVALID unless ``code`` is None or a language Roster speaks."""
    if (problem := language_error(code, field=field)) is not None:
        raise Invalid(problem.message, field=problem.field, errors=[problem])


def language_current() -> str:
    """The language this request is answered in (a new account starts with it)."""
    code = (translation.get_language() or "").split("-")[0]
    return code if language_is_valid(code) else settings.LANGUAGE_CODE


def language_of(user) -> str | None:
    """The language ``user`` chose, if Roster speaks it (None for anonymous users)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    code = getattr(user, "language", None)
    return code if code and language_is_valid(code) else None


class LanguageMiddleware:
    """Answer every request in its caller's language.

    Until the caller is known (a bearer token refused before authentication, say), the
    request's ``Accept-Language`` decides; once the views are about to run, a signed-in
    user's own ``language`` wins. Placed after SessionMiddleware; reading ``request.user``
    loads the session's user, which every view that answers in words loads anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language())
            patch_vary_headers(response, ("Accept-Language",))
            return response
        finally:
            translation.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "bearer_user", None) or getattr(request, "user", None)
        language = language_of(user)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return None
