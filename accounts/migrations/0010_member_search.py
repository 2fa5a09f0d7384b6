"""Member search: a user's names and email, normalized, in one column (``User.search_text``),
served on PostgreSQL by a trigram GIN index (the pg_trgm extension comes with the directory's
search, ``directory/0002``)."""

from django.db import migrations, models

INDEX_NAME = "user_search_trgm"


def fill_search_text(apps, schema_editor):
    from accounts.names import member_search_text

    User = apps.get_model("accounts", "User")
    rows = User.objects.values_list("id", "email", "profile__first_name", "profile__last_name")
    batch = []
    for pk, email, first_name, last_name in rows.iterator(chunk_size=2000):
        text = member_search_text(
            first_name=first_name or "", last_name=last_name or "", email=email
        )
        batch.append(User(pk=pk, search_text=text))
        if len(batch) >= 2000:
            User.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        User.objects.bulk_update(batch, ["search_text"])


def trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX {INDEX_NAME} ON accounts_user USING gin (search_text gin_trgm_ops)"
        )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_email_change"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(trigram_index, trigram_index_drop),
    ]
