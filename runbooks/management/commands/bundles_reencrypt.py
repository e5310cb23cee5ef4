"""Rewrite stored trace bundles under the current encryption key (the first of BUNDLE_ENCRYPTION_KEYS):
    python manage.py bundles_reencrypt [--dry-run]
after a key rotation, and for bundles stored in clear before encryption was required. Idempotent (a
bundle already under the current key is skipped) and resumable (stop it and run it again). --dry-run
lists what would change and changes nothing. Exits 1 when a bundle could not be rewritten."""

from django.core.management.base import BaseCommand

from runbooks.diagnostics import crypto, reencrypt
from runbooks.diagnostics.storage import encryption_keys


class Command(BaseCommand):
    help = "Re-encrypt trace bundles under the current key (and encrypt any stored in clear)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would change, change nothing")

    def handle(self, *args, dry_run, **options):
        key = crypto.key_fingerprint(encryption_keys()[0])
        outcome = reencrypt.bundles_reencrypt(dry_run=dry_run)
        for line in outcome.lines:
            self.stdout.write(line)
        for pk, reason in outcome.failed:
            self.stderr.write(f"failed: #{pk} {reason}")
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}current key {key}: {outcome.current} already current, "
            f"{outcome.reencrypted} {would}re-encrypted, {outcome.encrypted} {would}encrypted (were in clear), "
            f"{len(outcome.failed)} failed."
        )
        if outcome.failed:
            raise SystemExit(1)
