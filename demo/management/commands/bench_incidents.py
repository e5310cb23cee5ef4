"""Measure the incident pages at a given volume.

    python manage.py bench_incidents --cases 1000000 --incidents 10000 --linked 5000 [--requests 30]

Makes sure the demo world and N cases exist (demo.bulk_load.ensure_cases), then that there are at
least M incidents (bulk-inserted, each with a few timeline entries and a linked case or two) and one
big SEV1 ("bench: big incident") with `--linked` open cases linked and a public update history. Then
times server-side requests through Django's test Client, as a manager and as an agent: p50/p95 wall
time and SQL queries of the incident list, the big incident's page, a case page linked to it and its
incident panel (the partial the case page loads). Last, `--send` times one customer update to every
open case of the big incident: queued in one service call, then sent by the task's service
(`send_customer_update`, one case_reply per case, outside any request).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from statistics import median
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from cases.models import Case
from companyos import pageview, roles
from companyos.bench import as_served, percentile
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world
from incidents import reach, services
from incidents.choices import EntryKind
from incidents.models import Incident, IncidentEntry

User = get_user_model()
BIG = "bench: big incident"


class Command(BaseCommand):
    help = "Benchmark the incident list, a big incident's page and a case page with its incident panel."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=10_000)
        parser.add_argument("--incidents", type=int, default=1_000)
        parser.add_argument("--linked", type=int, default=5_000, help="open cases linked to the big incident")
        parser.add_argument("--requests", type=int, default=30)
        parser.add_argument("--warmup", type=int, default=3)
        parser.add_argument("--send", action="store_true", help="also time a customer update to every linked case")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, cases, incidents, linked, requests, warmup, send, **options):
        if min(cases, incidents, linked, requests) < 1:
            raise CommandError("--cases, --incidents, --linked and --requests must be positive.")
        out = self.stdout.write
        world = build_demo_world(out=out)
        ensure_cases(world, cases, out=out)
        started = time.perf_counter()
        self._incidents(incidents)
        big = self._big(linked)
        out(
            f"{Incident.objects.count():,} incidents; {big.key} has {big.cases.count():,} cases "
            f"({time.perf_counter() - started:.1f} s)."
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        case = big.cases.order_by("pk").first()
        overrides = {"ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"]}
        if not settings.DEBUG:
            overrides["SECURE_SSL_REDIRECT"] = False
            if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
                overrides["STORAGES"] = {
                    **settings.STORAGES,
                    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
                }
        results = []
        with override_settings(**overrides):
            for username in ("manager", "agent"):
                user = User.objects.get(username=username)
                client = Client()
                client.force_login(user)
                token = pageview.token(user, case)
                pages = [
                    ("incident list", "/incidents/", {}),
                    ("incident list, active SEV1", "/incidents/?active=true&severity=SEV1", {"HX-Request": "true"}),
                    (f"big incident page ({big.cases.count():,} cases)", big.get_absolute_url(), {}),
                    ("big incident page, linked page 40", f"{big.get_absolute_url()}?cases_page=40", {}),
                    ("queue incident hints", "/incidents/hints/", {"HX-Request": "true"}),
                    ("case page", case.get_absolute_url(), {}),
                    ("case incident panel", f"/incidents/case/{case.key}/panel/?pv={token}", {"HX-Request": "true"}),
                ]
                for name, url, headers in pages:
                    timings, queries, statuses = [], [], set()
                    for i in range(warmup + requests):
                        if i == warmup:
                            as_served()  # the heap as a warm gunicorn worker keeps it
                        connection.queries_log.clear()
                        with CaptureQueriesContext(connection) as ctx:
                            t0 = time.perf_counter()
                            response = client.get(url, headers=headers)
                            elapsed = (time.perf_counter() - t0) * 1000
                        statuses.add(response.status_code)
                        if i >= warmup:
                            timings.append(elapsed)
                            queries.append(len(ctx.captured_queries))
                    results.append(
                        {
                            "user": username,
                            "page": name,
                            "p50_ms": round(median(timings), 1),
                            "p95_ms": round(percentile(timings, 95), 1),
                            "queries": sorted(set(queries)),
                            "status": sorted(statuses),
                        }
                    )
        if send:
            results.append(self._send(big))
        if options["json"]:
            out(json.dumps(results, indent=2))
            return
        for r in results:
            if "page" in r:
                out(
                    f"{r['user']:8} {r['page']:36} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
                    f"queries {r['queries']}  {r['status']}"
                )
            else:
                out(
                    f"customer update to {r['cases']:,} cases: queued in {r['queue_ms']:.0f} ms, "
                    f"sent in {r['send_s']:.1f} s ({r['per_case_ms']:.1f} ms a case)"
                )

    def _incidents(self, wanted: int) -> None:
        have = Incident.objects.count()
        if have >= wanted:
            return
        rng = random.Random(13)
        now = timezone.now()
        case_ids = list(Case.objects.order_by("?").values_list("pk", flat=True)[: min(20_000, wanted * 2)])
        with transaction.atomic():
            rows = []
            for i in range(have, wanted):
                started = now - timezone.timedelta(days=rng.uniform(0, 700))
                resolved = i % 50 != 0
                rows.append(
                    Incident(
                        title=f"bench incident {i}",
                        severity=rng.choice(["SEV1", "SEV2", "SEV3"]),
                        status="resolved" if resolved else rng.choice(["investigating", "mitigating", "monitoring"]),
                        started_at=started,
                        updated_at=started,
                        resolved_at=started + timezone.timedelta(hours=rng.uniform(1, 30)) if resolved else None,
                    )
                )
            made = Incident.objects.bulk_create(rows, batch_size=2000)
            entries, links = [], []
            for incident in made:
                for k in range(3):
                    entries.append(
                        IncidentEntry(
                            incident=incident,
                            kind=EntryKind.UPDATE,
                            public=k != 1,
                            status=incident.status,
                            body=f"update {k}",
                            created_at=incident.started_at + timezone.timedelta(minutes=20 * k),
                        )
                    )
                for case_id in rng.sample(case_ids, min(2, len(case_ids))):
                    links.append(Incident.cases.through(incident_id=incident.pk, case_id=case_id))
            IncidentEntry.objects.bulk_create(entries, batch_size=5000)
            Incident.cases.through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)
            # The link rows went in bulk (no m2m signal): their incidents' reach is rebuilt from them.
            reach.rebuild([i.pk for i in made])

    def _big(self, linked: int) -> Incident:
        system = roles.system_user()
        big = Incident.objects.filter(title=BIG).first()
        if big is None:
            big = services.incident_declare(
                actor=system, title=BIG, severity="SEV1", summary="The benchmark's big incident."
            )
            for i in range(30):
                services.incident_post_update(
                    incident_id=big.pk, actor=system, body=f"public update {i}", public=i % 3 != 0
                )
        have = big.cases.count()
        if have < linked:
            ids = list(
                Case.objects.open().exclude(incidents=big).order_by("pk").values_list("pk", flat=True)[: linked - have]
            )
            Incident.cases.through.objects.bulk_create(
                [Incident.cases.through(incident_id=big.pk, case_id=pk) for pk in ids], batch_size=5000
            )
            reach.rebuild([big.pk])
        return big

    def _send(self, big: Incident) -> dict:
        manager = User.objects.get(username="manager")
        t0 = time.perf_counter()
        # The request only queues (the task is enqueued after commit); here the task's service is timed
        # on its own below, so the enqueue is held back (eager Celery would otherwise send inside it).
        with mock.patch.object(services, "_send_later"):
            entry = services.incident_customer_update(
                incident_id=big.pk, actor=manager, text=services.template_text("status"), extra={"message": "bench"}
            )
        queued = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        result = services.send_customer_update(entry_id=entry.pk, actor_id=manager.pk)
        sent = time.perf_counter() - t1
        n = result["sent"] + len(result["skipped"])
        return {"cases": n, "queue_ms": queued, "send_s": sent, "per_case_ms": sent * 1000 / max(1, n)}
