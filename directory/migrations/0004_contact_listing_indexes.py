"""The directory at scale: a profile contact carries its user's organization, and the
listing reads two indexes in its order (organization's profile contacts, owner's personal
contacts) instead of sorting every visible row."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_organization(apps, schema_editor):
    Contact = apps.get_model("directory", "Contact")
    User = apps.get_model("accounts", "User")
    organization = User.objects.filter(pk=models.OuterRef("user_id")).values("organization_id")
    Contact.objects.filter(user__isnull=False).update(organization_id=models.Subquery(organization))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_email_change"),
        ("directory", "0003_text_fields_refuse_null_characters"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contact",
            name="directory_c_owner_i_8128fd_idx",
        ),
        migrations.AddField(
            model_name="contact",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.RunPython(fill_organization, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("organization__isnull", False)),
                fields=["organization", "search_full_name", "id"],
                name="contact_listing_organization",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("organization__isnull", True), ("override__isnull", True)),
                fields=["owner", "search_full_name", "id"],
                name="contact_listing_owner",
            ),
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("organization__isnull", True), ("user__isnull", False), _connector="OR"
                ),
                name="contact_organization_only_on_profile",
            ),
        ),
    ]
