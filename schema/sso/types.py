"""Types of enterprise SSO: an organization's provider and domains, and how an email
signs in."""

from __future__ import annotations

import strawberry
import strawberry_django

from accounts import models


@strawberry_django.type(models.OrganizationDomain, name="OrganizationDomain")
class OrganizationDomainType:
    name: strawberry.auto

    @strawberry_django.field(only=["verified_at"], description="DNS proved the claim.")
    def verified(self) -> bool:
        return self.verified_at is not None

    @strawberry_django.field(
        only=["verification_token"],
        description="The TXT record to add to the domain's DNS, then verifyDomain.",
    )
    def verification_record(self) -> str:
        return self.verification_record


@strawberry_django.type(models.OrganizationSso, name="OrganizationSso")
class OrganizationSsoType:
    """An organization's own OIDC provider; its client secret is never answered."""

    issuer: strawberry.auto
    client_id: strawberry.auto
    enforced: bool = strawberry_django.field(
        description="Members whose email is in a verified domain sign in through it only "
        "(administrators keep their password)."
    )

    @strawberry_django.field(only=["organization_id"])
    def domains(self) -> list[OrganizationDomainType]:
        return list(models.OrganizationDomain.objects.filter(organization_id=self.organization_id))


@strawberry.type
class SsoOption:
    organization_name: str
    authenticate_url: str = strawberry.field(
        description="Opens the sign-in through the organization's provider (a browser GET)."
    )


@strawberry.type
class SignInOptions:
    password: bool = strawberry.field(description="Signing in with a password may work.")
    sso: SsoOption | None = strawberry.field(
        description="The organization's provider, when the email's domain has one."
    )
