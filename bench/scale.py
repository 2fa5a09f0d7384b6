#!/usr/bin/env python3
"""Directory at scale: what one page of contacts costs at 10k, 100k and 1M visible contacts.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--repeat 20]

For each size, a PostgreSQL database ``roster_scale_<size>`` (next to ``DATABASE_URL``'s, or
``postgres://postgres@127.0.0.1:5432``) is created once, migrated and seeded with COPY: one
organization whose administrator sees ``size`` contacts (the issue's shape: 95 % of them
the profile contacts of the organization's members, 5 % the administrator's personal
contacts; realistic names with accents, emails, phones; 0.5 % overrides, one in ten
renaming the contact), every search column filled by the function saving a contact uses
(``Contact.search_fields_refresh``). After ANALYZE, each query below runs ``--repeat`` times
in-process through the real endpoint (Django's test client, signed in); the table gives the
median time, the ratio to the smallest size and the SQL queries per request.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = "postgres://postgres@127.0.0.1:5432/roster"
PAGE = """
query Page($first: Int!, $after: String, $search: String, $count: Boolean!) {
  contacts(first: $first, after: $after, search: $search) {
    totalCount @include(if: $count)
    totalCountIsExact @include(if: $count)
    pageInfo { hasNextPage endCursor }
    edges { node { id fullName shortName data isProfile abilities { canUpdate canDelete canOverride } } }
  }
}
"""
MEMBERS = """
query Members($first: Int!, $after: String, $search: String, $count: Boolean!) {
  organization {
    members(first: $first, after: $after, search: $search) {
      totalCount @include(if: $count)
      totalCountIsExact @include(if: $count)
      pageInfo { hasNextPage endCursor }
      edges { node { id email firstName lastName } }
    }
  }
}
"""
QUERIES = [
    ("first page, no search", {"count": True}),
    ("first page, no search, without totalCount", {"count": False}),
    ("page 200 (through cursors)", {"count": False, "page": 200}),
    ('broad search "mar"', {"count": True, "search": "mar"}),
    ("selective search (a full name)", {"count": True, "search": "SELECTIVE_NAME"}),
    ("selective search (an email)", {"count": True, "search": "SELECTIVE_EMAIL"}),
    ("selective search (a phone)", {"count": True, "search": "+1 555-0142"}),
    ("members: first page", {"count": True, "members": True}),
    ("members: page 200 (through cursors)", {"count": False, "page": 200, "members": True}),
    ('members: broad search "mar"', {"count": True, "search": "mar", "members": True}),
    (
        "members: selective search (an email)",
        {"count": True, "search": "MEMBER_EMAIL", "members": True},
    ),
]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=20, help="runs per query (median)")
    parser.add_argument("--seed-only", action="store_true", help="seed the sizes, measure nothing")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one size, in a child
    return parser.parse_args()


def database_url(size: int) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL") or BASE_URL)
    return urlunsplit(parts._replace(path=f"/roster_scale_{size}"))


# Seeding --------------------------------------------------------------------------------


def copy_rows(model, objects) -> None:
    """COPY ``objects`` (unsaved, primary keys left to the database where it makes them)
    into ``model``'s table, each value prepared as Django saves it."""
    from django.db import connection

    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and getattr(field, "db_returning", False))
    ]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    statement = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for obj in objects:
            copy.write_row(
                [
                    field.get_db_prep_save(getattr(obj, field.attname), connection)
                    for field in fields
                ]
            )


