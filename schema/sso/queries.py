"""How an email signs in (anyone may ask: the answer depends only on its domain)."""

from __future__ import annotations

import strawberry
from django.urls import reverse
from strawberry.types import Info

from accounts.services.sso import sso_for_email
from schema.sso.types import SignInOptions, SsoOption


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "How this email signs in: with a password, and/or through its organization's "
            "provider. Only the email's domain decides, so unknown emails answer alike."
        )
    )
    def sign_in_options(self, info: Info, email: str) -> SignInOptions:
        sso = sso_for_email(email)
        if sso is None:
            return SignInOptions(password=True, sso=None)
        path = reverse("oidc_sso_authenticate", kwargs={"organization_id": sso.organization_id})
        return SignInOptions(
            password=not sso.enforced,
            sso=SsoOption(
                organization_name=sso.organization.name,
                authenticate_url=info.context.request.build_absolute_uri(path),
            ),
        )
