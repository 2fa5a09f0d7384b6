"""How an email signs in (anyone may ask: the answer depends only on its domain)."""

from __future__ import annotations

import strawberry
from django.urls import reverse
from strawberry.types import Info

from accounts.services.sso import sign_in_options
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
        choice = sign_in_options(email)
        if choice.sso is None:
            return SignInOptions(password=choice.password, sso=None)
        path = reverse(
            "oidc_sso_authenticate", kwargs={"organization_id": choice.sso.organization_id}
        )
        return SignInOptions(
            password=choice.password,
            sso=SsoOption(
                organization_name=choice.sso.organization.name,
                authenticate_url=info.context.request.build_absolute_uri(path),
            ),
        )
