"""The schema's own field and connection classes (schema/fields.py) and type scoping
(schema.permissions.restrict): fast where they can be, the library's answer otherwise."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from accounts.models import Avatar, ProfileData, User
from accounts.selectors import users_visible_to
from directory.models import Contact
from directory.selectors import contacts_visible_to
from schema.fields import CountedListConnection, ModelField, NodeIdField
from schema.permissions import restrict
from schema.schema import schema
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def user_field(name: str):
    return next(f for f in schema.get_type_by_name("User").fields if f.python_name == name)


def test_plain_columns_are_basic_fields_and_relations_are_not():
    assert user_field("email").is_basic_field
    assert user_field("first_name").is_basic_field  # profile__first_name, joined
    assert isinstance(user_field("_id"), NodeIdField) and user_field("_id").is_basic_field
    for name in ("organization", "permission_groups", "avatar_url", "invitations"):
        assert not user_field(name).is_basic_field, name


def test_a_file_column_is_not_basic():
    field = ModelField(python_name="image", django_name="image")
    field.origin_django_type = type("Definition", (), {"model": Avatar})
    assert field._column_path is None


def test_a_deferred_column_is_loaded_as_before(user):
    row = User.objects.only("pk").get(pk=user.pk)
    assert "email" not in row.__dict__
    assert user_field("email").get_result(row, None, [], {}) == user.email


def test_a_joined_column_reads_the_joined_row_or_loads_it(user):
    ProfileData.objects.filter(user=user).update(first_name="Ada")
    joined = User.objects.select_related("profile").get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        assert user_field("first_name").get_result(joined, None, [], {}) == "Ada"
    assert len(queries) == 0
    lazy = User.objects.get(pk=user.pk)
    assert user_field("first_name").get_result(lazy, None, [], {}) == "Ada"


def test_node_id_is_relays_global_id(user):
    value = user_field("_id").get_result(user, None, [], {})
    assert str(value) == base64.b64encode(f"User:{user.guid}".encode()).decode()


def reader(name: str):
    """The one-call reader the executor uses, over Strawberry's resolver of the field."""
    field = user_field(name)
    return field.reader(lambda source: field.get_result(source, None, [], {}))


def test_readers_answer_what_the_fields_answer(user):
    ProfileData.objects.filter(user=user).update(first_name="Ada")
    rows = {
        "loaded": User.objects.select_related("profile").get(pk=user.pk),
        "deferred": User.objects.only("pk").get(pk=user.pk),
        "not joined": User.objects.get(pk=user.pk),
    }
    for name in ("email", "first_name", "_id"):
        for kind, row in rows.items():
            expected = user_field(name).get_result(row, None, [], {})
            assert reader(name)(row) == expected, (name, kind)
    joined = rows["loaded"]
    with CaptureQueriesContext(connection) as queries:
        assert reader("first_name")(joined) == "Ada" and reader("email")(joined) == user.email
    assert len(queries) == 0


def test_a_joined_reader_answers_null_for_a_missing_row(user):
    row = User.objects.select_related("profile").get(pk=user.pk)
    row._state.fields_cache["profile"] = None
    assert reader("first_name")(row) is None


def test_restrict_ands_a_plain_selector_and_subqueries_a_joined_one(user):
    plain = str(restrict(User.objects.all(), users_visible_to(user=user)).query)
    assert "IN (SELECT" not in plain
    joined = str(restrict(Contact.objects.all(), contacts_visible_to(user=user)).query)
    assert "IN (SELECT" in joined


def test_restrict_answers_rows_of_both(user, outsider):
    colleague = UserFactory(organization=user.organization)
    scoped = restrict(User.objects.all(), users_visible_to(user=user))
    assert set(scoped) == {user, colleague}
    assert outsider not in scoped
    assert not restrict(User.objects.all(), User.objects.none()).exists()


@pytest.mark.parametrize(
    "shape",
    [
        lambda: User.objects.all(),
        lambda: User.objects.filter(email__startswith="a").order_by("email"),
        # a join of the queryset's own (a search through the profile)
        lambda: User.objects.filter(profile__first_name__icontains="a").order_by("pk"),
        lambda: User.objects.select_related("profile").only("email", "profile__first_name"),
    ],
)
def test_restrict_answers_what_combining_the_querysets_answers(user, outsider, shape):
    UserFactory(organization=user.organization, email="ann@example.com")
    ProfileData.objects.filter(user=outsider).update(first_name="Anna")
    visible = users_visible_to(user=user)
    scoped, combined = restrict(shape(), visible), shape() & visible.order_by()
    assert str(scoped.query) == str(combined.query)
    assert list(scoped) == list(combined)
    assert outsider not in scoped
    # The selector's and the queryset's own queries are left as they were.
    assert str(visible.query) == str(users_visible_to(user=user).query)


def test_restrict_keeps_the_subquery_where_the_conditions_cannot_simply_be_added(user):
    visible = users_visible_to(user=user)
    for queryset, selector in [
        (User.objects.distinct(), visible),
        (User.objects.all(), visible.annotate(n=Count("pk"))),
        (User.objects.all(), visible.filter(profile__first_name="Ada")),  # a join
        (User.objects.all(), visible.distinct()),
    ]:
        assert "IN (SELECT" in str(restrict(queryset, selector).query)


MEMBERS = """query($first: Int, $last: Int) { organization {
    members(first: $first, last: $last) {
        totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { email } }
} } }"""


