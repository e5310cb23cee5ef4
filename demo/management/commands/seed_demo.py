"""Load the demo data: teams, tenants, requesters, resources, users for every role, grants, and cases.

    python manage.py seed_demo                  # 500 cases with full timelines (idempotent)
    python manage.py seed_demo --cases 100000   # top up to 100k: the rest bulk-loaded (COPY on PostgreSQL)
    python manage.py seed_demo --reset          # drop the demo tenants and their cases, then reload

A second run with the same (or a smaller) --cases changes nothing and just prints the logins.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from demo.bulk_load import ensure_cases
from demo.incidents import build_demo_incidents
from demo.oncall import build_demo_oncall
from demo.snapshots import SNAPSHOT_LIMIT, snapshot_open_cases
from demo.telemetry import build_demo_telemetry
from demo.world import DEFAULT_DEMO_CASES, build_demo_world, demo_world_exists, format_logins, reset_demo


class Command(BaseCommand):
    help = (
        "Load the demo tenants, users and cases (idempotent). --cases N tops up to N cases; "
        "above 5,000 the rest are bulk-loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases",
            type=int,
            default=DEFAULT_DEMO_CASES,
            help=f"total number of cases wanted (default {DEFAULT_DEMO_CASES})",
        )
        parser.add_argument("--reset", action="store_true", help="delete the demo tenants and their cases first")

    def handle(self, *args, cases: int, reset: bool, **options):
        if cases < 0:
            raise CommandError("--cases must be 0 or more.")
        started = time.perf_counter()
        out = self.stdout.write
        if reset:
            out("Removing the demo data …")
            reset_demo(out=out)
        elif demo_world_exists():
            existing = Case.objects.count()
            if existing >= cases:
                build_demo_telemetry(out=out)  # idempotent; adds telemetry to demo data loaded before it existed
                build_demo_incidents(out=out)  # idempotent; the demo incidents (issue 13)
                build_demo_oncall(out=out)  # idempotent; schedules and the default chain (issue 14)
                self._snapshots(out)  # idempotent; snapshots for demo data loaded before they were taken
                out(f"Demo data already loaded ({existing:,} cases); nothing to do.")
                self._logins()
                return
        world = build_demo_world(out=out)
        before = Case.objects.count()
        if before < cases:
            out(f"Adding {cases - before:,} cases (table has {before:,}) …")
        added = ensure_cases(world, cases, out=out)
        build_demo_telemetry(out=out)
        build_demo_incidents(out=out)
        build_demo_oncall(out=out)
        self._snapshots(out)
        total = before + added
        out(
            self.style.SUCCESS(
                f"Demo data ready: {total:,} cases ({added:,} added) in {time.perf_counter() - started:.1f} s."
            )
        )
        self._logins()

    def _snapshots(self, out):
        taken = snapshot_open_cases(out=out)
        if taken:
            out(f"Context snapshots taken for {taken:,} open cases (at most {SNAPSHOT_LIMIT:,}, most urgent first).")

    def _logins(self):
        self.stdout.write("\nDemo logins (every user's password is the same):")
        self.stdout.write(format_logins())
        self.stdout.write("")
