#!/usr/bin/env python3
"""Benchmark: GraphQL against plain Django JSON views answering the same data.

    .venv/bin/python bench/run.py [--clients 8] [--seconds 10] [--quick]

Creates (once) the PostgreSQL database ``roster_bench`` (``DATABASE_URL``), migrates it, seeds
an organization of 1,000 members and 10,000 contacts visible to its administrator, starts the
production server (gunicorn, DEBUG off) with the plain views mounted (``bench.urls``), signs
in through the real ``login`` mutation, checks that each plain view answers what the GraphQL
query answers, then drives both with the same concurrent closed-loop clients, side by side.
Prints a Markdown table (requests per second, p50/p99 latency, ratio, SQL queries per request)
and writes it with the machine's description to ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.scenarios import GRAPHQL_PATH, SCENARIOS, Scenario  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/roster_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
GOAL = 0.7
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { __typename ... on OperationInfo { messages { code message } } }
}
"""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per measurement (10)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per side (2)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternate the two sides this many times, seconds split evenly (4): a load change "
        "on a shared machine then touches both sides alike",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--quick", action="store_true", help="a short run: 2 s, 0.5 s warm-up")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed anew")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variable of the server's environment, over the bench's own (LOG_LEVEL=INFO, "
        "LOG_FORMAT=json, METRICS=1...); repeatable",
    )
    parser.add_argument(
        "--server-log",
        metavar="FILE",
        help="write the server's stderr (its logs) to FILE (default: a temporary file)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.rounds = 2, 0.5, 2
    return args


def server_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings (DEBUG off, Argon2, Redis cache) on plain HTTP on 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "ROSTER_TESTING", "GRAPHIQL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX="roster-bench",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT="9",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ROOT_URLCONF="bench.urls",
        LOG_LEVEL="WARNING",
    )
    return env


def server_environment_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--server-env wants KEY=VALUE, not {pair!r}")
        overrides[key] = value
    return overrides


def database_create(database_url: str, *, drop: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if drop:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def django_setup():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def planner_statistics_refresh() -> None:
    """VACUUM ANALYZE, as autovacuum does on a production database: without statistics on
    the freshly seeded tables the planner guesses one row and picks plans no real database
    runs (e.g. walking all 1,000 members to sort them instead of reading 51 in order), and
    without the visibility map no index-only scan."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def members_available() -> bool:
    from schema.schema import schema

    organization = schema.get_type_by_name("Organization")
    return organization is not None and any(f.python_name == "members" for f in organization.fields)


# In-process measurements (same database, same settings) ---------------------------------


def _in_process_client(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _graphql_in_process(client, scenario: Scenario):
    return client.post(
        GRAPHQL_PATH,
        json.dumps({"query": scenario.query, "variables": scenario.variables}),
        content_type="application/json",
    )


def query_counts(user, scenarios: list[Scenario]) -> dict[str, tuple[int, int]]:
    """SQL queries per request of each scenario (GraphQL, plain), after one warm-up request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _in_process_client(user)
    counts = {}
    for scenario in scenarios:
        sides = []
        for send in (
            lambda s=scenario: _graphql_in_process(client, s),
            lambda s=scenario: client.get(s.plain_path),
        ):
            response = send()
            assert response.status_code == 200, response.content[:500]
            with CaptureQueriesContext(connection) as captured:
                response = send()
            assert response.status_code == 200, response.content[:500]
            sides.append(len(captured.captured_queries))
        graphql_payload = _graphql_in_process(client, scenario).json()
        plain_payload = client.get(scenario.plain_path).json()
        same_answer(scenario, graphql_payload, plain_payload)
        counts[scenario.name] = (sides[0], sides[1])
    return counts


def same_answer(scenario: Scenario, graphql_payload: dict, plain_payload: dict) -> None:
    """The plain view must answer exactly the data of the GraphQL query."""
    if graphql_payload.get("errors"):
        raise AssertionError(f"{scenario.name}: GraphQL errors {graphql_payload['errors']}")
    if graphql_payload.get("data") != plain_payload:
        raise AssertionError(
            f"{scenario.name}: the plain view answers other data than GraphQL\n"
            f"GraphQL: {json.dumps(graphql_payload.get('data'))[:2000]}\n"
            f"plain:   {json.dumps(plain_payload)[:2000]}"
        )


# The production server --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_start(
    env: dict[str, str], port: int, workers: int, threads: int, log_path: str | None = None
) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads), "--no-control-socket"]
    # A file, not a pipe: nobody reads the server's stderr while it runs, and a log line per
    # request (LOG_LEVEL=INFO) would fill a pipe and block the workers.
    log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit("gunicorn did not start:\n" + log.read().decode())
        try:
            status, _, _ = request(port, "GET", "/api/user/health/")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def server_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        cookies = SimpleCookie()
        for header in response.msg.get_all("Set-Cookie") or []:
            cookies.load(header)
        return response.status, response.read(), {k: m.value for k, m in cookies.items()}
    finally:
        connection.close()


