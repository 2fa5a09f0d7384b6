"""Relay node(id:) answers only what the viewer may see, exactly like a missing object."""

import base64

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NODE = "query($id: ID!) { node(id: $id) { __typename id ... on User { email } } }"


def global_id(type_name: str, value) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def test_node_resolves_a_colleague(make_client, user):
    colleague = UserFactory(organization=user.organization)
    result = make_client(user).execute(NODE, {"id": global_id("User", colleague.guid)})
    assert result.data["node"]["email"] == colleague.email


def test_node_of_another_organization_is_null(make_client, user, outsider):
    client = make_client(user)
    hidden = client.execute(NODE, {"id": global_id("User", outsider.guid)})
    missing = client.execute(
        NODE, {"id": global_id("User", "00000000-0000-0000-0000-000000000000")}
    )
    assert hidden.payload == missing.payload
    assert hidden.data == {"node": None}
    org = client.execute(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": global_id("Organization", outsider.organization_id)},
    )
    assert org.data == {"node": None}


def test_node_is_null_for_anonymous(gql, user):
    result = gql.execute(NODE, {"id": global_id("User", user.guid)})
    assert result.data == {"node": None}


def test_nodes_answer_only_the_viewers_own_organization(make_client, user, outsider):
    """Organization scopes node ids itself (it has no get_queryset, so that the optimizer
    joins User.organization): the viewer's own resolves, another's is null like a missing one."""
    result = make_client(user).execute(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Organization { name } } }",
        {
            "ids": [
                global_id("Organization", user.organization_id),
                global_id("Organization", outsider.organization_id),
                global_id("Organization", "00000000-0000-0000-0000-000000000000"),
            ]
        },
    )
    assert not result.errors, result.errors
    own, foreign, missing = result.data["nodes"]
    assert own["name"] == user.organization.name
    assert foreign is None and missing is None


def test_organization_node_is_null_for_anonymous(gql, user):
    result = gql.execute(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": global_id("Organization", user.organization_id)},
    )
    assert result.data == {"node": None}


def test_every_node_type_knows_its_id_field_once():
    """strawberry resolves a node's id field from the type's annotations and remembers it;
    a type without a field marked NodeID fails that scan on every row instead (and
    strawberry-django falls back to the primary key), a per-row cost of a page."""
    from strawberry import relay
    from strawberry.types.base import StrawberryObjectDefinition

    from schema.schema import schema

    definitions = [
        concrete.definition
        for concrete in schema.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        and not concrete.definition.is_interface
    ]
    nodes = [d.origin for d in definitions if issubclass(d.origin, relay.Node)]
    assert len(nodes) >= 8
    strawberry_scan = relay.Node.resolve_id_attr.__func__
    for node in nodes:
        strawberry_scan(node)  # NodeIDAnnotationError for a type without a NodeID field
        assert vars(node).get("_id_attr") is not None, node  # remembered
