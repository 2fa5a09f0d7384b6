"""Talking to the OIDC provider: discovery, signing keys, ID token checks, userinfo.

Shared by the browser flow (``accounts.oidc``) and the access-token paths
(``accounts.services.external``). Settings are read on every call, so tests and
operators can change them without a restart; discovery documents and key sets are
cached per process (a provider's configuration changes rarely). Signing keys come from
PyJWT's ``PyJWKClient``, one per key set URL, which caches the key set and fetches it
again when a token names a ``kid`` it does not hold (the provider rotated its keys).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import ssl
import threading
import time
from dataclasses import dataclass, field
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
    introspection_endpoint: str


# A token naming an unknown ``kid`` fetches the key set again at most once per this many
# seconds (PyJWT's default), so tokens with made-up key ids cannot flood the provider.
JWKS_REFETCH_COOLDOWN = 30

_lock = threading.Lock()
_discovery: dict[str, tuple[float, dict]] = {}
_key_clients: dict[tuple, jwt.PyJWKClient] = {}


@dataclass(frozen=True)
class OrganizationParty:
    """Roster as the client of an organization's own provider (enterprise SSO): while a
    sign-in runs ``with party_using(party)``, every check here is that provider's, its
    issuer and client id, found by discovery."""

    organization_id: object
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    endpoints: dict = field(default_factory=dict)  # checked when the provider was saved


_party: contextvars.ContextVar[OrganizationParty | None] = contextvars.ContextVar(
    "oidc_party", default=None
)


@contextlib.contextmanager
def party_using(party: OrganizationParty):
    token = _party.set(party)
    try:
        yield party
    finally:
        _party.reset(token)


def party() -> OrganizationParty | None:
    """The organization provider of the sign-in in progress (None: the global one)."""
    return _party.get()


def client_id() -> str:
    current = _party.get()
    return current.client_id if current else settings.OIDC_RP_CLIENT_ID


def client_secret() -> str:
    current = _party.get()
    return current.client_secret if current else settings.OIDC_RP_CLIENT_SECRET


def oidc_enabled() -> bool:
    return bool(settings.OIDC_ENABLED and settings.OIDC_RP_CLIENT_ID)


def provider_config() -> ProviderConfig:
    """An organization's provider entirely from its issuer's discovery; the global one
    from the explicit ``OIDC_OP_*`` settings, the rest from discovery."""
    current = _party.get()
    if current is not None:
        return ProviderConfig(
            issuer=current.issuer,
            authorization_endpoint=current.endpoints.get("authorization_endpoint", ""),
            token_endpoint=current.endpoints.get("token_endpoint", ""),
            userinfo_endpoint=current.endpoints.get("userinfo_endpoint", ""),
            jwks_uri=current.endpoints.get("jwks_uri", ""),
            end_session_endpoint="",
            introspection_endpoint="",
        )
    issuer = settings.OIDC_OP_ISSUER.strip()
    explicit = {
        "authorization_endpoint": settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        "token_endpoint": settings.OIDC_OP_TOKEN_ENDPOINT,
        "userinfo_endpoint": settings.OIDC_OP_USER_ENDPOINT,
        "jwks_uri": settings.OIDC_OP_JWKS_ENDPOINT,
        "end_session_endpoint": getattr(settings, "OIDC_OP_LOGOUT_ENDPOINT", ""),
        "introspection_endpoint": settings.OIDC_OP_INTROSPECTION_ENDPOINT,
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


def discovery_document(issuer: str, *, fresh: bool = False) -> dict:
    """``<issuer>/.well-known/openid-configuration``, fetched once and cached (``fresh``:
    fetched now, as when an administrator saves a provider)."""
    now = time.monotonic()
    with _lock:
        cached = _discovery.get(issuer)
    if cached and not fresh and now - cached[0] < settings.OIDC_DISCOVERY_TTL:
        return cached[1]
    document = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    named = document.get("issuer") if isinstance(document, dict) else None
    if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
        # OIDC Discovery 4.3: the document must name the issuer it was fetched from.
        raise ProviderUnavailable("The discovery document names another issuer.")
    with _lock:
        _discovery[issuer] = (now, document)
    return document


def key_set_fetch(jwks_uri: str) -> list:
    """The keys a provider publishes at ``jwks_uri`` (ProviderUnavailable when it cannot
    be read)."""
    document = _get_json(jwks_uri)
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ProviderUnavailable(f"GET {jwks_uri}: no key set")
    return keys


def provider_caches_clear() -> None:
    with _lock:
        _discovery.clear()
        _key_clients.clear()


def provider_name() -> str:
    """The ``provider`` of external identities: an organization provider's issuer; for
    the global one a configured name, else the issuer, else the origin of the
    authorization endpoint."""
    current = _party.get()
    if current is not None:
        return current.issuer.rstrip("/")
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


def token_request(data: dict, *, auth=None) -> requests.Response:
    """POST to the provider's token endpoint (redirects not followed)."""
    return _request("POST", provider_config().token_endpoint, data=data, auth=auth)


