"""Fixtures of the observability tests: JSON log lines captured as the server writes them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from backend.logs import JsonFormatter


class CapturedLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def entries(self) -> list[dict]:
        """Every line, parsed (each one must be a JSON object)."""
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self) -> list[dict]:
        return [entry for entry in self.entries() if entry["logger"] == "roster.request"]


@pytest.fixture
def json_log():
    """The root logger writes JSON lines (``LOG_FORMAT=json``'s formatter) into a buffer,
    at DEBUG: every line any logger writes during the test."""
    captured = CapturedLog()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    # factory-boy's own debug lines (the test's fixtures, not the server) stay out.
    factories = logging.getLogger("factory")
    factories_level = factories.level
    factories.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        factories.setLevel(factories_level)
