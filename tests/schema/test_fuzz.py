"""Generated queries and mutations against the real endpoint: no 500, no unexpected error.

Bounded: a fixed number of examples per run, no example database, no deadline.
"""

from __future__ import annotations

import json
import os

import graphql
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import strategies as gql_st

from schema.schema import schema
from tests.factories import administrator

pytestmark = pytest.mark.django_db

BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
# CI replays the same examples each run (a red build always reproduces); a developer's
# run explores new ones. FUZZ_EXAMPLES raises the budget for a longer local hunt.
FUZZ = hypothesis_settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    derandomize=os.environ.get("CI", "").lower() == "true",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _custom_scalars() -> dict:
    strings = st.text(max_size=40).map(lambda v: graphql.StringValueNode(value=v))
    scalars = {}
    for name, type_ in schema._schema.type_map.items():
        is_scalar = isinstance(type_, graphql.GraphQLScalarType)
        if is_scalar and not name.startswith("__") and name not in BUILTIN_SCALARS:
            scalars[name] = strings
    return scalars


SDL = schema._schema
SCALARS = _custom_scalars()


def assert_no_unexpected_error(client, document: str) -> None:
    response = client.execute(document)
    assert response.status_code != 500, document
    body = json.dumps(response.payload)
    assert "Traceback" not in body
    for error in response.errors:
        assert error["message"] != "Unexpected error.", (document, response.payload)


@FUZZ
@given(document=gql_st.queries(SDL, custom_scalars=SCALARS))
def test_generated_queries_anonymous(gql, document):
    assert_no_unexpected_error(gql, document)


@FUZZ
@given(document=gql_st.queries(SDL, custom_scalars=SCALARS))
def test_generated_queries_signed_in(make_client, document):
    assert_no_unexpected_error(make_client(_admin()), document)


@FUZZ
@given(document=gql_st.mutations(SDL, custom_scalars=SCALARS))
def test_generated_mutations_signed_in(make_client, document):
    assert_no_unexpected_error(make_client(_admin()), document)


@FUZZ
@given(document=gql_st.mutations(SDL, custom_scalars=SCALARS))
def test_generated_mutations_anonymous(gql, document):
    assert_no_unexpected_error(gql, document)


def _admin():
    from accounts.models import User

    return User.objects.filter(email="fuzz-admin@example.com").first() or administrator(
        email="fuzz-admin@example.com"
    )
