"""Shared test set-up: a fast hasher, isolated cache, a CSRF-enforcing GraphQL client."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import PASSWORD, OrganizationFactory, UserFactory

GRAPHQL_URL = "/api/user/graphql/"


def pytest_configure(config):
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgres") and not _is_postgres():
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if item.get_closest_marker("redis") and not django_settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


def _is_postgres() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets its own cache namespace (rate limits never leak between tests or
    xdist workers, and a shared Redis is never flushed)."""
    caches = {alias: dict(conf) for alias, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
    settings.MEDIA_ROOT = str(django_settings.BASE_DIR / ".pytest_cache" / "media")


@pytest.fixture(autouse=True)
def _fresh_validation_cache():
    """Each test validates its documents anew (a test may patch a validation rule)."""
    from schema.schema import document_caches_clear

    document_caches_clear()


@dataclass
class GraphQLResponse:
    status_code: int
    payload: dict[str, Any]
    http: Any = field(repr=False, default=None)

    @property
    def data(self) -> dict[str, Any] | None:
        return self.payload.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.payload.get("errors") or []

    def error_codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]


class GraphQLClient:
    """A browser-like client of the real endpoint: keeps cookies, echoes the CSRF token."""

    def __init__(self, **client_kwargs):
        self.http = Client(enforce_csrf_checks=True, **client_kwargs)

    @property
    def csrf_token(self) -> str:
        if "csrftoken" not in self.http.cookies:
            self.http.get("/api/user/health/")
        return self.http.cookies["csrftoken"].value

    def execute(
        self, query: str, variables: dict | None = None, *, csrf: bool = True, **extra
    ) -> GraphQLResponse:
        headers = {"HTTP_X_CSRFTOKEN": self.csrf_token} if csrf else {}
        response = self.http.post(
            GRAPHQL_URL,
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **headers,
            **extra,
        )
        try:
            payload = response.json()
        except ValueError:
            payload = {"raw": response.content.decode(errors="replace")}
        return GraphQLResponse(response.status_code, payload, response)

    def mutate(self, name: str, input_: dict | None, selection: str) -> dict[str, Any]:
        """Run one mutation and answer its payload (success fields or OperationInfo)."""
        argument = "(input: $input)" if input_ is not None else ""
        declaration = f"($input: {name[0].upper()}{name[1:]}Input!)" if input_ is not None else ""
        query = f"""
            mutation {declaration} {{
              {name}{argument} {{
                __typename
                ... on OperationInfo {{ messages {{ kind field message code }} }}
                {selection}
              }}
            }}
        """
        result = self.execute(query, {"input": input_} if input_ is not None else None)
        assert result.status_code == 200, result.payload
        assert not result.errors, result.errors
        return result.data[name]

    def login_as(self, user) -> GraphQLClient:
        self.http.force_login(user)
        return self

    def reauthenticated(self, password: str = PASSWORD) -> GraphQLClient:
        """This session re-authenticated (``reauthenticate``), as sensitive changes need."""
        payload = self.mutate(
            "reauthenticate", {"password": password}, "... on Reauthenticated { validUntil }"
        )
        assert payload["__typename"] == "Reauthenticated", payload
        return self

    def reauthentication_forget(self) -> GraphQLClient:
        """This session's re-authentication has expired (as REAUTHENTICATION_TTL later)."""
        from accounts.services.reauthentication import REAUTHENTICATED_AT

        session = self.http.session
        session.pop(REAUTHENTICATED_AT, None)
        session.save()
        return self


def operation_codes(payload: dict[str, Any]) -> list[str | None]:
    return [m["code"] for m in payload.get("messages", [])]


@pytest.fixture
def gql() -> GraphQLClient:
    return GraphQLClient()


@pytest.fixture
def make_client():
    def _make(user=None) -> GraphQLClient:
        client = GraphQLClient()
        return client.login_as(user) if user is not None else client

    return _make


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def user(organization):
    return UserFactory(organization=organization)


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Other Org")


@pytest.fixture
def outsider(other_organization):
    """A member of another organization."""
    return UserFactory(organization=other_organization)
