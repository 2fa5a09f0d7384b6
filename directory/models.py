"""Directory data: contacts (profile, override, personal) and teams with roles."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.db.models import F, Q

from directory.search import contact_search_values, search_normalize

SEARCH_FIELDS = ("search_full_name", "search_short_name", "search_values")
# Text a person types: PostgreSQL cannot store a NUL character, so the field refuses it.
NO_NUL = [ProhibitNullCharactersValidator()]
NOTES_MAX_LENGTH = 5000


class Contact(models.Model):
    """A contact card.

    - profile contact: ``user`` is set and ``owner == user``;
    - override: ``override`` points at the contact it privately amends for ``owner``;
    - personal contact: neither.

    A profile contact also carries its user's organization (``organization``, null for
    every other contact), so that "the profile contacts of organization X" is one index
    range in the directory's order (``contact_listing_organization``), like "the personal
    contacts of owner Y" (``contact_listing_owner``). ``profile_contact_organization_sync``
    keeps it in step whenever a user's organization is saved.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_contacts"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="profile_contact",
    )
    override = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="overrides"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,  # as the user's own organization is
        related_name="+",
        db_index=False,  # served by contact_listing_organization
    )
    full_name = models.CharField(max_length=150, blank=True, default="", validators=NO_NUL)
    short_name = models.CharField(max_length=50, blank=True, default="", validators=NO_NUL)
    notes = models.TextField(
        blank=True,
        default="",
        # A TextField checks no length by itself (max_length only sizes form widgets).
        validators=[*NO_NUL, MaxLengthValidator(NOTES_MAX_LENGTH)],
    )
    data = models.JSONField(default=dict, blank=True)
    # Normalized copies for the case- and accent-insensitive search (directory/search.py),
    # derived on save; PostgreSQL serves them with a trigram index (migration 0002).
    search_full_name = models.TextField(blank=True, default="", editable=False)
    search_short_name = models.TextField(blank=True, default="", editable=False)
    search_values = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(user=F("owner")),
                name="contact_profile_owned_by_its_user",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(override__isnull=True),
                name="contact_profile_is_not_override",
            ),
            models.UniqueConstraint(
                fields=["owner", "override"],
                condition=Q(override__isnull=False),
                name="contact_one_override_per_owner",
            ),
            models.CheckConstraint(
                condition=Q(organization__isnull=True) | Q(user__isnull=False),
                name="contact_organization_only_on_profile",
            ),
        ]
        # The directory lists contacts in (search_full_name, id) order: each stream of its
        # merged view (directory/listing.py) reads one of these ranges in that order.
        indexes = [
            # The listing's streams (directory/listing.py), in their order. The other
            # search columns ride along (PostgreSQL: INCLUDE), so a search filters the
            # range in the index alone, without a table read per row it skips.
            models.Index(
                fields=["organization", "search_full_name", "id"],
                include=["search_short_name", "search_values"],
                condition=Q(organization__isnull=False),
                name="contact_listing_organization",
            ),
            models.Index(
                fields=["owner", "search_full_name", "id"],
                include=["search_short_name", "search_values"],
                condition=Q(override__isnull=True, organization__isnull=True),
                name="contact_listing_owner",
            ),
            models.Index(
                fields=["owner", "search_full_name", "override"],
                condition=Q(override__isnull=False) & ~Q(search_full_name=""),
                name="contact_listing_renamed",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or str(self.id)

    def save(self, *args, **kwargs):
        self.search_fields_refresh()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *SEARCH_FIELDS}
        super().save(*args, **kwargs)

    def search_fields_refresh(self) -> None:
        self.search_full_name = search_normalize(self.full_name)
        self.search_short_name = search_normalize(self.short_name)
        self.search_values = contact_search_values(self.data)

    @property
    def is_profile(self) -> bool:
        return self.user_id is not None

    @property
    def is_override(self) -> bool:
        return self.override_id is not None


class TeamRole(models.TextChoices):
    MEMBER = "member", "Member"
    ADMINISTRATOR = "administrator", "Administrator"
    OWNER = "owner", "Owner"


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(max_length=100, validators=NO_NUL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [
            ("manage_team_members", "Can add, change and remove non-owner members"),
            ("manage_team_owners", "Can give and take the owner role"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=20, choices=TeamRole.choices, default=TeamRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id} as {self.role}"
