"""Serving stored avatar files when no web server or object store does it (SERVE_MEDIA=1)."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from accounts.images import OUTPUT_CONTENT_TYPES
from accounts.models import Avatar

# Only names Roster generates: a hex key, an optional thumbnail suffix, a known extension.
_AVATAR_NAME = re.compile(r"^[0-9a-f]{32}(?:_thumb)?\.(?P<extension>[a-z]+)$")


@require_safe
def avatar_file(request, name: str):
    """One avatar file with a fixed content type that browsers must not sniff."""
    if not settings.SERVE_MEDIA:
        raise Http404()
    match = _AVATAR_NAME.match(name)
    content_type = match and OUTPUT_CONTENT_TYPES.get(match["extension"])
    if not content_type:
        raise Http404()
    storage = Avatar._meta.get_field("image").storage
    path = f"avatar_images/{name}"
    try:
        handle = storage.open(path, "rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404() from error
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = "inline"
    # Names are generated per upload and never reused.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def admin_login(request, *args, **kwargs):
    """The Django admin's login, under the same per-call limits as the GraphQL ``login``
    (staff and superuser passwords are the most valuable ones to guess)."""
    from django.contrib import admin
    from django.contrib.auth import logout as auth_logout
    from django.http import HttpResponse

    from accounts.models import email_normalize
    from accounts.ratelimit import client_address, rate_limit_hit, rate_limit_undo
    from accounts.services.mfa import mfa_methods
    from backend.errors import RateLimited

    if request.method != "POST":
        return admin.site.login(request, *args, **kwargs)
    email = email_normalize(request.POST.get("username"))
    limits = (("login-email", email), ("login-address", client_address(request)))
    try:
        for scope, identity in limits:
            rate_limit_hit(scope=scope, identity=identity)
    except RateLimited as error:
        return HttpResponse(error.message, status=429, content_type="text/plain")
    response = admin.site.login(request, *args, **kwargs)
    if request.user.is_authenticated:  # signed in: only failures count
        for scope, identity in limits:
            rate_limit_undo(scope=scope, identity=identity)
        if mfa_methods(request.user):
            # The admin's form has no field for a second factor: such an account signs in
            # through Roster's own sign-in (login, then verifyMfa), which the admin shares.
            auth_logout(request)
            return HttpResponse(
                "This account has a second factor: sign in through Roster (login, then "
                "verifyMfa), then open the admin.",
                status=403,
                content_type="text/plain",
            )
    return response
