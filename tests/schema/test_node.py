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
