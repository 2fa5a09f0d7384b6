"""bench/observability.py measures what it says: the middleware, writing its line, around
a view."""

from __future__ import annotations

import logging
import math

from bench.observability import measure


def test_the_middleware_and_its_line_are_measured(caplog):
    with caplog.at_level(logging.INFO, logger="roster.request"):
        cost = measure(requests=50, repeats=1)
    assert math.isfinite(cost)
    lines = [record for record in caplog.records if record.name == "roster.request"]
    assert len(lines) == 200 + 50  # warm-up, then the measured requests
    assert lines[-1].getMessage().startswith("POST /api/user/graphql/ 200 ")
    assert lines[-1].getMessage().endswith(" query Me")
