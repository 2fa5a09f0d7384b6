import pytest
from django.test import RequestFactory

from accounts.ratelimit import address_identity, client_address


@pytest.mark.parametrize(
    ("address", "identity"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_address_identity(address, identity):
    assert address_identity(address) == identity


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "198.51.100.1"


def test_forwarded_for_entry_of_the_trusted_proxy_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9"
    )
    assert client_address(request) == "198.51.100.9"
