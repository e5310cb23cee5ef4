"""Measure the case page and its Audit tab against a large, partitioned audit table.

    python manage.py bench_audit --rows 20000000 [--months 24] [--requests 30]

On a database of its own (its name must contain "bench", e.g. companyos_bench_audit): seeds the demo
world if needed, times the case page and its Audit tab with the audit table as it is (the baseline:
run it first on an empty table), then loads audit entries by COPY, as the owner role
(MIGRATE_DATABASE_URL, else DATABASE_URL), up to N across the last `--months` months (monthly
partitions made as needed; the database's timestamp trigger is off for the back-dated load, so these
rows carry no row hash), ANALYZEs, and times the pages again, plus the access write itself (the two
entries a case page writes). p50/p95 are server-side wall times around Django's test Client.
"""

from __future__ import annotations

import io
import random
import time
from datetime import UTC, datetime, timedelta
from statistics import median

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from cases.models import Case, Interaction
from companyos import audit, audit_trail
from companyos.bench import percentile
from companyos.db import owner_connection
from tenants.models import Tenant

User = get_user_model()
BATCH = 200_000


class Command(BaseCommand):
    help = "Load N audit entries (COPY, across months) and time the case page, its Audit tab and the access write."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20_000_000)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--requests", type=int, default=30)
        parser.add_argument("--warmup", type=int, default=5)
        parser.add_argument("--seed", type=int, default=8)

    def handle(self, *args, rows, months, requests, warmup, seed, **options):
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("bench_audit runs on PostgreSQL, on a database whose name contains 'bench'.")
        if rows < 0 or months < 1 or requests < 1:
            raise CommandError("--rows ≥ 0, --months ≥ 1 and --requests ≥ 1, please.")
        out = self.stdout.write
        if not Case.objects.exists():
            call_command("seed_demo", stdout=io.StringIO())
        case = Case.objects.order_by("pk").first()
        manager = User.objects.filter(groups__name="manager").first() or User.objects.filter(is_superuser=True).first()
        have = LogEntry.objects.count()
        before = self._measure(case, manager, requests, warmup)
        before_label = f"{have:,} entries"
        for name, (p50, p95, worst) in before.items():  # printed now: a long load may be interrupted
            out(f"baseline {name} with {before_label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms")
        if rows > have:
            t0 = time.perf_counter()
            self._load(rows - have, months, case, random.Random(seed), out)
            out(f"Loaded {rows - have:,} audit entries in {time.perf_counter() - t0:.1f} s.")
        total = LogEntry.objects.count()
        after = self._measure(case, manager, requests, warmup)
        write = self._write_cost(case, manager, requests * 10)

        out("")
        out(
            f"bench_audit: case {case.key}; {connection.settings_dict['NAME']}; {requests} timed requests after "
            f"{warmup} warm-up; DEBUG={settings.DEBUG}"
        )
        out(f"{'page':<24} {'entries':>14} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, figures in ((before_label, before), (f"{total:,} entries", after)):
            for name, (p50, p95, worst) in figures.items():
                out(f"{name:<24} {label:>14} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f}")
        for name in before:
            out(f"Δ p95 {name}: {after[name][1] - before[name][1]:+.1f} ms")
        p50, p95 = write
        out(f"access write per page (2 entries, through the triggers): p50 {p50:.2f} ms, p95 {p95:.2f} ms")

    def _measure(self, case, user, requests, warmup):
        pages = {"case page": f"/cases/{case.key}/", "audit tab": f"/cases/{case.key}/audit/"}
        results = {}
        with override_settings(ALLOWED_HOSTS=["*"], SECURE_SSL_REDIRECT=False):
            client = Client(raise_request_exception=True)
            client.force_login(user)
            for name, url in pages.items():
                timings = []
                for i in range(warmup + requests):
                    t0 = time.perf_counter()
                    response = client.get(url, headers={"HX-Request": "true"} if name == "audit tab" else {})
                    elapsed = (time.perf_counter() - t0) * 1000
                    if response.status_code != 200:
                        raise CommandError(f"GET {url} answered {response.status_code}")
                    if i >= warmup:
                        timings.append(elapsed)
                results[name] = (median(timings), percentile(timings, 95), max(timings))
        return results

    def _write_cost(self, case, user, n):
        from companyos.roles import acting_as

        timings = []
        with acting_as(user):
            for _ in range(n):
                with transaction.atomic():
                    t0 = time.perf_counter()
                    audit.log_access(case, view="case page")
                    audit.log_access(case.tenant, view="case page tenant card")
                    timings.append((time.perf_counter() - t0) * 1000)
        return median(timings), percentile(timings, 95)

    def _load(self, n, months, case, rng, out):
        cts = ContentType.objects.get_for_models(Case, Tenant, Interaction)
        case_ct, tenant_ct, interaction_ct = cts[Case].pk, cts[Tenant].pk, cts[Interaction].pk
        actors = list(User.objects.values_list("pk", flat=True)) or [None]
        case_ids = list(Case.objects.values_list("pk", flat=True))
        tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
        now = timezone.now()
        first = audit_trail.retention_cutoff(now, months - 1)
        span = (now - timedelta(days=1) - first).total_seconds()
        with owner_connection() as owner:
            owner.ensure_connection()
            raw = owner.connection
            with raw.cursor() as cursor:
                for i in range(months + 1):
                    begin = audit_trail.retention_cutoff(now, months - 1 - i)
                    end = audit_trail.retention_cutoff(now, months - 2 - i)
                    name = f"auditlog_logentry_p{begin:%Y_%m}"
                    if cursor.execute("SELECT to_regclass(%s)", [name]).fetchone()[0] is None:
                        cursor.execute(
                            f"CREATE TABLE {name} PARTITION OF auditlog_logentry FOR VALUES FROM (%s) TO (%s)",
                            [begin, end],
                        )
                raw.commit()
            done = 0
            while done < n:
                size = min(BATCH, n - done)
                buf = io.StringIO()
                for _ in range(size):
                    roll = rng.random()
                    # Most entries are other cases' (a million-case world); the benched case gets its share.
                    if roll < 0.6:
                        ct, pk = (
                            case_ct,
                            (
                                case.pk
                                if rng.random() < 0.00002
                                else rng.choice(case_ids) + 10_000_000 * rng.randint(0, 99)
                            ),
                        )
                    elif roll < 0.9:
                        ct, pk = tenant_ct, rng.choice(tenant_ids)
                    else:
                        ct, pk = interaction_ct, rng.randint(1, 50_000_000)
                    ts = datetime.fromtimestamp(first.timestamp() + rng.random() * span, tz=UTC)
                    actor = rng.choice(actors)
                    buf.write(
                        f"{pk}\t{pk}\tbench {pk}\t3\t\\N\t{ts.isoformat()}\t{actor if actor else chr(92) + 'N'}\t{ct}\t"
                        f'10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}\t{{"view": "case page"}}\t\t\n'
                    )
                with raw.transaction(), raw.cursor() as cursor:
                    cursor.execute("ALTER TABLE auditlog_logentry DISABLE TRIGGER companyos_audit_stamp")
                    with cursor.copy(
                        "COPY auditlog_logentry (object_pk, object_id, object_repr, action, changes, timestamp,"
                        " actor_id, content_type_id, remote_addr, additional_data, cid, changes_text) FROM STDIN"
                    ) as copy:
                        copy.write(buf.getvalue())
                    cursor.execute("ALTER TABLE auditlog_logentry ENABLE TRIGGER companyos_audit_stamp")
                done += size
                out(f"  {done:,}/{n:,} audit entries")
            raw.autocommit = True
            with raw.cursor() as cursor:
                cursor.execute("ANALYZE auditlog_logentry")
