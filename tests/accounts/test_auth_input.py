"""Odd input reaches the account mutations as answers, never as unexpected errors
(NUL characters, for one, cannot even be compared by PostgreSQL)."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.accounts.auth_helpers import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

NUL_EMAIL = "a\x00b@example.com"


@pytest.mark.parametrize(
    ("name", "data", "codes"),
    [
        ("login", {"email": NUL_EMAIL, "password": "x\x00"}, ["INVALID_CREDENTIALS"]),
        (
            "register",
            {"email": NUL_EMAIL, "password": STRONG_PASSWORD, "organizationName": "Org"},
            ["INVALID"],
        ),
        (
            "register",
            {"email": "ok@example.com", "password": STRONG_PASSWORD, "organizationName": "O\x00"},
            ["null_characters_not_allowed"],
        ),
        (
            "register",
            {
                "email": "ok@example.com",
                "password": STRONG_PASSWORD,
                "firstName": "\x00",
                "organizationName": "Org",
            },
            ["null_characters_not_allowed"],
        ),
        ("requestPasswordReset", {"email": NUL_EMAIL}, []),
        ("resendVerificationEmail", {"email": NUL_EMAIL}, []),
        ("verifyEmail", {"token": "a\x00b"}, ["TOKEN_INVALID"]),
        ("resetPassword", {"token": "a\x00b", "newPassword": STRONG_PASSWORD}, ["TOKEN_INVALID"]),
    ],
)
def test_nul_characters_are_answered(gql, name, data, codes):
    input_type = f"{name[0].upper()}{name[1:]}Input"
    result = gql.execute(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename"
        " ... on OperationInfo { messages { code } } } }",
        {"input": data},
    )
    assert not result.errors, result.errors
    payload = result.data[name]
    assert [m["code"] for m in payload.get("messages", [])] == codes
    assert not User.objects.exists()
