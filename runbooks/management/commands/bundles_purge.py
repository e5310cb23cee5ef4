"""Purge the trace bundles past their tenant's retention window (beat runs it daily):
    python manage.py bundles_purge [--dry-run]
--dry-run lists what would go (case, name, size, hash, uploaded, the rule) and changes nothing."""

from django.core.management.base import BaseCommand

from runbooks.diagnostics import services


class Command(BaseCommand):
    help = "Purge trace bundles older than the tenant's retention window (tombstones kept, audited)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would go, change nothing")

    def handle(self, *args, dry_run, **options):
        if dry_run:
            rows = [services._tombstone(b) for b in services.bundles_due()]
        else:
            rows = services.bundles_purge()
        for row in rows:
            self.stdout.write(
                f"{'would purge' if dry_run else 'purged'}: {row['case']} {row['name']} {row['size']:,} bytes "
                f"sha256 {row['sha256'][:12]} uploaded {row['uploaded_at'][:10]} ({row['rule']})"
            )
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{len(rows)} bundle(s){' would be' if dry_run else ''} purged."
        )
