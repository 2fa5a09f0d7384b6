"""A user's names are stored once, in ProfileData: carry any name that only the user row
holds into the profile (created if missing). Migration 0003 drops the user's columns
(a migration of its own, so PostgreSQL alters no table with pending trigger events)."""

from django.db import migrations

NAME_MAX_LENGTH = 50


def names_to_profile(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    ProfileData = apps.get_model("accounts", "ProfileData")
    users = User.objects.exclude(first_name="", last_name="").values_list(
        "pk", "first_name", "last_name"
    )
    for pk, first_name, last_name in users.iterator():
        profile, _ = ProfileData.objects.get_or_create(user_id=pk)
        if profile.first_name or profile.last_name:
            continue  # the profile's names already win
        profile.first_name = first_name[:NAME_MAX_LENGTH]
        profile.last_name = last_name[:NAME_MAX_LENGTH]
        profile.save(update_fields=["first_name", "last_name"])


def names_to_user(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    ProfileData = apps.get_model("accounts", "ProfileData")
    profiles = ProfileData.objects.exclude(first_name="", last_name="").values_list(
        "user_id", "first_name", "last_name"
    )
    for user_id, first_name, last_name in profiles.iterator():
        User.objects.filter(pk=user_id).update(first_name=first_name, last_name=last_name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(names_to_profile, names_to_user, elidable=True),
    ]
