"""Talking to the OIDC provider: discovery, signing keys, ID token checks, userinfo.

Shared by the browser flow (``accounts.oidc``) and the access-token paths
(``accounts.services.external``). Settings are read on every call, so tests and
operators can change them without a restart; discovery documents and key sets are
cached per process (a provider's configuration changes rarely, keys rotate with a
new ``kid`` which triggers a refetch).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered nonsense (an outage, not a refusal)."""


class TokenRejected(Exception):
    """The provider, or the signature and claim checks, refused a token."""


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


_lock = threading.Lock()
_discovery: dict[str, tuple[float, dict]] = {}
_jwks: dict[str, tuple[float, dict]] = {}


def oidc_enabled() -> bool:
    return bool(settings.OIDC_ENABLED and settings.OIDC_RP_CLIENT_ID)


def provider_config() -> ProviderConfig:
    """Explicit ``OIDC_OP_*`` settings win; the rest comes from the issuer's discovery."""
    issuer = settings.OIDC_OP_ISSUER.strip()
    explicit = {
        "authorization_endpoint": settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        "token_endpoint": settings.OIDC_OP_TOKEN_ENDPOINT,
        "userinfo_endpoint": settings.OIDC_OP_USER_ENDPOINT,
        "jwks_uri": settings.OIDC_OP_JWKS_ENDPOINT,
        "end_session_endpoint": getattr(settings, "OIDC_OP_LOGOUT_ENDPOINT", ""),
    }
    needed = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    if issuer and not all(explicit[name] for name in needed):
        document = discovery_document(issuer)
        issuer = document["issuer"]  # exactly as the provider writes it in its tokens
        for name in explicit:
            explicit[name] = explicit[name] or document.get(name) or ""
    missing = [name for name in needed[:3] if not explicit[name]]
    if missing:
        raise ImproperlyConfigured(f"OIDC provider endpoints missing: {', '.join(missing)}")
    return ProviderConfig(issuer=issuer, **explicit)


def discovery_document(issuer: str) -> dict:
    """``<issuer>/.well-known/openid-configuration``, fetched once and cached."""
    now = time.monotonic()
    with _lock:
        cached = _discovery.get(issuer)
    if cached and now - cached[0] < settings.OIDC_DISCOVERY_TTL:
        return cached[1]
    document = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    named = document.get("issuer") if isinstance(document, dict) else None
    if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
        # OIDC Discovery 4.3: the document must name the issuer it was fetched from.
        raise ProviderUnavailable("The discovery document names another issuer.")
    with _lock:
        _discovery[issuer] = (now, document)
    return document


def provider_caches_clear() -> None:
    with _lock:
        _discovery.clear()
        _jwks.clear()


def provider_name() -> str:
    """The ``provider`` of external identities: a configured name, else the issuer,
    else the origin of the authorization endpoint."""
    if settings.OIDC_PROVIDER_NAME:
        return settings.OIDC_PROVIDER_NAME
    if settings.OIDC_OP_ISSUER:
        return settings.OIDC_OP_ISSUER.rstrip("/")
    parts = urlsplit(settings.OIDC_OP_AUTHORIZATION_ENDPOINT)
    return f"{parts.scheme}://{parts.netloc}"


def _request(method: str, url: str, **kwargs) -> requests.Response:
    try:
        return requests.request(
            method,
            url,
            timeout=settings.OIDC_TIMEOUT,
            verify=settings.OIDC_VERIFY_SSL,
            allow_redirects=False,
            **kwargs,
        )
    except requests.RequestException as error:
        raise ProviderUnavailable(f"{method} {url}: {error}") from error


