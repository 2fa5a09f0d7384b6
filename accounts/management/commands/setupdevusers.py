from django.core.management.base import BaseCommand

from accounts.services.devusers import DEV_EMAIL, DEV_ORGANIZATION, dev_users_setup


class Command(BaseCommand):
    help = f"Create {DEV_ORGANIZATION!r} and the development superuser {DEV_EMAIL}. Idempotent."

    def handle(self, *args, **options):
        created = dev_users_setup()
        if created:
            for item in created:
                self.stdout.write(self.style.SUCCESS(f"Created {item}"))
        else:
            self.stdout.write("Development users already set up; nothing changed.")
