"""A NUL character anywhere in a request is refused before any resolver runs, with one code
and message (schema/inputs.py), whether it comes as a variable or as a literal."""

from __future__ import annotations

import pytest

from tests.factories import administrator

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
REFUSED = {"message": "Null characters are not allowed.", "code": "null_characters_not_allowed"}

MUTATIONS = [
    ("createContact", "CreateContactInput", {"fullName": NUL}),
    ("createContact", "CreateContactInput", {"fullName": "Ada", "notes": NUL}),
    (
        "createContact",
        "CreateContactInput",
        {"fullName": "Ada", "data": {"customFields": {"k": NUL}}},
    ),
    (
        "createContact",
        "CreateContactInput",
        {"fullName": "Ada", "data": {"customFields": {NUL: "v"}}},
    ),
    ("createTeam", "CreateTeamInput", {"name": NUL}),
    ("updateOrganization", "UpdateOrganizationInput", {"name": NUL}),
    ("updateProfile", "UpdateProfileInput", {"firstName": NUL}),
    ("invite", "InviteInput", {"email": "a\x00@example.com"}),
    ("login", "LoginInput", {"email": "a\x00@example.com", "password": "x"}),
    ("register", "RegisterInput", {"email": "ok@example.com", "password": NUL}),
    ("requestPasswordReset", "RequestPasswordResetInput", {"email": NUL}),
    ("verifyEmail", "VerifyEmailInput", {"token": NUL}),
    ("wipeOutOrganization", "WipeOutOrganizationInput", {"confirmName": NUL}),
]


def _refusal(result) -> list[dict]:
    assert result.status_code == 200, result.payload
    assert result.data is None, result.payload
    return [
        {"message": error["message"], "code": error["extensions"]["code"]}
        for error in result.errors
    ]


@pytest.mark.parametrize(("name", "input_type", "data"), MUTATIONS)
def test_every_mutation_refuses_a_nul_alike(make_client, name, input_type, data):
    client = make_client(administrator())
    result = client.execute(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}",
        {"input": data},
    )
    assert _refusal(result) == [REFUSED]


@pytest.mark.parametrize(
    "query",
    [
        "query($s: String) { contacts(search: $s) { totalCount } }",
        "query($s: String) { organization { members(search: $s) { totalCount } } }",
        "query($s: String!) { invitationPreview(token: $s) { organizationName } }",
        "query($s: String) { contacts(after: $s) { totalCount } }",
    ],
)
def test_query_arguments_refuse_a_nul_alike(make_client, query):
    result = make_client(administrator()).execute(query, {"s": NUL})
    assert _refusal(result) == [REFUSED]


def test_a_nul_in_a_literal_is_refused_alike(make_client):
    client = make_client(administrator())
    queries = [
        'query { contacts(search: "a\\u0000b") { totalCount } }',
        'mutation { createTeam(input: {name: "a\\u0000"}) { __typename } }',
        'mutation { createContact(input: {fullName: "A", data: {customFields: {k: "\\u0000"}}})'
        " { __typename } }",
    ]
    for query in queries:
        assert _refusal(client.execute(query)) == [REFUSED], query
