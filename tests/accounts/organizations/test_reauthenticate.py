"""Re-authentication ("sudo mode"): a session left open is not enough for a sensitive
change; the password again opens it for REAUTHENTICATION_TTL seconds, in that session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Organization
from accounts.services.reauthentication import REAUTHENTICATED_AT
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

REAUTHENTICATED = "... on Reauthenticated { validUntil }"
WIPED = "... on OrganizationWipeOut { name }"


def wipe_out(client, organization):
    return client.mutate("wipeOutOrganization", {"confirmName": organization.name}, WIPED)


def test_an_open_session_alone_cannot_wipe_out_the_organization(make_client, admin, organization):
    # Someone at the keyboard of a browser that was left signed in.
    payload = wipe_out(make_client(admin), organization)
    assert operation_codes(payload) == ["REAUTHENTICATION_REQUIRED"]
    assert Organization.objects.filter(pk=organization.pk).exists()


def test_reauthenticate_opens_sensitive_operations_for_the_ttl(
    settings, make_client, admin, organization
):
    settings.REAUTHENTICATION_TTL = 300
    client = make_client(admin)
    before = timezone.now()
    payload = client.mutate("reauthenticate", {"password": PASSWORD}, REAUTHENTICATED)
    assert payload["__typename"] == "Reauthenticated"
    valid_until = timezone.datetime.fromisoformat(payload["validUntil"])
    assert before + timedelta(seconds=299) < valid_until <= timezone.now() + timedelta(seconds=300)
    assert wipe_out(client, organization)["__typename"] == "OrganizationWipeOut"


def test_an_expired_reauthentication_no_longer_counts(make_client, admin, organization):
    client = make_client(admin).reauthenticated()
    session = client.http.session
    session[REAUTHENTICATED_AT] = (timezone.now() - timedelta(seconds=601)).timestamp()
    session.save()
    assert operation_codes(wipe_out(client, organization)) == ["REAUTHENTICATION_REQUIRED"]


def test_a_wrong_password_opens_nothing(make_client, admin, organization):
    client = make_client(admin)
    payload = client.mutate("reauthenticate", {"password": "not it"}, REAUTHENTICATED)
    assert operation_codes(payload) == ["INVALID_CREDENTIALS"]
    assert operation_codes(wipe_out(client, organization)) == ["REAUTHENTICATION_REQUIRED"]


def test_reauthenticate_is_rate_limited_like_login(settings, make_client, admin):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (3, 900)}
    client = make_client(admin)
    codes = [
        operation_codes(client.mutate("reauthenticate", {"password": "guess"}, REAUTHENTICATED))
        for _ in range(4)
    ]
    assert codes == [["INVALID_CREDENTIALS"]] * 3 + [["RATE_LIMITED"]]
    right = client.mutate("reauthenticate", {"password": PASSWORD}, REAUTHENTICATED)
    assert operation_codes(right) == ["RATE_LIMITED"]


def test_another_session_of_the_same_account_is_not_opened(make_client, admin, organization):
    make_client(admin).reauthenticated()
    assert operation_codes(wipe_out(make_client(admin), organization)) == [
        "REAUTHENTICATION_REQUIRED"
    ]


def test_reauthenticate_needs_a_session(gql):
    payload = gql.mutate("reauthenticate", {"password": PASSWORD}, REAUTHENTICATED)
    assert operation_codes(payload) == ["UNAUTHENTICATED"]


def test_one_reauthenticate_per_document(make_client, admin):
    client: GraphQLClient = make_client(admin)
    result = client.execute(
        'mutation { a: reauthenticate(input: {password: "x"}) { __typename } '
        'b: reauthenticate(input: {password: "y"}) { __typename } }'
    )
    assert result.data is None and result.errors
