"""OIDC browser flow: the authentication backend and the views behind /api/user/oidc/.

mozilla-django-oidc drives the flow (state, nonce and PKCE kept in the session, code
exchange, session login). Roster adds what it leaves out or does loosely:

- endpoints from the issuer's discovery document (``accounts.oidc_client``), read
  lazily so the backend never fails where OIDC is off;
- full ID token checks (issuer, audience, authorized party, expiry, issued-at, nonce,
  algorithm), not only the signature;
- the userinfo ``sub`` must equal the ID token's (OIDC Core 5.3.2);
- account matching and creation through ``accounts.services.external``;
- a failed callback redirects to the frontend with ``?error=<CODE>`` instead of a 400;
- disabled accounts lose their OIDC sessions (``get_user`` checks ``is_active``);
- ``authenticate/?reauthenticate=1`` re-authenticates the signed-in viewer
  (``prompt=login``): the callback then only marks the session
  (``accounts.services.reauthentication``), it never signs anyone in.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from accounts import oidc_client
from accounts.audit import audit_user_event
from accounts.backends import session_user
from accounts.models import Organization, OrganizationSso, User
from accounts.services.external import external_user_resolve, organization_user_resolve
from accounts.services.mfa import has_second_factor, mfa_challenge_start
from accounts.services.reauthentication import (
    oidc_reauthentication_cancel,
    oidc_reauthentication_finish,
    oidc_reauthentication_pending,
    oidc_reauthentication_start,
)
from accounts.services.sso import sso_party
from backend.errors import DomainError

logger = logging.getLogger(__name__)

# Values of the ``error`` parameter on the failure redirect (besides domain error codes).
PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
SIGN_IN_FAILED = "INVALID_CREDENTIALS"


# The callback of sign-ins through an organization's own provider (enterprise SSO).
SSO_CALLBACK = "oidc_sso_callback"
SSO_STATES = "oidc_sso_states"  # session: the state of each SSO sign-in -> its organization
SSO_STATES_KEPT = 10


class _PartySettings:
    """mozilla-django-oidc reads its settings through ``get_settings``: during an
    organization's sign-in (``oidc_client.party_using``) the callback is the SSO one."""

    def get_settings(self, attr, *args):
        if attr == "OIDC_AUTHENTICATION_CALLBACK_URL" and oidc_client.party() is not None:
            return SSO_CALLBACK
        return super().get_settings(attr, *args)


