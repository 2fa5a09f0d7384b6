"""``manage.py auditverify``: check every audit chain (or one organization's) link by link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import audit_chain_key, audit_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chains: report the first broken link of each (an "
        "event edited or removed by hand). Exits non-zero when one is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="Only this organization's chain (its id).")

    def handle(self, *args, organization=None, **options):
        if organization is not None:
            try:
                organization = audit_chain_key(organization)
            except ValueError as error:
                raise CommandError(str(error)) from error
        broken = audit_verify(chain=organization)
        for link in broken:
            chain = link.chain or "(no organization)"
            self.stdout.write(f"chain {chain}: broken at event {link.sequence}: {link.reason}")
        if broken:
            raise CommandError(f"{len(broken)} audit chain(s) broken.")
        self.stdout.write("Audit trail verified: every chain is intact.")
