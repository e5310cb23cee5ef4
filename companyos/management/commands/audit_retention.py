"""Archive the monthly audit partitions older than AUDIT_RETENTION_MONTHS (gzip'd CSV + .sha256 in
AUDIT_ARCHIVE_DIR, read back and checked), then detach and drop them. Runs as the owner role."""

from django.core.management.base import BaseCommand, CommandError

from companyos import audit_trail


class Command(BaseCommand):
    help = "Export, verify and drop audit partitions past retention (as the owner role, MIGRATE_DATABASE_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=None, help="override AUDIT_RETENTION_MONTHS")
        parser.add_argument("--archive-dir", default=None, help="override AUDIT_ARCHIVE_DIR")

    def handle(self, *args, months=None, archive_dir=None, **options):
        audit_trail.ensure_partitions()
        try:
            done = audit_trail.archive_expired_partitions(months=months, archive_dir=archive_dir, out=self.stdout.write)
        except audit_trail.ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{len(done)} partition(s) archived")
