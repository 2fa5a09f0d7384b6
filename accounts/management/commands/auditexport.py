"""``manage.py auditexport``: an organization's audit events as NDJSON, for a SIEM."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import make_aware

from accounts.audit import audit_chain_key, audit_events_of_organization, event_export_line


def _moment(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"Not a date or time: {value!r} (use 2026-12-01 or ISO 8601).")
        moment = datetime.combine(day, time.min)
    return moment if moment.tzinfo else make_aware(moment)


class Command(BaseCommand):
    help = (
        "Write an organization's audit events, oldest first, one JSON object per line "
        "(NDJSON), to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="The organization's id.")
        parser.add_argument("--since", help="Only events at or after this date or time.")
        parser.add_argument("--until", help="Only events before this date or time.")

    def handle(self, *args, organization, since=None, until=None, **options):
        try:
            key = audit_chain_key(organization)
        except ValueError as error:
            raise CommandError(str(error)) from error
        events = audit_events_of_organization(
            key,
            since=_moment(since) if since else None,
            until=_moment(until) if until else None,
        ).order_by("sequence")
        for event in events.iterator(chunk_size=2000):
            self.stdout.write(event_export_line(event))
