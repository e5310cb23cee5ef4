"""Create the owner and application PostgreSQL roles and the database, idempotently (README, Production).

    MIGRATE_DATABASE_URL=postgres://companyos_owner:…@db/companyos \\
    DATABASE_URL=postgres://companyos_app:…@db/companyos \\
    python manage.py db_roles --superuser-url postgres://postgres@db/postgres
"""

import os

import dj_database_url
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from companyos.db_roles import create_roles


class Command(BaseCommand):
    help = "Create or update the owner (MIGRATE_DATABASE_URL) and application (DATABASE_URL) roles."

    def add_arguments(self, parser):
        parser.add_argument(
            "--superuser-url",
            default=os.environ.get("PG_SUPERUSER_URL", ""),
            help="a superuser's connection URL (default: $PG_SUPERUSER_URL, else postgres@ the same host)",
        )
        parser.add_argument("--createdb", action="store_true", help="let the owner create databases (the test suite)")

    def handle(self, *args, superuser_url, createdb, **options):
        if not settings.IS_POSTGRES or not settings.MIGRATE_DATABASE_URL:
            raise CommandError("db_roles needs DATABASE_URL and MIGRATE_DATABASE_URL on PostgreSQL")
        app = dj_database_url.parse(os.environ["DATABASE_URL"])
        owner = dj_database_url.parse(settings.MIGRATE_DATABASE_URL)
        if not superuser_url:
            host = owner["HOST"] or "127.0.0.1"
            superuser_url = f"postgresql://postgres@{host}:{owner['PORT'] or 5432}/postgres"
        try:
            create_roles(superuser_url, app, owner, createdb=createdb, out=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
