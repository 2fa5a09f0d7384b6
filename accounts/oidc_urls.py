"""``/api/user/oidc/``: the browser flow, or a plain "OIDC is off" without a provider.

Whether OIDC is on is decided per request (``settings.OIDC_ENABLED``), so the routes
and their names always exist and a test can switch a provider on.
"""

from functools import wraps

from django.http import Http404, JsonResponse
from django.urls import path
from django.utils.translation import gettext
from mozilla_django_oidc.views import OIDCLogoutView

from accounts.oidc import (
    AuthenticationCallbackView,
    AuthenticationRequestView,
    OrganizationAuthenticationCallbackView,
    OrganizationAuthenticationRequestView,
)
from accounts.oidc_client import oidc_enabled


def oidc_disabled(request, *args, **kwargs):
    return JsonResponse({"detail": gettext("OIDC is off: no provider is configured.")}, status=404)


def _when_enabled(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not oidc_enabled():
            return oidc_disabled(request)
        return view(request, *args, **kwargs)

    return guarded


def _not_found(request, *args, **kwargs):
    raise Http404()


urlpatterns = [
    # Organizations' own providers (enterprise SSO): on whether or not a global one is.
    path(
        "<uuid:organization_id>/authenticate/",
        OrganizationAuthenticationRequestView.as_view(),
        name="oidc_sso_authenticate",
    ),
    path(
        "sso/callback/", OrganizationAuthenticationCallbackView.as_view(), name="oidc_sso_callback"
    ),
    path(
        "authenticate/",
        _when_enabled(AuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "callback/",
        _when_enabled(AuthenticationCallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("logout/", _when_enabled(OIDCLogoutView.as_view()), name="oidc_logout"),
    path("<path:rest>", _when_enabled(_not_found)),
    path("", _when_enabled(_not_found)),
]
