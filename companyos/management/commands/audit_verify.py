"""Recompute every audit entry's row hash and every seal, and report the first mismatch (exit code 1)."""

from django.core.management.base import BaseCommand, CommandError

from companyos import audit_trail
from companyos.tasks import alert_unless_verified


class Command(BaseCommand):
    help = "Verify the audit trail: row hashes, seals and their chain. Exits non-zero at the first mismatch."

    def add_arguments(self, parser):
        parser.add_argument("--alert", action="store_true", help="also log an error and mail the ADMINS on failure")

    def handle(self, *args, alert=False, **options):
        if not audit_trail.supported():
            self.stdout.write("audit_verify: the audit trail is sealed on PostgreSQL only; nothing to verify")
            return
        result = audit_trail.verify()
        if alert:
            alert_unless_verified(result)
        if not result.ok:
            raise CommandError(f"audit trail verification FAILED: {result.problems[0]}")
        self.stdout.write(f"audit trail OK: {result.rows_checked} entries, {result.seals_checked} seals verified")