def _get_json(url: str) -> dict:
    response = _request("GET", url)
    if response.status_code != 200:
        raise ProviderUnavailable(f"GET {url}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise ProviderUnavailable(f"GET {url}: not JSON") from error


def _key_set(jwks_uri: str, *, refresh: bool = False) -> dict:
    now = time.monotonic()
    with _lock:
        cached = _jwks.get(jwks_uri)
    if cached and not refresh and now - cached[0] < settings.OIDC_JWKS_TTL:
        return cached[1]
    document = _get_json(jwks_uri)
    if not isinstance(document.get("keys"), list):
        raise ProviderUnavailable("The JWKS document has no keys.")
    with _lock:
        _jwks[jwks_uri] = (now, document)
    return document


def _signing_key(header: dict):
    algorithm = settings.OIDC_RP_SIGN_ALGO
    if algorithm.startswith("HS"):
        return settings.OIDC_RP_CLIENT_SECRET
    jwks_uri = provider_config().jwks_uri
    if not jwks_uri:
        raise ImproperlyConfigured(f"{algorithm} needs OIDC_OP_JWKS_ENDPOINT or discovery.")
    kid = header.get("kid")
    for refresh in (False, True):  # a new kid means the provider rotated its keys
        for candidate in _key_set(jwks_uri, refresh=refresh)["keys"]:
            if kid is not None and candidate.get("kid") != kid:
                continue
            if candidate.get("alg", algorithm) != algorithm or candidate.get("use", "sig") != "sig":
                continue
            try:
                return jwt.PyJWK(candidate, algorithm=algorithm)
            except jwt.PyJWTError:
                continue
    raise TokenRejected("No provider key matches the token.")


def id_token_verify(token: str, *, nonce: str | None) -> dict:
    """Check an ID token: signature by a provider key, algorithm, issuer, audience,
    authorized party, expiry, and nonce. Answers its claims; raises TokenRejected."""
    algorithm = settings.OIDC_RP_SIGN_ALGO
    client_id = settings.OIDC_RP_CLIENT_ID
    issuer = provider_config().issuer
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != algorithm:
            raise TokenRejected(f"Token algorithm {header.get('alg')!r} is not {algorithm}.")
        claims = jwt.decode(
            token,
            _signing_key(header),
            algorithms=[algorithm],
            audience=client_id,
            issuer=issuer or None,
            leeway=settings.OIDC_CLOCK_SKEW,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRejected("Token has several audiences and another authorized party.")
    if settings.OIDC_USE_NONCE and (not nonce or claims.get("nonce") != nonce):
        raise TokenRejected("Token nonce does not match this sign-in.")
    return claims


def userinfo_fetch(access_token: str) -> dict:
    """Validate an access token by asking the provider's userinfo endpoint for its claims.

    Raises TokenRejected when the provider refuses the token, ProviderUnavailable when it
    cannot be asked."""
    if not access_token or len(access_token) > 8192:
        raise TokenRejected("No usable access token.")
    url = provider_config().userinfo_endpoint
    response = _request("GET", url, headers={"Authorization": f"Bearer {access_token}"})
    if response.status_code in (400, 401, 403):
        raise TokenRejected(f"userinfo: HTTP {response.status_code}")
    if response.status_code != 200:
        raise ProviderUnavailable(f"userinfo: HTTP {response.status_code}")
    content_type = response.headers.get("content-type", "").lower()
    if content_type.startswith("application/jwt"):
        claims = _signed_userinfo(response.text)
    else:
        try:
            claims = response.json()
        except ValueError as error:
            raise ProviderUnavailable("userinfo: not JSON") from error
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("userinfo answered no subject.")
    return claims


def _signed_userinfo(token: str) -> dict:
    """A userinfo answer signed as a JWT (OIDC Core 5.3.2): signature, issuer, audience."""
    algorithm = settings.OIDC_RP_SIGN_ALGO
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != algorithm:
            raise TokenRejected("userinfo JWT algorithm mismatch.")
        return jwt.decode(
            token,
            _signing_key(header),
            algorithms=[algorithm],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=provider_config().issuer or None,
            leeway=settings.OIDC_CLOCK_SKEW,
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error
