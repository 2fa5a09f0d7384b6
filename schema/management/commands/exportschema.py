from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from strawberry.printer import print_schema


class Command(BaseCommand):
    help = "Write the GraphQL SDL of the running schema to schema.graphql (or --output)."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "schema.graphql"))
        parser.add_argument("--check", action="store_true", help="Fail if the file is stale.")

    def handle(self, *args, output, check, **options):
        from schema.schema import schema

        # What `strawberry export-schema --output` writes.
        sdl = print_schema(schema) + "\n"
        path = Path(output)
        if check:
            if not path.exists() or path.read_text() != sdl:
                raise CommandError(f"{path} is stale: run `python manage.py exportschema`.")
            self.stdout.write(f"{path} is current.")
            return
        path.write_text(sdl)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
