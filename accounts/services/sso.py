"""Enterprise SSO: an organization's own OIDC provider, and the mail domains it serves.

Administrators configure the provider (issuer, client id, client secret, domains,
enforcement). Roster checks the issuer's discovery document and key set when it is
saved. A domain routes sign-ins only once its DNS holds the TXT record
``roster-verification=<token>`` (``domain_verify``), and one organization at a time.
The client secret is stored encrypted (``backend.crypto``) and never answered.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import oidc_client
from accounts.audit import Target, audit_record
from accounts.groups import user_is_administrator
from accounts.models import Organization, OrganizationDomain, OrganizationSso
from accounts.ratelimit import rate_limit_hit
from accounts.services.organizations import (
    organization_administered_by,
    user_can_update_organization,
)
from backend.crypto import secret_decrypt, secret_encrypt, secret_reencrypt
from backend.errors import DomainNotVerified, ErrorMessage, Invalid, NotFound

DOMAINS_MAX = 20
VERIFY_SCOPE = "domain-verify"


def domain_normalize(name: str) -> str | None:
    """``name`` as a lower-case ASCII (IDNA) domain of at least two labels; None when it
    is not one."""
    name = (name or "").strip().rstrip(".").lower()
    try:
        ascii_name = name.encode("idna").decode("ascii")
        # Python's IDNA (2003) maps some names onto others (straße -> strasse): a name
        # that does not come back as itself is refused rather than confused.
        if not name.isascii() and ascii_name.encode("ascii").decode("idna") != name:
            return None
    except UnicodeError:
        return None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2:
        return None
    for label in labels:
        if not label or len(label) > 63 or label.startswith("-") or label.endswith("-"):
            return None
        if not all(c.isalnum() or c == "-" for c in label):
            return None
    return ascii_name


def _domains_normalized(domains: Iterable[str]) -> list[str]:
    names, errors = [], []
    for raw in domains:
        name = domain_normalize(raw)
        if name is None:
            message = gettext("%(domain)s is not a domain name.") % {"domain": raw}
            errors.append(ErrorMessage(message, "INVALID", "domains"))
        elif name not in names:
            names.append(name)
    if len(names) > DOMAINS_MAX:
        message = gettext("At most %(count)d domains.") % {"count": DOMAINS_MAX}
        errors.append(ErrorMessage(message, "INVALID", "domains"))
    if errors:
        raise Invalid(errors[0].message, field="domains", errors=errors)
    return names


# The provider's URLs that Roster's server fetches (the authorization endpoint is the
# browser's), and all those it keeps.
FETCHED_ENDPOINTS = ("token_endpoint", "jwks_uri", "userinfo_endpoint", "introspection_endpoint")
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


def _url_refused(url: str) -> str | None:
    """Why Roster will not fetch ``url`` for an organization (None: it will). An
    administrator chooses these URLs, so they must be https and, unless
    ``SSO_ALLOW_PRIVATE_PROVIDERS``, reach public addresses only: no loopback, private,
    link-local (cloud metadata) or reserved address can be probed through Roster."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback_http = parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not loopback_http:
        return gettext("%(url)s is not an https URL.") % {"url": url}
    if settings.SSO_ALLOW_PRIVATE_PROVIDERS:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)}
    except (OSError, UnicodeError):
        return gettext("%(host)s does not resolve.") % {"host": host}
    if not addresses or not all(ipaddress.ip_address(a).is_global for a in addresses):
        return gettext("%(host)s is not a public address.") % {"host": host}
    return None


def provider_check(issuer: str) -> dict[str, str]:
    """The provider's issuer (as its discovery document names it) and endpoints, once
    the document and its key set could be fetched; INVALID (field ``issuer``) with the
    reason otherwise. The endpoints are stored: sign-ins use these checked URLs, not
    whatever a later discovery document says."""
    if (refused := _url_refused(issuer)) is not None:
        raise Invalid(refused, field="issuer")
    try:
        document = oidc_client.discovery_document(issuer, fresh=True)
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str) or not document[name]:
                raise oidc_client.ProviderUnavailable(f"no {name}")
        for name in FETCHED_ENDPOINTS:
            url = document.get(name)
            if url and (refused := _url_refused(str(url))) is not None:
                raise Invalid(refused, field="issuer")
        keys = oidc_client.key_set_fetch(document["jwks_uri"])
    except oidc_client.ProviderUnavailable as error:
        raise Invalid(
            gettext("The provider's configuration could not be read: %(reason)s")
            % {"reason": error},
            field="issuer",
        ) from error
    if not keys:
        raise Invalid(gettext("The provider publishes no signing keys."), field="issuer")
    return {
        "issuer": document["issuer"],
        **{name: str(document.get(name) or "") for name in ENDPOINTS},
    }