def test_members_count_in_a_query_of_their_own(make_client, user):
    UserFactory.create_batch(4, organization=user.organization)
    client = make_client(user)
    client.csrf_token
    with CaptureQueriesContext(connection) as queries:
        result = client.execute(MEMBERS, {"first": 2})
    assert not result.errors, result.errors
    members = result.data["organization"]["members"]
    assert members["totalCount"] == 5
    assert len(members["edges"]) == 2 and members["pageInfo"]["hasNextPage"]
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("OVER" in statement for statement in sql), sql
    assert sum("COUNT(*)" in statement for statement in sql) == 1


def test_members_last_page_takes_the_librarys_path(make_client, user):
    UserFactory.create_batch(4, organization=user.organization)
    emails = sorted(
        User.objects.filter(organization=user.organization).values_list("email", flat=True)
    )
    result = make_client(user).execute(MEMBERS, {"last": 2})
    assert not result.errors, result.errors
    members = result.data["organization"]["members"]
    assert [edge["node"]["email"] for edge in members["edges"]] == emails[-2:]
    assert members["totalCount"] == 5


PAGES = """query($first: Int, $after: String, $last: Int, $before: String) { organization {
    members(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { email } }
} } }"""
COUNT_ONLY = "query { organization { members(first: 2) { totalCount } } }"
FRAGMENTS = """query { organization { members(first: 2) { ...Page } } }
fragment Page on UserConnection { ... on UserConnection { edges { node { email } } } }"""


def _cursor(index: int) -> str:
    return base64.b64encode(f"arrayconnection:{index}".encode()).decode()


PAGE_ARGUMENTS = [
    {},
    {"first": 0},
    {"first": 2},
    {"first": 5},
    {"first": 10},
    {"first": 2, "after": _cursor(1)},
    {"first": 10, "after": _cursor(3)},
    {"after": _cursor(4)},
    {"after": _cursor(40)},
    {"last": 2, "before": _cursor(4)},
    {"first": 3, "before": _cursor(2)},
    {"first": 2, "after": _cursor(0), "before": _cursor(2)},
    {"first": -1},
    {"first": 101},
    {"after": "not-a-cursor"},
    {"after": base64.b64encode(b"other:1").decode()},
]


@pytest.mark.parametrize("variables", PAGE_ARGUMENTS, ids=repr)
def test_a_members_page_answers_what_the_librarys_connection_answers(
    make_client, user, monkeypatch, variables
):
    UserFactory.create_batch(4, organization=user.organization)
    client = make_client(user)
    own = client.execute(PAGES, variables)
    monkeypatch.setattr(CountedListConnection, "_plain_nodes", classmethod(lambda cls: False))
    library = client.execute(PAGES, variables)
    assert own.data == library.data
    assert [e["message"] for e in own.errors or []] == [e["message"] for e in library.errors or []]


def test_a_members_page_takes_the_short_path(make_client, user, monkeypatch):
    calls = []
    page = CountedListConnection._page.__func__
    monkeypatch.setattr(
        CountedListConnection,
        "_page",
        classmethod(lambda cls, *a, **k: calls.append(1) or page(cls, *a, **k)),
    )
    result = make_client(user).execute(PAGES, {"first": 2})
    assert not result.errors and calls == [1]


def test_a_members_count_alone_reads_no_page(make_client, user):
    # (the library's path: a selection without edges is not optimized)
    UserFactory.create_batch(3, organization=user.organization)
    client = make_client(user)
    client.csrf_token
    with CaptureQueriesContext(connection) as queries:
        result = client.execute(COUNT_ONLY)
    assert result.data["organization"]["members"] == {"totalCount": 4}
    sql = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    assert not any("LIMIT 3" in statement for statement in sql), sql


def test_page_fields_are_found_through_fragments_and_only_at_the_connection():
    from types import SimpleNamespace

    from graphql import parse

    from schema.fields import _PAGE_FIELDS, _selects_any

    def selects(document: str) -> bool:
        definitions = parse(document).definitions
        fragments = {d.name.value: d for d in definitions[1:]}
        (members,) = definitions[0].selection_set.selections
        raw = SimpleNamespace(field_nodes=[members], fragments=fragments)
        return _selects_any(SimpleNamespace(_raw_info=raw), _PAGE_FIELDS)

    assert selects("{ members { edges { cursor } } }")
    assert selects("{ members { pageInfo { hasNextPage } } }")
    assert selects("{ members { ... on C { edges { cursor } } } }")
    assert selects("{ members { ...F } } fragment F on C { ... on C { pageInfo { endCursor } } }")
    assert not selects("{ members { totalCount } }")
    assert not selects("{ members { ...F } } fragment F on C { totalCount }")
    assert not selects("{ members { ...Missing } }")


def test_a_members_page_selected_through_fragments_is_read(make_client, user):
    UserFactory.create_batch(3, organization=user.organization)
    result = make_client(user).execute(FRAGMENTS)
    assert not result.errors, result.errors
    assert len(result.data["organization"]["members"]["edges"]) == 2


def test_a_type_with_its_own_resolve_id_keeps_relays_id_field():
    from strawberry import relay

    from schema.fields import model_type

    @model_type(Avatar, name="AvatarWithOwnId")
    class AvatarWithOwnId(relay.Node):
        @classmethod
        def resolve_id(cls, root, *, info):
            return "custom"

    id_field = next(
        f for f in AvatarWithOwnId.__strawberry_definition__.fields if f.python_name == "_id"
    )
    assert not isinstance(id_field, NodeIdField)
