"""Import the error-code catalogue from a Markdown file shaped like a product's docs/errors.md:
    python manage.py import_error_codes docs/errors.md [--dry-run]
Idempotent (a second run reports everything unchanged); a file with a malformed row is refused
whole, with each bad line named, and the command exits with status 1."""

from pathlib import Path

from auditlog.context import set_actor
from django.core.management.base import BaseCommand, CommandError

from companyos import roles
from runbooks import services


class Command(BaseCommand):
    help = "Import error codes from a docs/errors.md-shaped Markdown file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")

    def handle(self, *args, path, dry_run, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text.") from None
        with set_actor(roles.system_user()):
            try:
                report = services.error_codes_import(text=text, source=file.name, dry_run=dry_run)
            except services.ImportRefused as error:
                raise CommandError("\n".join(["Nothing was imported:", *error.errors])) from None
        for label, codes in (("created", report.created), ("updated", report.updated)):
            for code in codes:
                self.stdout.write(f"{label}: {code}")
        for code, slug in report.unknown_runbooks.items():
            self.stdout.write(f"warning: {code} names runbook {slug!r}, which does not exist (left unlinked)")
        self.stdout.write(("Dry run: " if dry_run else "") + report.summary + ".")
