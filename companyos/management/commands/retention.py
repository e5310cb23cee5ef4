"""python manage.py retention [--dry-run] [--rule NAME]: what the retention rules keep, and purge."""

from django.core.management.base import BaseCommand, CommandError

from companyos import retention


class Command(BaseCommand):
    help = "Run the retention rules (RETENTION.md): --dry-run counts what a purge would remove."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--rule", default=None, help="one rule by name")

    def handle(self, *args, dry_run, rule, **options):
        names = [r.name for r in retention.rules()]
        if rule and rule not in names:
            raise CommandError(f"No rule {rule!r}; the rules are: {', '.join(names)}.")
        for record in retention.run(dry_run=dry_run, only=rule):
            verb = "would remove" if dry_run else "removed"
            line = f"{record.rule:<24} {verb} {record.count:>10,}"
            self.stdout.write(line + (f"  ERROR {record.error}" if record.error else ""))
