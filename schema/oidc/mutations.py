"""Mutations of OIDC sign-in."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from accounts.services.external import user_login_external
from schema.accounts.types import SignInResult, sign_in_answer
from schema.mutations import input_mutation


@strawberry.type
class Mutation:
    @input_mutation(
        description=(
            "Sign in with an OIDC access token obtained from the configured provider (single-"
            "page and mobile clients): the provider validates it, the account is found or "
            "created, and a session starts (or, for an account with a second factor, "
            "MfaChallenge: complete it with verifyMfa). INVALID_CREDENTIALS: token rejected; "
            "ACCOUNT_DISABLED; RATE_LIMITED."
        )
    )
    def login_external(self, info: Info, access_token: str) -> SignInResult:
        return sign_in_answer(
            user_login_external(request=info.context.request, access_token=access_token)
        )
