"""The directory at scale, on PostgreSQL: a page of contacts does the same work at 10,000 and
at 50,000 visible contacts (issue #18; ``make bench-scale`` measures 10k to 1M).

Query plans, not wall time: each SQL statement of a request is explained with ANALYZE, and
the rows it reads from the contact table (returned by its scans, plus those their filters
dropped) are compared between the sizes. The same seed as the benchmark (bench/scale.py).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import organization_members
from backend.keyset import Position
from bench.scale import MEMBERS, PAGE, seed
from directory.selectors import LISTING_NAME, contacts_merged_for
from schema.pagination import keyset_cursor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SIZES = (10_000, 50_000)
CONTACT_TABLE = "directory_contact"
USER_TABLE = "accounts_user"


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _plan_nodes(child)


def _explain(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (document,) = cursor.fetchone()
    document = json.loads(document) if isinstance(document, str) else document
    return document[0]["Plan"]


def _rows_read(plan: dict, table: str) -> int:
    read = 0
    for node in _plan_nodes(plan):
        if node.get("Relation Name") == table:
            loops = node.get("Actual Loops", 1)
            read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * loops
    return read


def _request(client, variables: dict, *, members: bool = False) -> tuple[dict, list[dict]]:
    """The answer, and the plan of each statement that reads the listed table."""
    table = USER_TABLE if members else CONTACT_TABLE
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/user/graphql/",
            json.dumps({"query": MEMBERS if members else PAGE, "variables": variables}),
            content_type="application/json",
        )
    body = response.json()
    assert "errors" not in body, body
    page = body["data"]["organization"]["members"] if members else body["data"]["contacts"]
    plans = [_explain(query["sql"]) for query in queries if f'FROM "{table}"' in query["sql"]]
    return page, plans


def _deep_cursor(admin, offset: int, *, members: bool = False) -> str:
    """The cursor of the row at ``offset`` of the admin's merged view (or organization's
    members): what a client holds after paging there."""
    if members:
        member = organization_members(organization_id=admin.organization_id)[offset]
        return keyset_cursor("member", Position(key=member.email, id=member.guid))
    contact = contacts_merged_for(user=admin)[offset]
    return keyset_cursor("contact", Position(key=getattr(contact, LISTING_NAME), id=contact.pk))


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    """For each size: the rows read, the statement count and the plans of each request."""
    from django.test import Client

    requests = {
        "first page": {"first": 50, "count": True},
        "page 200": {"first": 50, "count": False, "after": "DEEP"},
        "selective search": {"first": 50, "count": True, "search": "selective needle"},
        "broad search": {"first": 50, "count": True, "search": "mar"},
        "members first page": {"first": 50, "count": True, "members": True},
        "members page 150": {"first": 50, "count": False, "after": "DEEP", "members": True},
        "members broad search": {"first": 50, "count": False, "search": "mar", "members": True},
        "members broad search, counted": {
            "first": 50, "count": True, "search": "mar", "members": True,
        },
        "members selective search": {
            "first": 50, "count": True, "search": "member4321@", "members": True,
        },
    }  # fmt: skip
    results: dict = {}
    # Seeded, measured and rolled back in one transaction: the other tests never see it.
    with django_db_blocker.unblock(), transaction.atomic():
        for size in SIZES:
            seed(size)
            with connection.cursor() as cursor:
                # What autovacuum does on a live database: statistics, and the trigram
                # index's pending entries merged (else the planner avoids the index).
                # A sample as large as the tables: the same statistics, so the same plans,
                # on every run (the default samples 30,000 rows).
                cursor.execute("SET LOCAL default_statistics_target = 1000")
                cursor.execute("ANALYZE directory_contact, accounts_user")
                cursor.execute("SELECT gin_clean_pending_list('contact_search_trgm'::regclass)")
                cursor.execute("SELECT gin_clean_pending_list('user_search_trgm'::regclass)")
                # At the smallest size the tables are a few hundred pages and, knowing it,
                # the planner reads them whole; the baseline is the index plans that serve
                # every larger size (a table with no index serving it is still read whole).
                cursor.execute(f"SET LOCAL enable_seqscan = {'off' if size == SIZES[0] else 'on'}")
            admin = User.objects.get(email=f"admin@scale{size}.example.com")
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(admin)
            for name, variables in requests.items():
                variables = {"search": None, **variables}
                members = variables.pop("members", False)
                if variables.get("after") == "DEEP":
                    variables["after"] = _deep_cursor(admin, 50 * 150 - 1, members=members)
                page, plans = _request(client, variables, members=members)
                table = USER_TABLE if members else CONTACT_TABLE
                results[(name, size)] = {
                    "page": page,
                    "plans": plans,
                    "read": sum(_rows_read(plan, table) for plan in plans),
                }
        transaction.set_rollback(True)
    return results


@pytest.mark.parametrize(
    "request_name",
    [
        "first page",
        "page 200",
        "broad search",
        "members first page",
        "members page 150",
        "members broad search",
        "members selective search",
    ],
)
def test_a_page_reads_the_same_rows_at_10k_and_50k(measured, request_name):
    small, large = (measured[(request_name, size)] for size in SIZES)
    assert len(small["plans"]) == len(large["plans"])  # the same statements
    assert small["page"]["edges"] and len(small["page"]["edges"]) == len(large["page"]["edges"])
    # 5 x the rows, at most 3 x the rows read (in practice about 1 x: the page and the
    # bounded count).
    assert large["read"] <= 3 * small["read"], (small["read"], large["read"])


def test_a_selective_search_never_reads_the_organizations_contacts(measured):
    """The organization's contacts (95 % of the seed) come from the trigram index; what may
    be read whole is the viewer's own: their personal contacts (5 %; the planner prefers
    that range to the trigram index at small sizes) and their overrides (0.5 %), once for
    the page and once for the count."""
    for size in SIZES:
        read = measured[("selective search", size)]["read"]
        assert read <= size // 5, (size, read)


@pytest.mark.parametrize("request_name", ["broad search", "members broad search, counted"])
def test_the_count_of_a_broad_search_stops_at_the_bound(measured, request_name):
    """Counting stops after DIRECTORY_COUNT_EXACT_UP_TO matches per stream: what it reads
    depends on the term's density, never on the size. (At 10k the whole of a broad term's
    matches can be fewer than that, so sizes are not compared.)"""
    measured_large = measured[(request_name, SIZES[-1])]
    (count,) = [plan for plan in measured_large["plans"] if plan["Node Type"] == "Aggregate"]
    table = USER_TABLE if request_name.startswith("members") else CONTACT_TABLE
    assert _rows_read(count, table) <= 10 * 1001
    assert measured_large["page"]["totalCountIsExact"] is False


def test_the_page_query_never_scans_nor_sorts_the_visible_contacts(measured):
    size = SIZES[-1]
    for request_name in ("first page", "page 200", "selective search", "broad search"):
        for plan in measured[(request_name, size)]["plans"]:
            if plan["Node Type"] == "Aggregate":
                continue  # the count: bounded, and compared by rows read above
            nodes = list(_plan_nodes(plan))
            for node in nodes:
                if node["Node Type"] == "Sort":
                    # Only pages (4 streams of 51 rows) and some of the viewer's overrides
                    # (those a search finds by their own values) are sorted.
                    assert node["Actual Rows"] <= 4 * 51 + size // 200, (request_name, node)
                if node.get("Relation Name") == CONTACT_TABLE:
                    assert node["Node Type"] != "Seq Scan", (request_name, node)


@pytest.mark.parametrize("request_name", ["first page", "members first page"])
def test_the_count_is_bounded(measured, request_name):
    for size in SIZES:
        page = measured[(request_name, size)]["page"]
        assert (page["totalCount"], page["totalCountIsExact"]) == (1000, False)
