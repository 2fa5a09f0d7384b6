"""Mutations of enterprise SSO: each unpacks its input and calls one service."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from accounts.services.sso import domain_verify, sso_configure, sso_remove
from schema.mutations import input_mutation, mutation
from schema.organizations.types import OrganizationType
from schema.permissions import require_viewer
from schema.sso.types import OrganizationDomainType


@strawberry.type
class Mutation:
    @input_mutation(
        sensitive=True,
        description=(
            "Set the organization's own OIDC provider (administrators): its issuer (checked "
            "by discovery and keys), client id and secret (write-only; left out, the stored "
            "one stays), the email domains it serves (each proven by verifyDomain) and "
            "whether members must sign in through it (enforced)."
        ),
    )
    def configure_sso(
        self,
        info: Info,
        issuer: str,
        client_id: str,
        domains: list[str],
        enforced: bool,
        client_secret: str | None = None,
    ) -> OrganizationType:
        return sso_configure(
            actor=require_viewer(info),
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            domains=domains,
            enforced=enforced,
        )

    @mutation(
        sensitive=True,
        description=(
            "Remove the organization's provider and domains (administrators); accounts stay "
            "and may set a password by reset."
        ),
    )
    def remove_sso(self, info: Info) -> OrganizationType:
        return sso_remove(actor=require_viewer(info))

    @input_mutation(
        description=(
            "Check the domain's DNS for its TXT verification record (administrators); "
            "DOMAIN_NOT_VERIFIED until it is there."
        )
    )
    def verify_domain(self, info: Info, domain: str) -> OrganizationDomainType:
        return domain_verify(actor=require_viewer(info), domain=domain)
