"""Seat limits and the last administrator hold under concurrent requests (PostgreSQL:
SQLite serializes writers, so the race only exists on a real server)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import Invitation, Organization, User
from accounts.services.groups import permission_groups_setup
from accounts.services.invitations import invitation_create
from tests.accounts.organizations.conftest import ADMINISTRATORS, group_id, token_from, user_id
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import OrganizationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONCURRENCY = 20
FREE_SEATS = 5


@pytest.fixture
def seats(settings):
    """Put an organization on a plan with ``n`` seats."""

    def _set(organization, n):
        plans = {key: dict(value) for key, value in settings.SUBSCRIPTIONS_AVAILABLE.items()}
        plans["free"]["seats"] = n
        settings.SUBSCRIPTIONS_AVAILABLE = plans
        Organization.objects.filter(pk=organization.pk).update(plan="free")

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token-address": (1000, 900)}
    return _set


def run_together(calls):
    """Run the calls in threads released at the same moment; answer their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def outcome(payloads):
    return sorted(
        p["__typename"] if p["__typename"] != "OperationInfo" else operation_codes(p)[0]
        for p in payloads
    )


def test_concurrent_accepts_fill_exactly_the_free_seats(seats, mailoutbox):
    permission_groups_setup()
    target = OrganizationFactory(name="Target", plan="enterprise")
    admin = UserFactory(organization=target, groups=[ADMINISTRATORS])
    # Each invitee is the only member (and administrator) of an organization of their own,
    # so every accept also locks, leaves and deletes a second organization.
    invitees = [
        UserFactory(
            organization=OrganizationFactory(name=f"Solo {n}"),
            email=f"invitee{n}@example.com",
            groups=[ADMINISTRATORS],
        )
        for n in range(CONCURRENCY)
    ]
    tokens = {}
    for invitee in invitees:
        invitation_create(actor=admin, email=invitee.email)  # commits; the email goes out
        tokens[invitee.pk] = token_from(mailoutbox[-1])
    seats(target, 1 + FREE_SEATS)  # downgraded after inviting: five seats left
    clients = [(GraphQLClient().login_as(invitee), tokens[invitee.pk]) for invitee in invitees]
    for client, _ in clients:
        client.csrf_token  # fetch the cookie before the race

    def accept(client, token):
        return lambda: client.mutate("acceptInvitation", {"token": token}, "__typename")

    payloads = run_together([accept(client, token) for client, token in clients])

    assert outcome(payloads) == ["Organization"] * FREE_SEATS + ["SEAT_LIMIT_REACHED"] * (
        CONCURRENCY - FREE_SEATS
    )
    assert User.objects.filter(organization=target).count() == 1 + FREE_SEATS
    assert Invitation.objects.filter(accepted_at__isnull=False).count() == FREE_SEATS
    assert Organization.objects.filter(name__startswith="Solo").count() == CONCURRENCY - FREE_SEATS


def test_concurrent_invites_never_exceed_the_plan(seats):
    permission_groups_setup()
    organization = OrganizationFactory(name="Busy")
    admin = UserFactory(organization=organization, groups=[ADMINISTRATORS])
    seats(organization, 1 + FREE_SEATS)
    clients = [GraphQLClient().login_as(admin) for _ in range(CONCURRENCY)]
    for client in clients:
        client.csrf_token

    def invite(client, n):
        return lambda: client.mutate("invite", {"email": f"p{n}@example.com"}, "__typename")

    payloads = run_together([invite(client, n) for n, client in enumerate(clients)])

    assert outcome(payloads) == ["Invitation"] * FREE_SEATS + ["SEAT_LIMIT_REACHED"] * (
        CONCURRENCY - FREE_SEATS
    )
    assert Invitation.objects.filter(organization=organization).count() == FREE_SEATS


def test_two_administrators_demoting_each_other_leave_one(seats):
    permission_groups_setup()
    organization = OrganizationFactory(name="Duo")
    first = UserFactory(organization=organization, groups=[ADMINISTRATORS])
    second = UserFactory(organization=organization, groups=[ADMINISTRATORS])
    one, two = GraphQLClient().login_as(first), GraphQLClient().login_as(second)
    one.csrf_token
    two.csrf_token

    def demote(client, target):
        return lambda: client.mutate(
            "setPermissionGroups",
            {"userId": user_id(target), "permissionGroupIds": [group_id("Inviters")]},
            "__typename",
        )

    payloads = run_together([demote(one, second), demote(two, first)])

    # The loser is refused either as no longer an administrator or as the last one.
    assert outcome(payloads) in (["LAST_ADMINISTRATOR", "User"], ["PERMISSION_DENIED", "User"])
    assert User.objects.filter(organization=organization, groups__name=ADMINISTRATORS).count() == 1
