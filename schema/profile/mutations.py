"""Mutations of the viewer's own profile and avatar."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.services.profile import avatar_remove, avatar_update, profile_update
from schema.accounts.types import UserType
from schema.mutations import input_mutation, mutation
from schema.permissions import require_viewer


def _given(value):
    """An omitted field (or an explicit null) leaves the stored value as it is."""
    return None if value is strawberry.UNSET else value


@strawberry.type
class Mutation:
    @input_mutation(
        description=(
            "Change the viewer's profile; only the given fields change. Names are at most "
            "50 characters, the description 140, the language one of the configured "
            "languages, the timezone an IANA name."
        )
    )
    def update_profile(
        self,
        info: Info,
        first_name: str | None = strawberry.UNSET,
        last_name: str | None = strawberry.UNSET,
        description: str | None = strawberry.UNSET,
        language: str | None = strawberry.UNSET,
        timezone: str | None = strawberry.UNSET,
    ) -> UserType:
        return profile_update(
            actor=require_viewer(info),
            first_name=_given(first_name),
            last_name=_given(last_name),
            description=_given(description),
            language=_given(language),
            timezone=_given(timezone),
        )

    @input_mutation(
        description=(
            "Replace the viewer's avatar by an uploaded image (GraphQL multipart request): "
            "PNG, JPEG, WebP or GIF (first frame), re-encoded without metadata, with a "
            "square thumbnail. Errors: UNSUPPORTED_IMAGE, IMAGE_TOO_LARGE."
        )
    )
    def update_avatar(self, info: Info, file: Upload) -> UserType:
        return avatar_update(actor=require_viewer(info), file=file)

    @mutation(description="Remove the viewer's avatar and its files.")
    def remove_avatar(self, info: Info) -> UserType:
        return avatar_remove(actor=require_viewer(info))
