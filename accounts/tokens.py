"""One-time tokens: random, sent once, stored only as a purpose-bound hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

TOKEN_BYTES = 32  # 256 bits of entropy


class Purpose:
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"
    INVITATION = "invitation"
    EMAIL_CHANGE = "email-change"
    EMAIL_REVERT = "email-revert"


def token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str, *, purpose: str) -> str:
    """Keyed hash: a token of one purpose never matches a hash of another, and the
    database alone (without SECRET_KEY) cannot confirm a guessed token."""
    key = hashlib.sha256(f"roster-token:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