class OIDCBackend(_PartySettings, OIDCAuthenticationBackend):
    """Authenticates the callback of the authorization code flow (and nothing else)."""

    def __init__(self, *args, **kwargs):
        # Django builds every backend on each authenticate() call, password logins
        # included; settings and discovery are read only when OIDC is used.
        self.UserModel = get_user_model()

    # mozilla-django-oidc reads these attributes; they follow settings and discovery.
    OIDC_RP_IDP_SIGN_KEY = None

    @property
    def OIDC_RP_CLIENT_ID(self):
        return oidc_client.client_id()

    @property
    def OIDC_RP_CLIENT_SECRET(self):
        return oidc_client.client_secret()

    @property
    def OIDC_RP_SIGN_ALGO(self):
        return settings.OIDC_RP_SIGN_ALGO

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self):
        return oidc_client.provider_config().token_endpoint

    @property
    def OIDC_OP_USER_ENDPOINT(self):
        return oidc_client.provider_config().userinfo_endpoint

    @property
    def OIDC_OP_JWKS_ENDPOINT(self):
        return oidc_client.provider_config().jwks_uri

    def authenticate(self, request, *, nonce, code_verifier):
        """Only the callback view calls with these credentials; password logins never
        reach this backend (their credentials do not fit the signature)."""
        if request is None or not self._serves(oidc_client.party()):
            return None
        if not nonce or (settings.OIDC_USE_PKCE and not code_verifier):
            return None
        try:
            return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except oidc_client.TokenRejected as error:
            logger.warning("OIDC sign-in refused: %s", error)
            request.oidc_error = SIGN_IN_FAILED
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else 500
            if status >= 500:
                logger.warning("OIDC sign-in failed, provider unavailable: %s", error)
                request.oidc_error = PROVIDER_UNAVAILABLE
            else:  # the code, its PKCE verifier or the client credentials were refused
                logger.warning("OIDC code exchange refused: %s", error)
                request.oidc_error = SIGN_IN_FAILED
        except (oidc_client.ProviderUnavailable, requests.RequestException) as error:
            logger.warning("OIDC sign-in failed, provider unavailable: %s", error)
            request.oidc_error = PROVIDER_UNAVAILABLE
        return None

    def _serves(self, party) -> bool:
        """The global provider's sign-ins, when one is configured."""
        return party is None and oidc_client.oidc_enabled()

    def get_token(self, payload):
        """mozilla-django-oidc's token request, but never following a redirect: the
        token endpoint could otherwise send Roster's server anywhere."""
        auth = None
        if self.get_settings("OIDC_TOKEN_USE_BASIC_AUTH", False):
            auth = (payload.get("client_id"), payload.pop("client_secret", None))
        response = oidc_client.token_request(payload, auth=auth)
        self.raise_token_response_error(response)
        return response.json()

    def verify_token(self, token, **kwargs):
        if not isinstance(token, str) or not token:
            raise oidc_client.TokenRejected("The token response has no ID token.")
        return oidc_client.id_token_verify(token, nonce=kwargs.get("nonce"))

    def get_userinfo(self, access_token, id_token, payload):
        return oidc_client.userinfo_fetch(access_token)

    def get_or_create_user(self, access_token, id_token, payload):
        # Whether the provider did multi-factor, for the callback (a second factor).
        self.request.oidc_provider_did_mfa = oidc_client.provider_did_mfa(payload)
        if oidc_reauthentication_pending(request=self.request):
            return self._reauthenticated_user(payload)
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise oidc_client.TokenRejected("userinfo names another subject than the ID token.")
        try:
            return self._user_resolve(claims={**payload, **userinfo})
        except DomainError as error:
            logger.info("OIDC sign-in refused (%s) for sub %s", error.code, payload.get("sub"))
            self.request.oidc_error = error.code
            return None

    def _user_resolve(self, *, claims) -> User:
        return external_user_resolve(provider=oidc_client.provider_name(), claims=claims)

    def _reauthenticated_user(self, payload):
        """The signed-in viewer, re-authenticated by this callback (its ID token's
        ``payload``); None, with the error code, when the check fails."""
        try:
            return oidc_reauthentication_finish(
                request=self.request, provider=oidc_client.provider_name(), claims=payload
            )
        except DomainError as error:
            logger.warning("OIDC re-authentication refused (%s)", error.code)
            self.request.oidc_error = error.code
            return None

    def get_user(self, user_id):
        # ModelBackend's version refuses inactive users (mozilla's does not); with OIDC
        # switched off, sessions it started end.
        if not oidc_client.oidc_enabled():
            return None
        return session_user(ModelBackend(), user_id)


class OrganizationOIDCBackend(OIDCBackend):
    """The sign-ins through an organization's own provider, and their sessions (which
    the global provider's settings never end)."""

    def _serves(self, party) -> bool:
        return party is not None

    def _user_resolve(self, *, claims) -> User:
        organization = Organization.objects.get(pk=oidc_client.party().organization_id)
        return organization_user_resolve(
            organization=organization, provider=oidc_client.provider_name(), claims=claims
        )

    def get_user(self, user_id):
        return session_user(ModelBackend(), user_id)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode(params)))


def _with_error(url: str, code: str) -> str:
    return _with_query(url, error=code)


class AuthenticationRequestView(_PartySettings, OIDCAuthenticationRequestView):
    """``authenticate/``: redirects to the provider with state, nonce and PKCE challenge;
    with ``?reauthenticate=1`` the signed-in viewer proves who they are again."""

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)  # endpoints are resolved per request
        self.extra_params: dict[str, str] = {}

    def get(self, request):
        failure = resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_client.provider_config().authorization_endpoint
        except oidc_client.ProviderUnavailable as error:
            logger.warning("OIDC discovery failed: %s", error)
            return HttpResponseRedirect(_with_error(failure, PROVIDER_UNAVAILABLE))
        self.OIDC_RP_CLIENT_ID = oidc_client.client_id()
        if request.GET.get("reauthenticate"):
            try:
                self.extra_params = oidc_reauthentication_start(request=request)
            except DomainError as error:
                return HttpResponseRedirect(_with_error(failure, error.code))
        else:
            oidc_reauthentication_cancel(request=request)
        return super().get(request)

    def get_extra_params(self, request):
        return {**super().get_extra_params(request), **self.extra_params}


