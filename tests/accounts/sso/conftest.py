"""A provider and a DNS server on 127.0.0.1 for the enterprise SSO tests."""

from __future__ import annotations

import pytest

from tests.dns_server import dns_serving
from tests.oidc_provider import provider_serving


@pytest.fixture
def provider(settings):
    yield from provider_serving(settings)


@pytest.fixture
def dns(settings):
    yield from dns_serving(settings)
