"""OpenTelemetry traces: a span per request (Django), per GraphQL operation and per
resolver, nothing of a document's secrets on them; and nothing at all when off."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from backend.tracing import exceptions_redacted, tracing_instrument, tracing_uninstrument
from schema.observability import OperationObserved, OperationTracing
from schema.schema import schema
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { __typename ... on User { email } }
}
"""


@functools.cache
def _exporter():
    """One tracer provider per test process (OpenTelemetry sets it once), exporting to
    memory as each span ends, through the redaction production exports through."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exceptions_redacted(exporter)))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture
def spans(settings, monkeypatch):
    exporter = _exporter()
    exporter.clear()
    settings.MIDDLEWARE = list(settings.MIDDLEWARE)  # the instrumentation adds its own
    # Django's only: psycopg's wraps the test run's open connections, and instrumenting and
    # removing it again and again in one process crashed CPython 3.11 on PostgreSQL runs.
    # test_tracing_exports_over_otlp_when_an_endpoint_is_set runs all of it, in a process
    # of its own.
    tracing_instrument(database_and_cache=False)
    # As the schema is built with OTEL_EXPORTER_OTLP_ENDPOINT set.
    extensions = list(schema.extensions)
    extensions.insert(extensions.index(OperationObserved), OperationTracing)
    monkeypatch.setattr(schema, "extensions", tuple(extensions))
    try:
        yield exporter
    finally:
        tracing_uninstrument()
        exporter.clear()


def by_name(exporter) -> dict:
    return {span.name: span for span in exporter.get_finished_spans()}


def test_an_operation_has_its_span_within_the_request_span(spans, json_log):
    ada = UserFactory(email="ada@example.com")
    secret = "inline-Secret-Passw0rd"
    answer = GraphQLClient().execute(LOGIN, {"input": {"email": ada.email, "password": PASSWORD}})
    assert answer.data["login"]["__typename"] == "User"
    literal = f"{{email: {json.dumps(ada.email)}, password: {json.dumps(secret)}}}"
    GraphQLClient().execute("mutation { login(input: " + literal + ") { __typename } }")

    finished = spans.get_finished_spans()
    [operation] = [span for span in finished if span.name == "mutation Login"]
    [request] = [
        span
        for span in finished
        if span.name.startswith("POST") and span.context.trace_id == operation.context.trace_id
    ]
    [resolver] = [
        span
        for span in finished
        if span.name == "GraphQL resolve Mutation.login"
        and span.context.trace_id == operation.context.trace_id
    ]
    assert request.kind.name == "SERVER"
    assert operation.parent.span_id == request.context.span_id
    assert operation.context.trace_id == request.context.trace_id
    assert resolver.parent.span_id == operation.context.span_id
    assert dict(operation.attributes) == {
        "graphql.operation.name": "Login",
        "graphql.operation.type": "mutation",
    }
    assert {"GraphQL parse", "GraphQL validate"} <= set(by_name(spans))
    # Neither the document (with its inline password) nor a resolver's arguments.
    everything = " ".join(str(dict(span.attributes)) for span in finished)
    assert secret not in everything and PASSWORD not in everything
    assert ada.email not in everything
    # The request's log line names its trace.
    [line] = [line for line in json_log.requests() if line["operation_name"] == "Login"]
    assert line["trace_id"] == f"{request.context.trace_id:032x}"


def test_error_codes_are_on_the_operation_span(spans):
    GraphQLClient().execute(LOGIN, {"input": {"email": "nobody@example.com", "password": "x"}})
    GraphQLClient().execute("query Broken { nope }")
    GraphQLClient().execute('query Unparsed { login(input: {password: "in-a-broken-document"')
    names = by_name(spans)
    assert names["query Broken"].attributes["roster.error_codes"] == ("GRAPHQL_INVALID",)
    unparsed = names["GraphQL"]
    assert unparsed.attributes["roster.error_codes"] == ("GRAPHQL_INVALID",)
    # The syntax error's message quotes the document: no exception event on the span.
    assert not unparsed.events and "in-a-broken-document" not in str(unparsed.status)
    assert "roster.error_codes" not in names["mutation Login"].attributes  # an answer


def test_a_document_that_does_not_parse_leaves_no_span_open(spans):
    """Each hook entered is left: otherwise the parse span stays open, and freeing it later
    puts the thread back into the failed request's trace (the next request joining it)."""
    import gc

    GraphQLClient().execute("query Broken { me { email ")
    gc.collect()
    failed = spans.get_finished_spans()
    assert "GraphQL parse" in {span.name for span in failed}
    [broken] = [span for span in failed if span.name == "GraphQL"]
    spans.clear()
    GraphQLClient().execute("query Me { me { email } }")
    [request] = [span for span in spans.get_finished_spans() if span.name.startswith("POST")]
    assert request.kind.name == "SERVER" and request.parent is None
    assert request.context.trace_id != broken.context.trace_id


