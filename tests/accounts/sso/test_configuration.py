"""Configuring an organization's own provider, and proving its mail domains by DNS."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, OrganizationDomain, OrganizationSso
from accounts.services import sso
from backend.crypto import secret_decrypt
from backend.errors import DomainNotVerified, Invalid, NotFound, PermissionDenied
from tests.factories import OrganizationFactory, administrator
from tests.oidc_provider import LocalProvider

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-provider"


def configure(actor, provider, **overrides):
    arguments = {
        "issuer": provider.issuer,
        "client_id": "acme-roster",
        "client_secret": SECRET,
        "domains": ["Acme.example", "acme.example", "ACME-eu.example."],
        "enforced": True,
        **overrides,
    }
    return sso.sso_configure(actor=actor, **arguments)


def test_an_administrator_configures_the_provider_with_a_secret_kept_encrypted(
    organization, provider
):
    admin = administrator(organization=organization)
    configure(admin, provider)
    stored = OrganizationSso.objects.get(organization=organization)
    assert (stored.issuer, stored.client_id, stored.enforced) == (
        provider.issuer,
        "acme-roster",
        True,
    )
    assert SECRET not in stored.client_secret
    assert secret_decrypt(stored.client_secret) == SECRET
    domains = list(organization.domains.values_list("name", "verified_at"))
    assert domains == [("acme-eu.example", None), ("acme.example", None)]
    event = AuditEvent.objects.get(action="organization.sso.configured")
    assert SECRET not in str(event.metadata)
    assert event.metadata["domains"] == ["acme.example", "acme-eu.example"]


def test_saving_again_keeps_the_secret_and_the_verification_of_listed_domains(
    organization, provider, settings
):
    admin = administrator(organization=organization)
    configure(admin, provider)
    old_key = list(settings.FIELD_ENCRYPTION_KEY)
    settings.FIELD_ENCRYPTION_KEY = ["a-newer-key-for-rotation", *old_key]
    organization.domains.filter(name="acme.example").update(verified_at="2026-12-01T00:00Z")
    configure(admin, provider, client_secret=None, domains=["acme.example", "new.example"])
    stored = OrganizationSso.objects.get(organization=organization)
    assert secret_decrypt(stored.client_secret) == SECRET
    settings.FIELD_ENCRYPTION_KEY = ["a-newer-key-for-rotation"]  # the old key retired
    assert secret_decrypt(stored.client_secret) == SECRET
    verified = {row.name: row.verified_at is not None for row in organization.domains.all()}
    assert verified == {"acme.example": True, "new.example": False}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"issuer": "ftp://idp.example"}, "issuer"),
        ({"issuer": "http://idp.example"}, "issuer"),  # https, except on loopback
        ({"issuer": "https://idp.invalid"}, "issuer"),  # does not resolve
        ({"client_id": " "}, "clientId"),
        ({"domains": ["not a domain"]}, "domains"),
        ({"domains": ["localhost"]}, "domains"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(organization, provider, overrides, field):
    admin = administrator(organization=organization)
    with pytest.raises(Invalid) as refused:
        configure(admin, provider, **overrides)
    assert refused.value.field == field
    assert not OrganizationSso.objects.exists()


def test_a_provider_whose_discovery_or_keys_cannot_be_read_is_refused(organization, settings):
    admin = administrator(organization=organization)
    down = LocalProvider().start()
    issuer = down.issuer
    down.stop()
    with pytest.raises(Invalid) as refused:
        configure(admin, down, issuer=issuer)
    assert refused.value.field == "issuer"
    assert "could not be read" in refused.value.message
    lying = LocalProvider(discovery_issuer="https://someone-else.example").start()
    try:
        with pytest.raises(Invalid):
            configure(admin, lying)
    finally:
        lying.stop()
    assert not OrganizationSso.objects.exists()


def test_only_administrators_configure_or_remove(organization, user, provider):
    with pytest.raises(PermissionDenied):
        configure(user, provider)
    with pytest.raises(PermissionDenied):
        sso.sso_remove(actor=user)


def test_removing_sso_removes_its_domains(organization, provider):
    admin = administrator(organization=organization)
    configure(admin, provider)
    sso.sso_remove(actor=admin)
    assert not OrganizationSso.objects.exists()
    assert not OrganizationDomain.objects.exists()
    assert AuditEvent.objects.filter(action="organization.sso.removed").count() == 1


def test_a_domain_is_verified_by_its_txt_record(organization, provider, dns):
    admin = administrator(organization=organization)
    configure(admin, provider)
    record = organization.domains.get(name="acme.example").verification_record
    assert record.startswith("roster-verification=")
    dns.records["acme.example"] = ["v=spf1 -all", record]
    verified = sso.domain_verify(actor=admin, domain="ACME.example")
    assert verified.verified_at is not None
    assert sso.sso_for_email("ada@Acme.Example").organization == organization
    assert sso.sso_for_email("ada@acme-eu.example") is None  # not verified yet
    assert AuditEvent.objects.filter(action="organization.domain.verified").count() == 1


@pytest.mark.parametrize(
    "records",
    [
        {},  # the domain does not exist
        {"acme.example": []},  # no TXT record
        {"acme.example": ["roster-verification=someone-elses-token"]},
    ],
)
def test_a_domain_without_its_record_stays_unverified(organization, provider, dns, records):
    admin = administrator(organization=organization)
    configure(admin, provider)
    dns.records.update(records)
    with pytest.raises(DomainNotVerified):
        sso.domain_verify(actor=admin, domain="acme.example")
    assert organization.domains.get(name="acme.example").verified_at is None
    assert sso.sso_for_email("ada@acme.example") is None


def test_a_domain_is_verified_by_one_organization_at_a_time(organization, provider, dns):
    first, second = (
        administrator(organization=organization),
        administrator(organization=OrganizationFactory()),
    )
    configure(first, provider)
    configure(second, provider)
    for admin in (first, second):
        row = admin.organization.domains.get(name="acme.example")
        dns.records.setdefault("acme.example", []).append(row.verification_record)
    sso.domain_verify(actor=first, domain="acme.example")
    with pytest.raises(DomainNotVerified) as refused:
        sso.domain_verify(actor=second, domain="acme.example")
    assert "Another organization" in refused.value.message
    assert sso.sso_for_email("ada@acme.example").organization == organization


def test_a_domain_not_configured_or_of_another_organization_is_not_found(
    organization, provider, dns
):
    admin = administrator(organization=organization)
    configure(admin, provider)
    with pytest.raises(NotFound):
        sso.domain_verify(actor=admin, domain="elsewhere.example")


def test_dns_that_does_not_answer_is_reported(organization, provider, settings):
    admin = administrator(organization=organization)
    configure(admin, provider)
    settings.SSO_DNS_RESOLVER = "127.0.0.1:9"  # nothing listens there
    settings.SSO_DNS_TIMEOUT = 0.5
    with pytest.raises(DomainNotVerified) as refused:
        sso.domain_verify(actor=admin, domain="acme.example")
    assert "could not be asked" in refused.value.message


@pytest.mark.parametrize(
    "issuer",
    [
        "https://127.0.0.1:8443/realms/x",
        "https://10.0.0.5/realms/x",
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://[::1]/realms/x",
        "https://localhost/realms/x",
    ],
)
def test_an_administrator_cannot_make_roster_fetch_from_internal_hosts(
    organization, provider, settings, issuer
):
    settings.SSO_ALLOW_PRIVATE_PROVIDERS = False
    admin = administrator(organization=organization)
    hits = dict(provider.hits)
    with pytest.raises(Invalid) as refused:
        configure(admin, provider, issuer=issuer)
    assert refused.value.field == "issuer"
    assert "not a public address" in refused.value.message
    assert dict(provider.hits) == hits


def test_discovery_may_not_send_roster_to_internal_hosts_either(
    organization, provider, settings, monkeypatch
):
    """A public issuer whose discovery names an internal key set URL is refused before
    that URL is fetched."""
    from accounts import oidc_client

    settings.SSO_ALLOW_PRIVATE_PROVIDERS = False
    document = {
        "issuer": "https://idp.example.org",
        "authorization_endpoint": "https://idp.example.org/auth",
        "token_endpoint": "https://idp.example.org/token",
        "jwks_uri": "https://169.254.169.254/keys",
    }
    monkeypatch.setattr(oidc_client, "discovery_document", lambda issuer, fresh=False: document)
    fetched = []
    monkeypatch.setattr(oidc_client, "key_set_fetch", lambda url: fetched.append(url) or [{}])
    monkeypatch.setattr(
        sso.socket,
        "getaddrinfo",
        lambda host, port: (
            [(0, 0, 0, "", ("93.184.216.34", port))]
            if host == "idp.example.org"
            else [(0, 0, 0, "", ("169.254.169.254", port))]
        ),
    )
    admin = administrator(organization=organization)
    with pytest.raises(Invalid) as refused:
        configure(admin, provider, issuer="https://idp.example.org")
    assert "169.254.169.254 is not a public address" in refused.value.message
    assert fetched == []
