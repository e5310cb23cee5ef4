"""Check the report numbers against an independent recomputation from the rows.

    python manage.py reports_verify [--from 2026-11-01 --to 2026-11-30] [--user manager]

For the range (default: the last 28 days) and for each segment, recomputes the cohort's volume by
priority, category, channel and tenant, the resolutions and reopens, the closings by how and the
survey counts in Python from plain rows, and compares them with cases.reports.metrics; then compares
every rollup row of the range — cube cells, day slices and priority pairs — with a recomputation of
its day from the plain rows, and the week slices of the range's weeks with a recomputation of their
seven days (days and weeks still marked dirty are skipped: the report reads those from plain rows).
Exits 1 and lists the differences when any number disagrees."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.reports.filters import Filters
from cases.reports.verify import differences, rollup_differences
from tenants.choices import Segment


class Command(BaseCommand):
    help = "Compare the /reports/ numbers with a direct recomputation from the cases."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)
        parser.add_argument("--user", default="", help="whose view (default: the first superuser: every tenant)")

    def handle(self, *args, date_from=None, date_to=None, user="", **options):
        User = get_user_model()
        viewer = User.objects.filter(username=user).first() if user else User.objects.filter(is_superuser=True).first()
        if viewer is None:
            raise CommandError("No such user (pass --user).")
        date_to = date_to or timezone.localdate()
        date_from = date_from or date_to - timedelta(days=27)
        tz = timezone.get_current_timezone()
        problems = []
        for segment in ["", *Segment.values]:
            f = Filters(date_from=date_from, date_to=date_to, tz=tz, segment=segment)
            for line in differences(viewer, f):
                problems.append(f"[segment={segment or 'all'}] {line}")
        problems += rollup_differences(Filters(date_from=date_from, date_to=date_to, tz=tz))
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"{len(problems)} report number(s) differ from the recomputation.")
        self.stdout.write(
            f"OK: the report numbers and the daily rollups equal the recomputation, {date_from} to {date_to}, "
            f"as {viewer}."
        )
