"""OIDC first sign-ins under concurrency (PostgreSQL: real row locks and unique checks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import User, UserExternalAuthentication
from accounts.services.external import external_user_resolve
from backend.errors import SeatLimitReached
from tests.factories import OrganizationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def claims(sub: str, email: str) -> dict:
    return {"sub": sub, "email": email, "email_verified": True, "given_name": "Ada"}


def test_concurrent_first_sign_ins_of_one_person_create_one_account():
    same = claims("subject-1", "ada@example.net")
    outcomes = run_together([lambda: external_user_resolve(provider="idp", claims=same)] * 4)

    assert all(isinstance(outcome, User) for outcome in outcomes), outcomes
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert User.objects.count() == 1
    assert UserExternalAuthentication.objects.count() == 1


def test_concurrent_first_sign_ins_never_exceed_the_domain_organization_seats():
    organization = OrganizationFactory(domain="example.net", plan="free")
    UserFactory.create_batch(organization.seats - 1, organization=organization)
    calls = [
        (
            lambda n=n: external_user_resolve(
                provider="idp", claims=claims(f"s{n}", f"person{n}@example.net")
            )
        )
        for n in range(3)
    ]
    outcomes = run_together(calls)

    joined = [o for o in outcomes if isinstance(o, User)]
    refused = [o for o in outcomes if isinstance(o, SeatLimitReached)]
    assert (len(joined), len(refused)) == (1, 2), outcomes
    assert User.objects.filter(organization=organization).count() == organization.seats
    assert User.objects.filter(email__endswith="@example.net").count() == 1  # no stray accounts
