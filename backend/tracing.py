"""OpenTelemetry traces, on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (README,
"Production").

Off, nothing of OpenTelemetry is imported and no code runs per request. On,
``tracing_start`` (called by ``backend/wsgi.py`` and ``backend/asgi.py`` before Django
loads its middleware) installs the SDK's tracer provider, exporting in batches over
OTLP/HTTP (the exporter reads the standard ``OTEL_EXPORTER_OTLP_*`` variables;
``OTEL_SERVICE_NAME`` defaults to "roster"), and instruments:

- Django: a server span per request, continuing the caller's trace (W3C
  ``traceparent``); its URL attributes keep the path only (a query string may carry an
  OAuth code or state);
- psycopg: a span per SQL statement, without its parameters;
- redis: a span per cache command.

The schema adds a span per GraphQL operation and resolver spans
(``schema.observability.OperationTracing``), and JSON log lines carry the trace and span
ids (``backend.logs``). Under gunicorn the master starts it once; the SDK's batch
processor starts its export thread again in each forked worker.
"""

from __future__ import annotations

import os

_started = False


def _instrumentors() -> list:
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    return [DjangoInstrumentor(), PsycopgInstrumentor(), RedisInstrumentor()]


def _request_hook(span, request) -> None:
    path_only = request.build_absolute_uri(request.path)
    recorded = getattr(span, "attributes", None) or {}
    for key, value in (
        ("http.url", path_only),
        ("url.full", path_only),
        ("http.target", request.path),
        ("url.query", ""),
    ):
        if key in recorded:
            span.set_attribute(key, value)


def tracing_instrument() -> None:
    """Instrument Django (its middleware is added to ``settings.MIDDLEWARE``), psycopg
    and redis, exporting through the tracer provider set globally."""
    global _started
    if _started:
        return
    django, psycopg, redis = _instrumentors()
    django.instrument(request_hook=_request_hook)
    psycopg.instrument(enable_commenter=False)
    redis.instrument()
    _started = True


def tracing_uninstrument() -> None:
    global _started
    if not _started:
        return
    for instrumentor in _instrumentors():
        instrumentor.uninstrument()
    _started = False


def tracing_start() -> None:
    """With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set: export spans there, and instrument."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or _started:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "roster"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    tracing_instrument()


def log_ids() -> dict[str, str]:
    """The current trace and span ids, for a log line (none when tracing is off)."""
    if not _started:
        return {}
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
