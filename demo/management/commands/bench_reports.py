"""Measure the manager reports (/reports/) at a given case volume.

    python manage.py bench_reports --cases 1000000 [--requests 20]

Makes sure N cases exist (demo.bulk_load.ensure_cases), gives the resolved and closed ones the
closure rows the bulk loader does not write (one AutoClose per resolution, ~4 % reopened; one
Closure per closed case with ~40 % survey answers) by one INSERT … SELECT each, rebuilds the
rollups those writes (made around the services) left stale (`reports_rollup --rebuild`; skipped
when nothing was added and rollups exist), then times
server-side requests through Django's test Client as a manager: p50/p95 wall time and statements
per dashboard view (the default 28 days, a segment, a tenant, 90 days, the HTMX partial, a CSV).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from statistics import median

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from cases.closure.models import AutoClose, Closure
from cases.models import Case
from cases.reports import rollup
from cases.reports.models import ReportDirtyDay, ReportHour, ReportSlice
from companyos.bench import percentile
from companyos.db import owner_connection
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world
from tenants.models import Tenant

User = get_user_model()

CLOSURE_ROWS = [
    # One resolution per case with resolved_at; reopened within 1–12 days for ~4 % of them.
    f"""INSERT INTO {AutoClose._meta.db_table}
               (case_id, case_created_at, resolved_at, due_at, state, note, created_at, reopened_at)
        SELECT c.id, c.created_at, c.resolved_at, c.resolved_at + interval '7 days',
               CASE WHEN c.status = 'closed' THEN 'closed'
                    WHEN c.status = 'resolved' THEN 'pending' ELSE 'cancelled' END,
               '', c.resolved_at,
               CASE WHEN c.id % 25 = 0 THEN c.resolved_at + (1 + c.id % 12) * interval '1 day' END
        FROM {Case._meta.db_table} c
        WHERE c.resolved_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {AutoClose._meta.db_table} a WHERE a.case_id = c.id)""",
    # One closing per closed case: how by id, a survey sent, ~40 % answered (CSAT 1–5, NPS 0–10).
    f"""INSERT INTO {Closure._meta.db_table}
               (case_id, tenant_id, case_created_at, closed_at, how, survey_sent_at, csat, nps,
                comment, first_answered_at, answered_at)
        SELECT c.id, c.tenant_id, c.created_at, c.closed_at,
               (ARRAY['confirmed', 'auto', 'unconfirmed'])[1 + c.id % 3], c.closed_at,
               CASE WHEN c.id % 5 < 2 THEN 1 + (c.id * 7) % 5 END,
               CASE WHEN c.id % 5 < 2 THEN (c.id * 3) % 11 END, '',
               CASE WHEN c.id % 5 < 2 THEN c.closed_at + interval '1 hour' END,
               CASE WHEN c.id % 5 < 2 THEN c.closed_at + interval '1 hour' END
        FROM {Case._meta.db_table} c
        WHERE c.status = 'closed' AND c.closed_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {Closure._meta.db_table} x WHERE x.case_id = c.id)""",
]


# The closure rows copy their case's created time; a loader that moved cases back in time (an older
# seed_demo) left them behind, and the reports select closure rows by that copy.
CLOSURE_CREATED = [
    f"""UPDATE {model._meta.db_table} x SET case_created_at = c.created_at FROM {Case._meta.db_table} c
        WHERE c.id = x.case_id AND x.case_created_at <> c.created_at"""
    for model in (AutoClose, Closure)
]


class Command(BaseCommand):
    help = "Benchmark the manager reports (/reports/) at N cases."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="make sure at least this many cases exist")
        parser.add_argument("--requests", type=int, default=20, help="timed requests per view (default 20)")
        parser.add_argument("--warmup", type=int, default=2, help="untimed requests per view first (default 2)")
        parser.add_argument("--user", default="manager", help="who signs in (default: manager)")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")
        parser.add_argument("--rebuild", action="store_true", help="rebuild the daily rollups even if present")

    def handle(self, *args, cases: int, requests: int, warmup: int, user: str, **options):
        if cases < 1 or requests < 1:
            raise CommandError("--cases and --requests must be positive.")
        out = self.stdout.write
        started = time.perf_counter()
        world = build_demo_world(out=out)
        added = ensure_cases(world, cases, out=out)
        with connection.cursor() as cursor:
            written = 0
            for sql in CLOSURE_CREATED + CLOSURE_ROWS:
                cursor.execute(sql)
                written += cursor.rowcount
        with owner_connection() as owner, owner.cursor() as cursor:  # ANALYZE is the tables' owner's
            cursor.execute(f"ANALYZE {AutoClose._meta.db_table}, {Closure._meta.db_table}, {Case._meta.db_table}")
        out(f"Added {added:,} cases and {written:,} closure rows in {time.perf_counter() - started:.1f} s.")
        if added or written or options["rebuild"] or not ReportHour.objects.exists():
            t0 = time.perf_counter()
            cells = rollup.rebuild()
            ReportDirtyDay.objects.all().delete()
            slices = ReportSlice.objects.count()
            out(f"Rebuilt the rollups: {cells:,} cube cells, {slices:,} slices in {time.perf_counter() - t0:.1f} s.")
        manager = User.objects.filter(username=user).first()
        if manager is None:
            raise CommandError(f"No user {user!r}.")
        tenant = Tenant.objects.order_by("pk").first()
        views = [
            ("reports, last 28 days", "/reports/", {}),
            ("reports, segment=enterprise", "/reports/?segment=enterprise", {}),
            (f"reports, tenant={tenant.slug}", f"/reports/?tenant={tenant.slug}", {}),
            ("reports, 90 days", "/reports/?from={from90}", {}),
            ("reports HTMX partial, priority=high", "/reports/?priority=high", {"HX-Request": "true"}),
            ("CSV volume_priority", "/reports/export.csv?table=volume_priority", {}),
        ]
        overrides = {"ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"]}
        if not settings.DEBUG:
            overrides["SECURE_SSL_REDIRECT"] = False
            if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
                overrides["STORAGES"] = {
                    **settings.STORAGES,
                    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
                }
        from datetime import timedelta

        from django.utils import timezone

        from90 = (timezone.localdate() - timedelta(days=89)).isoformat()
        results = []
        with override_settings(**overrides):
            client = Client(raise_request_exception=True)
            client.force_login(manager)
            for name, url, headers in views:
                url = url.format(from90=from90)
                timings, queries = [], []
                for i in range(warmup + requests):
                    connection.queries_log.clear()
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        response = client.get(url, headers=headers)
                        elapsed = (time.perf_counter() - t0) * 1000
                    if response.status_code != 200:
                        raise CommandError(f"GET {url} -> {response.status_code}")
                    if i >= warmup:
                        timings.append(elapsed)
                        queries.append(len(ctx.captured_queries))
                results.append(
                    {
                        "view": name,
                        "p50_ms": round(median(timings), 1),
                        "p95_ms": round(percentile(timings, 95), 1),
                        "statements": max(queries),
                    }
                )
        total = Case.objects.count()
        if options["json"]:
            out(json.dumps({"cases": total, "results": results}, indent=2))
            return
        out(f"\n{total:,} cases; {requests} timed requests per view, as {user}.")
        out(f"{'view':44} {'p50 ms':>8} {'p95 ms':>8} {'stmts':>6}")
        for r in results:
            out(f"{r['view']:44} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['statements']:>6}")