def sso_configure(
    *,
    actor,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    domains: Iterable[str],
    enforced: bool,
) -> Organization:
    """Set the organization's provider (administrators). ``client_secret`` None keeps
    the stored one, for the same issuer and client only (the secret never goes to
    another provider). Domains still listed keep their verification; new ones start
    unverified with a new token; those left out are removed."""
    organization_administered_by(actor=actor, lock=False)  # before any request leaves Roster
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 255:
        raise Invalid(gettext("Give the client id the provider issued."), field="clientId")
    names = _domains_normalized(domains)
    configured = OrganizationSso.objects.filter(organization_id=actor.organization_id).exists()
    if not client_secret and not configured:
        raise _secret_needed()
    endpoints = provider_check((issuer or "").strip())  # network: outside the row lock
    with transaction.atomic():
        return _sso_save(
            actor=actor,
            endpoints=endpoints,
            client_id=client_id,
            client_secret=client_secret,
            names=names,
            enforced=enforced,
        )


def _secret_needed() -> Invalid:
    return Invalid(gettext("Give the client secret the provider issued."), field="clientSecret")


def _sso_save(*, actor, endpoints, client_id, client_secret, names, enforced) -> Organization:
    organization = organization_administered_by(actor=actor)
    issuer = endpoints["issuer"]
    sso = OrganizationSso.objects.filter(organization=organization).first()
    if not client_secret and (sso is None or (sso.issuer, sso.client_id) != (issuer, client_id)):
        raise _secret_needed()  # a kept secret never goes to another provider or client
    sso = sso or OrganizationSso(organization=organization)
    for name, value in endpoints.items():
        setattr(sso, name, value)
    sso.issuer, sso.client_id, sso.enforced = issuer, client_id, bool(enforced)
    if client_secret:
        sso.client_secret = secret_encrypt(client_secret)
    else:  # kept: encrypted again under the newest key (FIELD_ENCRYPTION_KEY rotation)
        sso.client_secret = secret_reencrypt(sso.client_secret)
    sso.save()
    organization.domains.exclude(name__in=names).delete()
    known = set(organization.domains.values_list("name", flat=True))
    OrganizationDomain.objects.bulk_create(
        OrganizationDomain(
            organization=organization, name=name, verification_token=secrets.token_urlsafe(24)
        )
        for name in names
        if name not in known
    )
    audit_record(
        "organization.sso.configured",
        actor=actor,
        organization=organization,
        target=Target.organization(organization),
        metadata={
            "issuer": issuer,
            "client_id": client_id,
            "domains": names,
            "enforced": sso.enforced,
            "secret_changed": bool(client_secret),
        },
    )
    return organization


@transaction.atomic
def sso_remove(*, actor) -> Organization:
    """Remove the provider and its domains; the accounts stay and may set a password by
    reset."""
    organization = organization_administered_by(actor=actor)
    deleted, _ = OrganizationSso.objects.filter(organization=organization).delete()
    organization.domains.all().delete()
    if deleted:
        audit_record(
            "organization.sso.removed",
            actor=actor,
            organization=organization,
            target=Target.organization(organization),
        )
    return organization


