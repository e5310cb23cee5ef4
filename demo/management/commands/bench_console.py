"""Measure the tenant console at a given amount of telemetry.

    python manage.py bench_console --rows 1000000 [--tenant acme] [--requests 30]

Makes sure one tenant has at least N telemetry rows from a bench integration ("bench-console"),
spread over the kinds the console shows (SLIs, alerts, usage, flags, deployments, config snapshots,
experiments) across 90 days, plus a resource graph (a dependency tree, some resources failing, some
shared with other tenants). Rows go in with COPY on PostgreSQL (bulk_create elsewhere), then VACUUM ANALYZE.
Then it times server-side requests through Django's test Client signed in as a manager: p50/p95
wall time around `client.get` and the SQL queries each request runs, for the console page, the
no-JavaScript page with every panel inline, each panel's HTMX fragment, the queue partial the Cases
panel loads, and the tenant list.
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from statistics import median

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from companyos.bench import percentile
from tenants import panels
from tenants.choices import Health
from tenants.models import Resource, Tenant
from tenants.telemetry import (
    SLI,
    Alert,
    ConfigSnapshot,
    Deployment,
    Experiment,
    FeatureFlag,
    Integration,
    ResourceDependency,
    UsageMetric,
    hash_token,
)

User = get_user_model()
INTEGRATION = "bench-console"
RESOURCES = 40
# Share of the rows per kind, and how many distinct keys each kind uses.
MIX = [
    (SLI, 0.30),
    (Alert, 0.20),
    (UsageMetric, 0.20),
    (FeatureFlag, 0.10),
    (Deployment, 0.08),
    (ConfigSnapshot, 0.07),
    (Experiment, 0.05),
]
SLI_NAMES = [
    "availability",
    "latency_p99",
    "latency_p50",
    "error_rate",
    "ingest_freshness",
    "webhook_delivery",
    "search_latency",
    "export_success",
    "auth_success",
    "queue_lag",
    "sync_success",
    "api_saturation",
]
METRICS = [
    "api_requests",
    "active_users",
    "storage_gb",
    "events_ingested",
    "webhooks_sent",
    "exports",
    "seats",
    "bandwidth_gb",
    "jobs_run",
    "sso_logins",
]
DAYS = 90


class Command(BaseCommand):
    help = "Benchmark the tenant console (page, every panel, the tenant list) with N telemetry rows for one tenant."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rows",
            type=int,
            default=1_000_000,
            help="make sure the tenant has at least this many telemetry rows (default 1,000,000)",
        )
        parser.add_argument("--tenant", default="acme", help="the tenant's slug (default acme; created if missing)")
        parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
        parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first (default 3)")
        parser.add_argument("--user", default="manager", help="username to sign in as (default manager)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, rows: int, tenant: str, requests: int, warmup: int, user: str, seed: int, **options):
        if rows < 0 or requests < 1:
            raise CommandError("--rows must be ≥ 0 and --requests positive.")
        out = self.stdout.write
        started = time.perf_counter()
        rng = random.Random(seed)
        the_tenant = Tenant.objects.filter(slug=tenant).first() or Tenant.objects.create(
            slug=tenant, name=tenant.title(), telemetry_consent=True
        )
        integration, _ = Integration.objects.get_or_create(
            name=INTEGRATION, defaults={"token_prefix": "bench", "token_hash": hash_token(f"{INTEGRATION}-{seed}")}
        )
        resources = self._resources(the_tenant, integration)
        have = self._counts(the_tenant)
        missing = rows - sum(have.values())
        if missing > 0:
            t0 = time.perf_counter()
            self._load(the_tenant, integration, resources, missing, rng, out)
            out(
                f"Loaded {missing:,} telemetry rows in {time.perf_counter() - t0:.1f} s "
                f"({'COPY' if connection.vendor == 'postgresql' else 'bulk_create'}; "
                f"{missing / (time.perf_counter() - t0):,.0f} rows/s)."
            )
        counts = self._counts(the_tenant)
        signed_in = User.objects.filter(username=user).first()
        if signed_in is None:
            raise CommandError(f"No user {user!r}.")

        overrides = {"ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"]}
        if not settings.DEBUG:
            # Static URLs without the manifest: a stale collectstatic must not turn pages into 500s here.
            overrides["SECURE_SSL_REDIRECT"] = False
            overrides["STORAGES"] = {
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
        hx = {"HX-Request": "true"}
        slug = the_tenant.slug
        pages = [
            ("console page", f"/tenants/{slug}/", {}),
            ("console, no JS (inline)", f"/tenants/{slug}/?panels=inline", {}),
        ]
        pages += [(f"panel {name}", f"/tenants/{slug}/panels/{name}/", hx) for name in panels.PANELS]
        pages += [
            (
                "  cases: queue partial",
                f"/cases/?tenant={slug}&status=all&sort=sla",
                {**hx, "HX-Target": "queue-results"},
            ),
            ("tenant list", "/tenants/", {}),
            ("tenant list, health=red", "/tenants/?health=red&sort=breached", {**hx, "HX-Target": "tenant-results"}),
        ]
        results, errors = [], []
        with override_settings(**overrides):
            client = Client(raise_request_exception=False)
            client.force_login(signed_in)
            for name, url, headers in pages:
                timings, queries, statuses = [], [], {}
                for i in range(warmup + requests):
                    connection.queries_log.clear()
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        response = client.get(url, headers=headers)
                        elapsed = (time.perf_counter() - t0) * 1000
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code != 200 and len(errors) < 20:
                        exc = getattr(response, "exc_info", None)
                        errors.append(
                            f"GET {url} -> {response.status_code} {f'{exc[0].__name__}: {exc[1]}' if exc else ''}"
                        )
                    if i >= warmup:
                        timings.append(elapsed)
                        queries.append(len(ctx.captured_queries))
                results.append(
                    (
                        name,
                        median(timings),
                        percentile(timings, 95),
                        max(timings),
                        median(queries),
                        max(queries),
                        statuses,
                    )
                )

        db = connection.vendor + (f" ({connection.settings_dict['NAME']})" if connection.vendor == "postgresql" else "")
        out("")
        out(
            f"bench_console: tenant {slug}, {sum(counts.values()):,} telemetry rows "
            f"({', '.join(f'{k} {v:,}' for k, v in counts.items())}), "
            f"{Resource.objects.filter(tenant=the_tenant).count()} resources; "
            f"{db}; signed in as {user}; {requests} timed requests per row after {warmup} warm-up; "
            f"DEBUG={settings.DEBUG}"
        )
        header = f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}  status"
        out(header)
        out("-" * len(header))
        for name, p50, p95, worst, q50, qmax, statuses in results:
            qtext = f"{q50:.0f}" if q50 == qmax else f"{q50:.0f}-{qmax}"
            status = ", ".join(f"{c}×{n}" for c, n in sorted(statuses.items()))
            out(f"{name:<28} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f} {qtext:>8}  {status}")
        if errors:
            out(self.style.WARNING("\nErrors:"))
            for line in errors:
                out("  " + line)
        out(f"\nTotal {time.perf_counter() - started:.1f} s.")

    # --- data ---------------------------------------------------------------------------------------

    @staticmethod
    def _counts(tenant) -> dict[str, int]:
        return {model._meta.model_name: model.objects.filter(tenant=tenant).count() for model, _ in MIX}

    def _resources(self, tenant, integration) -> list[Resource]:
        """A dependency tree of RESOURCES services (svc-k depends on svc-(k-1)//2: the root's failure
        reaches all of them), a few failing, two shared with other tenants."""
        resources = []
        for k in range(RESOURCES):
            health = Health.RED if k in (0, 7) else Health.AMBER if k in (3, 20) else Health.GREEN
            r, _ = Resource.objects.get_or_create(
                tenant=tenant,
                external_id=f"bc-svc-{k:02d}",
                defaults={"kind": "service", "version": f"1.{k}", "health": health, "region": tenant.region},
            )
            resources.append(r)
        for k in range(1, RESOURCES):
            ResourceDependency.objects.get_or_create(
                resource=resources[k],
                depends_on=resources[(k - 1) // 2],
                defaults={"tenant": tenant, "integration": integration, "source_id": f"bc-dep-{tenant.pk}-{k}"},
            )
        for other in Tenant.objects.exclude(pk=tenant.pk).order_by("pk")[:2]:
            for k in (0, 7):
                Resource.objects.get_or_create(
                    tenant=other, external_id=f"bc-svc-{k:02d}", defaults={"kind": "service", "health": Health.RED}
                )
        return resources

    def _load(self, tenant, integration, resources, n: int, rng: random.Random, out):
        now = timezone.now()
        run = f"{int(time.time())}"
        span = DAYS * 86400
        ids = [r.pk for r in resources]

        def at(i: int, total: int):  # evenly over the window, newest last, with a little jitter
            return now - timedelta(seconds=span * (1 - (i + rng.random()) / max(total, 1)))

        def common(kind: str, i: int, when):
            return {
                "tenant_id": tenant.pk,
                "integration_id": integration.pk,
                "source_id": f"{kind}-{run}-{i}",
                "received_at": when,
            }

        plan = [(model, int(n * share)) for model, share in MIX]
        plan[0] = (plan[0][0], plan[0][1] + n - sum(k for _, k in plan))  # rounding goes to SLIs
        for model, count in plan:
            t0 = time.perf_counter()
            name = model._meta.model_name
            budgets = {s: 100.0 for s in SLI_NAMES}

            def rows(model, count, name, budgets):
                for i in range(count):
                    when = at(i, count)
                    row = common(name, i, when)
                    if model is SLI:
                        sli = SLI_NAMES[i % len(SLI_NAMES)]
                        budgets[sli] = (
                            max(-20.0, budgets[sli] - rng.uniform(0, 0.003))
                            if sli in ("availability", "queue_lag")
                            else 100 - rng.uniform(0, 60)
                        )
                        objective = 99.9 if i % 2 else 99.0
                        row.update(
                            resource_id=ids[i % len(ids)],
                            name=sli,
                            objective=objective,
                            value=objective + rng.uniform(-0.05, 0.09),
                            error_budget_remaining=round(budgets[sli], 2),
                            window="30d",
                            observed_at=when,
                        )
                    elif model is Alert:
                        firing = rng.random() < 0.03
                        row.update(
                            resource_id=ids[i % len(ids)],
                            name=f"Alert{i % 25}",
                            severity=("critical", "warning", "info")[i % 3],
                            status="firing" if firing else "resolved",
                            summary=f"bench alert {i}",
                            fingerprint=f"fp{i % 5000}",
                            labels=json.dumps({"service": f"bc-svc-{i % RESOURCES:02d}"}),
                            annotations="{}",
                            starts_at=when,
                            ends_at=None if firing else when + timedelta(minutes=rng.randint(1, 90)),
                        )
                    elif model is UsageMetric:
                        row.update(
                            metric=METRICS[i % len(METRICS)],
                            value=round(rng.uniform(100, 100000), 2),
                            period_start=when,
                        )
                    elif model is FeatureFlag:
                        row.update(
                            key=f"flag-{i % 80:02d}",
                            enabled=rng.random() < 0.6,
                            variant=rng.choice(["", "a", "b"]),
                            observed_at=when,
                        )
                    elif model is Deployment:
                        row.update(
                            resource_id=ids[i % len(ids)],
                            version=f"2.{i // 100}.{i % 100}",
                            description=f"bench deploy {i}",
                            deployed_at=when,
                        )
                    elif model is ConfigSnapshot:
                        row.update(
                            resource_id=ids[i % len(ids)],
                            taken_at=when,
                            data=json.dumps(
                                {
                                    "db": {"pool": {"size": 10 + i % 40, "timeout_s": 30}, "ssl": bool(i % 2)},
                                    "retries": {"max": i % 6},
                                    "log_level": ("info", "debug", "warn")[i % 3],
                                    "regions": ["eu-west"] + (["eu-north"] if i % 4 == 0 else []),
                                }
                            ),
                        )
                    elif model is Experiment:
                        row.update(
                            key=f"exp-{i}",
                            status="active" if rng.random() < 0.1 else "ended",
                            variant=rng.choice(["control", "treatment"]),
                            started_at=when,
                            ended_at=None,
                        )
                    yield row

            self._insert(model, rows(model, count, name, budgets))
            out(f"  {name:<15} {count:>10,} rows in {time.perf_counter() - t0:6.1f} s")
        if connection.vendor == "postgresql":  # what autovacuum would do: statistics and the visibility map
            with connection.cursor() as cursor:
                for model, _ in MIX:
                    cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    @staticmethod
    def _insert(model, rows):
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = [f.column for f in fields]
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(model._meta.db_table)
            cols = ", ".join(connection.ops.quote_name(c) for c in columns)
            with transaction.atomic(), connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row.get(c, _default(f)) for c, f in zip(columns, fields)])
            return
        batch = []
        for row in rows:
            for key in ("labels", "annotations", "data"):
                if isinstance(row.get(key), str):
                    row[key] = json.loads(row[key])
            batch.append(model(**{f.attname: row.get(f.column, _default(f, as_text=False)) for f in fields}))
            if len(batch) >= 5000:
                model.objects.bulk_create(batch)
                batch = []
        model.objects.bulk_create(batch)


def _default(field, *, as_text: bool = True):
    if field.has_default():
        value = field.get_default()
        return json.dumps(value) if as_text and isinstance(value, (dict, list)) else value
    return None if field.null else ""
