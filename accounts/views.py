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
