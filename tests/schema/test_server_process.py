"""A server process's start-up (backend.process): the entry points freeze what start-up
built and collect garbage after responses, in CPython's proportions."""

from __future__ import annotations

import collections
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.process import BACKSTOP_THRESHOLD, collect_after_response

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys
import {module}
from django.core.signals import request_finished
from backend.process import collect_after_response
from schema.schema import schema
print(json.dumps({{
    "threshold": gc.get_threshold(),
    "collects_after_responses": collect_after_response
    in request_finished._live_receivers(None)[0],
    "frozen": gc.get_freeze_count(),
    "schema_frozen": gc.is_tracked(schema) and schema not in gc.get_objects(),
}}))
"""


@pytest.mark.parametrize("module", ["backend.wsgi", "backend.asgi"])
def test_an_entry_point_freezes_the_loaded_application(module):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1"}
    output = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    state = json.loads(output.strip().splitlines()[-1])
    assert state["threshold"][0] == BACKSTOP_THRESHOLD
    assert state["collects_after_responses"]
    assert state["frozen"] > 10_000
    # The schema was built before the freeze, so the collector no longer walks it.
    assert state["schema_frozen"]


def test_collections_after_responses_keep_cpythons_proportions():
    runs = collections.Counter()

    def count(phase, info):
        if phase == "start":
            runs[info["generation"]] += 1

    gc.collect()
    gc.callbacks.append(count)
    try:
        for _ in range(200):
            collect_after_response()
    finally:
        gc.callbacks.remove(count)
    assert runs == {0: 180, 1: 18, 2: 2}
