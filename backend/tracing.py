"""OpenTelemetry traces, on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (README,
"Production").

Off, nothing of OpenTelemetry is imported and no code runs per request. On,
``tracing_start`` (called by ``backend/wsgi.py`` and ``backend/asgi.py`` before Django
loads its middleware) installs the SDK's tracer provider, exporting in batches over
OTLP/HTTP (the exporter reads the standard ``OTEL_EXPORTER_OTLP_*`` variables;
``OTEL_SERVICE_NAME`` defaults to "roster"), and instruments:

- Django: a server span per request, continuing the trace of a trusted proxy's W3C
  ``traceparent`` (``TRUSTED_PROXY_COUNT``, as for ``X-Request-ID``); its URL attributes
  keep the path only (a query string may carry an OAuth code or state);
- psycopg: a span per SQL statement, without its parameters;
- redis: a span per cache command.

The schema adds a span per GraphQL operation and resolver spans
(``schema.observability.OperationTracing``), and JSON log lines carry the trace and span
ids (``backend.logs``). Exported spans keep an exception's type, never its message or
trace (``exceptions_redacted``). Under gunicorn the master starts it once; the SDK's
batch processor starts its export thread again in each forked worker. The server spans
need WSGI (gunicorn, runserver): under ASGI Django's instrumentation also needs
``opentelemetry-instrumentation-asgi``, which Roster does not install.
"""

from __future__ import annotations

import os

# Whether the instrumentation is installed (by tracing_start, or a test).
_instrumented = False


def _instrumentations(*, database_and_cache: bool) -> list[tuple[object, dict]]:
    """The instrumentors, with the options Roster instruments them with."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    found = [(DjangoInstrumentor(), {"request_hook": _request_hook})]
    if database_and_cache:
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        found += [(PsycopgInstrumentor(), {"enable_commenter": False}), (RedisInstrumentor(), {})]
    return found


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


def tracing_instrument(*, database_and_cache: bool = True) -> None:
    """Instrument Django (its middleware is added to ``settings.MIDDLEWARE``) and, unless
    told otherwise, psycopg and redis, exporting through the global tracer provider."""
    global _instrumented
    if _instrumented:
        return
    for instrumentor, options in _instrumentations(database_and_cache=database_and_cache):
        instrumentor.instrument(**options)
    _instrumented = True


def tracing_uninstrument() -> None:
    global _instrumented
    for instrumentor, _ in _instrumentations(database_and_cache=True):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    _instrumented = False


def exceptions_redacted(exporter):
    """``exporter``, given spans whose exceptions keep their type only. An exception's
    message and trace may quote what failed: psycopg's IntegrityError quotes the row (an
    email), a GraphQL syntax error the document. The instrumentations record both (an
    "exception" event, the status's description) with no switch to stop them."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Status

    def redacted(span: ReadableSpan) -> ReadableSpan:
        if not span.events and not span.status.description:
            return span
        events = [
            Event(
                event.name,
                {"exception.type": (event.attributes or {}).get("exception.type", "")}
                if event.name == "exception"
                else event.attributes,
                event.timestamp,
            )
            for event in span.events
        ]
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=span.attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=Status(span.status.status_code),
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    class ExceptionsRedacted(SpanExporter):
        def export(self, spans):
            return exporter.export([redacted(span) for span in spans])

        def shutdown(self):
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return ExceptionsRedacted()


def tracing_start() -> None:
    """With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set: export spans there, and instrument."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or _instrumented:
        return
    from django.conf import settings
    from opentelemetry import propagate, trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "roster"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exceptions_redacted(OTLPSpanExporter())))
    trace.set_tracer_provider(provider)
    if not settings.TRUSTED_PROXY_COUNT:
        # As X-Request-ID: a client's own traceparent would choose the trace id its lines
        # are logged under, and whether it is sampled. Only a trusted proxy's is continued.
        propagate.set_global_textmap(_no_caller_context())
    tracing_instrument()


def _no_caller_context():
    """A propagator that continues no caller's trace: each request starts its own."""
    from opentelemetry.context import Context
    from opentelemetry.propagators.textmap import TextMapPropagator

    class NoCallerContext(TextMapPropagator):
        def extract(self, carrier, context=None, getter=None):
            return context if context is not None else Context()

        def inject(self, carrier, context=None, setter=None):
            return None

        @property
        def fields(self):
            return set()

    return NoCallerContext()


def log_ids() -> dict[str, str]:
    """The current trace and span ids, for a log line (none when tracing is off)."""
    if not _instrumented:
        return {}
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
