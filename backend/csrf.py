"""The CSRF cookie the frontend reads its token from."""

from __future__ import annotations

import functools

from django.middleware.csrf import get_token


def csrf_cookie(view):
    """Django's ``ensure_csrf_cookie`` without masking a token no response shows.

    ``ensure_csrf_cookie`` calls ``get_token`` on every request, which masks the secret
    afresh (32 random characters, ~50 µs) for a template to render; an API response
    renders none. What the browser needs is the cookie: a request without one gets one
    (``get_token``), and a request with one has it sent again, so its expiry is renewed,
    as ``get_token`` does. The CSRF middleware checks and writes the cookie as before."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if "CSRF_COOKIE" in request.META:  # a valid cookie came with the request
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
        else:
            get_token(request)
        return view(request, *args, **kwargs)

    return wrapped
