"""Measure the triage copilot: proposal latency per case and training time at volume.

    python manage.py bench_copilot [--cases 100000] [--samples 200] [--train 100000] [--skip-latency]

Latency: makes sure the demo world and `--cases` cases exist (demo.bulk_load.ensure_cases), trains
a model on the shipped training set if none is stored, then times `runbooks.copilot.selectors
.assess_case` — the engine with its database reads (pg_trgm duplicate candidates in the tenant's
week, active incidents, known issues, the similar past cases behind the classification proposals) —
on `--samples` random cases: p50 / p95 wall time and the
queries each runs. Target (issue 19): p95 ≤ 100 ms.

Training: `--train` labelled tickets, synthetic — drawn from the training set's generator
(runbooks/copilot/data/generate.py: the training phrasings only, fresh slot values) — and the time
`model.fit_tickets` takes on them (TF-IDF word + char n-grams, one calibrated LinearSVC per field).
"""

from __future__ import annotations

import os
import random
import time
from statistics import median

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from companyos.bench import percentile
from demo.bulk_load import ensure_cases
from demo.world import build_demo_world
from runbooks.copilot import selectors, services
from runbooks.copilot.data import generate
from runbooks.copilot.model import fit_tickets


class Command(BaseCommand):
    help = "Time the copilot's proposals per case (p50/p95) and its training on N labelled tickets."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--samples", type=int, default=200)
        parser.add_argument("--train", type=int, default=100_000)
        parser.add_argument("--skip-latency", action="store_true")
        parser.add_argument("--skip-training", action="store_true")

    def handle(self, *args, **options):
        if not options["skip_latency"]:
            self._latency(options["cases"], options["samples"])
        if not options["skip_training"]:
            self._training(options["train"])

    def _latency(self, cases: int, samples: int) -> None:
        world = build_demo_world()
        added = ensure_cases(world, cases, out=lambda m: self.stdout.write(m))
        self.stdout.write(f"cases: {Case.objects.count()} ({added} added)")
        if selectors.current_model() is None:
            row = services.copilot_train()
            self.stdout.write(f"trained model v{row.version} on {row.examples} tickets in {row.seconds:.1f} s")
        ids = list(Case.objects.order_by("-created_at").values_list("pk", flat=True)[:50_000])
        rng = random.Random(19)
        picks = [rng.choice(ids) for _ in range(samples)]
        selectors.assess_case(Case.objects.select_related("tenant").get(pk=picks[0]))  # warm: model load
        times, cpu, queries, similar = [], [], [], []
        for pk in picks:
            case = Case.objects.select_related("tenant").get(pk=pk)
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                selectors.assess_case(case)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries.append(len(captured))
            started = time.perf_counter()  # the similar past cases' part alone (already in the above)
            selectors.similar_past_cases(case)
            similar.append((time.perf_counter() - started) * 1000)
        load = os.getloadavg()[0]
        self.stdout.write(
            f"proposal per case: p50 {median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms, "
            f"max {max(times):.1f} ms; queries {min(queries)}–{max(queries)} (samples: {samples}); "
            f"of which CPU in this process: p50 {median(cpu):.1f} ms, p95 {percentile(cpu, 95):.1f} ms; "
            f"the similar past cases' 2 queries alone: p50 {median(similar):.1f} ms, "
            f"p95 {percentile(similar, 95):.1f} ms; load average {load:.1f}"
        )

    def _training(self, n: int) -> None:
        per = max(1, n // len(generate.SCENARIOS))
        tickets = generate.build(held_out=False, per_scenario=per, seed=100, dup_share=0.0, prefix="bench")[:n]
        started, started_cpu = time.perf_counter(), time.process_time()
        predictor = fit_tickets(tickets)
        seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        size = len(predictor.dumps())
        self.stdout.write(
            f"training on {len(tickets)} labelled tickets: {seconds:.1f} s wall, {cpu:.1f} s CPU "
            f"(artefact {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f})"
        )
