"""Password validators of Roster (settings.AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from django.contrib.auth import password_validation


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
