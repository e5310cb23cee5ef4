"""Measure the REST API at a given case volume: list pages (first, filtered, deep through the cursor),
the case detail, and create throughput.

    python manage.py bench_api --cases 1000000 [--requests 30] [--deep 50] [--creates 200]

On PostgreSQL, on a database whose name contains "bench" (the creates stay in it). Makes sure the demo
world and N cases exist (demo.bulk_load.ensure_cases), makes API tokens for a manager (every tenant),
an agent (the tenants granted to them) and an integration (one tenant), then times requests through
Django's test Client with `Authorization: Bearer …`: p50/p95 server time, SQL queries per request and
whether any ran a COUNT (the list must not). Deep pages follow `next` from the first page on.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from statistics import median

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from cases.models import Case
from companyos.api import tokens
from companyos.bench import percentile
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world
from tenants import ingest
from tenants.models import Integration

User = get_user_model()


class Command(BaseCommand):
    help = "Benchmark the REST API: list p50/p95 (first, filtered, deep cursor pages), detail, create throughput."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="make sure at least this many cases exist")
        parser.add_argument("--requests", type=int, default=30, help="timed requests per endpoint and token")
        parser.add_argument("--warmup", type=int, default=3)
        parser.add_argument("--deep", type=int, default=50, help="cursor pages followed for the deep-page figure")
        parser.add_argument("--page-size", type=int, default=25)
        parser.add_argument("--creates", type=int, default=200, help="cases created for the throughput figure")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, cases, requests, warmup, deep, page_size, creates, seed, **options):
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("bench_api runs on PostgreSQL, on a database whose name contains 'bench'.")
        if cases < 1 or requests < 1:
            raise CommandError("--cases and --requests must be positive.")
        out = self.stdout.write
        started = time.perf_counter()
        world = build_demo_world(out=out)
        added = ensure_cases(world, cases, out=out)
        if added:
            out(f"Added {added:,} cases in {time.perf_counter() - started:.1f} s.")
        total = Case.objects.count()
        rng = random.Random(seed)

        principals = []
        for username in ("manager", "agent"):
            user = User.objects.get(username=username)
            raw = tokens.token_create(
                user=user, name=f"bench {uuid.uuid4().hex[:8]}", scope="write", expires_in_days=7
            )[1]
            principals.append((username, raw))
        tenant = world.tenants[0]
        integration_name = "bench api"
        existing = Integration.objects.filter(name=integration_name, revoked_at__isnull=True).first()
        if existing is None:
            _, raw = ingest.integration_create(name=integration_name, actor=None, tenant_ids=[tenant.pk])
        else:
            _, raw = ingest.integration_rotate_token(integration_id=existing.pk, actor=None)
        principals.append((f"integration ({tenant.slug})", raw))

        overrides = {"ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"], "API_RATE_LIMIT": "1000000/min"}
        if not settings.DEBUG:
            overrides["SECURE_SSL_REDIRECT"] = False
            if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
                overrides["STORAGES"] = {
                    **settings.STORAGES,
                    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
                }
        rows, errors = [], []
        with override_settings(**overrides):
            for label, raw in principals:
                client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
                first = client.get("/api/v1/cases/", {"page_size": page_size, "status": "all"}).json()
                keys = [c["key"] for c in first.get("results", [])] or ["CS-1"]
                endpoints = [
                    ("list first page", lambda i: ("/api/v1/cases/", {"page_size": page_size})),
                    (
                        "list all, newest",
                        lambda i: ("/api/v1/cases/", {"page_size": page_size, "status": "all", "sort": "newest"}),
                    ),
                    (
                        "list filtered+sorted",
                        lambda i: (
                            "/api/v1/cases/",
                            {"priority": ["critical", "high"], "sort": "updated", "page_size": page_size},
                        ),
                    ),
                    ("case detail", lambda i, keys=keys: (f"/api/v1/cases/{rng.choice(keys)}/", {})),
                ]
                for name, make in endpoints:
                    rows.append((label, name, *self._time(client, make, warmup, requests, errors)))
                rows.append((label, f"deep pages (1..{deep}, all)", *self._deep(client, deep, page_size, errors)))
            create_row = self._creates(principals[0][1], world, creates, errors)

        db = f"{connection.vendor} ({connection.settings_dict['NAME']})"
        out("")
        out(f"bench_api: {total:,} cases on {db}, page size {page_size}, {requests} timed requests per row, "
            f"DEBUG={settings.DEBUG}")  # fmt: skip
        header = (
            f"{'token':<22} {'endpoint':<26} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'COUNTs':>6}"
        )
        out(header)
        out("-" * len(header))
        for label, name, p50, p95, worst, q, counts in rows:
            out(f"{label:<22} {name:<26} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f} {q:>8} {counts:>6}")
        n, seconds, p50, p95 = create_row
        out(
            f"\ncreate: {n} cases in {seconds:.2f} s = {n / seconds:.1f} creates/s (p50 {p50:.1f} ms, p95 {p95:.1f} ms)"
        )
        if errors:
            out(self.style.WARNING("\nErrors:"))
            for line in errors[:20]:
                out("  " + line)
        out(f"\nTotal {time.perf_counter() - started:.1f} s.")

    @staticmethod
    def _measure(client, url, params, errors, method="get", **kwargs):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = getattr(client, method)(url, params, **kwargs)
            elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code >= 400 and len(errors) < 20:
            errors.append(f"{method.upper()} {url} {params} -> {response.status_code} {response.content[:200]!r}")
        counts = sum(1 for q in ctx.captured_queries if "COUNT(" in q["sql"].upper())
        return response, elapsed, len(ctx.captured_queries), counts

    def _time(self, client, make, warmup, requests, errors):
        timings, queries, counts = [], [], 0
        for i in range(warmup + requests):
            url, params = make(i)
            _, elapsed, n, c = self._measure(client, url, params, errors)
            if i >= warmup:
                timings.append(elapsed)
                queries.append(n)
                counts += c
        return median(timings), percentile(timings, 95), max(timings), _span(queries), counts

    def _deep(self, client, pages, page_size, errors):
        timings, queries, counts, cursor = [], [], 0, None
        for _ in range(pages):
            params = {"page_size": page_size, "status": "all", **({"cursor": cursor} if cursor else {})}
            response, elapsed, n, c = self._measure(client, "/api/v1/cases/", params, errors)
            timings.append(elapsed)
            queries.append(n)
            counts += c
            cursor = response.json().get("next") if response.status_code == 200 else None
            if not cursor:
                break
        return median(timings), percentile(timings, 95), max(timings), _span(queries), counts

    def _creates(self, raw, world, n, errors):
        client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
        tenant = world.tenants[0]
        requester = world.requesters[tenant.pk][0]
        timings = []
        t0 = time.perf_counter()
        for i in range(n):
            body = {
                "tenant": tenant.slug,
                "requester": requester.email,
                "subject": f"bench_api create {i}",
                "description": "Created by bench_api.",
                "priority": "medium",
                "error_ids": [f"ERR-{i}"],
            }
            start = time.perf_counter()
            response = client.post(
                "/api/v1/cases/", body, content_type="application/json", headers={"Idempotency-Key": uuid.uuid4().hex}
            )
            timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 201 and len(errors) < 20:
                errors.append(f"POST /api/v1/cases/ -> {response.status_code} {response.content[:200]!r}")
        seconds = time.perf_counter() - t0
        return n, seconds, median(timings), percentile(timings, 95)


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"
