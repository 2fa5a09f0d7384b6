"""Secrets stored encrypted at rest (a second factor's TOTP secret): Fernet (AES-128-CBC with
HMAC-SHA256, from ``cryptography``) under ``FIELD_ENCRYPTION_KEY``.

The setting is a list: the first key encrypts, every key decrypts, so a key is rotated by
putting a new one first (``secret_reencrypt`` brings an old ciphertext to it). A key is any
long random string; the Fernet key is its SHA-256. Nothing here logs what it handles.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "secret_decrypt", "secret_encrypt", "secret_reencrypt"]


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())) for key in keys]
    )


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEY))


def secret_encrypt(text: str) -> str:
    return _current().encrypt(text.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The text of ``token``; ``InvalidToken`` when no configured key opened it."""
    return _current().decrypt(token.encode()).decode()


def secret_reencrypt(token: str) -> str:
    """``token`` encrypted again under the first key."""
    return _current().rotate(token.encode()).decode()
