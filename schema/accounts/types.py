"""GraphQL types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.contrib.auth.models import Group
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from accounts import models
from accounts.audit import security_events_of
from accounts.selectors import (
    invitations_addressed_to_user_visible_to,
    organization_visible_to,
    permission_groups_visibility,
    sessions_of,
    sessions_visibility,
    users_visibility,
)
from accounts.services import mfa
from schema.audit.types import SecurityEventConnection
from schema.directory.types import ContactType
from schema.oidc.types import ExternalIdentityType
from schema.pagination import connection
from schema.permissions import Scoped, viewer

if TYPE_CHECKING:
    from schema.organizations.types import InvitationType, OrganizationType


@strawberry_django.type(Group, name="PermissionGroup")
class PermissionGroupType(Scoped, relay.Node):
    visibility = staticmethod(permission_groups_visibility)
    name: strawberry.auto

    @classmethod
    def resolve_id_attr(cls) -> str:
        # Group names are unique; the integer key never leaves the server.
        return "name"


class MembersOnlyOrganization(FieldExtension):
    """A user's organization shows only to its members, also where the row is already
    loaded (objects answered by mutations, e.g. an anonymous ``register`` answer, or
    ``me``'s joined organization), which ``OrganizationType.get_queryset`` never sees.

    An extension rather than a resolver, so the optimizer still loads the organization
    (with its annotations when ``seatsUsed`` is selected)."""

    def resolve(self, next_, source, info, **kwargs):
        if not organization_visible_to(user=viewer(info), organization_id=source.organization_id):
            return None
        return next_(source, info, **kwargs)


# only=["guid"]: the optimizer selects the pk by itself but not a custom NodeID; without
# this hint every User `id` in a list costs one query.
@strawberry_django.type(models.User, name="User", only=["guid"])
class UserType(Scoped, relay.Node):
    visibility = staticmethod(users_visibility)
    guid: relay.NodeID[str]
    email: strawberry.auto
    email_verified: strawberry.auto
    language: strawberry.auto
    timezone: strawberry.auto
    permission_groups: list[PermissionGroupType] = strawberry_django.field(field_name="groups")
    external_identities: list[ExternalIdentityType] = strawberry_django.field(
        field_name="external_authentications",
        description="The identities at external providers the user signs in with; "
        "only the user sees their own.",
    )
    profile_contact: ContactType | None = strawberry_django.field(
        description="The user's profile contact, as the viewer sees it (merged view)."
    )

    organization: (
        Annotated[OrganizationType, strawberry.lazy("schema.organizations.types")] | None
    ) = strawberry_django.field(extensions=[MembersOnlyOrganization()])

    # Resolvers reading the joined profile row: a ``field_name="profile__…"`` field would
    # take strawberry-django's generic relation path (``django_getattr``) on every row.
    @strawberry_django.field(select_related=["profile"], only=["profile__first_name"])
    def first_name(self) -> str:
        return _profile_value(self, "first_name")

    @strawberry_django.field(select_related=["profile"], only=["profile__last_name"])
    def last_name(self) -> str:
        return _profile_value(self, "last_name")

    @strawberry_django.field(select_related=["profile"], only=["profile__description"])
    def description(self) -> str:
        return _profile_value(self, "description")

    @strawberry_django.field(
        select_related=["avatar"],
        only=["avatar__image"],
        description="Absolute URL of the avatar image; null without an avatar.",
    )
    def avatar_url(self, info: Info) -> str | None:
        return _avatar_file_url(self, "image", info)

    @strawberry_django.field(
        select_related=["avatar"],
        only=["avatar__thumbnail"],
        description="Absolute URL of the square avatar thumbnail; null without an avatar.",
    )
    def avatar_thumb_url(self, info: Info) -> str | None:
        return _avatar_file_url(self, "thumbnail", info)

    @connection(
        DjangoListConnection[
            Annotated["InvitationType", strawberry.lazy("schema.organizations.types")]
        ],
        description="Pending invitations addressed to this user's email (only the viewer's own).",
    )
    def invitations(self, info: Info) -> Iterable[models.Invitation]:
        return invitations_addressed_to_user_visible_to(user=self, viewer=viewer(info))

    @connection(
        DjangoListConnection["SessionType"],
        description=(
            "The viewer's signed-in sessions (devices), most recently active first; empty "
            "for anyone else's account."
        ),
    )
    def sessions(self, info: Info) -> Iterable[models.Session]:
        sessions = sessions_of(user=self)
        current = viewer(info)
        return sessions if current is not None and current.pk == self.pk else sessions.none()

    @connection(
        SecurityEventConnection,
        description=(
            "The viewer's own sign-ins, failed attempts, password and second-factor "
            "changes, newest first; empty for anyone else's account."
        ),
    )
    def security_events(self, info: Info) -> Iterable[models.AuditEvent]:
        current = viewer(info)
        if current is None or current.pk != self.pk:
            return models.AuditEvent.objects.none()
        return security_events_of(self)

    @strawberry_django.field(
        only=["id", "organization_id"],
        annotate={
            "mfa_totp_enabled": lambda info: mfa.totp_enabled_expression(),
            "mfa_recovery_codes_left": lambda info: mfa.recovery_codes_left_expression(),
            "mfa_passkey_count": lambda info: mfa.passkey_count_expression(),
        },
        description=(
            "The user's second factors (never their secrets): the user's own, and their "
            "organization's administrators' (to see who is not enrolled); null for anyone "
            "else."
        ),
    )
    def mfa(self, info: Info) -> MfaStatusType | None:
        current = viewer(info)
        if not mfa.mfa_status_visible(viewer=current, user=self):
            return None
        own = current.pk == self.pk
        if getattr(self, "mfa_totp_enabled", None) is None:  # a mutation's answer
            return MfaStatusType(
                totp_enabled=mfa.totp_enabled(self),
                recovery_codes_left=mfa.recovery_codes_left(self),
                passkey_count=self.passkeys.count(),
                user=self,
                own=own,
            )
        return MfaStatusType(
            totp_enabled=self.mfa_totp_enabled,
            recovery_codes_left=self.mfa_recovery_codes_left,
            passkey_count=self.mfa_passkey_count,
            user=self,
            own=own,
        )

    @strawberry_django.field(
        only=["id", "organization_id"],
        description=(
            "The viewer's organization requires a second factor the viewer has not set up: "
            "until they do (reauthenticate, then totpSetupBegin or "
            "passkeyRegistrationBegin), an operation that selects more than who they are "
            "answers MFA_REQUIRED. False for anyone but the viewer."
        ),
    )
    def mfa_enrollment_required(self, info: Info) -> bool:
        current = viewer(info)
        return current is not None and current.pk == self.pk and mfa.mfa_enrollment_required(self)


@strawberry_django.type(models.Session, name="Session")
class SessionType(Scoped, relay.Node):
    """A signed-in session of the viewer. Its id is not the session key (the cookie's
    secret), which never leaves the server."""

    visibility = staticmethod(sessions_visibility)
    public_id: relay.NodeID[str]
    created_at: datetime | None = strawberry_django.field(description="When it signed in.")
    last_active_at: datetime | None = strawberry_django.field(
        description="Its last request, to the minute (SESSION_ACTIVITY_INTERVAL)."
    )
    ip_address: str | None = strawberry_django.field(description="The client address then.")
    user_agent: strawberry.auto

    @strawberry_django.field(
        only=["session_key"], description="Whether this is the session making the request."
    )
    def current(self, info: Info) -> bool:
        return self.session_key == info.context.request.session.session_key


@strawberry.type(description="How many sessions ended.")
class SessionsRevoked:
    revoked: int


@strawberry.type(description="Everything Roster holds about the viewer (see README, data export).")
class DataExport:
    created_at: datetime
    data: JSON


@strawberry.type(description="The account is deleted and this session signed out.")
class AccountDeleted:
    ok: bool = True


def _profile_value(user: models.User, name: str) -> str:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    profile = getattr(user, "profile", None)
    return getattr(profile, name, "") if profile is not None else ""


def _avatar_file_url(user: models.User, field: str, info: Info) -> str | None:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    avatar = getattr(user, "avatar", None)
    file = getattr(avatar, field, None) if avatar is not None else None
    if not file:
        return None
    return info.context.request.build_absolute_uri(file.url)


@strawberry.type(description="The request was accepted (the same answer for any email).")
class EmailRequestAccepted:
    ok: bool = True


@strawberry.type(description="The session has ended.")
class LoggedOut:
    ok: bool = True


@strawberry.type(description="Sensitive operations are open in this session until validUntil.")
class Reauthenticated:
    valid_until: datetime


@strawberry.enum(name="MfaMethod", description="A way to give the second factor.")
class MfaMethod(Enum):
    TOTP = "TOTP"
    RECOVERY_CODE = "RECOVERY_CODE"
    PASSKEY = "PASSKEY"


@strawberry.type(
    name="MfaChallenge",
    description=(
        "The password was right and the account has a second factor: no session yet. "
        "Complete the sign-in in this browser with verifyMfa before expiresAt."
    ),
)
class MfaChallengeType:
    methods: list[MfaMethod]
    expires_at: datetime


# What a sign-in answers: the user (signed in), or the challenge of their second factor.
SignInResult = Annotated[UserType | MfaChallengeType, strawberry.union("SignInResult")]


def sign_in_answer(answer: models.User | mfa.MfaChallenge) -> models.User | MfaChallengeType:
    if isinstance(answer, mfa.MfaChallenge):
        return MfaChallengeType(
            methods=[MfaMethod(method) for method in answer.methods],
            expires_at=answer.expires_at,
        )
    return answer


@strawberry.type(
    name="TotpSetup",
    description=(
        "A new authenticator app secret: show the QR code (or the secret), then confirm "
        "with a first code (totpSetupConfirm)."
    ),
)
class TotpSetupType:
    secret: str
    otpauth_uri: str
    qr_code_svg: str = strawberry.field(description="The otpauth URI as a QR code, inline SVG.")


@strawberry.type(
    name="RecoveryCodes",
    description="Single-use codes that stand in for the app; shown this once, keep them safe.",
)
class RecoveryCodesType:
    codes: list[str]


@strawberry.type(name="Passkey", description="One of the viewer's passkeys.")
class PasskeyType:
    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, passkey: models.Passkey) -> PasskeyType:
        return cls(
            id=strawberry.ID(relay.to_base64("Passkey", passkey.pk)),
            name=passkey.name,
            created_at=passkey.created_at,
            last_used_at=passkey.last_used_at,
        )


@strawberry.type(
    name="PasskeyOptions",
    description=(
        "WebAuthn options for the browser, as JSON: parse them (base64url fields to "
        "bytes) for navigator.credentials.create / get."
    ),
)
class PasskeyOptionsType:
    public_key_json: str


@strawberry.type(name="MfaStatus", description="A user's second factors (never their secrets).")
class MfaStatusType:
    totp_enabled: bool
    recovery_codes_left: int
    passkey_count: int
    user: strawberry.Private[models.User]
    own: strawberry.Private[bool]

    @strawberry.field(description="The passkeys, listed to their owner only (empty for others).")
    def passkeys(self) -> list[PasskeyType]:
        if not self.own:
            return []
        return [PasskeyType.of(p) for p in self.user.passkeys.order_by("created_at", "pk")]
