"""Measure on-call at volume.

    python manage.py bench_oncall [--schedules 1000] [--pages 10000] [--runs 5] [--skip-sweep] [--json]

Inside one transaction that is rolled back at the end (the database is left as it was): makes
`--schedules` schedules (two layers each: a weekly rotation of four people and a 12-hour cover layer,
plus two overrides) and times "who is on call now / next, until when" over all of them
(incidents.oncall.selectors.on_call_overview: the schedule list's read, plain values fed to the
pure rotation arithmetic). Then
makes `--pages` open pages on a two-step chain and times the beat sweep: once with every page's step
due (each fires: a PageStep, a notice, an outbox notification, timeline entries), and once with none
due (the steady state between steps).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from statistics import median

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.oncall import selectors
from incidents.oncall.models import (
    EscalationChain,
    EscalationStep,
    LayerParticipant,
    Page,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
from incidents.oncall.sweep import page_sweep

User = get_user_model()


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark who-is-on-call over many schedules and the page sweep over many open pages."

    def add_arguments(self, parser):
        parser.add_argument("--schedules", type=int, default=1000)
        parser.add_argument("--pages", type=int, default=10_000)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--skip-sweep", action="store_true", help="only who is on call (the page sweep takes minutes)"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, schedules, pages, runs, json: bool = False, skip_sweep: bool = False, **options):
        if min(schedules, pages, runs) < 1:
            raise CommandError("--schedules, --pages and --runs must be positive.")
        self.figures: dict = {}
        try:
            with transaction.atomic():
                self._run(schedules, pages, runs, skip_sweep=skip_sweep)
                raise Rollback
        except Rollback:
            pass
        if json:
            self.stdout.write(__import__("json").dumps(self.figures, indent=2))

    def _run(self, n_schedules: int, n_pages: int, runs: int, *, skip_sweep: bool = False) -> None:
        out = self.stdout.write
        now = timezone.now()
        people = User.objects.bulk_create(
            User(username=f"bench-oncall-{i}", first_name=f"Eng{i}", email=f"bench-oncall-{i}@example.com")
            for i in range(200)
        )
        zones = ["Europe/Oslo", "America/New_York", "UTC", "Asia/Tokyo"]
        made = Schedule.objects.bulk_create(
            Schedule(name=f"bench schedule {i}", timezone=zones[i % 4], ical_token=f"bench-{i}")
            for i in range(n_schedules)
        )
        layers = ScheduleLayer.objects.bulk_create(
            [ScheduleLayer(schedule=s, name="Primary", position=0, start_date=date(2024, 1, 1)) for s in made]
            + [
                ScheduleLayer(
                    schedule=s,
                    name="Cover",
                    position=1,
                    start_date=date(2025, 6, 1),
                    length=12,
                    unit="hours",
                    handoff_weekday=None,
                    end_at=now + timedelta(days=3),
                )
                for s in made
            ]
        )
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=layer, user=people[(i * 7 + k) % len(people)], position=k)
            for i, layer in enumerate(layers)
            for k in range(4 if layer.position == 0 else 2)
        )
        ScheduleOverride.objects.bulk_create(
            ScheduleOverride(
                schedule=s,
                user=people[(i + k) % len(people)],
                start=now + timedelta(hours=6 * k - 3),
                end=now + timedelta(hours=6 * k + 1),
            )
            for i, s in enumerate(made)
            for k in range(2)
        )
        timings, cpu, queries = [], [], 0
        for _ in range(runs):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                started, started_cpu = time.perf_counter(), time.process_time()
                rows = selectors.on_call_overview()
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            queries = len(ctx.captured_queries)
        assert len(rows) >= n_schedules and all(r.now for r in rows[:n_schedules])
        self.figures["who_is_on_call"] = {
            "schedules": len(rows),
            "p50_ms": round(median(timings) * 1000, 1),
            "max_ms": round(max(timings) * 1000, 1),
            "cpu_p50_ms": round(median(cpu) * 1000, 1),
            "queries": queries,
        }
        out(
            f"who is on call now/next over {len(rows):,} schedules: p50 {median(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms (this process's CPU: p50 {median(cpu) * 1000:.0f} ms), "
            f"{queries} queries"
        )

        if skip_sweep:
            return
        chain = EscalationChain.objects.create(name="bench chain", repeat=0)
        EscalationStep.objects.create(chain=chain, position=0, target="schedule", schedule=made[0], wait_minutes=5)
        EscalationStep.objects.create(chain=chain, position=1, target="user", user=people[1], wait_minutes=10)
        Page.objects.bulk_create(
            Page(
                title=f"bench page {i}",
                chain=chain,
                source=Page.Source.MANUAL,
                created_at=now,
                next_due_at=now - timedelta(seconds=i % 60),
                next_position=0,
            )
            for i in range(n_pages)
        )
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = page_sweep(now=now, limit=n_pages + 1)
            due_s = time.perf_counter() - started
        assert result.fired == n_pages, result
        self.figures["sweep_all_due"] = {
            "pages": n_pages,
            "fired": result.fired,
            "seconds": round(due_s, 2),
            "per_page_ms": round(due_s * 1000 / n_pages, 2),
            "queries": len(ctx.captured_queries),
        }
        out(
            f"page sweep, {n_pages:,} open pages all due: {result.fired:,} steps fired in {due_s:.1f} s "
            f"({due_s * 1000 / n_pages:.2f} ms a page, {len(ctx.captured_queries):,} queries)"
        )
        idle = []
        for _ in range(runs):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                result = page_sweep(now=now + timedelta(minutes=1))
                idle.append(time.perf_counter() - started)
        assert result.fired == 0
        self.figures["sweep_none_due"] = {
            "pages": n_pages,
            "p50_ms": round(median(idle) * 1000, 1),
            "queries": len(ctx.captured_queries),
        }
        out(
            f"page sweep, {n_pages:,} open pages none due: p50 {median(idle) * 1000:.1f} ms, "
            f"{len(ctx.captured_queries)} queries"
        )
