"""Odd input reaches the account mutations as answers, never as unexpected errors
(NUL characters, for one, cannot even be compared by PostgreSQL: refused before any
mutation runs)."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.accounts.auth_helpers import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

NUL_EMAIL = "a\x00b@example.com"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("login", {"email": NUL_EMAIL, "password": "x\x00"}),
        ("register", {"email": NUL_EMAIL, "password": STRONG_PASSWORD, "organizationName": "Org"}),
        (
            "register",
            {"email": "ok@example.com", "password": STRONG_PASSWORD, "organizationName": "O\x00"},
        ),
        (
            "register",
            {
                "email": "ok@example.com",
                "password": STRONG_PASSWORD,
                "firstName": "\x00",
                "organizationName": "Org",
            },
        ),
        ("requestPasswordReset", {"email": NUL_EMAIL}),
        ("resendVerificationEmail", {"email": NUL_EMAIL}),
        ("verifyEmail", {"token": "a\x00b"}),
        ("resetPassword", {"token": "a\x00b", "newPassword": STRONG_PASSWORD}),
    ],
)
def test_nul_characters_are_answered(gql, name, data):
    """Refused before the mutation runs, with the one answer of schema/inputs.py."""
    input_type = f"{name[0].upper()}{name[1:]}Input"
    result = gql.execute(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename"
        " ... on OperationInfo { messages { code } } } }",
        {"input": data},
    )
    assert result.data is None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        ("Null characters are not allowed.", "null_characters_not_allowed")
    ]
    assert not User.objects.exists()