class AuthenticationCallbackView(OIDCAuthenticationCallbackView):
    """``callback/``: checks state (single use), exchanges the code, signs in."""

    def get(self, request):
        if request.GET.get("error") and oidc_reauthentication_pending(request=request):
            # The viewer cancelled a re-authentication at the provider: it fails, and
            # the session stays signed in (a failed sign-in would sign it out).
            oidc_reauthentication_cancel(request=request)
            request.oidc_error = SIGN_IN_FAILED
            return self.login_failure()
        try:
            return super().get(request)
        except SuspiciousOperation as error:  # unknown or replayed state
            logger.warning("OIDC callback refused: %s", error)
            request.oidc_error = SIGN_IN_FAILED
            return self.login_failure()

    def login_success(self):
        """Sign in, unless the account has a second factor the provider's sign-in did not
        include: then the sign-in waits for it in this browser (as after a password) and
        the frontend is sent to ``?mfa=required`` to ask for it (verifyMfa)."""
        request_user = getattr(self.request, "user", None)
        already = getattr(request_user, "is_authenticated", False) and request_user == self.user
        if (
            not already
            and has_second_factor(self.user)
            and not getattr(self.request, "oidc_provider_did_mfa", False)
        ):
            mfa_challenge_start(request=self.request, user=self.user, method="oidc")
            return HttpResponseRedirect(_with_query(self.success_url, mfa="required"))
        response = super().login_success()
        audit_user_event("user.login.succeeded", self.user, metadata={"method": "oidc"})
        return response

    def login_failure(self):
        code = getattr(self.request, "oidc_error", None) or SIGN_IN_FAILED
        return HttpResponseRedirect(_with_error(self.failure_url, code))


def _organization_party(organization_id) -> oidc_client.OrganizationParty | None:
    sso = OrganizationSso.objects.filter(organization_id=organization_id).first()
    return sso_party(sso) if sso is not None else None


class OrganizationAuthenticationRequestView(AuthenticationRequestView):
    """``<organization id>/authenticate/``: the organization's own provider; the state
    of the sign-in is bound to the organization in this browser's session."""

    def get(self, request, organization_id):
        party = _organization_party(organization_id)
        if party is None:
            failure = resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)
            return HttpResponseRedirect(_with_error(failure, "NOT_FOUND"))
        with oidc_client.party_using(party):
            response = super().get(request)
        state = parse_qs(urlsplit(response.get("Location", "")).query).get("state")
        if state:
            states = request.session.get(SSO_STATES, {})
            states[state[0]] = str(organization_id)
            # The latest few sign-ins (tabs) of this browser; older states are let go.
            request.session[SSO_STATES] = dict(list(states.items())[-SSO_STATES_KEPT:])
        return response


class OrganizationAuthenticationCallbackView(AuthenticationCallbackView):
    """``sso/callback/``: the callback of every organization's provider. The state names
    the organization whose sign-in this browser started; its provider's issuer, client
    and keys check the answer."""

    def get(self, request):
        states = request.session.get(SSO_STATES, {})
        organization_id = states.pop(request.GET.get("state", ""), None)
        request.session[SSO_STATES] = states
        party = _organization_party(organization_id) if organization_id else None
        if party is None:
            request.oidc_error = SIGN_IN_FAILED
            return self.login_failure()
        with oidc_client.party_using(party):
            return super().get(request)


def provider_logout_url(request) -> str:
    """Where ``logout/`` sends the browser: the provider's end-session endpoint when it
    has one (RP-initiated logout), then back to ``LOGOUT_REDIRECT_URL``."""
    after = resolve_url(settings.LOGOUT_REDIRECT_URL)
    try:
        end_session = oidc_client.provider_config().end_session_endpoint
    except oidc_client.ProviderUnavailable:
        return after
    if not end_session:
        return after
    params = {"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": after}
    separator = "&" if urlsplit(end_session).query else "?"
    return f"{end_session}{separator}{urlencode(params)}"
