"""A server process's start-up (backend.process): the entry points freeze what start-up
built and collect the young generation less often."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.process import YOUNG_GENERATION_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys
import {module}
from schema.schema import schema
print(json.dumps({{
    "threshold": gc.get_threshold(),
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
    assert state["threshold"][0] == YOUNG_GENERATION_THRESHOLD
    assert state["frozen"] > 10_000
    # The schema was built before the freeze, so the collector no longer walks it.
    assert state["schema_frozen"]
