"""The benchmark's plain views answer exactly what its GraphQL queries answer, with the
same number of SQL queries at two sizes (the benchmark itself is ``bench/run.py``)."""

from __future__ import annotations

import pytest

from bench.run import members_available, query_counts
from bench.scenarios import SCENARIOS
from bench.seed import SMALL, seed


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


def _scenarios():
    return [s for s in SCENARIOS if members_available() or not s.needs_members]


@pytest.mark.django_db
def test_plain_views_answer_the_graphql_data_with_constant_queries(bench_urls):
    small = seed(**SMALL)
    larger = seed(
        organization_name="Bench Larger",
        email_domain="larger.bench.example.com",
        members=40,
        personal_contacts=80,
        overrides=5,
        first_names=["Maria", "Marta", "José"],
    )
    scenarios = _scenarios()
    # query_counts also checks that both sides answer the same document.
    counts_small = query_counts(small, scenarios)
    counts_larger = query_counts(larger, scenarios)
    assert counts_small == counts_larger
    assert {s.name for s in scenarios} == set(counts_small)


@pytest.mark.django_db
def test_seed_is_idempotent_and_complete(bench_urls):
    from directory.selectors import contacts_merged_for

    admin = seed(**{**SMALL, "members": 5, "personal_contacts": 7, "overrides": 2})
    again = seed(**{**SMALL, "members": 5, "personal_contacts": 7, "overrides": 2})
    assert again.pk == admin.pk
    assert admin.organization.members.count() == 5
    assert admin.groups.filter(name="Administrators").exists()
    assert contacts_merged_for(user=admin).count() == 5 + 7
    assert all(member.profile.first_name for member in admin.organization.members.all())
