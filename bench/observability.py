#!/usr/bin/env python3
"""What the request's log line and metrics cost, per request, in server CPU.

    .venv/bin/python bench/observability.py [--requests 20000] [--repeats 5]

Times ``backend.observability.ObservabilityMiddleware`` around a view that does nothing
but note a ``query Me`` operation for a signed-in user, against the same view without
it, in a fresh process per configuration (the settings are read at start-up): no
request line (``LOG_LEVEL=WARNING``), the readable line, the JSON line, each with and
without the metrics (multi-process mode, as under gunicorn). CPU time
(``time.process_time``), best of the repeats; the lines go to a file, as a server's go to
its log. Prints a Markdown table; docs/observability.md has the figures of a run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFIGURATIONS = {
    "no request line": {"LOG_LEVEL": "WARNING"},
    "text line (default)": {"LOG_LEVEL": "INFO"},
    "text line + metrics": {"LOG_LEVEL": "INFO", "METRICS": "1"},
    "JSON line": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
    "JSON line + metrics": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "METRICS": "1"},
}


def measure(requests: int, repeats: int) -> float:
    """In this process (Django set up): microseconds of CPU the middleware adds to a
    request."""
    import uuid

    from django.http import HttpResponse
    from django.test import RequestFactory

    from backend.observability import ObservabilityMiddleware, operation_observed

    class SignedIn:
        is_authenticated = True
        guid = uuid.uuid4()

    def view(request):
        request.user = SignedIn
        operation_observed(name="Me", operation_type="query", label="me")
        return HttpResponse(b"{}", content_type="application/json")

    request = RequestFactory().post("/api/user/graphql/", b"{}", content_type="application/json")
    sides = {"bare": view, "middleware": ObservabilityMiddleware(view)}
    best = dict.fromkeys(sides, float("inf"))
    for side in sides.values():
        for _ in range(200):
            side(request)
    for _ in range(repeats):
        for name, side in sides.items():
            started = time.process_time()
            for _ in range(requests):
                side(request)
            best[name] = min(best[name], (time.process_time() - started) / requests * 1e6)
    return best["middleware"] - best["bare"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000, help="per repeat (20000)")
    parser.add_argument("--repeats", type=int, default=5, help="best of (5)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        import django

        django.setup()
        print(f"{measure(args.requests, args.repeats):.1f}")
        return
    print("| configuration | CPU µs per request |\n| --- | ---: |")
    for name, variables in CONFIGURATIONS.items():
        with (
            tempfile.TemporaryDirectory() as directory,
            open(Path(directory) / "server.log", "w") as log,
        ):
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "backend.settings",
                "DEBUG": "1",
                "DATABASE_URL": f"sqlite:///{directory}/db.sqlite3",
                "METRICS_TOKEN": secrets.token_urlsafe(32),
                "PROMETHEUS_MULTIPROC_DIR": directory,
                **variables,
            }
            measure_command = [sys.executable, __file__, "--measure"]
            measure_command += [f"--requests={args.requests}", f"--repeats={args.repeats}"]
            done = subprocess.run(  # noqa: S603 (our own interpreter and script)
                measure_command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                check=True,
            )
        print(f"| {name} | {done.stdout.strip()} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
