"""Rate limits per call (not per HTTP request), counted in the shared cache.

Every sensitive service call runs ``rate_limit_hit`` once per attempt, so 50 aliased
``login`` fields in one document count as 50 attempts. With ``REDIS_URL`` set, the
counters are shared by every server process.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from backend.errors import RateLimited
from backend.metrics import rate_limit_counted


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def _limits() -> dict[str, Limit]:
    return {name: Limit(*value) for name, value in settings.RATE_LIMITS.items()}


def _key(scope: str, identity: str) -> str:
    digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def rate_limit_hit(*, scope: str, identity: str | None) -> int:
    """Count one attempt for ``identity`` under ``scope``; raise RATE_LIMITED past the limit.
    Answers the attempts counted in the window, this one included."""
    if not identity:
        return 0
    limit = _limits()[scope]
    key = _key(scope, identity)
    cache.add(key, 0, timeout=limit.seconds)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.seconds)
        attempts = 1
    if attempts > limit.count:
        rate_limit_counted(scope)
        raise RateLimited()
    return attempts


def rate_limit_check(*, scope: str, identity: str | None) -> None:
    """Raise RATE_LIMITED if ``identity`` is already over the limit, without counting."""
    if not identity:
        return
    if (cache.get(_key(scope, identity)) or 0) >= _limits()[scope].count:
        rate_limit_counted(scope)
        raise RateLimited()


def client_ip(request) -> str:
    """The client's address. Behind a proxy, set ``TRUSTED_PROXY_COUNT`` so the right
    ``X-Forwarded-For`` entry is used; a client cannot spoof it otherwise. "" when it
    is not an IP address."""
    proxies = settings.TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR", "")
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return ""


def client_address(request) -> str:
    """What limits count the client as (``client_ip``, an IPv6 client's /64)."""
    return address_identity(client_ip(request))


def address_identity(address: str) -> str:
    """What a per-address limit counts: an IPv6 client holds a whole /64, so its limits are
    per /64 (rotating addresses inside it gains nothing); an address that cannot be read
    still counts, under one shared name, rather than escaping every limit."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return "unknown"
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def rate_limit_undo(*, scope: str, identity: str | None) -> None:
    """Take back one attempt counted by ``rate_limit_hit`` (e.g. a login that succeeded,
    so only failures count). Counting first and undoing after keeps the limit atomic:
    concurrent calls can never get more tries than the limit."""
    if not identity:
        return
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
        cache.decr(_key(scope, identity))


def rate_limits_hit(limits: list[tuple[str, str | None]]) -> list[int]:
    """Count one attempt under each ``(scope, identity)`` (e.g. per account, then per
    client address); past any limit, take back what was counted and raise RATE_LIMITED.
    Answers each scope's attempts in the window, this one included."""
    counted: list[tuple[str, str | None]] = []
    attempts = []
    try:
        for scope, identity in limits:
            attempts.append(rate_limit_hit(scope=scope, identity=identity))
            counted.append((scope, identity))
    except RateLimited:
        rate_limits_undo(counted)
        raise
    return attempts


def rate_limits_undo(limits: list[tuple[str, str | None]]) -> None:
    """Take back the attempt ``rate_limits_hit`` counted (only failures stay counted)."""
    for scope, identity in limits:
        rate_limit_undo(scope=scope, identity=identity)