def _get_json(url: str) -> dict:
    response = _request("GET", url)
    if response.status_code != 200:
        raise ProviderUnavailable(f"GET {url}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise ProviderUnavailable(f"GET {url}: not JSON") from error


def _key_client(jwks_uri: str) -> jwt.PyJWKClient:
    """The key client of a key set URL, for the current settings."""
    key = (jwks_uri, settings.OIDC_JWKS_TTL, settings.OIDC_TIMEOUT, settings.OIDC_VERIFY_SSL)
    with _lock:
        client = _key_clients.get(key)
        if client is None:
            client = _key_clients[key] = jwt.PyJWKClient(
                jwks_uri,
                lifespan=settings.OIDC_JWKS_TTL,
                timeout=settings.OIDC_TIMEOUT,
                ssl_context=_ssl_context(),
                cooldown_duration=JWKS_REFETCH_COOLDOWN,
            )
    return client


def _ssl_context() -> ssl.SSLContext:
    """Certificates checked as for the provider's other endpoints: against the bundle
    ``requests`` uses, or not at all with ``OIDC_VERIFY_SSL`` off."""
    if settings.OIDC_VERIFY_SSL:
        return ssl.create_default_context(cafile=requests.certs.where())
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _signing_key(token: str):
    algorithm = settings.OIDC_RP_SIGN_ALGO
    if algorithm.startswith("HS"):
        return client_secret()
    return _provider_key(token)


def _provider_key(token: str):
    """The provider's public key that signed ``token`` (by its ``kid``)."""
    algorithm = settings.OIDC_RP_SIGN_ALGO
    jwks_uri = provider_config().jwks_uri
    if not jwks_uri:
        raise ImproperlyConfigured(f"{algorithm} needs OIDC_OP_JWKS_ENDPOINT or discovery.")
    try:
        return _key_client(jwks_uri).get_signing_key_from_jwt(token)
    except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, ValueError) as error:
        raise ProviderUnavailable(f"JWKS {jwks_uri}: {error}") from error
    except jwt.PyJWKClientError as error:
        raise TokenRejected("No provider key matches the token.") from error


def id_token_verify(token: str, *, nonce: str | None) -> dict:
    """Check an ID token: signature by a provider key, algorithm, issuer, audience,
    authorized party, expiry, and nonce. Answers its claims; raises TokenRejected."""
    algorithm = settings.OIDC_RP_SIGN_ALGO
    audience = client_id()
    issuer = provider_config().issuer
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != algorithm:
            raise TokenRejected(f"Token algorithm {header.get('alg')!r} is not {algorithm}.")
        claims = jwt.decode(
            token,
            _signing_key(token),
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer or None,
            leeway=settings.OIDC_CLOCK_SKEW,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != audience:
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
            _signing_key(token),
            algorithms=[algorithm],
            audience=client_id(),
            issuer=provider_config().issuer or None,
            leeway=settings.OIDC_CLOCK_SKEW,
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error


# Access tokens ------------------------------------------------------------------------

JWT_ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}  # RFC 9068 section 2.1


@dataclass(frozen=True)
class AccessTokenGrant:
    """What the audience check learned of an access token meant for Roster."""

    subject: str | None  # its ``sub``, when the check tells it
    expires_at: float | None  # its ``exp`` (seconds since the epoch), when known
    multi_factor: bool = False  # its ``amr`` says the sign-in used several factors


def provider_did_mfa(claims) -> bool:
    """Whether a provider's token claims say its sign-in used several factors (``amr``,
    RFC 8176, against ``OIDC_MFA_AMR_VALUES``)."""
    amr = claims.get("amr") if isinstance(claims, dict) else None
    if not isinstance(amr, list):
        return False
    return any(value in settings.OIDC_MFA_AMR_VALUES for value in amr if isinstance(value, str))


