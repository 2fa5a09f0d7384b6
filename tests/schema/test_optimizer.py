"""The schema's queryset optimizer (schema.optimizer): strawberry-django's plans, kept where
they are made only of columns and joins, worked out again where they prefetch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schema import optimizer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MEMBERS = """query($withNames: Boolean!) { organization { members(first: 10) {
    edges { node { email firstName @include(if: $withNames) } }
} } }"""
MEMBERS_WITH_GROUPS = """query { organization { members(first: 10) {
    edges { node { email permissionGroups { name } } }
} } }"""


@pytest.fixture(autouse=True)
def _no_kept_plans():
    optimizer.plans_forget()
    yield
    optimizer.plans_forget()


@pytest.fixture
def walks(monkeypatch):
    """The models the optimizer walked a selection for, in order."""
    seen = []
    plan = optimizer._plan

    def spy(qs, raw, config):
        seen.append(qs.model.__name__)
        return plan(qs, raw, config)

    monkeypatch.setattr(optimizer, "_plan", spy)
    return seen


def _members_sql(client, query, variables=None):
    with CaptureQueriesContext(connection) as queries:
        result = client.execute(query, variables)
    assert not result.errors, result.errors
    (page,) = [q["sql"] for q in queries.captured_queries if "LIMIT 11" in q["sql"]]
    return result.data["organization"]["members"]["edges"], page


def test_a_plan_of_columns_and_joins_is_walked_once_and_applied_each_time(make_client, user, walks):
    UserFactory.create_batch(2, organization=user.organization)
    client = make_client(user)
    client.csrf_token
    first = _members_sql(client, MEMBERS, {"withNames": True})
    again = _members_sql(client, MEMBERS, {"withNames": True})
    assert first == again
    assert "profiledata" in first[1]  # firstName joins the profile, both times
    assert walks.count("User") == 1


def test_variables_that_change_the_selection_get_plans_of_their_own(make_client, user, walks):
    client = make_client(user)
    client.csrf_token
    _, with_names = _members_sql(client, MEMBERS, {"withNames": True})
    edges, without = _members_sql(client, MEMBERS, {"withNames": False})
    _, with_names_again = _members_sql(client, MEMBERS, {"withNames": True})
    assert "profiledata" in with_names and "profiledata" in with_names_again
    assert "profiledata" not in without and "firstName" not in edges[0]["node"]
    assert walks.count("User") == 2


def test_a_kept_plan_does_not_carry_scoping_from_one_viewer_to_another(make_client, user, outsider):
    colleague = UserFactory(organization=user.organization)
    stranger = UserFactory(organization=outsider.organization)
    edges, _ = _members_sql(make_client(user), MEMBERS, {"withNames": False})
    assert {e["node"]["email"] for e in edges} == {user.email, colleague.email}
    edges, _ = _members_sql(make_client(outsider), MEMBERS, {"withNames": False})
    assert {e["node"]["email"] for e in edges} == {outsider.email, stranger.email}


def test_a_plan_with_a_prefetch_is_worked_out_on_every_request(make_client, user, walks):
    client = make_client(user)
    for _ in range(2):
        result = client.execute(MEMBERS_WITH_GROUPS)
        assert not result.errors, result.errors
    assert walks.count("User") == 2
    assert [key[0].__name__ for key in optimizer._plans] == ["Organization"]


def test_kept_plans_are_bounded(make_client, user, monkeypatch):
    monkeypatch.setattr(optimizer, "PLANS_MAX", 2)
    client = make_client(user)
    for first in range(1, 5):
        query = f"query {{ organization {{ members(first: {first}) {{ edges {{ node {{ email }} }} }} }} }}"
        assert not client.execute(query).errors
    assert len(optimizer._plans) == 2
