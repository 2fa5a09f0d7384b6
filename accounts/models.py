"""Account data: users, organizations, tokens, invitations, external identities.

Models hold data, constraints and small derived properties; rules live in services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import names

NAME_MAX_LENGTH = 50
# Text a person types: PostgreSQL cannot store a NUL character, so the field refuses it.
NO_NUL = [ProhibitNullCharactersValidator()]


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, validators=NO_NUL)
    plan = models.CharField(max_length=50, default="free")
    # An organization that claims a mail domain receives OIDC users of that domain.
    domain = models.CharField(max_length=253, blank=True, default="")
    # Every member must set up a second factor (accounts.services.mfa); until then a
    # member may only do that.
    mfa_required = models.BooleanField(default=False)
    # The language of invitations to people who have no account yet (theirs otherwise).
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"),
                condition=~models.Q(domain=""),
                name="organization_domain_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def plan_settings(self) -> dict:
        plans = settings.SUBSCRIPTIONS_AVAILABLE
        return plans.get(self.plan) or plans[settings.DEFAULT_SUBSCRIPTION]

    @property
    def seats(self) -> int | None:
        return self.plan_settings["seats"]


def email_normalize(email: str | None) -> str:
    """The one form in which an email address is stored and compared: trimmed, lower-case;
    "" for what no account can have (a NUL character, which PostgreSQL cannot even compare)."""
    email = (email or "").strip().lower()
    return "" if "\x00" in email else email


class UserManager(DjangoUserManager):
    """Users log in by email; the username is an internal, generated handle.

    ``first_name`` and ``last_name`` given to ``create_user``/``create_superuser`` go to
    the new user's ``ProfileData``, the one place a user's names are stored."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(
        self, email=None, password=None, username=None, first_name="", last_name="", **extra_fields
    ):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._user_create(email, password, username, first_name, last_name, extra_fields)

    def create_superuser(
        self, email=None, password=None, username=None, first_name="", last_name="", **extra_fields
    ):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True:
            raise ValueError("Superuser must have is_staff=True.")
        if extra_fields["is_superuser"] is not True:
            raise ValueError("Superuser must have is_superuser=True.")
        return self._user_create(email, password, username, first_name, last_name, extra_fields)

    def _user_create(self, email, password, username, first_name, last_name, extra_fields):
        user = self.model(
            username=self.model.normalize_username(username or uuid.uuid4().hex),
            email=email_normalize(email),
            **extra_fields,
        )
        user.password = make_password(password)  # None: an unusable password
        # Saved with the user by the post_save receiver (accounts.signals).
        user.profile = ProfileData(
            first_name=(first_name or "")[:NAME_MAX_LENGTH],
            last_name=(last_name or "")[:NAME_MAX_LENGTH],
        )
        user.save(using=self._db)
        return user


