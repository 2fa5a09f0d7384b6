"""Prometheus metrics at /api/user/metrics/: off unless METRICS=1, for the scraper's token
only, with per-operation counts and latency buckets on a bounded set of labels."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import OutgoingEmail
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory
from tests.processes import settings_refusal

pytestmark = pytest.mark.django_db

TOKEN = "scrape-" + "s" * 40
METRICS_URL = "/api/user/metrics/"
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { __typename ... on OperationInfo { messages { code } } }
}
"""


@pytest.fixture
def metrics_on(settings):
    settings.METRICS = True
    settings.METRICS_TOKEN = TOKEN


def scrape(client=None) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, by name and labels."""
    answer = (client or GraphQLClient().http).get(METRICS_URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def delta(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_operations_are_counted_with_their_latency(metrics_on, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (2, 900)}
    ada = UserFactory(email="ada@example.com")
    client = GraphQLClient()
    before = scrape()
    wrong = {"input": {"email": ada.email, "password": "not it"}}
    for _ in range(3):  # the third is over the limit
        client.execute(LOGIN, wrong)
    client.execute(
        "mutation Login($input: LoginInput!) { login(input: $input) { __typename } }",
        {"input": {"email": "other@example.com", "password": PASSWORD}},
    )
    client.execute("{ me { email } }")  # unnamed
    client.execute("query MyVeryOwnName { me { email } }")  # a name not of the API
    client.execute("query Me { me { email } }")
    client.execute("{ nope }")  # does not validate
    client.execute("query Me { me { email")  # does not parse
    after = scrape()

    histogram = "roster_graphql_operation_duration_seconds"
    assert delta(before, after, f"{histogram}_count", operation="login", type="mutation") == 4
    assert delta(before, after, f"{histogram}_count", operation="me", type="query") == 1
    # Unnamed and unknown names share one label, whatever clients invent.
    assert delta(before, after, f"{histogram}_count", operation="other", type="query") == 3
    assert not any("MyVeryOwnName" in str(key) for key in after)
    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in after.items()
        if name == f"{histogram}_bucket" and ("operation", "login") in labels
    }
    assert {"0.005", "0.1", "1.0", "+Inf"} <= set(buckets)
    assert buckets["+Inf"] >= 4
    assert delta(before, after, f"{histogram}_sum", operation="login", type="mutation") > 0

    assert delta(before, after, "roster_errors_total", code="INVALID_CREDENTIALS") == 3
    assert delta(before, after, "roster_errors_total", code="RATE_LIMITED") == 1
    assert delta(before, after, "roster_errors_total", code="GRAPHQL_INVALID") == 2
    assert delta(before, after, f"{histogram}_count", operation="other", type="unknown") == 1
    assert delta(before, after, "roster_rate_limited_total", scope="login-email") == 1
    assert delta(before, after, "roster_logins_total", result="failed") == 3
    assert delta(before, after, "roster_http_responses_total", status="200") >= 7


def test_sign_ins_are_counted(metrics_on):
    ada = UserFactory(email="ada@example.com")
    before = scrape()
    GraphQLClient().execute(LOGIN, {"input": {"email": ada.email, "password": PASSWORD}})
    after = scrape()
    assert delta(before, after, "roster_logins_total", result="succeeded") == 1
    assert delta(before, after, "roster_logins_total", result="failed") == 0


def test_operation_names_of_a_frontend_can_be_listed(metrics_on, settings):
    settings.METRICS_OPERATION_NAMES = frozenset({"ProfilePage"})
    before = scrape()
    GraphQLClient().execute("query ProfilePage { me { email } }")
    after = scrape()
    name = "roster_graphql_operation_duration_seconds_count"
    assert delta(before, after, name, operation="ProfilePage", type="query") == 1


def test_emails_waiting_and_failed_are_read_at_scrape(metrics_on):
    from django.utils import timezone

    OutgoingEmail.objects.create(to="a@example.com", template="x", context={})
    OutgoingEmail.objects.create(to="b@example.com", template="x", context={})
    OutgoingEmail.objects.create(
        to="c@example.com", template="x", context={}, failed_at=timezone.now()
    )
    samples = scrape()
    assert samples[("roster_emails", (("state", "waiting"),))] == 2
    assert samples[("roster_emails", (("state", "failed"),))] == 1
    assert ("roster_tasks_oldest_waiting_seconds", ()) in samples


def test_a_scrape_without_the_token_is_refused(metrics_on):
    http = GraphQLClient().http
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN[:-1]}"},
    ):
        answer = http.get(METRICS_URL, **headers)
        assert answer.status_code == 401, headers
        assert b"roster_" not in answer.content
        assert answer["WWW-Authenticate"].startswith("Bearer")
    assert http.post(METRICS_URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_metrics_are_off_by_default(settings):
    assert settings.METRICS is False
    http = GraphQLClient().http
    assert http.get(METRICS_URL).status_code == 404


def test_metrics_need_a_long_token():
    for token in ("", "short"):
        refusal = settings_refusal(METRICS="1", METRICS_TOKEN=token)
        assert "METRICS=1 needs METRICS_TOKEN" in refusal


def test_metrics_are_made_once_however_many_threads_ask_first(metrics_on, monkeypatch):
    """A threaded worker's first requests come together; prometheus-client refuses a
    second metric of the same name, which would fail an answered request."""
    from prometheus_client import REGISTRY

    from backend import metrics

    existing = metrics._instruments()
    for collector in vars(existing).values():
        REGISTRY.unregister(collector)
    make = metrics._instruments_make

    def slow_make():
        time.sleep(0.05)  # every thread is waiting for the first one by then
        return make()

    monkeypatch.setattr(metrics, "_made", None)
    monkeypatch.setattr(metrics, "_instruments_make", slow_make)
    start, made, failures = threading.Barrier(6), [], []

    def first_request():
        start.wait()
        try:
            made.append(metrics._instruments())
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == [] and len({id(instruments) for instruments in made}) == 1
    finally:
        for instruments in {id(i): i for i in made}.values():
            for collector in vars(instruments).values():
                REGISTRY.unregister(collector)
        for collector in vars(existing).values():
            REGISTRY.register(collector)


def test_a_failure_to_count_or_log_does_not_fail_the_request(metrics_on, monkeypatch, caplog):
    from backend import metrics

    def broken(**kwargs):
        raise RuntimeError("counting failed")

    monkeypatch.setattr(metrics, "request_counted", broken)
    answer = GraphQLClient().execute("{ me { email } }")
    assert answer.status_code == 200 and answer.data == {"me": None}
    assert "Could not count request" in caplog.text
    assert any(record.name == "roster.request" for record in caplog.records)  # still logged


def test_a_scrape_answers_while_the_database_does_not(metrics_on, monkeypatch):
    import accounts.emails

    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(accounts.emails, "emails_counts", unreachable)
    samples = scrape()
    assert not any(name == "roster_emails" for name, _ in samples)
    assert any(name.startswith("roster_graphql_operation_duration") for name, _ in samples)


def test_an_operation_cannot_pass_for_another(metrics_on):
    """Named ``Login`` but running ``resetPassword``: not counted as ``login``."""
    before = scrape()
    GraphQLClient().execute(
        "mutation Login($input: ResetPasswordInput!) { resetPassword(input: $input) "
        "{ __typename } }",
        {"input": {"token": "not-a-token", "newPassword": "x"}},
    )
    after = scrape()
    name = "roster_graphql_operation_duration_seconds_count"
    assert delta(before, after, name, operation="login", type="mutation") == 0
    assert delta(before, after, name, operation="other", type="mutation") == 1
