"""`flush` as the owner role: the application's role may not TRUNCATE (and never the audit tables), so
with MIGRATE_DATABASE_URL set the TRUNCATE runs as the owner. This is also the test suite's flush after
each transactional test."""

from django.core.management.commands.flush import Command as FlushCommand

from companyos.db import as_owner


class Command(FlushCommand):
    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
