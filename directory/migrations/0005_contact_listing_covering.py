"""The directory at scale, second step: the listing indexes carry every search column
(PostgreSQL: INCLUDE), the personal contacts' index is keyed by a column the database
computes (``listing_owner``, whose statistics the planner reads), and a third index serves
the viewer's overrides that rename a contact."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0010_member_search'),
        ('directory', '0004_contact_listing_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='contact',
            name='contact_listing_organization',
        ),
        migrations.RemoveIndex(
            model_name='contact',
            name='contact_listing_owner',
        ),
        migrations.AddField(
            model_name='contact',
            name='listing_owner',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(models.Q(('organization__isnull', True), ('override__isnull', True)), then=models.F('owner'))), output_field=models.BigIntegerField(null=True)),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('organization__isnull', False)), fields=['organization', 'search_full_name', 'id'], include=('search_short_name', 'search_values'), name='contact_listing_organization'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('listing_owner__isnull', False)), fields=['listing_owner', 'search_full_name', 'id'], include=('search_short_name', 'search_values'), name='contact_listing_owner'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('override__isnull', False), models.Q(('search_full_name', ''), _negated=True)), fields=['owner', 'search_full_name', 'override'], name='contact_listing_renamed'),
        ),
    ]
