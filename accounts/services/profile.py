"""The viewer's own profile: names, description, language, timezone and avatar."""

from __future__ import annotations

import logging
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from accounts.audit import audit_user_event
from accounts.images import image_sanitize
from accounts.models import Avatar, ProfileData, User
from accounts.ratelimit import rate_limit_hit
from accounts.signals import user_display_name_changed
from backend.errors import ErrorMessage, Invalid, Unauthenticated
from backend.i18n import language_error, timezone_is_valid
from backend.validation import fields_validate

logger = logging.getLogger(__name__)


def _require_actor(actor) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    return actor


def profile_update(
    *,
    actor: User,
    first_name: str | None = None,
    last_name: str | None = None,
    description: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
) -> User:
    """Change the given profile fields of ``actor`` (``None`` leaves a field as it is).

    A change of names sends ``user_display_name_changed``.
    """
    actor = _require_actor(actor)
    first_name = first_name.strip() if first_name is not None else None
    last_name = last_name.strip() if last_name is not None else None
    description = description.strip() if description is not None else None

    texts = {"first_name": first_name, "last_name": last_name, "description": description}
    texts = {name: value for name, value in texts.items() if value is not None}
    errors: list[ErrorMessage] = []
    try:
        fields_validate(ProfileData(**texts), texts)
    except Invalid as error:
        errors.extend(error.messages)
    if (problem := language_error(language)) is not None:
        errors.append(problem)
    if timezone is not None and not timezone_is_valid(timezone):
        errors.append(
            ErrorMessage(
                gettext("Use an IANA time zone name such as Europe/Paris."), "INVALID", "timezone"
            )
        )
    if errors:
        raise Invalid(errors[0].message, field=errors[0].field, errors=errors)

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        profile, _ = ProfileData.objects.select_for_update().get_or_create(user=user)
        profile_fields: list[str] = []
        user_fields: list[str] = []
        for name, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("description", description),
        ):
            if value is not None:
                setattr(profile, name, value)
                profile_fields.append(name)
        for name, value in (("language", language), ("timezone", timezone)):
            if value is not None:
                setattr(user, name, value)
                user_fields.append(name)
        if profile_fields:
            profile.save(update_fields=profile_fields)
        if user_fields:
            user.save(update_fields=user_fields)
        user.profile = profile
        if first_name is not None or last_name is not None:
            user_display_name_changed.send(sender=User, user=user)
        if profile_fields or user_fields:
            # The names of the fields given (not their values: a description is private).
            audit_user_event(
                "user.profile.updated", user, metadata={"fields": profile_fields + user_fields}
            )
    return user


def avatar_update(*, actor: User, file) -> User:
    """Replace the avatar of ``actor`` by a checked, re-encoded copy of ``file``.

    Nothing is stored unless the image passes every check; the replaced files are
    deleted once the change is committed.
    """
    actor = _require_actor(actor)
    rate_limit_hit(scope="avatar-user", identity=str(actor.guid))
    clean = image_sanitize(upload=file)
    key = uuid.uuid4().hex
    avatar = Avatar(user_id=actor.pk)
    avatar.image.save(f"{key}.{clean.extension}", ContentFile(clean.image), save=False)
    try:
        avatar.thumbnail.save(
            f"{key}_thumb.{clean.extension}", ContentFile(clean.thumbnail), save=False
        )
        with transaction.atomic():
            # One avatar change per user at a time.
            list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
            # The post_delete signal removes the old files after commit.
            Avatar.objects.filter(user_id=actor.pk).delete()
            avatar.save()
            audit_user_event("user.avatar.updated", actor)
    except BaseException:
        avatar_files_delete(names=[avatar.image.name, avatar.thumbnail.name])
        raise
    return _user_with_avatar(actor)


def avatar_remove(*, actor: User) -> User:
    """Remove the avatar of ``actor`` (its files go after commit); no avatar is fine."""
    actor = _require_actor(actor)
    with transaction.atomic():
        removed, _ = Avatar.objects.filter(user_id=actor.pk).delete()
        if removed:
            audit_user_event("user.avatar.removed", actor)
    return _user_with_avatar(actor)


def avatar_files_delete(*, names: list[str]) -> None:
    """Delete stored avatar files; a failure is logged, never raised."""
    storage = Avatar._meta.get_field("image").storage
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete avatar file %s", name)


def _user_with_avatar(actor: User) -> User:
    return User.objects.select_related("profile", "avatar").get(pk=actor.pk)