def test_an_exception_keeps_its_type_only(spans, monkeypatch):
    """An exception's message may quote what failed (psycopg's IntegrityError: the row, an
    email): neither the spans' events nor their status carry it."""
    import accounts.services.auth

    def failing(**kwargs):
        raise RuntimeError("duplicate key (email)=(ada@example.com)")

    monkeypatch.setattr(accounts.services.auth, "user_login", failing)
    answer = GraphQLClient().execute(LOGIN, {"input": {"email": "a@example.com", "password": "x"}})
    assert answer.errors[0]["message"] == "Unexpected error."
    finished = spans.get_finished_spans()
    exported = " ".join(
        f"{span.name} {dict(span.attributes)} {span.status.description} "
        + " ".join(f"{event.name} {dict(event.attributes)}" for event in span.events)
        for span in finished
    )
    assert "ada@example.com" not in exported and "duplicate key" not in exported
    assert by_name(spans)["mutation Login"].attributes["roster.error_codes"] == ("INTERNAL_ERROR",)


def test_exported_exceptions_keep_their_type_only():
    """What psycopg's and Django's instrumentations record (an "exception" event with the
    message and trace, an error status quoting it) is exported with the type only."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exceptions_redacted(exporter)))
    tracer = provider.get_tracer("test")
    with pytest.raises(ValueError), tracer.start_as_current_span("INSERT accounts_user"):
        raise ValueError("Key (email)=(ada@example.com) already exists.")
    [span] = exporter.get_finished_spans()
    [event] = span.events
    assert event.name == "exception" and dict(event.attributes) == {"exception.type": "ValueError"}
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.status.description is None


def test_a_query_string_stays_out_of_the_request_span(spans):
    http = GraphQLClient().http
    http.get(
        "/api/user/graphql/",
        {"query": "{ me { email } }", "variables": '{"token": "query-string-secret"}'},
        HTTP_GRAPHQL_REQUIRE_PREFLIGHT="1",
    )
    [request] = [span for span in spans.get_finished_spans() if span.name.startswith("GET")]
    assert "query-string-secret" not in str(dict(request.attributes))
    assert request.attributes["http.url"] == "http://testserver/api/user/graphql/"


def test_list_items_have_no_resolver_spans(spans):
    ada = UserFactory(email="ada@example.com")
    for number in range(5):
        UserFactory(email=f"member{number}@example.com", organization=ada.organization)
    client = GraphQLClient().login_as(ada)
    client.execute("query Members { me { organization { members { edges { node { email } } } } } }")
    resolved = [span.name for span in spans.get_finished_spans() if "resolve" in span.name]
    assert "GraphQL resolve Query.me" in resolved
    assert not any("User.email" in name for name in resolved)


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def _served_process(script: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "METRICS"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done


CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REQUEST_SCRIPT = (
    f"CALLER_TRACE = {CALLER_TRACE!r}"
    + """
import json, sys
from backend.wsgi import application
from django.test import Client
answer = Client(HTTP_HOST="localhost").post(
    "/api/user/graphql/", json.dumps({"query": "query Ping { me { email } }"}),
    content_type="application/json", HTTP_GRAPHQL_REQUIRE_PREFLIGHT="1",
    HTTP_TRACEPARENT="00-%s-00f067aa0ba902b7-01" % CALLER_TRACE)
assert answer.status_code in (200, 403), answer.status_code
print(json.dumps(sorted(
    name for name in sys.modules if name.startswith(("opentelemetry", "prometheus_client"))
)))
"""
)


@pytest.mark.parametrize("proxies", [0, 1])
def test_tracing_exports_over_otlp_when_an_endpoint_is_set(tmp_path, proxies):
    """Spans reach the collector; the caller's trace is continued only from behind a
    trusted proxy (a client's own traceparent would choose its trace id and sampling)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _served_process(
            REQUEST_SCRIPT,
            tmp_path,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_port}",
            OTEL_SERVICE_NAME="roster-test",
            TRUSTED_PROXY_COUNT=str(proxies),
        )
    finally:
        server.shutdown()
    names, services, traces = [], set(), set()
    for path, body in _Collector.received:
        assert path == "/v1/traces"
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            services.update(
                attribute.value.string_value
                for attribute in resource_spans.resource.attributes
                if attribute.key == "service.name"
            )
            for scope in resource_spans.scope_spans:
                names.extend(span.name for span in scope.spans)
                traces.update(span.trace_id.hex() for span in scope.spans)
    assert services == {"roster-test"}
    assert "query Ping" in names and any(name.startswith("POST") for name in names)
    assert len(traces) == 1
    assert (traces == {CALLER_TRACE}) is bool(proxies)


def test_off_nothing_of_tracing_or_metrics_is_loaded(tmp_path):
    done = _served_process(REQUEST_SCRIPT, tmp_path)
    assert json.loads(done.stdout.splitlines()[-1]) == []
