"""Measure telemetry ingestion through the real API.

    python manage.py bench_ingest --items 100000 [--batch 500] [--tenants 5] [--changed]

Makes sure a bench integration ("bench-ingest", its token rotated for this run), a few tenants
(bench-1…) and their resources exist, then POSTs N items (SLIs, usage metrics and alerts in turn, one
kind per batch) to /api/v1/telemetry/<kind>/ through Django's test Client — the whole stack: URL
routing, middleware, token authentication, JSON parsing, validation, the upsert — and prints items/s
for the fresh inserts and for an idempotent re-send of the same batches (and, with --changed, for a
re-send where every item changed), with per-request p50/p95, then the telemetry tables' row counts.
Request bodies are encoded before the clock starts: the figures are the server's work.
Each run's source ids carry a run tag, so every run inserts N new rows.
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from pathlib import Path
from statistics import median

from auditlog.context import set_actor
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from companyos.bench import percentile
from tenants import ingest
from tenants.models import Integration, Resource, Tenant
from tenants.telemetry import TELEMETRY_MODELS

INTEGRATION = "bench-ingest"
KINDS = ("slis", "usage", "alerts")
SERVICES = ("api-gateway", "orders-db", "search", "billing-worker")


class Command(BaseCommand):
    help = (
        "Benchmark telemetry ingestion (items/s through /api/v1/telemetry/) for fresh inserts and idempotent re-sends."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, required=True, help="how many items to send")
        parser.add_argument("--batch", type=int, default=500, help="items per request (default 500)")
        parser.add_argument("--tenants", type=int, default=5, help="bench tenants to spread the items over (default 5)")
        parser.add_argument("--changed", action="store_true", help="also time a re-send where every item changed")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, items: int, batch: int, tenants: int, changed: bool, seed: int, **options):
        if items < 1 or batch < 1 or tenants < 1:
            raise CommandError("--items, --batch and --tenants must be positive.")
        if batch > settings.TELEMETRY_MAX_BATCH:
            raise CommandError(f"--batch {batch} is over TELEMETRY_MAX_BATCH ({settings.TELEMETRY_MAX_BATCH}).")
        out = self.stdout.write
        started = time.perf_counter()
        token, slugs = self._setup(tenants)
        rng = random.Random(seed)
        run = timezone.now().strftime("%Y%m%d%H%M%S")
        bodies = self._bodies(items, batch, slugs, run, rng, bump=0.0)
        encoded_kb = sum(len(b) for _, b, _ in bodies) / 1024

        overrides = {"ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"]}
        if not settings.DEBUG:
            overrides["SECURE_SSL_REDIRECT"] = False
            if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
                overrides["STORAGES"] = {
                    **settings.STORAGES,
                    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
                }
        client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})
        phases = [("fresh insert", bodies, "created"), ("idempotent re-send", bodies, "unchanged")]
        if changed:
            phases.append(
                ("changed re-send", self._bodies(items, batch, slugs, run, random.Random(seed), bump=0.5), "updated")
            )
        results = []
        with override_settings(**overrides):
            for name, phase_bodies, expect in phases:
                results.append((name, expect, *self._post_all(client, phase_bodies, expect)))

        db = connection.vendor + (f" ({connection.settings_dict['NAME']})" if connection.vendor == "postgresql" else "")
        out("")
        out(
            f"bench_ingest: {items:,} items in batches of {batch} "
            f"({len(bodies):,} requests, {encoded_kb / 1024:.1f} MB of JSON), "
            f"kinds {'/'.join(KINDS)}, {tenants} tenant(s), on {db}, DEBUG={settings.DEBUG}"
        )
        header = f"{'phase':<20} {'seconds':>8} {'items/s':>9} {'req p50 ms':>11} {'req p95 ms':>11}  counts"
        out(header)
        out("-" * len(header))
        for name, expect, seconds, timings, totals, errors in results:
            rate = items / seconds if seconds else 0
            counts = ", ".join(f"{k} {v:,}" for k, v in totals.items())
            out(
                f"{name:<20} {seconds:>8.2f} {rate:>9,.0f} "
                f"{median(timings):>11.1f} {percentile(timings, 95):>11.1f}  {counts}"
            )
            if totals.get(expect, 0) != items:
                out(self.style.WARNING(f"  expected {items:,} {expect}, got {totals.get(expect, 0):,}"))
            for line in errors:
                out(self.style.WARNING("  " + line))
        out("")
        out(
            "Rows now: "
            + ", ".join(f"{kind} {model.objects.count():,}" for kind, model in TELEMETRY_MODELS.items())
            + f", resources {Resource.objects.count():,}"
        )
        out(f"Total {time.perf_counter() - started:.1f} s.")

    def _setup(self, tenants: int) -> tuple[str, list[str]]:
        """The bench tenants, the integration (a fresh token: only its hash is stored) and the resources."""
        slugs = [f"bench-{i}" for i in range(1, tenants + 1)]
        for slug in slugs:
            Tenant.objects.get_or_create(
                slug=slug, defaults={"name": f"Bench tenant {slug.split('-')[1]}", "telemetry_consent": True}
            )
        with set_actor(None):
            integration = (
                Integration.objects.filter(name__startswith=INTEGRATION, revoked_at__isnull=True)
                .order_by("-created_at")
                .first()
            )
            if integration is None:  # never made, or revoked: a new one (a revoked integration stays revoked)
                taken = Integration.objects.filter(name=INTEGRATION).exists()
                integration, token = ingest.integration_create(
                    name=f"{INTEGRATION}-{int(time.time())}" if taken else INTEGRATION,
                    actor=None,
                    tenant_ids=Tenant.objects.filter(slug__in=slugs).values_list("pk", flat=True),
                )
            else:
                _, token = ingest.integration_rotate_token(integration_id=integration.pk, actor=None)
            integration.tenants.add(*Tenant.objects.filter(slug__in=slugs))  # the bench's own tenants, if more now
        resources = [
            {"tenant": slug, "external_id": svc, "kind": "service", "health": "green"}
            for slug in slugs
            for svc in SERVICES
        ]
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], SECURE_SSL_REDIRECT=False):
            response = Client().post(
                "/api/v1/telemetry/resources/",
                data=json.dumps({"items": resources}),
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
        if response.status_code != 200:
            raise CommandError(
                f"Could not upsert the bench resources: {response.status_code} {response.content[:300]!r}"
            )
        return token, slugs

    @staticmethod
    def _bodies(
        items: int, batch: int, slugs: list[str], run: str, rng: random.Random, bump: float
    ) -> list[tuple[str, bytes, int]]:
        """(kind, encoded body, item count) per request; kinds take turns batch by batch."""
        now = timezone.now()
        bodies, sent, b = [], 0, 0
        while sent < items:
            kind = KINDS[b % len(KINDS)]
            n = min(batch, items - sent)
            batch_items = []
            for i in range(sent, sent + n):
                slug = slugs[i % len(slugs)]
                at = (now - timedelta(minutes=rng.randint(0, 30 * 24 * 60))).isoformat()
                sid = f"{run}-{i}"
                if kind == "slis":
                    value = round(rng.uniform(99.0, 100.0), 3)
                    batch_items.append(
                        {
                            "tenant": slug,
                            "source_id": sid,
                            "resource": SERVICES[i % len(SERVICES)],
                            "name": ("availability", "latency_p99")[i % 2],
                            "objective": 99.9,
                            "value": value,
                            "error_budget_remaining": round(rng.uniform(-10, 100), 1) + bump,
                            "observed_at": at,
                        }
                    )
                elif kind == "usage":
                    batch_items.append(
                        {
                            "tenant": slug,
                            "source_id": sid,
                            "metric": ("api_requests", "active_users", "storage_gb")[i % 3],
                            "value": rng.randint(0, 10**6) + bump,
                            "period_start": at,
                        }
                    )
                else:
                    batch_items.append(
                        {
                            "tenant": slug,
                            "source_id": sid,
                            "resource": SERVICES[i % len(SERVICES)],
                            "name": rng.choice(("HighErrorRate", "LatencyHigh", "DatabaseConnectionsHigh")),
                            "severity": rng.choice(("critical", "warning", "info")),
                            "status": "resolved",
                            "summary": f"Bench alert {i}" + (" (updated)" if bump else ""),
                            "fingerprint": f"{i:016x}",
                            "labels": {"service": SERVICES[i % len(SERVICES)], "tenant": slug},
                            "starts_at": at,
                            "ends_at": at,
                        }
                    )
            bodies.append((kind, json.dumps({"items": batch_items}).encode(), n))
            sent += n
            b += 1
        return bodies

    @staticmethod
    def _post_all(client: Client, bodies, expect: str):
        timings, totals, errors = [], {"created": 0, "updated": 0, "unchanged": 0}, []
        t_start = time.perf_counter()
        for kind, body, _ in bodies:
            t0 = time.perf_counter()
            response = client.post(f"/api/v1/telemetry/{kind}/", data=body, content_type="application/json")
            timings.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                if len(errors) < 10:
                    errors.append(f"POST {kind} -> {response.status_code} {response.content[:300]!r}")
                continue
            for key, value in response.json().items():
                if key in totals:
                    totals[key] += value
        return time.perf_counter() - t_start, timings, totals, errors