def access_token_check(access_token: str) -> AccessTokenGrant:
    """Refuse (TokenRejected) an access token that was not issued for Roster.

    The provider issues tokens to many clients, and its userinfo endpoint answers for
    all of them, so a token another application received would otherwise sign its
    holder in here. A JWT access token (RFC 9068, ``typ`` at+jwt) is verified against
    the provider's keys; any other token is introspected (RFC 7662) with Roster's
    client credentials. Either way its ``aud`` or ``client_id`` must be one of
    ``OIDC_ALLOWED_AUDIENCES``. Without either means a token is refused, unless
    ``OIDC_ACCESS_TOKEN_USERINFO_ONLY`` opts out of the check."""
    if not access_token or len(access_token) > 8192:
        raise TokenRejected("No usable access token.")
    if settings.OIDC_ACCESS_TOKEN_USERINFO_ONLY:
        return AccessTokenGrant(subject=None, expires_at=None)
    if _is_jwt_access_token(access_token):
        claims = _jwt_access_token_claims(access_token)
    else:
        endpoint = _introspection_endpoint()
        if not endpoint:
            raise TokenRejected(
                "The provider offers no token introspection and the token is not a JWT "
                "access token: whom it was issued for cannot be checked."
            )
        claims = _introspected_claims(access_token, endpoint)
    allowed = set(settings.OIDC_ALLOWED_AUDIENCES or [settings.OIDC_RP_CLIENT_ID])
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    if not (allowed & set(audiences) or claims.get("client_id") in allowed):
        raise TokenRejected("The access token was issued for another client.")
    subject = claims.get("sub")
    expires_at = claims.get("exp")
    return AccessTokenGrant(
        subject=subject if isinstance(subject, str) and subject else None,
        expires_at=float(expires_at) if isinstance(expires_at, (int, float)) else None,
        multi_factor=provider_did_mfa(claims),
    )


def _is_jwt_access_token(token: str) -> bool:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return str(header.get("typ", "")).lower() in JWT_ACCESS_TOKEN_TYPES


def _jwt_access_token_claims(token: str) -> dict:
    """RFC 9068: signed by the provider's keys (never a shared secret, which the client
    holds too), by the configured issuer, not expired. The audience is checked by the
    caller."""
    algorithm = settings.OIDC_RP_SIGN_ALGO
    if algorithm.startswith("HS"):
        raise TokenRejected("JWT access tokens must be signed with the provider's keys.")
    try:
        if jwt.get_unverified_header(token).get("alg") != algorithm:
            raise TokenRejected("Access token algorithm mismatch.")
        return jwt.decode(
            token,
            _provider_key(token),
            algorithms=[algorithm],
            issuer=provider_config().issuer or None,
            leeway=settings.OIDC_CLOCK_SKEW,
            options={"require": ["iss", "sub", "exp", "iat"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error


def _introspection_endpoint() -> str:
    config = provider_config()
    if config.introspection_endpoint or not config.issuer:
        return config.introspection_endpoint
    return discovery_document(config.issuer).get("introspection_endpoint") or ""


def _introspected_claims(token: str, endpoint: str) -> dict:
    """Ask the provider about ``token`` as Roster (client credentials): it must be active,
    unexpired and of the configured issuer."""
    response = _request(
        "POST",
        endpoint,
        data={"token": token, "token_type_hint": "access_token"},
        auth=(settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET),
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        # 401/403 here refuse Roster's own credentials: a configuration fault, not the token's.
        raise ProviderUnavailable(f"introspection: HTTP {response.status_code}")
    try:
        claims = response.json()
    except ValueError as error:
        raise ProviderUnavailable("introspection: not JSON") from error
    if not isinstance(claims, dict) or claims.get("active") is not True:
        raise TokenRejected("The provider says the token is not active.")
    expires_at = claims.get("exp")
    if isinstance(expires_at, (int, float)) and expires_at + settings.OIDC_CLOCK_SKEW < time.time():
        raise TokenRejected("The access token has expired.")
    issuer = claims.get("iss")
    expected = provider_config().issuer
    if issuer is not None and expected and str(issuer).rstrip("/") != expected.rstrip("/"):
        raise TokenRejected("The access token is of another issuer.")
    return claims
