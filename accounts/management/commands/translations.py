"""``manage.py translations update|compile|check`` (see ``backend.translations``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from backend import translations


class Command(BaseCommand):
    requires_system_checks = []  # it compiles what the translation check looks for
    help = (
        "update: extract messages into every app's locale/ catalogs (needs GNU gettext); "
        "compile: write the .mo files (Babel); check: fail on an untranslated message or a "
        "stale catalog."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["update", "compile", "check"])

    def handle(self, *args, action, **options):
        if action == "update":
            if not translations.gettext_available():
                raise CommandError("Extraction needs GNU gettext (xgettext, msgmerge).")
            translations.update()
            self.stdout.write("Catalogs updated: translate the new messages, then compile.")
        elif action == "compile":
            written = translations.compile_all()
            self.stdout.write(f"Compiled {len(written)} catalog(s); the others were current.")
        else:
            problems = [
                f"{po.relative_to(translations.ROOT)}: {len(ids)} untranslated, e.g. {ids[0]!r}"
                for po, ids in translations.untranslated().items()
            ] + [
                f"{po.relative_to(translations.ROOT)}: placeholders changed in {ids[0]!r}"
                for po, ids in translations.placeholders_lost().items()
            ]
            if translations.gettext_available():
                problems += [
                    f"{po.relative_to(translations.ROOT)}: stale (run translations update)"
                    for po in translations.stale()
                ]
            if problems:
                raise CommandError("\n".join(problems))
            self.stdout.write("Every catalog is current and fully translated.")
