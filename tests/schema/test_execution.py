"""The executor's short path for plain fields (schema/execution.py) answers exactly what
graphql-core's own executor answers: the same data and the same errors at the same paths,
for plain values and for every unusual one (nulls, errors, refused values, awaitables)."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import pytest
import strawberry
import strawberry_django
from django.contrib.auth.models import Group
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import RosterExecutor, on_reserved_stack
from schema.schema import schema as roster_schema
from tests.schema.test_query_counts import LISTS, seed


class Broken(Exception):
    pass


class Source:
    """A row: attributes, and properties that raise or answer awaitables."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @property
    def failing(self):
        raise Broken("cannot read this")

    failing_leaf = failing_leaves = failing

    @property
    def later(self):
        async def value():
            await asyncio.sleep(0)
            return self.name

        return value()


@strawberry.type
class Leaf:
    name: str
    nickname: str | None
    count: int
    flag: bool
    failing: str | None
    later: str | None


@strawberry.type
class Item:
    name: str
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    failing_leaf: Leaf | None
    failing_leaves: list[Leaf] | None

    @strawberry.field
    async def slow_name(self) -> str:
        await asyncio.sleep(0)
        return self.name


@strawberry.type
class Query:
    items: list[Item]
    maybe_item: Item | None


def leaf(name="a", **values):
    return Source(
        **{"name": name, "nickname": None, "count": 1, "flag": True, **values},
    )


def item(name="i", **values):
    return Source(
        **{
            "name": name,
            "leaf": leaf(),
            "maybe_leaf": None,
            "leaves": [leaf("b"), leaf("c")],
            "maybe_leaves": None,
            "slow_name": None,
            **values,
        }
    )


LEAF = "name nickname count flag"
CASES = {
    "plain values": (lambda: [item()], f"{{ items {{ name leaf {{ {LEAF} }} leaves {{ name }} }} }}"),
    "a null where the type allows one": (lambda: [item()], "{ items { maybeLeaf { name } maybeLeaves { name } } }"),
    "a null where the type forbids one": (lambda: [item(leaf=leaf(name=None))], "{ items { leaf { name } } maybeItem { name } }"),
    "a null object where the type forbids one": (lambda: [item(leaf=None)], "{ items { name leaf { name } } }"),
    "a resolver that raises": (lambda: [item()], "{ items { leaf { name failing } } }"),
    "an object resolver that raises": (lambda: [item()], "{ items { name failingLeaf { name } } }"),
    "a list resolver that raises": (lambda: [item()], "{ items { name failingLeaves { name } } }"),
    "an int out of range": (lambda: [item(leaf=leaf(count=2**40))], "{ items { leaf { count } } }"),
    "a string that is not one": (lambda: [item(leaf=leaf(name=12))], "{ items { leaf { name } } }"),
    "an exception as a value": (lambda: [item(leaf=leaf(nickname=Broken("as a value")))], "{ items { leaf { nickname } } }"),
    "a null item in a non-null list": (lambda: [item(leaves=[leaf(), None])], "{ items { name leaves { name } } }"),
    "a null item in a nullable list": (lambda: [item(maybe_leaves=[leaf(), None])], "{ items { maybeLeaves { name } } }"),
    "an item that fails inside a non-null list": (lambda: [item(leaves=[leaf(name=None)])], "{ items { leaves { name } } }"),
    "a list that is a generator": (lambda: [item(leaves=(x for x in [leaf()]))], "{ items { leaves { name } } }"),
    "aliases and fragments": (lambda: [item()], "{ items { a: name ...F leaf { b: name } } } fragment F on Item { leaf { name } }"),
    "skip and include": (lambda: [item()], "{ items { name @skip(if: true) leaf @include(if: true) { name } } }"),
    "typename": (lambda: [item()], "{ items { __typename leaf { __typename name } } }"),
}  # fmt: skip
ASYNC_CASES = {
    "an awaitable value": (lambda: [item()], "{ items { leaf { later } leaves { later } } }"),
    "an async resolver under planned objects": (
        lambda: [item(), item("j")],
        "{ items { slowName leaf { name } } }",
    ),
    "an async resolver that fails": (
        lambda: [item(name=None)],
        "{ items { name } maybeItem { name } }",
    ),
}


def build(executor, extensions=()):
    return strawberry.Schema(
        query=Query, execution_context_class=executor, extensions=list(extensions)
    )


def answer(result):
    return result.data, [(e.message, e.path) for e in result.errors or []]


@pytest.mark.parametrize("case", CASES)
def test_the_short_path_answers_what_graphql_core_answers(case):
    items, document = CASES[case]

    def run(executor):
        root = Source(items=items(), maybe_item=None)
        return answer(build(executor).execute_sync(document, root_value=root))

    with planned_fields() as planned:
        answered = run(RosterExecutor)
    assert planned, "the short path was not taken"
    assert answered == run(StrawberryGraphQLCoreExecutionContext)


