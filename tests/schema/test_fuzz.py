"""Generated queries and mutations against the real endpoint: no 500, no unexpected error.

Every root field of ``Query`` and ``Mutation`` gets its own generated documents (signed in as
an administrator, so the services run), and the whole schema is also tried anonymously. The
strings in the mix include NUL characters, strings longer than any field allows, and ids of
every type, so the PostgreSQL pass exercises what SQLite would let through.

Bounded and reproducible: a fixed number of examples per field, derandomized (a red build
always reproduces), no example database, no deadline. ``FUZZ_EXAMPLES`` raises the budget and
``FUZZ_EXPLORE=1`` draws new examples, for a longer local hunt.
"""

from __future__ import annotations

import base64
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

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("FUZZ_EXPLORE", "") != "1",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SDL = schema._schema
BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
# Longer than every text field (names 50/100/150, description 140, email 254, notes 5000).
OVER_LONG = [51, 101, 141, 151, 255, 5001]
TYPE_NAMES = ["Contact", "RawContact", "Team", "User", "Invitation", "Organization", "TeamMember"]

texts = st.one_of(
    st.text(max_size=20),
    st.text(max_size=10).map(lambda value: f"{value}\x00{value}"),
    st.sampled_from(OVER_LONG).map(lambda size: "x" * size),
    st.sampled_from(["", " ", "Ada", "ada@example.com", "Europe/Paris", "en"]),
)


def _global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


ids = st.one_of(
    st.builds(
        _global_id,
        st.sampled_from(TYPE_NAMES),
        st.one_of(st.uuids().map(str), st.text(max_size=10)),
    ),
    st.builds(_global_id, st.just("PermissionGroup"), st.text(max_size=10)),
    st.text(max_size=12),
)


def _value_node(value) -> graphql.ValueNode:
    if isinstance(value, dict):
        return graphql.ObjectValueNode(
            fields=tuple(
                graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=_value_node(item))
                for key, item in value.items()
            )
        )
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(_value_node(item) for item in value))
    return graphql.StringValueNode(value=value)


json_values = st.recursive(
    texts,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["emails", "phones", "customFields", "links", "type", "value", "x"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def _scalars() -> dict:
    """Strategies for Roster's own scalars and for the built-in ``String`` and ``ID`` (hypothesis-
    graphql's ``custom_scalars`` is keyed by scalar name), so every argument sees the mix."""
    scalars = {
        "String": texts.map(lambda value: graphql.StringValueNode(value=value)),
        "ID": ids.map(lambda value: graphql.StringValueNode(value=value)),
        "JSON": json_values.map(_value_node),
    }
    for name, type_ in SDL.type_map.items():
        is_scalar = isinstance(type_, graphql.GraphQLScalarType)
        if is_scalar and not name.startswith("__") and name not in BUILTIN_SCALARS | {"JSON"}:
            scalars[name] = texts.map(lambda value: graphql.StringValueNode(value=value))
    return scalars


SCALARS = _scalars()
QUERY_FIELDS = sorted(SDL.query_type.fields)
MUTATION_FIELDS = sorted(SDL.mutation_type.fields)


def assert_no_unexpected_error(client, document: str) -> None:
    response = client.execute(document)
    assert response.status_code != 500, document
    body = json.dumps(response.payload)
    assert "Traceback" not in body
    for error in response.errors:
        assert error["message"] != "Unexpected error.", (document, response.payload)


def _admin():
    from accounts.models import User

    return User.objects.filter(email="fuzz-admin@example.com").first() or administrator(
        email="fuzz-admin@example.com"
    )


@pytest.mark.parametrize("field", QUERY_FIELDS)
def test_every_query_field_signed_in(make_client, field):
    @FUZZ
    @given(document=gql_st.queries(SDL, fields=[field], custom_scalars=SCALARS))
    def run(document):
        assert_no_unexpected_error(make_client(_admin()), document)

    run()


@pytest.mark.parametrize("field", MUTATION_FIELDS)
def test_every_mutation_field_signed_in(make_client, field):
    @FUZZ
    @given(document=gql_st.mutations(SDL, fields=[field], custom_scalars=SCALARS))
    def run(document):
        assert_no_unexpected_error(make_client(_admin()), document)

    run()


@FUZZ
@given(document=gql_st.queries(SDL, custom_scalars=SCALARS))
def test_generated_queries_anonymous(gql, document):
    assert_no_unexpected_error(gql, document)


@FUZZ
@given(document=gql_st.mutations(SDL, custom_scalars=SCALARS))
def test_generated_mutations_anonymous(gql, document):
    assert_no_unexpected_error(gql, document)


def test_every_root_field_is_fuzzed():
    assert QUERY_FIELDS and MUTATION_FIELDS
    assert {"contacts", "organization", "node"} <= set(QUERY_FIELDS)
    assert {"createContact", "createTeam", "updateOrganization"} <= set(MUTATION_FIELDS)
