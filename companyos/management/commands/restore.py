"""python manage.py restore DIR: restore a backup into an empty database and storage, then verify it."""

from django.core.management.base import BaseCommand, CommandError

from companyos import backup


class Command(BaseCommand):
    help = "Restore a backup (companyos.backup) into an EMPTY database and storage, and verify it."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a backup directory (companyos-<time>/)")

    def handle(self, *args, source, **options):
        try:
            backup.restore(source, out=self.stdout.write)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS("Restored and verified."))
