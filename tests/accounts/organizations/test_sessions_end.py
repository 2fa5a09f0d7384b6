"""Sessions that outlive their account: a deleted or disabled account's cookies die at
once, in the database and in the cache (Redis in CI's PostgreSQL pass)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches

from accounts.models import Session
from accounts.sessions import SessionStore
from tests.conftest import GraphQLClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "{ me { email } }"
LOGIN = """mutation($input: LoginInput!) {
  login(input: $input) { __typename }
}"""


def signed_in(user) -> tuple[GraphQLClient, str]:
    """A browser signed in through the real login mutation, and its session key."""
    client = GraphQLClient()
    result = client.execute(LOGIN, {"input": {"email": user.email, "password": "pw-Secret-123"}})
    assert result.data["login"]["__typename"] == "User", result.payload
    assert client.execute(ME).data["me"]["email"] == user.email
    return client, client.http.cookies[settings.SESSION_COOKIE_NAME].value


def assert_dead(client: GraphQLClient, session_key: str) -> None:
    assert client.execute(ME).data["me"] is None
    assert not Session.objects.filter(session_key=session_key).exists()
    cache = caches[settings.SESSION_CACHE_ALIAS]
    assert cache.get(SessionStore.cache_key_prefix + session_key) is None


def account(organization, **kwargs):
    user = UserFactory(organization=organization, **kwargs)
    user.set_password("pw-Secret-123")
    user.save()
    return user


def test_sessions_of_a_wiped_out_organization_die(admin, organization, other_organization):
    admin.set_password("pw-Secret-123")
    admin.save()
    member = account(organization)
    survivor = account(other_organization)
    member_browser, member_key = signed_in(member)
    survivor_browser, _ = signed_in(survivor)
    admin_browser, admin_key = signed_in(admin)
    admin_browser.reauthenticated("pw-Secret-123")
    payload = admin_browser.mutate(
        "wipeOutOrganization", {"confirmName": organization.name}, "__typename"
    )
    assert payload["__typename"] == "OrganizationWipeOut"
    assert_dead(member_browser, member_key)
    assert_dead(admin_browser, admin_key)
    assert survivor_browser.execute(ME).data["me"]["email"] == survivor.email


def test_sessions_of_a_deleted_account_die(organization):
    user = account(organization)
    browser, key = signed_in(user)
    user.delete()
    assert_dead(browser, key)


def test_sessions_of_a_disabled_account_die(organization):
    user = account(organization)
    browser, key = signed_in(user)
    other_browser, other_key = signed_in(user)
    user.is_active = False
    user.save()
    assert_dead(browser, key)
    assert_dead(other_browser, other_key)


def test_a_session_records_its_user(organization):
    user = account(organization)
    _, key = signed_in(user)
    assert Session.objects.get(session_key=key).user_id == user.pk
