"""Log formats (``LOG_FORMAT``): readable text by default, one JSON object per line for
a log pipeline (``json``).

The standard library's ``logging`` with a formatter of Roster's own, not structlog:
Django, gunicorn and every library already log through ``logging``, so one formatter
makes all of their lines JSON as well as Roster's, with no second logging API to learn
and no dependency. What structlog adds (bound loggers, processor chains) Roster does not
need: the request's context comes from the request being served
(``backend.observability``), not from loggers bound by hand.

A JSON line holds a fixed set of keys, never a record's arbitrary attributes (Django puts
the request object itself on some records): ``time``, ``level``, ``logger``,
``message``, ``request_id`` and, with tracing on, ``trace_id`` and ``span_id`` (the
request being served), ``exception``, and the fields of a request's own line
(``backend.observability``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from backend import tracing
        from backend.observability import observation

        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = observation()
        request_id = getattr(record, "request_id", None) or (current and current.request_id)
        if request_id:
            entry["request_id"] = request_id
        entry.update(tracing.log_ids())
        fields = getattr(record, "observed", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
