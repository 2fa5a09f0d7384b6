"""The directory at scale, second step: the listing indexes carry every search column
(PostgreSQL: INCLUDE), so a search filters their ranges in the index alone, and a third
index serves the viewer's overrides that rename a contact."""

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
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('organization__isnull', False)), fields=['organization', 'search_full_name', 'id'], include=('search_short_name', 'search_values'), name='contact_listing_organization'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('organization__isnull', True), ('override__isnull', True)), fields=['owner', 'search_full_name', 'id'], include=('search_short_name', 'search_values'), name='contact_listing_owner'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('override__isnull', False), models.Q(('search_full_name', ''), _negated=True)), fields=['owner', 'search_full_name', 'override'], name='contact_listing_renamed'),
        ),
    ]