def _txt_records(domain: str) -> list[str]:
    """The TXT strings of ``domain`` (empty when it has none or does not exist)."""
    resolver = dns.resolver.Resolver(configure=not settings.SSO_DNS_RESOLVER)
    if settings.SSO_DNS_RESOLVER:
        host, _, port = settings.SSO_DNS_RESOLVER.rpartition(":")
        resolver.nameservers = [host.strip("[]") or settings.SSO_DNS_RESOLVER]
        resolver.port = int(port) if host else 53
    resolver.lifetime = settings.SSO_DNS_TIMEOUT
    try:
        answer = resolver.resolve(domain, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        return []
    except dns.exception.DNSException as error:
        raise DomainNotVerified(
            gettext("The domain's DNS could not be asked: %(reason)s")
            % {"reason": type(error).__name__},
            field="domain",
        ) from error
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def domain_verify(*, actor, domain: str) -> OrganizationDomain:
    """Verify one of the organization's domains by its DNS TXT record (administrators).
    DOMAIN_NOT_VERIFIED when the record is missing or another organization verified the
    domain first."""
    name = domain_normalize(domain)
    with transaction.atomic():
        organization = organization_administered_by(actor=actor)
        row = organization.domains.filter(name=name).first() if name else None
        if row is None:
            raise NotFound(field="domain")
        if row.verified_at is not None:
            return row
    rate_limit_hit(scope=VERIFY_SCOPE, identity=str(organization.pk))
    if row.verification_record not in _txt_records(row.name):
        raise DomainNotVerified(field="domain")
    try:
        with transaction.atomic():
            updated = OrganizationDomain.objects.filter(pk=row.pk, verified_at__isnull=True)
            updated.update(verified_at=timezone.now())
    except IntegrityError as error:
        raise DomainNotVerified(
            gettext("Another organization has verified this domain."), field="domain"
        ) from error
    row = OrganizationDomain.objects.filter(pk=row.pk).first()
    if row is None:  # removed by a configureSso meanwhile
        raise NotFound(field="domain")
    audit_record(
        "organization.domain.verified",
        actor=actor,
        organization=organization,
        target=Target.organization(organization),
        metadata={"domain": row.name},
    )
    return row


def sso_for_email(email: str) -> OrganizationSso | None:
    """The SSO of the organization that verified ``email``'s domain, if any."""
    domain = domain_normalize((email or "").rpartition("@")[2])
    if domain is None:
        return None
    return (
        OrganizationSso.objects.select_related("organization")
        .filter(
            organization__domains__name=domain, organization__domains__verified_at__isnull=False
        )
        .first()
    )


def sso_visible_to(*, user, organization: Organization) -> OrganizationSso | None:
    """An organization's provider, for its administrators (None for anyone else)."""
    if not user_can_update_organization(user=user, organization=organization):
        return None
    return OrganizationSso.objects.filter(organization_id=organization.pk).first()


@dataclass(frozen=True)
class SignInChoice:
    password: bool  # signing in with a password may work
    sso: OrganizationSso | None  # the provider of the email's domain, if any


def sign_in_options(email: str) -> SignInChoice:
    """How ``email`` signs in, from its domain alone: an unknown address answers like a
    known one, so the answer tells nothing about accounts."""
    sso = sso_for_email(email)
    return SignInChoice(password=sso is None or not sso.enforced, sso=sso)


def sso_enforced_for(email: str) -> OrganizationSso | None:
    """The SSO that ``email``'s domain signs in through, when its organization enforces
    it (whoever holds the address: an answer by domain tells nothing about accounts)."""
    found = sso_for_email(email)
    return found if found is not None and found.enforced else None


def sso_required_for(user) -> bool:
    """Whether ``user`` signs in through their organization's provider only: a member of
    an organization that enforces SSO, with an address of its verified domains. Its
    administrators keep their password (the way back in when the provider fails); an
    account of another organization that happens to hold such an address is not
    concerned."""
    sso = sso_enforced_for(user.email) if user is not None else None
    return (
        sso is not None
        and user.organization_id == sso.organization_id
        and not user_is_administrator(user)
    )


def sso_party(sso: OrganizationSso) -> oidc_client.OrganizationParty:
    """Roster as the client of this organization's provider, at its checked endpoints."""
    return oidc_client.OrganizationParty(
        organization_id=sso.organization_id,
        issuer=sso.issuer,
        client_id=sso.client_id,
        client_secret=secret_decrypt(sso.client_secret),
        endpoints={name: getattr(sso, name) for name in ENDPOINTS},
    )
