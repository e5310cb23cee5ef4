"""python manage.py backup --to DIR [--keep N]: one consistent backup (companyos.backup)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from companyos import backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump, one snapshot) and the stored files, with a verifying manifest."

    def add_arguments(self, parser):
        parser.add_argument("--to", default=getattr(settings, "BACKUP_DIR", ""), help="directory (default BACKUP_DIR)")
        parser.add_argument("--keep", type=int, default=getattr(settings, "BACKUP_KEEP", 0), help="prune to N newest")

    def handle(self, *args, to, keep, **options):
        if not to:
            raise CommandError("Where to? --to DIR (or set BACKUP_DIR).")
        try:
            path = backup.backup(to, out=self.stdout.write)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        if keep:
            for gone in backup.prune(to, keep):
                self.stdout.write(f"  pruned {gone.name}")
        self.stdout.write(self.style.SUCCESS(f"Backup written: {path}"))
