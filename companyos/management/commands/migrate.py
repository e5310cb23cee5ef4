"""`migrate` as the owner role: with MIGRATE_DATABASE_URL set, the connection logs in as the owner for
the migrations and the post_migrate steps (which re-grant the application's role its privileges)."""

from django.core.management.commands.migrate import Command as MigrateCommand

from companyos.db import as_owner


class Command(MigrateCommand):
    help = MigrateCommand.help + " Runs as the owner role (MIGRATE_DATABASE_URL) when one is configured."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
