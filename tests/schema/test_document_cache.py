"""Parsed and validated documents are cached per process; the cache never carries a
decision over to another configuration of the limits or of introspection."""

from __future__ import annotations

INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_follows_the_setting_for_the_same_document(settings, gql):
    settings.GRAPHIQL = False
    assert "introspection" in gql.execute(INTROSPECTION).errors[0]["message"]
    settings.GRAPHIQL = True
    allowed = gql.execute(INTROSPECTION)
    assert not allowed.errors
    assert allowed.data["__schema"]["queryType"]["name"] == "Query"
    settings.GRAPHIQL = False
    assert "introspection" in gql.execute(INTROSPECTION).errors[0]["message"]


def test_alias_limit_follows_the_setting_for_the_same_document(settings, gql):
    document = "{ " + " ".join(f"a{i}: __typename" for i in range(5)) + " }"
    settings.GRAPHQL_MAX_ALIASES = 10
    assert not gql.execute(document).errors
    settings.GRAPHQL_MAX_ALIASES = 4
    assert gql.execute(document).errors
    settings.GRAPHQL_MAX_ALIASES = 10
    assert not gql.execute(document).errors


def test_depth_limit_follows_the_setting_for_the_same_document(settings, gql):
    document = "{ me { organization { members { edges { node { id } } } } } }"
    settings.GRAPHQL_MAX_DEPTH = 3
    assert any("depth" in e["message"] for e in gql.execute(document).errors)
    settings.GRAPHQL_MAX_DEPTH = 12
    assert not any("depth" in e["message"] for e in gql.execute(document).errors)


def test_a_repeated_invalid_document_is_refused_every_time(gql):
    for _ in range(3):
        result = gql.execute("{ me { noSuchField } }")
        assert result.errors and "noSuchField" in result.errors[0]["message"]
