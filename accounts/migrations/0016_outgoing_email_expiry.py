"""Emails queued before their templates showed a link's expiry date get that date: the
moment the email was made plus the lifetime its link was given."""

from django.conf import settings
from django.db import migrations

LIFETIMES = {
    "verify_email": "VERIFICATION_TOKEN_LIFETIME",
    "password_reset": "RESET_PASSWORD_TOKEN_LIFETIME",
    "email_change_confirm": "EMAIL_CHANGE_TOKEN_LIFETIME",
    "email_change_requested": "EMAIL_CHANGE_REVERT_LIFETIME",
}


def expiry_add(apps, schema_editor):
    OutgoingEmail = apps.get_model("accounts", "OutgoingEmail")
    for email in OutgoingEmail.objects.filter(template__in=LIFETIMES).iterator():
        if "expires_at" in email.context:
            continue
        lifetime = getattr(settings, LIFETIMES[email.template])
        email.context["expires_at"] = (email.created_at + lifetime).isoformat()
        email.save(update_fields=["context"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0015_languages")]

    operations = [migrations.RunPython(expiry_add, migrations.RunPython.noop)]
