"""``manage.py auditprune``: remove audit events older than ``AUDIT_RETENTION_DAYS``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import audit_prune


class Command(BaseCommand):
    help = (
        "Remove audit events older than AUDIT_RETENTION_DAYS (or --days); each chain stays "
        "verifiable from its oldest kept event. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Keep this many days instead.")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        removed = audit_prune(days=days)
        self.stdout.write(f"Removed {removed} audit event(s).")