def sign_in(port: int, email: str, password: str) -> dict[str, str]:
    """Headers of a signed-in browser: the session cookie and the CSRF token."""
    _, _, cookies = request(port, "GET", "/api/user/health/")
    body = json.dumps(
        {"query": LOGIN, "variables": {"input": {"email": email, "password": password}}}
    )
    status, answer, new_cookies = request(
        port,
        "POST",
        GRAPHQL_PATH,
        body.encode(),
        {
            "Content-Type": "application/json",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "X-CSRFToken": cookies["csrftoken"],
        },
    )
    result = json.loads(answer)
    if status != 200 or result.get("data", {}).get("login", {}).get("__typename") != "User":
        raise SystemExit(f"login failed: {status} {answer[:500]!r}")
    cookies.update(new_cookies)
    return {
        "Cookie": f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}",
        "X-CSRFToken": cookies["csrftoken"],
    }


def graphql_request(scenario: Scenario, session: dict[str, str]) -> dict:
    body = json.dumps({"query": scenario.query, "variables": scenario.variables}).encode()
    headers = {**session, "Content-Type": "application/json"}
    return {"method": "POST", "path": GRAPHQL_PATH, "body": body, "headers": headers}


def plain_request(scenario: Scenario, session: dict[str, str]) -> dict:
    return {
        "method": "GET",
        "path": scenario.plain_path,
        "body": None,
        "headers": {"Cookie": session["Cookie"]},
    }


def check_over_http(port: int, scenario: Scenario, session: dict[str, str]) -> None:
    answers = []
    for spec in (graphql_request(scenario, session), plain_request(scenario, session)):
        status, body, _ = request(port, spec["method"], spec["path"], spec["body"], spec["headers"])
        if status != 200:
            raise SystemExit(f"{scenario.name}: {spec['path']} answered {status}: {body[:300]!r}")
        answers.append(json.loads(body))
    same_answer(scenario, *answers)


# Report -----------------------------------------------------------------------------------


def server_cpu_seconds(process: subprocess.Popen) -> float | None:
    """CPU time used so far by the gunicorn master and its workers (Linux /proc), so the
    table can show what a request costs the server whatever else the machine is doing."""
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        total = 0
        for pid in [process.pid, *map(int, children)]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def load_of(port: int, clients: int, spec: dict) -> dict:
    return {"host": "127.0.0.1", "port": port, "clients": clients, **spec}


def combined(results: list[loadgen.Result]) -> loadgen.Result:
    return loadgen.Result(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ms=[latency for r in results for latency in r.latencies_ms],
    )


