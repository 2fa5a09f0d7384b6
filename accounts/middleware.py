"""Bearer authentication: ``Authorization: Bearer <OIDC access token>``.

Placed before ``BearerAwareCsrfViewMiddleware``. A request carrying a bearer token is
authenticated by that token alone:

- valid: the request runs as the token's user, without a session, and skips CSRF
  (a browser never attaches such a header by itself, so there is nothing to forge);
- invalid, expired, or the account disabled: answered 401/403 at once. It never
  falls back to the session cookie and never skips CSRF;
- valid, but the account has a second factor and the token does not show a
  multi-factor sign-in: 401 ``insufficient_user_authentication`` (RFC 9470).

Other ``Authorization`` schemes are left alone.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext

from accounts import oidc_client
from accounts.ratelimit import client_address
from accounts.services.external import bearer_token_authenticate
from accounts.sessions import DEVICE
from backend.errors import AccountDisabled, DomainError, MfaRequired, RateLimited
from backend.observability import error_observed

logger = logging.getLogger(__name__)


def bearer_token(request) -> str | None:
    """The bearer token of the request, ``""`` for an empty one, ``None`` when absent."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _refusal(status: int, code: str, message: str, *, error: str = "invalid_token"):
    error_observed(code)
    response = JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


class BearerTokenMiddleware(MiddlewareMixin):
    def process_request(self, request):
        token = bearer_token(request)
        if token is None:
            return None
        try:
            user = bearer_token_authenticate(access_token=token, address=client_address(request))
        except AccountDisabled as error:
            return _refusal(403, error.code, error.message)
        except RateLimited as error:
            return _refusal(429, error.code, error.message)
        except MfaRequired as error:  # step-up authentication, RFC 9470
            return _refusal(
                401, error.code, error.message, error="insufficient_user_authentication"
            )
        except DomainError as error:
            return _refusal(401, error.code, error.message)
        except oidc_client.ProviderUnavailable as error:
            logger.warning("Bearer token not checked, provider unavailable: %s", error)
            return _refusal(
                503, "PROVIDER_UNAVAILABLE", gettext("The identity provider is unavailable.")
            )
        request.bearer_user = user
        return None

    def process_view(self, request, view_func, view_args, view_kwargs):
        # AuthenticationMiddleware (later in the chain) set request.user from the
        # session; a bearer request is the token's user, whatever cookie came along.
        user = getattr(request, "bearer_user", None)
        if user is not None:
            request.user = user

            async def auser():
                return user

            request.auser = auser
        return None


class BearerAwareCsrfViewMiddleware(CsrfViewMiddleware):
    """Django's CSRF check, except for a request the bearer token authenticated (the
    header proves the caller is not a browser replaying cookies)."""

    def process_view(self, request, callback, callback_args, callback_kwargs):
        if getattr(request, "bearer_user", None) is not None:
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class SessionActivityMiddleware:
    """Records the signed-in device of a session (``accounts.sessions.DEVICE``): a public
    id, when it signed in, when it was last active, its address and user agent. Written
    at most once a minute per session (``SESSION_ACTIVITY_INTERVAL``), or when the
    address or user agent changed, so a request does not write the session otherwise.
    Placed after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "bearer_user", None) is None and request.user.is_authenticated:
            _device_record(request)
        return response


def _device_record(request) -> None:
    now = time.time()
    address = client_address(request)
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    device = request.session.get(DEVICE)
    if (
        device is not None
        and now - device.get("last_active_at", 0) < settings.SESSION_ACTIVITY_INTERVAL
        and (device.get("ip"), device.get("user_agent")) == (address, user_agent)
    ):
        return
    device = device or {"id": str(uuid.uuid4()), "created_at": now}
    device.update(last_active_at=now, ip=address, user_agent=user_agent)
    request.session[DEVICE] = device
