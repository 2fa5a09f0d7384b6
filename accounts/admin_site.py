"""Roster's Django admin site (installed as ``accounts.admin_site.AdminConfig``, Django's
documented way to override the default site): its sign-in is under the same limits as
the GraphQL ``login``, and it is closed to accounts whose second factor it cannot ask for.

- The login form has no field for a second factor: an account with one signs in through
  Roster (``login``, then ``verifyMfa``), whose session the admin shares.
- A staff member whose organization requires a second factor and who has none yet is
  limited to setting one up in the API; the admin is closed to them too."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.auth import logout as auth_logout
from django.http import HttpResponse
from django.utils.translation import gettext


class AdminConfig(DjangoAdminConfig):
    default_site = "accounts.admin_site.AdminSite"


class AdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        from accounts.services.mfa import mfa_enrollment_required

        return super().has_permission(request) and not mfa_enrollment_required(request.user)

    def login(self, request, extra_context=None):
        """Django's admin login, counted per email and per client address like ``login``
        (staff and superuser passwords are the most valuable ones to guess); refused
        (403, signed out again) for an account that needs a second factor."""
        from accounts.audit import audit_sign_in_failed, audit_user_event
        from accounts.models import User, email_normalize
        from accounts.ratelimit import client_address, rate_limits_hit, rate_limits_undo
        from accounts.services.mfa import has_second_factor, mfa_enrollment_required
        from backend.errors import RateLimited

        if request.method != "POST":
            return super().login(request, extra_context)
        email = email_normalize(request.POST.get("username"))
        limits = [("login-email", email), ("login-address", client_address(request))]
        try:
            rate_limits_hit(limits)
        except RateLimited as error:
            return HttpResponse(error.message, status=429, content_type="text/plain")
        response = super().login(request, extra_context)
        user = request.user
        if not user.is_authenticated:
            audit_sign_in_failed(
                "user.login.failed",
                email=email,
                user=User.objects.filter(email=email).first() if email else None,
                reason="admin:password",
            )
            return response
        rate_limits_undo(limits)  # signed in: only failures count
        if has_second_factor(user):
            refusal = gettext(
                "This account has a second factor: sign in through Roster (login, then "
                "verifyMfa), then open the admin."
            )
        elif mfa_enrollment_required(user):
            refusal = gettext(
                "Your organization requires a second factor: set one up through Roster, "
                "then open the admin."
            )
        else:
            audit_user_event("user.login.succeeded", user, metadata={"method": "admin"})
            return response
        audit_sign_in_failed(
            "user.login.failed", email=email, user=user, reason="admin:second_factor"
        )
        auth_logout(request)
        return HttpResponse(refusal, status=403, content_type="text/plain")
