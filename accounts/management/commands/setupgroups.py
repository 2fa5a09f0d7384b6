from django.core.management.base import BaseCommand

from accounts.services.groups import permission_groups_setup


class Command(BaseCommand):
    help = "Create the permission groups (plans, system groups, manageable groups). Idempotent."

    def handle(self, *args, **options):
        created = permission_groups_setup()
        if created:
            for name in created:
                self.stdout.write(self.style.SUCCESS(f"Created group {name!r}"))
        else:
            self.stdout.write("Permission groups already set up; nothing changed.")