def machine() -> dict[str, str]:
    from django.db import connection

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "postgres": postgres,
        "os": platform.platform(),
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def table(rows: list[dict]) -> str:
    lines = [
        "| scenario | GraphQL rps | plain rps | ratio | GraphQL p50 / p99 ms "
        "| plain p50 / p99 ms | server CPU ms per request GraphQL / plain "
        "| SQL queries GraphQL / plain (seeded; small) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        g, p = row["graphql"], row["plain"]
        ratio = g.rps / p.rps if p.rps else float("nan")
        mark = "" if ratio >= GOAL else " ⚠"
        big, small = row["queries"], row["queries_small"]
        lines.append(
            f"| `{row['name']}` | {g.rps:,.0f} | {p.rps:,.0f} | {ratio:.2f}{mark} "
            f"| {g.p50:.1f} / {g.p99:.1f} | {p.p50:.1f} / {p.p99:.1f} "
            f"| {_ms(row['cpu_ms']['graphql'])} / {_ms(row['cpu_ms']['plain'])} "
            f"| {big[0]} / {big[1]}; {small[0]} / {small[1]} |"
        )
    return "\n".join(lines)


def main() -> None:
    args = arguments()
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    env = server_environment(database_url, redis_url)
    env.update(server_environment_overrides(args.server_env))
    os.environ.update(env)  # the in-process measurements use the server's settings
    database_create(database_url, drop=args.reseed)
    django_setup()

    from bench.seed import BENCH_PASSWORD, LARGE, SMALL, seed

    started = time.monotonic()
    viewer = seed(**LARGE)
    small_viewer = seed(**SMALL)
    print(f"seed ready ({time.monotonic() - started:.1f} s)")
    planner_statistics_refresh()

    scenarios = list(SCENARIOS)
    if not members_available():
        print("organization { members } is not in this schema: scenario skipped")
        scenarios = [s for s in scenarios if not s.needs_members]

    counts = query_counts(viewer, scenarios)
    counts_small = query_counts(small_viewer, scenarios)
    facts = machine()
    from django.db import connection

    connection.close()

    port = free_port()
    server = server_start(env, port, args.workers, args.threads, args.server_log)
    rows = []
    try:
        session = sign_in(port, viewer.email, BENCH_PASSWORD)
        for scenario in scenarios:
            check_over_http(port, scenario, session)
        for scenario in scenarios:
            sides = {
                "graphql": graphql_request(scenario, session),
                "plain": plain_request(scenario, session),
            }
            parts: dict[str, list[loadgen.Result]] = {side: [] for side in sides}
            cpu: dict[str, float | None] = dict.fromkeys(sides, 0.0)
            for spec in sides.values():
                loadgen.run(**load_of(port, args.clients, spec), seconds=args.warmup)
            for round_ in range(args.rounds):
                order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
                for side in order:
                    load = load_of(port, args.clients, sides[side])
                    before = server_cpu_seconds(server)
                    parts[side].append(loadgen.run(**load, seconds=args.seconds / args.rounds))
                    after = server_cpu_seconds(server)
                    if before is None or after is None or cpu[side] is None:
                        cpu[side] = None
                    else:
                        cpu[side] += after - before
            results = {side: combined(parts[side]) for side in sides}
            for side, result in results.items():
                if result.errors:
                    raise SystemExit(f"{scenario.name} ({side}): {result.errors} failed requests")
                print(
                    f"{scenario.name:45} {side:8} {result.rps:8.1f} rps  "
                    f"p50 {result.p50:6.1f} ms  p99 {result.p99:6.1f} ms"
                )
            rows.append(
                {
                    "name": scenario.name,
                    **results,
                    "queries": counts[scenario.name],
                    "queries_small": counts_small[scenario.name],
                    "cpu_ms": {
                        side: None
                        if cpu[side] is None
                        else 1000 * cpu[side] / results[side].requests
                        for side in sides
                    },
                }
            )
    finally:
        server_stop(server)

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            table(rows),
            "",
            f"Run {now}: {args.clients} clients, {args.seconds:g} s per side after "
            f"{args.warmup:g} s warm-up, the sides alternating in {args.rounds} rounds; gunicorn {args.workers} workers x {args.threads} "
            f"threads, DEBUG off, PostgreSQL and Redis on the same machine as the load "
            f"generator. Seed: 1,000 members, 10,000 contacts visible to the viewer (50 "
            f"overrides); the small size is an organization of 2 members and 3 contacts.",
            f"Machine: {facts['cpus']} CPUs ({facts['cpu']}), Python {facts['python']}, "
            f"PostgreSQL {facts['postgres']}, {facts['os']}.",
            f"Goal: GraphQL at least {GOAL} of the plain view's throughput; the same number "
            f"of SQL queries per request at both sizes.",
        ]
    )
    print()
    print(report)
    Path(args.output).write_text("# Benchmark results\n\n" + report + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
