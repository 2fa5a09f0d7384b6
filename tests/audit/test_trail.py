"""The audit trail's guarantees (issue #20): one transaction with the change, append-only
(PostgreSQL refuses changes), tamper-evident chains that ``auditverify`` checks, one chain
under concurrent events, retention, export, and where each request came from."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.audit import (
    audit_maintenance,
    audit_prune,
    audit_record,
    audit_verify,
)
from accounts.models import AuditChain, AuditEvent
from tests.accounts.organizations.test_concurrency import run_together
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def record(organization, n: int = 1, action: str = "team.created") -> list[AuditEvent]:
    return [audit_record(action, organization=organization, metadata={"n": i}) for i in range(n)]


def by_hand(sql: str, params=()) -> None:
    """A change made to the table directly (an operator, or an attacker with database
    access), past the application and the trigger."""
    with audit_maintenance(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER USER")


def test_a_chain_verifies_and_links_each_event_to_the_one_before(organization):
    first, second, third = record(organization, 3)
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    assert audit_verify() == []
    output = StringIO()
    call_command("auditverify", stdout=output)
    assert "intact" in output.getvalue()


def test_an_edited_event_breaks_its_chain_there(organization):
    events = record(organization, 4)
    other = OrganizationFactory()
    record(other, 2)
    by_hand(
        "UPDATE accounts_auditevent SET metadata = %s WHERE id = %s",
        [json.dumps({"n": 99}), events[1].pk],
    )
    [link] = audit_verify()
    assert (link.chain, link.sequence, link.reason) == (str(organization.pk), 2, "edited event")
    with pytest.raises(CommandError):
        call_command("auditverify", stdout=StringIO())
    assert audit_verify(chain=str(other.pk)) == []


@pytest.mark.parametrize("which", [0, 2, 3], ids=["first", "middle", "last"])
def test_a_removed_event_breaks_its_chain(organization, which):
    events = record(organization, 4)
    by_hand("DELETE FROM accounts_auditevent WHERE id = %s", [events[which].pk])
    [link] = audit_verify()
    assert link.sequence == which + 1


def test_an_event_goes_with_its_rolled_back_change(organization):
    record(organization)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(organization)
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == 1
    assert AuditChain.objects.get(key=str(organization.pk)).length == 1
    assert audit_verify() == []


def test_a_refused_mutation_records_nothing_but_a_failed_sign_in_stays(organization):
    ada = UserFactory(organization=organization)
    client = GraphQLClient().login_as(ada)
    client.mutate("updateProfile", {"timezone": "Not/AZone"}, "__typename")
    assert not AuditEvent.objects.filter(action="user.profile.updated").exists()
    GraphQLClient().mutate("login", {"email": ada.email, "password": "wrong"}, "__typename")
    failed = AuditEvent.objects.get(action="user.login.failed")
    assert (failed.target_type, failed.target_id) == ("User", str(ada.guid))
    assert failed.chain == str(organization.pk) and failed.actor_id is None


def test_where_the_request_came_from_is_recorded(settings, organization):
    settings.TRUSTED_PROXY_COUNT = 1
    ada = UserFactory(organization=organization)
    client = GraphQLClient(HTTP_USER_AGENT="Firefox/140", HTTP_X_FORWARDED_FOR="203.0.113.9")
    response = client.execute(
        "mutation($input: LoginInput!) { login(input: $input) { __typename } }",
        {"input": {"email": ada.email, "password": PASSWORD}},
        HTTP_X_REQUEST_ID="req-42",
    )
    assert response.http["X-Request-ID"] == "req-42"
    event = AuditEvent.objects.get(action="user.login.succeeded")
    assert (event.ip_address, event.user_agent, event.request_id) == (
        "203.0.113.9",
        "Firefox/140",
        "req-42",
    )
    assert event.actor_id == ada.pk and event.actor_email == ada.email
    # Addresses in any IPv6 form are stored, and hashed, as the column keeps them.
    settings.TRUSTED_PROXY_COUNT = 0
    for address in ("::ffff:198.51.100.7", "2001:DB8:0:0::1"):
        GraphQLClient(REMOTE_ADDR=address).mutate(
            "login", {"email": ada.email, "password": "wrong"}, "__typename"
        )
    stored = AuditEvent.objects.filter(action="user.login.failed").order_by("id")
    assert list(stored.values_list("ip_address", flat=True)) == [
        "::ffff:198.51.100.7",
        "2001:db8::1",
    ]
    assert audit_verify() == []
    # A request id that is not a plausible one is replaced.
    answer = client.execute("{ me { email } }", HTTP_X_REQUEST_ID="bad id\n" * 3)
    assert len(answer.http["X-Request-ID"]) == 32


def test_retention_keeps_each_chain_verifiable_from_its_oldest_kept_event(organization):
    events = record(organization, 5)
    old = timezone.now() - timedelta(days=400)
    # Their age, set by hand (the application never changes an event): re-hashed so
    # that the chain stays intact and only retention is tested.
    from accounts.audit import event_hash

    previous = events[0].previous_hash
    for event in events[:3]:
        event.occurred_at, event.previous_hash = old, previous
        event.hash = previous = event_hash(event)
        by_hand(
            "UPDATE accounts_auditevent SET occurred_at = %s, previous_hash = %s, hash = %s"
            " WHERE id = %s",
            [old, event.previous_hash, event.hash, event.pk],
        )
    for event in events[3:]:
        event.previous_hash = previous
        event.hash = previous = event_hash(event)
        by_hand(
            "UPDATE accounts_auditevent SET previous_hash = %s, hash = %s WHERE id = %s",
            [event.previous_hash, event.hash, event.pk],
        )
    AuditChain.objects.filter(key=str(organization.pk)).update(last_hash=previous)
    assert audit_verify() == []

    output = StringIO()
    call_command("auditprune", stdout=output)  # AUDIT_RETENTION_DAYS: 365
    assert "Removed 3" in output.getvalue()
    assert list(AuditEvent.objects.values_list("sequence", flat=True).order_by("sequence")) == [
        4,
        5,
    ]
    assert audit_verify() == []
    record(organization)  # the chain goes on
    assert audit_verify() == []
    # Removing the oldest kept one by hand is still detected.
    by_hand("DELETE FROM accounts_auditevent WHERE sequence = 4")
    assert [link.sequence for link in audit_verify()] == [4]
    assert audit_prune(days=10_000) == 0


def test_export_writes_ndjson_of_one_organization(organization):
    record(organization, 2)
    record(OrganizationFactory(), 1)
    output = StringIO()
    call_command("auditexport", organization=str(organization.pk), stdout=output)
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2]
    assert {line["organization"] for line in lines} == {str(organization.pk)}
    assert {"action", "occurred_at", "actor_email", "target", "ip_address", "hash"} <= set(lines[0])
    later = StringIO()
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    call_command("auditexport", organization=str(organization.pk), since=tomorrow, stdout=later)
    assert later.getvalue() == ""
    upper = StringIO()
    call_command("auditexport", organization=str(organization.pk).upper(), stdout=upper)
    assert upper.getvalue() == output.getvalue()
    for unknown in ("nope", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(CommandError):
            call_command("auditexport", organization=unknown, stdout=StringIO())
        with pytest.raises(CommandError):
            call_command("auditverify", organization=unknown, stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("auditprune", days=0, stdout=StringIO())


def test_the_admin_shows_events_read_only(organization):
    record(organization)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = GraphQLClient().login_as(staff)
    listing = client.http.get("/admin/accounts/auditevent/")
    assert listing.status_code == 200 and b"team.created" in listing.content
    event = AuditEvent.objects.get()
    assert client.http.get(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403
    assert client.http.get("/admin/accounts/auditevent/add/").status_code == 403
    change = f"/admin/accounts/auditevent/{event.pk}/change/"
    assert client.http.get(change).status_code == 200  # shown, read-only
    csrf = client.http.cookies["csrftoken"].value
    edit = client.http.post(change, {"action": "x", "csrfmiddlewaretoken": csrf})
    assert edit.status_code == 403  # refused as read-only, past the CSRF check
    event.refresh_from_db()
    assert event.action == "team.created"


# PostgreSQL: the database itself refuses changes, and concurrent events form one chain.


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_an_event(organization):
    [event] = record(organization)
    for sql in (
        "UPDATE accounts_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM accounts_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    # Retention's and wipe-out's maintenance may delete, never update.
    with pytest.raises(DatabaseError), audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert not AuditEvent.objects.exists()


@pytest.mark.postgres
def test_the_maintenance_allowance_ends_with_its_block(organization):
    first, second = record(organization, 2)
    with transaction.atomic():  # e.g. a wipe-out that goes on after forgetting events
        with audit_maintenance():
            AuditEvent.objects.filter(pk=first.pk).delete()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=second.pk).delete()
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [second.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_one_organization_form_one_chain(organization):
    members = UserFactory.create_batch(20, organization=organization)
    clients = [GraphQLClient().login_as(member) for member in members]

    def rename(client, n):
        return lambda: client.mutate("updateProfile", {"firstName": f"Name {n}"}, "__typename")

    answers = run_together([rename(client, n) for n, client in enumerate(clients)])
    assert {answer["__typename"] for answer in answers} == {"User"}
    events = AuditEvent.objects.filter(chain=str(organization.pk), action="user.profile.updated")
    assert events.count() == 20
    sequences = list(
        AuditEvent.objects.filter(chain=str(organization.pk))
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, len(sequences) + 1))
    assert audit_verify() == []


def test_events_never_hold_secrets(organization):
    ada = UserFactory(organization=organization)
    client = GraphQLClient()
    client.mutate("login", {"email": ada.email, "password": PASSWORD}, "__typename")
    client.mutate(
        "changePassword",
        {"currentPassword": PASSWORD, "newPassword": "another long passphrase"},
        "__typename",
    )
    client.mutate("requestPasswordReset", {"email": ada.email}, "__typename")
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert PASSWORD not in stored and "another long passphrase" not in stored
    keys = {
        key
        for metadata in AuditEvent.objects.values_list("metadata", flat=True)
        for key in metadata
    }
    assert not keys & {"token", "password", "new_password", "secret", "code"}


def test_pages_of_the_trail_do_not_shift_when_events_arrive(organization):
    from accounts.services.groups import permission_groups_setup
    from tests.factories import administrator
    from tests.paging import walk

    permission_groups_setup()
    admin = administrator(organization=organization)
    record(organization, 5)
    client = GraphQLClient().login_as(admin)
    query = (
        "query($first: Int, $after: String, $last: Int, $before: String) { organization {"
        " auditEvents(first: $first, after: $after, last: $last, before: $before) {"
        " totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
        " edges { node { metadata } } } } }"
    )

    def fetch(**page):
        answer = client.execute(query, page)
        assert answer.errors == [], answer.errors
        return answer.data["organization"]["auditEvents"]

    first = fetch(first=2)
    assert [e["node"]["metadata"]["n"] for e in first["edges"]] == [4, 3]
    record(organization, 3)  # newer events arrive meanwhile
    after = fetch(first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["metadata"]["n"] for e in after["edges"]] == [2, 1]
    assert after["totalCount"] == 8

    def item(node):
        return node["metadata"]["n"]

    # Newest first: the 3 new ones, then the 5 from before; backward walks agree.
    forward = walk(fetch, item, size=3)
    assert forward == [2, 1, 0, 4, 3, 2, 1, 0]
    assert walk(fetch, item, size=3, backwards=True) == forward
    invalid = client.execute(query, {"first": 2, "after": "bm90IGEgY3Vyc29y"})
    assert invalid.error_codes() == ["INVALID"]
