"""python manage.py move_residency --tenant SLUG [--to CODE] [--dry-run] [--by USERNAME]: move a
tenant's stored files (attachments, trace bundles: every mover registered with
companyos.residency.register_mover) into the storage of its data region; with --to, set that region
first."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from companyos import residency
from companyos.roles import acting_as, system_user
from tenants import services
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Move a tenant's files into the storage of its data region (after its data residency changed)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--to", default=None, help="set the tenant's data residency to this region first")
        parser.add_argument("--dry-run", action="store_true", help="count what would move; move nothing")
        parser.add_argument("--by", default="", help="the admin doing it (username); default: the system user")

    def handle(self, *args, tenant, to, dry_run, by, **options):
        actor = get_user_model().objects.filter(username=by).first() if by else system_user()
        if actor is None:
            raise CommandError(f"No user {by!r}.")
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        code = residency.region_code(found.data_residency if to is None else to)
        try:
            residency.storage_for_region(code)
            with acting_as(actor):
                if to is not None and not dry_run and code != residency.region_code(found.data_residency):
                    found = services.tenant_set_residency(tenant_id=found.pk, residency=code, actor=actor)
                total = 0
                for label, mover in sorted(residency.movers().items()):
                    n = mover(found, to=code, actor=actor, dry_run=dry_run)
                    total += n
                    verb = "would move" if dry_run else "moved"
                    self.stdout.write(f"  {label}: {verb} {n}")
        except residency.ResidencyError as error:
            raise CommandError(str(error)) from None
        where = code or "the default storage"
        self.stdout.write(
            self.style.SUCCESS(f"{found.name}: {total} file(s) {'would move' if dry_run else 'moved'} to {where}.")
        )
