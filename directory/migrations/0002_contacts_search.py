"""Contact search: normalized search columns, and on PostgreSQL the unaccent and pg_trgm
extensions plus a trigram GIN index serving ``contacts(search:)``.

The columns are derived in Python (directory/search.py) so SQLite and PostgreSQL answer the
same; the index and the extensions exist only on PostgreSQL (guarded by vendor).
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations, models

INDEX_NAME = "contact_search_trgm"


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class OnPostgreSQL(migrations.operations.base.Operation):
    """Run the wrapped database operation only on PostgreSQL (state is untouched)."""

    reversible = True

    def __init__(self, operation):
        self.operation = operation

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgresql(schema_editor):
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgresql(schema_editor):
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (PostgreSQL only)"


def fill_search_columns(apps, schema_editor):
    from directory.search import contact_search_values, search_normalize

    Contact = apps.get_model("directory", "Contact")
    batch = []
    for contact in Contact.objects.only("id", "full_name", "short_name", "data").iterator():
        contact.search_full_name = search_normalize(contact.full_name)
        contact.search_short_name = search_normalize(contact.short_name)
        contact.search_values = contact_search_values(contact.data)
        batch.append(contact)
        if len(batch) >= 500:
            Contact.objects.bulk_update(batch, ["search_full_name", "search_short_name", "search_values"])
            batch = []
    if batch:
        Contact.objects.bulk_update(batch, ["search_full_name", "search_short_name", "search_values"])


class Migration(migrations.Migration):

    dependencies = [
        ("directory", "0001_initial"),
    ]

    operations = [
        OnPostgreSQL(UnaccentExtension()),
        OnPostgreSQL(TrigramExtension()),
        migrations.AddField(
            model_name="contact",
            name="search_full_name",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="contact",
            name="search_short_name",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="contact",
            name="search_values",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_search_columns, migrations.RunPython.noop),
        OnPostgreSQL(
            migrations.RunSQL(
                f"CREATE INDEX {INDEX_NAME} ON directory_contact USING gin "
                "(search_full_name gin_trgm_ops, search_short_name gin_trgm_ops, "
                "search_values gin_trgm_ops)",
                f"DROP INDEX IF EXISTS {INDEX_NAME}",
            )
        ),
    ]