def seed(size: int) -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Organization, ProfileData, User
    from accounts.names import member_search_text
    from accounts.services.groups import permission_groups_setup
    from bench.seed import FIRST_NAMES, LAST_NAMES, _emails, _phones
    from directory.models import Contact
    from directory.services.contacts import profile_contact_build

    admin_email = f"admin@scale{size}.example.com"
    if User.objects.filter(email=admin_email).exists():
        return
    rng = random.Random(size)  # noqa: S311 (reproducible data)
    personal = size // 20
    members = size - personal
    started = time.monotonic()
    with transaction.atomic():
        permission_groups_setup()
        organization = Organization.objects.create(name=f"Scale {size}", plan="enterprise")
        admin = User.objects.create_user(
            email=admin_email,
            password="scale-password-not-secret",
            first_name="Ada",
            last_name="Admin",
            email_verified=True,
            organization=organization,
        )
        admin.groups.add(Group.objects.get(name=settings.ADMINISTRATORS_GROUP))
        password = make_password(None)
        now = timezone.now()
        names = [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(members - 1)]
        copy_rows(
            User,
            (
                User(
                    username=uuid.uuid4().hex,
                    email=f"member{n}@scale{size}.example.com",
                    email_verified=True,
                    password=password,
                    organization=organization,
                    date_joined=now,
                    # What saving the user and their profile computes.
                    search_text=member_search_text(
                        first_name=first, last_name=last, email=f"member{n}@scale{size}.example.com"
                    ),
                )
                for n, (first, last) in enumerate(names, start=1)
            ),
        )
        users = list(
            User.objects.filter(organization=organization).exclude(pk=admin.pk).order_by("pk")
        )
        for user, (first, last) in zip(users, names, strict=True):
            user.profile = ProfileData(user=user, first_name=first, last_name=last)
        copy_rows(ProfileData, (user.profile for user in users))

        def profile_contact(user):
            contact = profile_contact_build(user=user)  # what signing up creates
            contact.search_fields_refresh()
            return contact

        copy_rows(Contact, (profile_contact(user) for user in users))

        def personal_contact(n):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            data = {}
            if emails := _emails(rng, first, last, n):
                data["emails"] = emails
            if phones := _phones(rng):
                data["phones"] = phones
            if n == 7:  # one contact each selective search finds
                first, last = "Selective", "Needle"
                data = {
                    "emails": [{"type": "Work", "value": "needle@selective.example"}],
                    "phones": [{"type": "Mobile", "value": "+1 555-0142"}],
                }
            contact = Contact(
                owner=admin,
                full_name=f"{first} {last}",
                short_name=first if rng.random() < 0.3 else "",
                data=data,
                created_at=now,
                updated_at=now,
            )
            contact.search_fields_refresh()
            return contact

        copy_rows(Contact, (personal_contact(n) for n in range(personal - 1)))
        bases = Contact.objects.filter(user__organization=organization).exclude(user=admin)
        sample = rng.sample(list(bases.values_list("pk", "full_name")), size // 200)

        def override(base_id, base_name, renames: bool):
            contact = Contact(
                owner=admin,
                override_id=base_id,
                full_name=f"Dr {base_name}" if renames else "",
                short_name=base_name.split()[0][:50],
                notes="a note of my own",
                created_at=now,
                updated_at=now,
            )
            contact.search_fields_refresh()
            return contact

        # One in ten renames the contact (their own name for a colleague).
        copy_rows(
            Contact,
            (override(pk, name, renames=n % 10 == 0) for n, (pk, name) in enumerate(sample)),
        )
    print(f"  seeded {size:,} in {time.monotonic() - started:.0f} s", file=sys.stderr)


# Measuring ------------------------------------------------------------------------------


def _connection(body: dict, members: bool) -> dict:
    return body["data"]["organization"]["members"] if members else body["data"]["contacts"]


def cursor_of_page(send, page: int, members: bool) -> str | None:
    """The ``endCursor`` of the page before ``page``, walking there as a client does."""
    after = None
    for _ in range(page - 1):
        body = send({"first": 50, "after": after, "search": None, "count": False})
        after = _connection(body, members)["pageInfo"]["endCursor"]
    return after


def measure(size: int, repeat: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    admin = User.objects.get(email=f"admin@scale{size}.example.com")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    results = {}
    for name, spec in QUERIES:
        members = spec.get("members", False)
        search = {
            "SELECTIVE_NAME": "selective needle",
            "SELECTIVE_EMAIL": "needle@selective",
            "MEMBER_EMAIL": f"member{size // 3}@scale{size}",
        }.get(spec.get("search"), spec.get("search"))
        variables = {"first": 50, "search": search, "count": spec["count"]}
        document = MEMBERS if members else PAGE

        def send(variables, document=document):
            response = client.post(
                "/api/user/graphql/", json.dumps({"query": document, "variables": variables}),
                content_type="application/json",
            )  # fmt: skip
            body = response.json()
            assert "errors" not in body, body
            return body

        if "page" in spec:
            variables["after"] = cursor_of_page(send, spec["page"], members)
        send(variables)  # warm-up
        with CaptureQueriesContext(connection) as queries:
            body = send(variables)
        count = len(queries)  # read now: the next request clears the connection's log
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            send(variables)
            times.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "ms": statistics.median(times),
            "queries": count,
            "rows": len(_connection(body, members)["edges"]),
        }
    return results


def one_size(size: int, repeat: int, *, seed_only: bool = False) -> None:
    from bench.run import database_create, django_setup, planner_statistics_refresh

    url = database_url(size)
    database_create(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ["ROSTER_TESTING"] = "1"  # the fast test password hasher, console email
    django_setup()
    seed(size)
    planner_statistics_refresh()
    print(json.dumps({} if seed_only else measure(size, repeat)))


def main() -> None:
    args = arguments()
    if args.size:
        one_size(args.size, args.repeat, seed_only=args.seed_only)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    table: dict[int, dict] = {}
    for size in sizes:
        print(f"size {size:,}", file=sys.stderr)
        output = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, __file__, "--size", str(size), "--repeat", str(args.repeat),
             *(["--seed-only"] if args.seed_only else [])],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout  # fmt: skip
        table[size] = json.loads(output.strip().splitlines()[-1])
    if args.seed_only:
        return
    smallest, largest = sizes[0], sizes[-1]
    header = " | ".join(f"{size:,}" for size in sizes)
    print(f"| query | {header} | {largest:,} / {smallest:,} | SQL queries |")
    print("| --- |" + " ---: |" * (len(sizes) + 2))
    for name, _ in QUERIES:
        cells = " | ".join(f"{table[size][name]['ms']:,.0f} ms" for size in sizes)
        ratio = table[largest][name]["ms"] / table[smallest][name]["ms"]
        counts = " / ".join(str(table[size][name]["queries"]) for size in sizes)
        print(f"| {name} | {cells} | {ratio:.1f} x | {counts} |")


if __name__ == "__main__":
    main()
