from django.core.management.base import BaseCommand

from accounts.services.registration import pending_registrations_prune


class Command(BaseCommand):
    help = (
        "Delete the accounts of expired pending registrations (PENDING_REGISTRATION_LIFETIME). "
        "Run it daily, e.g. from cron."
    )

    def handle(self, *args, **options):
        deleted = pending_registrations_prune()
        self.stdout.write(f"Deleted {deleted} expired pending registration(s).")
