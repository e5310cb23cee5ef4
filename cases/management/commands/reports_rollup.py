"""Keep the reports' daily rollups (cases.reports.rollup).

    python manage.py reports_rollup            # consume the dirty-day markers now (what beat does every 30 s)
    python manage.py reports_rollup --rebuild [--from 2026-01-01 --to 2026-11-30]

--rebuild recomputes every day (or the range) from the plain rows: after data was loaded around the
case services (the demo and bench loaders, a restore) or to repair what `reports_verify` reports."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand

from cases.reports import rollup


class Command(BaseCommand):
    help = "Sweep the dirty days of the reports' daily rollups, or rebuild them."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute every day from the plain rows")
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)

    def handle(self, *args, rebuild=False, date_from=None, date_to=None, **options):
        started = time.perf_counter()
        if rebuild:
            cells = rollup.rebuild(date_from=date_from, date_to=date_to, out=self.stdout.write)
            self.stdout.write(f"Rebuilt the rollups: {cells:,} cells in {time.perf_counter() - started:.1f} s.")
            return
        days = markers = 0
        while True:
            result = rollup.rollup_sweep()
            days, markers = days + result.days, markers + result.markers
            if not result.markers:
                break
        self.stdout.write(f"Swept {markers:,} markers of {days:,} days in {time.perf_counter() - started:.1f} s.")
