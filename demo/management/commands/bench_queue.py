"""Measure the queue and the case page at a given case volume.

    python manage.py bench_queue --cases 10000 [--requests 30]

Makes sure the demo world and N cases exist (demo.bulk_load.ensure_cases: realistic timelines up to
5,000, then the bulk loader), then times server-side requests through Django's test Client, signed in as a manager
(sees every tenant) and as an agent (sees only the tenants granted to them): p50/p95 wall time
around `client.get` and the number of SQL queries each page runs.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from statistics import median

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from cases.models import Case
from cases.selectors import case_visible_to
from companyos.bench import as_served, percentile
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world

User = get_user_model()


class Command(BaseCommand):
    help = "Benchmark the case queue, search, saved-view counts and the case page at N cases."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="make sure at least this many cases exist")
        parser.add_argument("--requests", type=int, default=30, help="timed requests per page and user (default 30)")
        parser.add_argument(
            "--warmup", type=int, default=3, help="untimed requests per page and user first (default 3)"
        )
        parser.add_argument("--q", default="webhook", help="the search word (default: webhook)")
        parser.add_argument(
            "--q-messages", default="grafana", help="a word found in messages and notes only (default: grafana)"
        )
        parser.add_argument("--json", action="store_true", help="print the results as JSON (machine-readable)")
        parser.add_argument(
            "--explain", action="store_true", help="print the plan of the search's statements (EXPLAIN ANALYZE)"
        )
        parser.add_argument(
            "--profile",
            metavar="URL",
            help="profile 20 GETs of URL (e.g. /cases/) as the first user with cProfile and print where the time goes",
        )
        parser.add_argument(
            "--users",
            default="manager,agent,agent-all",
            help="comma-separated usernames to sign in as; agent-all: an agent granted every tenant (made if missing)",
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, cases: int, requests: int, warmup: int, q: str, users: str, seed: int, **options):
        q_messages, as_json = options["q_messages"], options["json"]
        if cases < 1 or requests < 1:
            raise CommandError("--cases and --requests must be positive.")
        out = self.stdout.write
        started = time.perf_counter()
        world = build_demo_world(out=out)
        added = ensure_cases(world, cases, out=out)
        if added:
            out(f"Added {added:,} cases in {time.perf_counter() - started:.1f} s.")
        total = Case.objects.count()

        overrides = {"ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"]}
        if not settings.DEBUG:
            overrides["SECURE_SSL_REDIRECT"] = False
            if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
                overrides["STORAGES"] = {
                    **settings.STORAGES,
                    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
                }
        rng = random.Random(seed)
        results, errors = [], []
        with override_settings(**overrides):
            for username in [u.strip() for u in users.split(",") if u.strip()]:
                user = self._agent_granted_all() if username == "agent-all" else None
                user = user or User.objects.filter(username=username).first()
                if user is None:
                    raise CommandError(f"No user {username!r}.")
                client = Client(raise_request_exception=False)
                client.force_login(user)
                visible = case_visible_to(user)
                ids = self._case_ids(visible, rng, requests + warmup)
                pages = [
                    ("queue /cases/", lambda i: ("/cases/", {})),
                    (
                        "queue filtered+sorted",
                        lambda i: ("/cases/?priority=critical&priority=high&status=open&sort=updated", {}),
                    ),
                    (
                        "queue HTMX fragment",
                        lambda i: (
                            "/cases/?status=open&sort=priority",
                            {"HX-Request": "true", "HX-Target": "queue-results"},
                        ),
                    ),
                    (  # a change in the filter bar: the results and the chips' counts (the bar stays)
                        "queue HTMX from filters",
                        lambda i: (
                            "/cases/?status=open&sort=priority",
                            {"HX-Request": "true", "HX-Target": "queue-results", "HX-Trigger": "queue-filters"},
                        ),
                    ),
                    (f"search q={q}", lambda i: (f"/cases/?q={q}&status=all", {})),
                    (f"search msgs q={q_messages}", lambda i: (f"/cases/?q={q_messages}&status=all", {})),
                    ("saved-view counts", lambda i: ("/cases/views/counts/", {"HX-Request": "true"})),
                    (
                        "case page CS-<random>",
                        lambda i, ids=ids: (f"/cases/{settings.CASE_KEY_PREFIX}-{ids[i % len(ids)]}/", {}),
                    ),
                ]
                visible_count = visible.count()
                results.append(self._create(client, user, visible, requests, warmup, visible_count))
                for name, make in pages:
                    timings, queries, statuses = [], [], {}
                    for i in range(warmup + requests):
                        if i == warmup:
                            as_served()  # the heap as a warm gunicorn worker keeps it
                        url, headers = make(i)
                        connection.queries_log.clear()  # a full log (9,000 entries, e.g. after seeding) would count 0
                        with CaptureQueriesContext(connection) as ctx:
                            t0 = time.perf_counter()
                            response = client.get(url, headers=headers)
                            elapsed = (time.perf_counter() - t0) * 1000
                        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                        if response.status_code != 200 and len(errors) < 20:
                            exc = getattr(response, "exc_info", None)
                            detail = (
                                f"{exc[0].__name__}: {exc[1]}"
                                if exc
                                else response.content[:200].decode(errors="replace")
                            )
                            errors.append(f"{username} GET {url} -> {response.status_code} {detail}")
                        if i >= warmup:
                            timings.append(elapsed)
                            queries.append(len(ctx.captured_queries))
                    results.append(
                        (
                            username,
                            visible_count,
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
        if as_json:
            out(
                json.dumps(
                    {
                        "cases": total,
                        "database": db,
                        "requests": requests,
                        "warmup": warmup,
                        "debug": settings.DEBUG,
                        "results": [
                            {
                                "user": username,
                                "sees": visible_count,
                                "page": name,
                                "p50_ms": round(p50, 2),
                                "p95_ms": round(p95, 2),
                                "max_ms": round(worst, 2),
                                "statements": qmax,
                                "statuses": {str(k): v for k, v in statuses.items()},
                            }
                            for username, visible_count, name, p50, p95, worst, _q50, qmax, statuses in results
                        ],
                        "errors": errors,
                    },
                    indent=2,
                )
            )
            return
        out("")
        out(
            f"bench_queue: {total:,} cases on {db}, {requests} timed requests per row after {warmup} warm-up, "
            f"DEBUG={settings.DEBUG}"
        )
        header = (
            f"{'user':<9} {'sees':>9}  {'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}  status"
        )
        out(header)
        out("-" * len(header))
        for username, visible_count, name, p50, p95, worst, q50, qmax, statuses in results:
            qtext = f"{q50:.0f}" if q50 == qmax else f"{q50:.0f}-{qmax}"
            status = ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items()))
            out(
                f"{username:<9} {visible_count:>9,}  {name:<24} "
                f"{p50:>8.1f} {p95:>8.1f} {worst:>8.1f} {qtext:>8}  {status}"
            )
        if errors:
            out("")
            out(self.style.WARNING("Errors (the views are reported, not changed):"))
            for line in errors:
                out("  " + line)
        if options["explain"] and connection.vendor == "postgresql":
            self._explain(q, q_messages, users, out)
        if options["profile"]:
            self._profile(options["profile"], users.split(",")[0].strip(), overrides, out)
        out(f"\nTotal {time.perf_counter() - started:.1f} s.")

    @staticmethod
    def _agent_granted_all():
        """An agent (not a manager) granted every tenant one by one: the widest tenant list a
        search carries (the manager sees all tenants by role, with no list)."""
        from django.contrib.auth.models import Group

        from tenants.models import Tenant
        from tenants.services import tenant_grant

        user, made = User.objects.get_or_create(
            username="agent-all", defaults={"first_name": "Ada", "last_name": "All"}
        )
        if made:
            user.groups.add(Group.objects.get(name="agent"))
        for tenant in Tenant.objects.all():
            tenant_grant(tenant=tenant, user_or_group=user)
        return user

    def _create(self, client, user, visible, requests, warmup, visible_count):
        """POST the new-case form (the browser's own request) and time it to the redirect."""
        from tenants.models import Requester, Tenant

        tenant = Tenant.objects.filter(pk__in=visible.values("tenant_id")[:1]).first()
        requester = Requester.objects.filter(tenant=tenant).first()
        form = {
            "tenant": tenant.slug,
            "requester": requester.pk,
            "description": "Deliveries to our endpoint time out since 10:00 UTC (bench)",
            "channel": "email",
            "priority": "high",
            "category": "integration",
            "issue_type": "bug",
            "environment": "production",
        }
        timings, queries, statuses = [], [], {}
        for i in range(warmup + requests):
            if i == warmup:
                as_served()  # the heap as a warm gunicorn worker keeps it
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.post("/cases/new/", {**form, "subject": f"Bench webhook timeouts {i}"})
                elapsed = (time.perf_counter() - t0) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if i >= warmup:
                timings.append(elapsed)
                queries.append(len(ctx.captured_queries))
        return (
            user.username,
            visible_count,
            "create (POST /cases/new/)",
            median(timings),
            percentile(timings, 95),
            max(timings),
            median(queries),
            max(queries),
            statuses,
        )

    def _profile(self, url, username, overrides, out):
        """Where a page's time goes, by function (cumulative), for this bench run only: the profiler
        is never installed in the console itself."""
        import cProfile
        import io
        import pstats

        user = self._agent_granted_all() if username == "agent-all" else User.objects.get(username=username)
        with override_settings(**overrides):
            client = Client()
            client.force_login(user)
            for _ in range(3):
                client.get(url)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(url)
            profiler.disable()
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer).sort_stats("cumulative")
        stats.print_stats(r"companyos|cases|tenants|incidents|runbooks|template|db/models/query|psycopg", 40)
        out(f"\nprofile of 20 × GET {url} as {username} (cumulative; the profiler itself roughly doubles the times):")
        out(buffer.getvalue())

    def _explain(self, q, q_messages, users, out):
        """The plans of the search's two statements (capped count, page) as each user runs them: the
        shape the benchmark expects is the GIN index on the search document, never a walk of the
        tenant/status indexes with the text as a filter."""
        from cases.filtersets import CaseFilterSet
        from cases.selectors import case_queue

        class _Request:
            def __init__(self, user):
                self.user = user
                self.GET = {}

        for username in [u.strip() for u in users.split(",") if u.strip()]:
            user = User.objects.get(username=username)
            for word in (q, q_messages):
                from django.http import QueryDict

                fs = CaseFilterSet(QueryDict(f"q={word}&status=all"), queryset=case_queue(user), request=_Request(user))
                page = fs.qs[:25]
                count = fs.qs.order_by().values("pk")[: settings.SEARCH_COUNT_CAP + 1]
                for label, qs in (("count", count), ("page", page)):
                    sql, params = qs.query.sql_with_params()
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM ({sql}) s"
                            if label == "count"
                            else "EXPLAIN (ANALYZE, COSTS OFF) " + sql,
                            params,
                        )
                        plan = [row[0] for row in cursor.fetchall()]
                    uses_gin = any("case_search_doc_idx" in line for line in plan)
                    took = next((line for line in plan if line.startswith("Execution Time")), "")
                    shape = "GIN search index" if uses_gin else "NO search index"
                    out(f"explain {username} q={word} {label}: {shape}; {took}")

    @staticmethod
    def _case_ids(qs, rng: random.Random, n: int) -> list[int]:
        """Random existing case ids the user may see, without ORDER BY random() on a big table."""
        bounds = Case.objects.order_by("pk").values_list("pk", flat=True)
        low, high = bounds.first(), bounds.last()
        if low is None:
            raise CommandError("No cases.")
        ids = []
        for _ in range(n * 3):
            pk = qs.filter(pk__gte=rng.randint(low, high)).order_by("pk").values_list("pk", flat=True).first()
            if pk is not None:
                ids.append(pk)
            if len(ids) >= n:
                break
        if not ids:
            raise CommandError("The user sees no cases.")
        return ids
