"""A small but real OIDC provider for the tests, served over HTTP on 127.0.0.1.

It speaks the parts of OpenID Connect that Roster uses: discovery, JWKS, the
authorization endpoint (auto-approving ``provider.user``; ``prompt=login`` or
``max_age=0`` make a fresh ``auth_time``), the token endpoint (code, redirect URI,
client secret and PKCE verifier checked; an RS256 ID token with iss, aud, sub, exp,
iat, auth_time and nonce), userinfo (bearer access token) and token introspection
(RFC 7662, for Roster's client and a second one). Access tokens are issued to Roster's
client or to ``OTHER_CLIENT_ID``, opaque or as RFC 9068 JWTs. Knobs on the instance let
a test send a broken token (other key, audience, expiry) and count hits.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.oidc_client import provider_caches_clear
from tests.conftest import GRAPHQL_URL

CLIENT_ID = "roster-test"
CLIENT_SECRET = "roster-test-secret"
# Another application of the same provider: its users' tokens must not open Roster.
OTHER_CLIENT_ID = "other-app"
OTHER_CLIENT_SECRET = "other-app-secret"


@functools.cache
def _rsa_key(name: str):
    # Generated once per test process: key generation is the slow part of a provider.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(private_key, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")
    return jwk


@dataclass(frozen=True)
class RawBody:
    data: bytes


@dataclass
class Grant:
    claims: dict
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None


@dataclass
class LocalProvider:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    user: dict = field(default_factory=dict)  # claims of the person who "signs in"
    id_token_claims: dict = field(default_factory=dict)  # overrides for the next ID tokens
    sign_with_other_key: bool = False
    issuer_trailing_slash: bool = False  # as Auth0 and others write it
    discovery_issuer: str | None = None  # a discovery document naming another issuer
    userinfo_as_jwt: bool = False  # answer userinfo as a signed JWT (application/jwt)
    introspection: bool = True  # offer RFC 7662 introspection (in discovery too)
    jwt_access_tokens: bool = False  # issue RFC 9068 JWT access tokens
    honours_prompt_login: bool = True  # prompt=login / max_age=0 make the person sign in
    key_name: str = "provider"  # providers of other names sign with other keys
    token_redirect: str | None = None  # the token endpoint answers a redirect there
    jwks_redirect: str | None = None  # so does the key set
    hits: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.key = _rsa_key(self.key_name)
        self.kid = secrets.token_hex(8)
        self.other_key = _rsa_key("someone else")
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, dict] = {}  # token -> {claims, sub, client_id, exp}
        self.auth_time = int(time.time()) - 3600  # when the person last signed in here
        self.authorize_params: list[dict] = []  # what Roster sent to /authorize
        self._server: ThreadingHTTPServer | None = None

    # Serving ------------------------------------------------------------------------

    def start(self) -> LocalProvider:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def issuer(self) -> str:
        return self.base_url + ("/" if self.issuer_trailing_slash else "")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # Tokens -------------------------------------------------------------------------

    def access_token_issue(
        self,
        claims: dict | None = None,
        *,
        client_id: str = CLIENT_ID,
        as_jwt: bool | None = None,
        expires_in: int = 300,
        amr: list[str] | None = None,
    ) -> str:
        """An access token issued to ``client_id`` for ``claims`` (default: user), which
        userinfo accepts whoever presents it; a JWT (RFC 9068) when ``as_jwt`` (default:
        the ``jwt_access_tokens`` knob). ``amr``: how the person signed in (RFC 8176), in
        the JWT and in introspection, as providers tell it."""
        claims = dict(claims if claims is not None else self.user)
        now = int(time.time())
        if as_jwt if as_jwt is not None else self.jwt_access_tokens:
            payload = {
                "iss": self.issuer,
                "sub": claims["sub"],
                "aud": client_id,
                "client_id": client_id,
                "iat": now,
                "exp": now + expires_in,
                "jti": secrets.token_hex(8),
                "scope": "openid email profile",
                **({"amr": amr} if amr is not None else {}),
            }
            key = self.other_key if self.sign_with_other_key else self.key
            token = jwt.encode(
                payload, key, algorithm="RS256", headers={"kid": self.kid, "typ": "at+jwt"}
            )
        else:
            token = secrets.token_urlsafe(24)
        self.access_tokens[token] = {
            "claims": claims,  # what userinfo answers
            "sub": claims["sub"],  # whom the token was issued for
            "client_id": client_id,
            "exp": now + expires_in,
            "amr": amr,
        }
        return token

    def id_token(self, claims: dict, *, nonce: str | None) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": claims["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": self.auth_time,
            "email": claims.get("email"),
        }
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(self.id_token_claims)
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": self.kid})

    def discovery(self) -> dict:
        document = {
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "userinfo_endpoint": self.url("/userinfo"),
            "jwks_uri": self.url("/jwks"),
            "end_session_endpoint": self.url("/logout"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }
        if self.introspection:
            document["introspection_endpoint"] = self.url("/introspect")
        return document

    def jwks(self) -> dict:
        return {"keys": [_public_jwk(self.key, self.kid)]}

    # Endpoints ----------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return 400, {}, {"error": "invalid_request"}
        if "openid" not in params.get("scope", "").split():
            return 400, {}, {"error": "invalid_scope"}
        self.authorize_params.append(dict(params))
        fresh = params.get("prompt") == "login" or params.get("max_age") == "0"
        if fresh and self.honours_prompt_login:
            self.auth_time = int(time.time())  # the person typed their password again
        code = secrets.token_urlsafe(16)
        self.codes[code] = Grant(
            claims=dict(self.user),
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        query = urlencode({"code": code, "state": params.get("state", "")})
        return 302, {"Location": f"{params['redirect_uri']}?{query}"}, None

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict, Any]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {}, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)  # codes are single-use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {}, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {}, {"error": "invalid_grant", "error_description": "redirect_uri"}
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode("ascii")).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if grant.code_challenge_method != "S256" or challenge != grant.code_challenge:
                return 400, {}, {"error": "invalid_grant", "error_description": "PKCE"}
        access_token = self.access_token_issue(grant.claims, client_id=grant.client_id)
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant.claims, nonce=grant.nonce),
        }
        return 200, {}, body

    def _live_token(self, token: str) -> dict | None:
        issued = self.access_tokens.get(token)
        return issued if issued is not None and issued["exp"] > time.time() else None

    def userinfo(self, authorization: str | None) -> tuple[int, dict, Any]:
        # As real providers do: any live token of any client gets its person's claims.
        token = (authorization or "").removeprefix("Bearer ").strip()
        issued = self._live_token(token)
        if issued is None:
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, None
        claims = issued["claims"]
        if self.userinfo_as_jwt:
            payload = {**claims, "iss": self.issuer, "aud": self.client_id}
            key = self.other_key if self.sign_with_other_key else self.key
            signed = jwt.encode(payload, key, algorithm="RS256", headers={"kid": self.kid})
            return 200, {"Content-Type": "application/jwt"}, RawBody(signed.encode())
        return 200, {}, claims

    def introspect(self, form: dict[str, str], authorization: str | None):
        """RFC 7662 for an authenticated client (Roster or the other one)."""
        if not self.introspection:
            return 404, {}, {"error": "not_found"}
        clients = {self.client_id: self.client_secret, OTHER_CLIENT_ID: OTHER_CLIENT_SECRET}
        decoded = base64.b64decode((authorization or "")[6:] or b"").decode()
        client_id, _, client_secret = decoded.partition(":")
        if not (authorization or "").startswith("Basic ") or clients.get(client_id) != (
            client_secret or None
        ):
            return 401, {}, {"error": "invalid_client"}
        issued = self._live_token(form.get("token", ""))
        if issued is None:
            return 200, {}, {"active": False}
        return (
            200,
            {},
            {
                "active": True,
                "iss": self.issuer,
                "sub": issued["sub"],
                "client_id": issued["client_id"],
                "aud": issued["client_id"],
                "exp": issued["exp"],
                "token_type": "Bearer",
                "scope": "openid email profile",
                **({"amr": issued["amr"]} if issued["amr"] is not None else {}),
            },
        )


def _handler_for(provider: LocalProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, headers: dict, body: Any) -> None:
            if isinstance(body, RawBody):
                data = body.data
            else:
                data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None and "Content-Type" not in headers:
                self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            provider.hits[parts.path] += 1
            if parts.path == "/.well-known/openid-configuration":
                self._answer(200, {}, provider.discovery())
            elif parts.path == "/jwks" and provider.jwks_redirect:
                self._answer(302, {"Location": provider.jwks_redirect}, None)
            elif parts.path == "/jwks":
                self._answer(200, {}, provider.jwks())
            elif parts.path == "/authorize":
                self._answer(*provider.authorize(params))
            elif parts.path == "/userinfo":
                self._answer(*provider.userinfo(self.headers.get("Authorization")))
            else:
                self._answer(404, {}, {"error": "not_found"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            provider.hits[parts.path] += 1
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if parts.path == "/token" and provider.token_redirect:
                self._answer(302, {"Location": provider.token_redirect}, None)
            elif parts.path == "/token":
                self._answer(*provider.token(form, self.headers.get("Authorization")))
            elif parts.path == "/introspect":
                self._answer(*provider.introspect(form, self.headers.get("Authorization")))
            else:
                self._answer(404, {}, {"error": "not_found"})

    return Handler


# Fixtures and helpers ---------------------------------------------------------------

DEFAULT_USER = {
    "sub": "subject-1",
    "email": "ada@example.net",
    "email_verified": True,
    "given_name": "Ada",
    "family_name": "Lovelace",
}


def provider_serving(settings):
    """A provider on a free port, configured through discovery (``OIDC_OP_ISSUER``).

    A generator for a fixture: ``yield from provider_serving(settings)``."""
    provider = LocalProvider(user=dict(DEFAULT_USER)).start()
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    settings.OIDC_OP_ISSUER = provider.issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = ""
    settings.OIDC_OP_TOKEN_ENDPOINT = ""
    settings.OIDC_OP_USER_ENDPOINT = ""
    settings.OIDC_OP_JWKS_ENDPOINT = ""
    settings.OIDC_OP_LOGOUT_ENDPOINT = ""
    settings.OIDC_PROVIDER_NAME = ""
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_OP_INTROSPECTION_ENDPOINT = ""
    settings.OIDC_ALLOWED_AUDIENCES = []
    settings.OIDC_ACCESS_TOKEN_USERINFO_ONLY = False
    provider_caches_clear()
    yield provider
    provider.stop()
    provider_caches_clear()


def browser_sign_in(
    http, *, authenticate_query: dict | None = None, start_path="/api/user/oidc/authenticate/"
):
    """Run the browser flow with a Django test client: Roster's ``authenticate/`` (or an
    organization's, ``start_path``), the provider's authorization endpoint (over HTTP),
    then Roster's callback. Answers (callback response, callback path, callback query)."""
    start = http.get(start_path, authenticate_query or {})
    assert start.status_code == 302, start.content
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.netloc == "testserver", back
    query = dict(parse_qsl(back.query))
    return http.get(back.path, query), back.path, query


def bearer_post(query: str, token: str, *, client: Client | None = None):
    """A POST as a mobile client sends it: no cookie, no CSRF token."""
    client = client or Client(enforce_csrf_checks=True)
    return client.post(
        GRAPHQL_URL,
        data={"query": query},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
