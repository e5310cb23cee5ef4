"""Measure the knowledge side at volume: library search and the case page's suggestions.

    python manage.py bench_knowledge --cases 1000000 --docs 10000 [--requests 50] [--profile] [--explain]

Makes sure the demo world, N cases (demo.bulk_load.ensure_cases) and `--docs` generated runbooks
and as many articles exist (bulk-inserted, then one UPDATE builds their search documents), then
times, server-side, `runbooks.selectors.runbook_search` / `article_search` (the first page and its
count, as the library renders them) for a set of queries, and `case_suggestions` on random open
cases as an agent granted every tenant: p50/p95 wall time and the queries each runs. Targets
(issue 15): search p95 ≤ 100 ms, suggestions p95 ≤ 50 ms.

`--profile` adds a cProfile of each measured loop (the top functions by cumulative time);
`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of every query one search and one suggestion run, with
its time, so the slow plan is in front of you.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import time
from statistics import median

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from companyos.bench import percentile
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world
from runbooks import markdown, selectors
from runbooks.models import Article, Runbook

User = get_user_model()

WORDS = (
    "webhook timeout token refresh ingestion lag queue billing invoice quota limit dashboard browser "
    "certificate rotation latency region failover replica backup restore export import schema policy "
    "signature retry backoff throttle gateway proxy cache eviction deploy rollback migration index"
).split()
QUERIES = ["webhook", "token refresh", "ingestion lag", "billing quota", "certificate rotation", "gateway timeout"]


# A realistic spread: a document is mostly about other things (FILLER, a large vocabulary), and names
# two to four of the domain WORDS — so a query word matches a few percent of the library, not all of it.
FILLER = [f"{a}{b}{c}" for a in "bcdfgklmnprst" for b in "aeiou" for c in ("ra", "lo", "ven", "tis", "mon", "dex")]


def _text(rng: random.Random, n: int, topics: int = 3) -> str:
    words = [rng.choice(FILLER) for _ in range(n)]
    for _ in range(topics):
        words[rng.randrange(n)] = rng.choice(WORDS)
    return " ".join(words)


class Command(BaseCommand):
    help = "Benchmark runbook/article search and case-page suggestions at volume."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=1_000_000)
        parser.add_argument("--docs", type=int, default=10_000, help="runbooks, and as many articles")
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--rebuild-docs", action="store_true", help="delete the generated runbooks/articles first")
        parser.add_argument("--profile", action="store_true", help="cProfile each measured loop")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries of one run of each")

    def handle(self, *args, cases: int, docs: int, requests: int, seed: int, **options):
        if cases < 1 or docs < 1 or requests < 1:
            raise CommandError("--cases, --docs and --requests must be positive.")
        if connection.vendor != "postgresql":
            raise CommandError("bench_knowledge measures PostgreSQL full-text search: run it on PostgreSQL.")
        out = self.stdout.write
        rng = random.Random(seed)
        world = build_demo_world(out=out)
        added = ensure_cases(world, cases, out=out)
        if added:
            out(f"Added {added:,} cases.")
        if Runbook.objects.filter(search__isnull=False, search_head__isnull=True).exists():
            from runbooks.services import head_vector

            Runbook.objects.filter(search_head__isnull=True).update(search_head=head_vector())
        if options["rebuild_docs"]:
            Runbook.objects.filter(slug__startswith="bench-rb").delete()
            Article.objects.filter(slug__startswith="bench-kb").delete()
        self._ensure_docs(docs, rng, out)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE runbooks_runbook; ANALYZE runbooks_article")

        def one_search(q):
            qs = selectors.runbook_search(q)
            list(qs[: selectors.PAGE])
            qs.count()
            list(selectors.article_search(q)[: selectors.PAGE])

        profile = cProfile.Profile() if options["profile"] else None
        search, search_q = [], []
        for i in range(requests):
            q = QUERIES[i % len(QUERIES)]
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                if profile:
                    profile.runcall(one_search, q)
                else:
                    one_search(q)
                search.append((time.perf_counter() - t) * 1000)
            search_q.append(len(ctx.captured_queries))
        if profile:
            self._report_profile(profile, "search")
        if options["explain"]:
            self._explain(lambda: one_search(QUERIES[1]), "search “token refresh”")

        user = User.objects.filter(groups__name="manager").first() or User.objects.filter(is_superuser=True).first()
        ids = list(Case.objects.open().order_by("-created_at").values_list("pk", flat=True)[:5000])
        if not ids:
            raise CommandError("No open cases to suggest for.")
        profile = cProfile.Profile() if options["profile"] else None
        suggest, suggest_q = [], []
        for _ in range(requests):
            case = Case.objects.select_related("tenant", "requester").get(pk=rng.choice(ids))
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                if profile:
                    profile.runcall(selectors.case_suggestions, case, user)
                else:
                    selectors.case_suggestions(case, user)
                suggest.append((time.perf_counter() - t) * 1000)
            suggest_q.append(len(ctx.captured_queries))
        if profile:
            self._report_profile(profile, "suggestions")
        if options["explain"]:
            case = Case.objects.select_related("tenant", "requester").get(pk=rng.choice(ids))
            self._explain(lambda: selectors.case_suggestions(case, user), f"suggestions for {case.key}")

        total = Case.objects.count()
        out(f"cases {total:,} · runbooks {Runbook.objects.count():,} · articles {Article.objects.count():,}")
        for name, times, queries, target in (
            ("search (runbooks page + count + articles page)", search, search_q, 100),
            ("suggestions for a case page", suggest, suggest_q, 50),
        ):
            p95 = percentile(times, 95)
            out(
                f"{name}: p50 {median(times):.1f} ms · p95 {p95:.1f} ms · queries {max(queries)} · "
                f"target p95 ≤ {target} ms {'✓' if p95 <= target else '✗'}"
            )

    def _report_profile(self, profile: cProfile.Profile, name: str) -> None:
        stream = io.StringIO()
        pstats.Stats(profile, stream=stream).sort_stats("cumulative").print_stats(25)
        self.stdout.write(f"--- profile: {name} (cumulative) ---")
        self.stdout.write(stream.getvalue())

    def _explain(self, run, name: str) -> None:
        """Run once capturing the queries, then EXPLAIN ANALYZE each (a read-only re-run)."""
        with CaptureQueriesContext(connection) as ctx:
            run()
        self.stdout.write(f"--- EXPLAIN: {name}: {len(ctx.captured_queries)} queries ---")
        with connection.cursor() as cursor:
            for query in ctx.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                self.stdout.write(f"\n[{query['time']} s] {sql[:300]}\n{plan}")

    def _ensure_docs(self, docs: int, rng: random.Random, out) -> None:
        from runbooks.services import _vector, head_vector

        for model, prefix in ((Runbook, "bench-rb"), (Article, "bench-kb")):
            have = model.objects.filter(slug__startswith=prefix).count()
            missing = docs - have
            if missing <= 0:
                continue
            rows = []
            for i in range(have, docs):
                body = _text(rng, 120)
                fields = {
                    "title": _text(rng, 4, topics=1).title(),
                    "slug": f"{prefix}-{i}",
                    "summary": _text(rng, 12, topics=1),
                    "body": body,
                    "body_html": markdown.render(body),
                    "tags": rng.sample(WORDS, 3),
                }
                if model is Article:
                    fields |= {"category": "troubleshooting", "status": "published"}
                rows.append(model(**fields))
            model.objects.bulk_create(rows, batch_size=1000)
            extra = {"search_head": head_vector()} if model is Runbook else {}
            model.objects.filter(slug__startswith=prefix, search__isnull=True).update(
                search=_vector("title", "summary", "body"), **extra
            )
            out(f"Added {missing:,} {model._meta.verbose_name_plural}.")
