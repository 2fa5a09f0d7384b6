"""Password validators of Roster (settings.AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    """Django's similarity check over the user's attributes, then over the names in the
    user's profile (``ProfileData`` is where a user's names are stored)."""

    def __init__(
        self,
        user_attributes=("email",),
        profile_attributes=("first_name", "last_name"),
        max_similarity=0.7,
    ):
        super().__init__(user_attributes=user_attributes, max_similarity=max_similarity)
        self.profile_validator = password_validation.UserAttributeSimilarityValidator(
            user_attributes=profile_attributes, max_similarity=max_similarity
        )

    def validate(self, password, user=None):
        super().validate(password, user)
        # A user without profile data (e.g. not saved yet) has no names to compare.
        profile = getattr(user, "profile", None) if user is not None else None
        self.profile_validator.validate(password, profile)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with its message in Roster's catalogs: Django's own Dutch catalog lacks
    the message Django 5.2 uses (Django's other languages have it)."""

    def get_error_message(self):
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