class User(AbstractUser):
    # A user's names are stored once, in ProfileData (accounts.names derives the rest).
    first_name = None
    last_name = None
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    email_verified = models.BooleanField(default=False)
    external_id = models.CharField(max_length=255, blank=True, default="")
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    timezone = models.CharField(max_length=64, default="UTC")
    # Names and email, normalized (``names.member_search_text``), kept in step by ``save``
    # here and ``ProfileData.save``: member searches read one column of one table.
    search_text = models.TextField(blank=True, default="", editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = email_normalize(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "email" in update_fields:
            self.search_text = self.search_text_compute()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def search_text_compute(self, profile: ProfileData | None = None) -> str:
        if profile is None:
            if User.profile.is_cached(self):
                profile = self.profile
            elif self.pk is not None:
                profile = ProfileData.objects.filter(user_id=self.pk).first()
        return names.member_search_text(
            first_name=profile.first_name if profile else "",
            last_name=profile.last_name if profile else "",
            email=self.email,
        )


class ProfileData(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    first_name = models.CharField(
        _("first name"), max_length=NAME_MAX_LENGTH, blank=True, default="", validators=NO_NUL
    )
    last_name = models.CharField(
        _("last name"), max_length=NAME_MAX_LENGTH, blank=True, default="", validators=NO_NUL
    )
    description = models.CharField(max_length=140, blank=True, default="", validators=NO_NUL)

    class Meta:
        verbose_name_plural = "profile data"

    def __str__(self) -> str:
        return self.full_name or str(self.user_id)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"first_name", "last_name"} & set(update_fields):
            user = self.user
            search_text = user.search_text_compute(self)
            if search_text != user.search_text:  # a new account's is already current
                User.objects.filter(pk=user.pk).update(search_text=search_text)
                user.search_text = search_text

    @property
    def full_name(self) -> str:
        return names.full_name(self.first_name, self.last_name)


class PendingRegistration(models.Model):
    """An account whose address is not proven yet. It has no organization and nothing
    usable until the owner proves the address (``accounts.services.registration``); a new
    registration of the address replaces it, and it is deleted once it expires."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="pending_registration"
    )
    # The organization the registration asked for, created once the address is proven.
    organization_name = models.CharField(max_length=100, validators=NO_NUL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"pending registration of {self.user_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Avatar(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="avatar")
    image = models.ImageField(upload_to="avatar_images/")
    thumbnail = models.ImageField(upload_to="avatar_images/")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.image.name


class OneTimeToken(models.Model):
    """A token that reached the user by email; only its hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} of {self.user_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class VerificationToken(OneTimeToken):
    pass


class ResetPasswordToken(OneTimeToken):
    pass


class EmailChange(models.Model):
    """A requested change of a user's email (``accounts.services.email_change``): confirmed
    with a token mailed to the new address, reverted with one mailed to the old one.
    Only the tokens' hashes are stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    old_email = models.EmailField()
    new_email = models.EmailField()
    confirm_token_hash = models.CharField(max_length=64, unique=True)
    revert_token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirm_expires_at = models.DateTimeField()
    revert_expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"email change of {self.user_id}"


class OrganizationSso(models.Model):
    """An organization's own OIDC provider (enterprise SSO, ``accounts.services.sso``)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="sso")
    issuer = models.URLField(max_length=500)
    # The endpoints its discovery named when saved (checked then; sign-ins use these).
    authorization_endpoint = models.URLField(max_length=500)
    token_endpoint = models.URLField(max_length=500)
    userinfo_endpoint = models.URLField(max_length=500, blank=True, default="")
    jwks_uri = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    # Fernet ciphertext under FIELD_ENCRYPTION_KEY (backend.crypto); never answered.
    client_secret = models.TextField()
    # Members whose email is in a verified domain sign in through the provider only.
    enforced = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SSO of {self.organization_id}: {self.issuer}"


class OrganizationDomain(models.Model):
    """A mail domain an organization's SSO serves, once its DNS proves the claim."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(max_length=253)  # lower case, IDNA (ASCII)
    verification_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="organization_domain_once"
            ),
            # A domain routes the sign-ins of one organization at a time.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(verified_at__isnull=False),
                name="domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def verification_record(self) -> str:
        """The TXT record that proves control of the domain."""
        return f"roster-verification={self.verification_token}"


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    inviter = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    permission_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The language its email is written in when the address has no account; blank: the
    # organization's language (accounts.services.invitations).
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_pending_email_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class UserExternalAuthentication(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="external_authentications"
    )
    provider = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255)
    auth_type = models.CharField(max_length=20, default="oidc")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="external_auth_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id}"


class OutgoingEmail(models.Model):
    """An email waiting for the worker (``accounts.emails``): made in the transaction of
    the change that causes it, rendered from its template and context when sent, and
    deleted once the mail server took it, so a link's token is stored only while its
    email waits. One that failed ``EMAIL_RETRY_MAX`` times is kept, ``failed_at`` set,
    for staff to see and retry."""

    to = models.EmailField()
    template = models.CharField(max_length=100)
    context = models.JSONField(encoder=DjangoJSONEncoder)
    # The recipient's language and time zone, fixed when the email is made.
    language = models.CharField(max_length=10, default=settings.LANGUAGE_CODE)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["to", "created_at", "id"])]

    def __str__(self) -> str:
        return f"{self.template} to {self.to}"


class Session(AbstractBaseSession):
    """A Django session that knows its user, so a user's sessions can be listed and ended
    at once (``accounts.sessions``). The key is the cookie's secret and never leaves the
    server; ``public_id`` names the session in the API. The other columns describe the
    signed-in device, written at most once a minute (``SessionActivityMiddleware``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    public_id = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    created_at = models.DateTimeField(null=True, blank=True)
    last_active_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore


class TotpDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238): its secret, encrypted
    (``backend.crypto``), usable once confirmed with a first code."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.TextField()  # encrypted; never logged, never answered after setup
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step a code was accepted for: a code is good once, and never an older one.
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"TOTP of {self.user_id}"


class RecoveryCode(models.Model):
    """One of a user's single-use recovery codes, stored as its SHA-256 (the codes are
    random, 60 bits each: a slow hash would add nothing but time)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"])]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class Passkey(models.Model):
    """A WebAuthn credential of a user (a passkey): a second factor after a password, and a
    passwordless sign-in on its own (a discoverable credential, user verification
    required)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()  # COSE; public, so stored as it is
    sign_count = models.BigIntegerField(default=0)
    name = models.CharField(max_length=100, validators=NO_NUL)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class AuditChain(models.Model):
    """The head of one hash chain of audit events: an organization's (``key`` is its id)
    or the events of no organization (``key`` ""). Locked (SELECT ... FOR UPDATE) while
    an event is appended, so concurrent events of one organization still form one chain.
    ``pruned_*`` anchor the chain after retention removed its oldest events."""

    key = models.CharField(max_length=36, primary_key=True)
    length = models.PositiveBigIntegerField(default=0)  # the last event's sequence
    last_hash = models.CharField(max_length=64)
    pruned_through = models.PositiveBigIntegerField(default=0)
    pruned_hash = models.CharField(max_length=64)  # the last removed event's hash

    def __str__(self) -> str:
        return self.key or "(no organization)"


class AuditEvent(models.Model):
    """Who did what, when, from where (``accounts.audit``). Append-only: the application
    never updates or deletes one (PostgreSQL refuses it, except for retention and
    wipe-out); each event's hash covers its content and the hash of the event before it
    in its chain, so an edited or removed row breaks the chain (``manage.py
    auditverify``). References are kept as they were: ``actor`` and ``organization``
    have no database constraint, ``actor_email`` and ``target_label`` are copies."""

    id = models.BigAutoField(primary_key=True)
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    chain = models.CharField(max_length=36)
    sequence = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=64)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True, default="")
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_label = models.CharField(max_length=255, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="audit_chain_sequence"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id", "id"], name="audit_target"),
            models.Index(fields=["occurred_at"], name="audit_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.occurred_at:%Y-%m-%d %H:%M:%S})"
