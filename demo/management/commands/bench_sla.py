"""Time one SLA sweep over N open clocks of which a share (1% by default) is past due.

    python manage.py bench_sla --clocks 1000000 [--due-share 0.01] [--keep]

Makes sure N cases exist (demo.bulk_load.ensure_cases, as bench_queue does), gives each of the first
N cases one running benchmark clock (a resolution clock numbered BENCH_WINDOW, inserted with one
INSERT … SELECT), then times `cases.sla.sweep.sla_sweep()` — marking, exactly-once escalation rows,
timeline entries and notification rows for every due clock — and a second, idempotent sweep that
finds nothing to do. The benchmark clocks and what the sweep wrote are removed afterwards unless
--keep is given. PostgreSQL only.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from cases.models import Case, Interaction, SLAClock
from cases.sla.sweep import sla_sweep
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world

BENCH_WINDOW = 900_001


class Command(BaseCommand):
    help = "Benchmark one SLA sweep over N open clocks with a share past due."

    def add_arguments(self, parser):
        parser.add_argument("--clocks", type=int, required=True, help="open clocks to sweep over (one per case)")
        parser.add_argument("--due-share", type=float, default=0.01, help="share of the clocks past due (default 0.01)")
        parser.add_argument("--keep", action="store_true", help="keep the benchmark clocks and what the sweep wrote")

    def handle(self, *args, clocks: int, due_share: float, keep: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_sla measures PostgreSQL; set DATABASE_URL to a PostgreSQL database.")
        if clocks < 1 or not 0 < due_share <= 1:
            raise CommandError("--clocks must be positive and --due-share in (0, 1].")
        out = self.stdout.write
        world = build_demo_world(out=out)
        ensure_cases(world, clocks, out=out)
        self._cleanup()
        every = max(1, round(1 / due_share))
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {SLAClock._meta.db_table}
                    (case_id, kind, "window", state, business, target, started_at, elapsed_before, paused_total,
                     due_at, at_risk_at)
                SELECT id, 'resolution', %s, 'running', false, interval '4 hours', now() - interval '1 hour',
                       interval '0', interval '0',
                       CASE WHEN row_number() OVER (ORDER BY id) %% %s = 0 THEN now() - interval '5 minutes'
                            ELSE now() + interval '3 hours' END,
                       CASE WHEN row_number() OVER (ORDER BY id) %% %s = 0 THEN now() - interval '30 minutes'
                            ELSE now() + interval '2 hours' END
                FROM {Case._meta.db_table} ORDER BY id LIMIT %s
                """,
                [BENCH_WINDOW, every, every, clocks],
            )
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {SLAClock._meta.db_table}")
        open_clocks = SLAClock.objects.filter(window=BENCH_WINDOW, state="running").count()
        due = SLAClock.objects.filter(window=BENCH_WINDOW, state="running", due_at__lt=_now()).count()
        out(f"Inserted {open_clocks:,} running clocks ({due:,} past due) in {time.perf_counter() - started:.1f} s.")

        t0 = time.perf_counter()
        first = sla_sweep()
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = sla_sweep()
        second_s = time.perf_counter() - t0

        out("")
        out(
            f"bench_sla: {open_clocks:,} open clocks, {due:,} past due ({due_share:.1%}), "
            f"PostgreSQL {connection.settings_dict['NAME']}"
        )
        out(f"{'sweep':<22}{'seconds':>10}{'breached':>10}{'escalations':>13}")
        out("-" * 55)
        out(f"{'first (does the work)':<22}{first_s:>10.2f}{first.breached:>10,}{first.escalations:>13,}")
        out(f"{'second (idempotent)':<22}{second_s:>10.2f}{second.breached:>10,}{second.escalations:>13,}")
        if not keep:
            self._cleanup()

    def _cleanup(self):
        with transaction.atomic():
            Interaction.objects.filter(kind=Interaction.Kind.AUTOMATION, data__window=BENCH_WINDOW).delete()
            SLAClock.objects.filter(window=BENCH_WINDOW).delete()  # cascades to escalations and notifications


def _now():
    from django.utils import timezone

    return timezone.now()