@pytest.mark.parametrize("case", ASYNC_CASES)
def test_the_short_path_answers_what_graphql_core_answers_asynchronously(case):
    items, document = ASYNC_CASES[case]

    def run(executor):
        root = Source(items=items(), maybe_item=item(name=None))
        return answer(asyncio.run(build(executor).execute(document, root_value=root)))

    with planned_fields() as planned:
        answered = run(RosterExecutor)
    assert planned, "the short path was not taken"
    assert answered == run(StrawberryGraphQLCoreExecutionContext)


@contextlib.contextmanager
def planned_fields():
    """The names of the fields the short path answered while the block ran."""
    planned = []
    original = RosterExecutor._plans_of

    def spy(self, parent_type, grouped_field_set):
        plans = original(self, parent_type, grouped_field_set)
        planned.extend(name for name, _, method, *_ in plans if method is not None)
        return plans

    RosterExecutor._plans_of = spy
    try:
        yield planned
    finally:
        RosterExecutor._plans_of = original


def test_plain_values_take_the_short_path():
    with planned_fields() as planned:
        result = build(RosterExecutor).execute_sync(
            CASES["plain values"][1], root_value=Source(items=[item()])
        )
    assert result.errors is None
    assert {"items", "name", "leaf", "leaves", "nickname", "count", "flag"} <= set(planned)


def test_a_middleware_sees_every_field():
    seen = []

    class Spy(SchemaExtension):
        def resolve(self, _next, root, info, *args, **kwargs):
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    result = build(RosterExecutor, [Spy]).execute_sync(
        "{ items { name leaf { name } } }", root_value=Source(items=[item()])
    )
    assert result.errors is None
    assert seen == ["items", "name", "leaf", "name"]


@strawberry_django.type(Group, name="Team")
class GroupRow:
    name: strawberry.auto


@strawberry_django.type(Group, name="OtherTeam")
class OtherGroupRow:
    name: strawberry.auto


@strawberry.type
class ModelQuery:
    groups: list[GroupRow]
    group: GroupRow | None


def test_a_model_types_check_is_asked_again_for_a_cast_row_of_an_accepted_class():
    """strawberry-django's check answers by class, so the executor remembers the classes it
    accepted; a row cast to another type (``strawberry.cast``) is still refused."""
    document = "{ groups { name } group { name } }"

    def run(executor, cast_row: bool):
        rows = [Group(name="a"), Group(name="b")]
        odd = strawberry.cast(OtherGroupRow, Group(name="c")) if cast_row else Group(name="c")
        root = Source(groups=rows, group=odd)
        built = strawberry.Schema(query=ModelQuery, execution_context_class=executor)
        return answer(built.execute_sync(document, root_value=root))

    for cast_row in (False, True, False):
        expected = run(StrawberryGraphQLCoreExecutionContext, cast_row)
        assert run(RosterExecutor, cast_row) == expected
    assert run(RosterExecutor, True)[1], "the cast row was accepted"


def test_only_strawberry_djangos_own_check_is_taken_to_answer_by_class():
    from schema.execution import _answers_by_class

    @strawberry_django.type(Group, name="Checked")
    class Checked:
        name: strawberry.auto

        @classmethod
        def is_type_of(cls, obj, info):
            return obj.name != "refused"

    class Base:
        @classmethod
        def is_type_of(cls, obj, info):
            return obj.name != "refused"

    @strawberry_django.type(Group, name="CheckedAbove")
    class CheckedAbove(Base):  # strawberry-django's check, which asks Base's too
        name: strawberry.auto

    assert _answers_by_class(GroupRow.is_type_of)
    assert not _answers_by_class(Checked.is_type_of)
    assert not _answers_by_class(CheckedAbove.is_type_of)
    assert not _answers_by_class(lambda obj, info: True)


@pytest.mark.django_db
def test_the_roster_schema_answers_the_same_with_either_executor(make_client):
    """Every list of the real schema (model columns, Relay ids, connections, nested
    objects; see the N+1 guard), answered by both executors."""
    viewer, variables = seed(3)
    client = make_client(viewer)
    answers = {}
    for executor in (StrawberryGraphQLCoreExecutionContext, RosterExecutor):
        previous, roster_schema.execution_context_class = (
            roster_schema.execution_context_class,
            executor,
        )
        try:
            answers[executor] = {
                name: client.execute(LISTS[name], variables.get(name)).payload for name in LISTS
            }
        finally:
            roster_schema.execution_context_class = previous
    expected = answers[StrawberryGraphQLCoreExecutionContext]
    assert all("errors" not in payload and payload["data"] for payload in expected.values())
    assert answers[RosterExecutor] == expected


def test_on_reserved_stack_calls_through():
    assert on_reserved_stack(lambda a, *, b: a + b, 1, b=2) == 3
    with pytest.raises(Broken):
        on_reserved_stack(lambda: (_ for _ in ()).throw(Broken()))


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="CPython's frame stack")
def test_on_reserved_stack_reserves_64_kib_of_frame_stack():
    assert on_reserved_stack.__code__.co_stacksize * 8 >= 64 * 1024
