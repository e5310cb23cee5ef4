"""The reports' daily rollups: the bucket arithmetic (pure), the read plan, the sweep's marker
bookkeeping, and a hypothesis state machine that drives random case operations through the real
services and checks that the swept rollups equal a recomputation from the plain rows — and that the
report reads the same numbers from them as from the plain rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

from cases import services
from cases.choices import TRANSITIONS, Category, Priority, Status
from cases.closure import links
from cases.closure import services as closure_services
from cases.closure.models import Closure
from cases.errors import CaseError
from cases.reports import cells, metrics, rollup, verify
from cases.reports.filters import Filters
from cases.reports.models import ReportDirtyDay, ReportHour, ReportSlice
from tests.factories import CaseFactory, RequesterFactory, TagFactory, TeamFactory, TenantFactory, UserFactory

RESOLUTION = {"summary": "s", "evidence": "e", "preventive_actions": "p"}


# --- buckets and percentiles (no database) ------------------------------------------------------------


def percentile_cont(values: list[float], p: float) -> float:
    values = sorted(values)
    pos = p * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


durations = st.lists(st.floats(min_value=0, max_value=90 * 86400, allow_nan=False), min_size=1, max_size=60)


@given(durations, st.sampled_from([0.5, 0.9]))
def test_percentile_from_buckets_is_within_the_stated_precision(values, p):
    hist: dict = {}
    for v in values:
        hist[cells.bucket(v)] = hist.get(cells.bucket(v), 0) + 1
    exact, estimate = percentile_cont(values, p), cells.percentile(hist, p)
    assert abs(estimate - exact) <= exact * 0.025 + 0.5 + 1e-9


@given(st.floats(min_value=0, max_value=400 * 86400, allow_nan=False))
def test_a_duration_lies_in_its_bucket_and_its_band(seconds):
    b = cells.bucket(seconds)
    low, high = cells.bucket_bounds(b)
    assert low * (1 - 1e-9) <= seconds < high * (1 + 1e-9)
    edges = cells.BAND_EDGES
    assert edges[cells.band_of(b)] <= seconds and (
        cells.band_of(b) == len(edges) - 1 or seconds < edges[cells.band_of(b) + 1]
    )


def test_the_distribution_bands_are_exact_at_their_edges():
    hist: dict = {}
    for v in (3599.999, 3600, 14399.9, 14400, 86400, 604799, 604800):
        hist[cells.bucket(v)] = hist.get(cells.bucket(v), 0) + 1
    assert cells.bands(hist) == [1, 2, 1, 1, 1, 1]


# --- the read plan ----------------------------------------------------------------------------------


def test_plan_reads_whole_clean_days_from_the_slices_and_dirty_ones_from_plain_rows():
    f = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15), tz=UTC)
    p = rollup.plan(f, dirty={date(2026, 11, 5)})
    assert p.slice_days == [date(2026, 11, d) for d in (2, 3, 4, *range(6, 16))]
    assert all(hour == cells.WHOLE_DAY and not skip for _, hour, _, skip in p.days)
    assert p.spans == [] and p.live == [(datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 11, 6, tzinfo=UTC))]
    weeks = {d: w for d, _, w, _ in p.days}
    assert weeks[date(2026, 11, 8)] == date(2026, 11, 2) and weeks[date(2026, 11, 9)] == date(2026, 11, 9)


def test_plan_reads_only_the_marked_hours_of_a_dirty_day_from_plain_rows():
    f = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15), tz=UTC)
    u = lambda hour: datetime(2026, 11, 5, tzinfo=UTC) + timedelta(hours=hour)  # noqa: E731
    p = rollup.plan(f, dirty={date(2026, 11, 5): {3, 4, 17}})
    # The day whole from its slices (its cube cells as stored), less the stored cells of the marked
    # hours, plus those hours — the changed cases' creation hours — from plain rows.
    assert date(2026, 11, 5) in p.slice_days and len(p.slice_days) == 14 and p.spans == []
    assert p.minus == [(u(h), u(h + 1), date(2026, 11, 2)) for h in (3, 4, 17)]
    assert p.live == [(u(3), u(5)), (u(17), u(18))]
    with mock.patch.object(rollup, "_DIRTY_MINUS", False):  # without complements: the clean hours from the cube
        p = rollup.plan(f, dirty={date(2026, 11, 5): {3, 4, 17}})
    assert date(2026, 11, 5) not in p.slice_days and len(p.slice_days) == 13  # not from its (stale) slices
    assert p.live == [(u(3), u(5)), (u(17), u(18))] and p.minus == []
    assert p.spans == [
        (u(0), u(3), date(2026, 11, 2)),
        (u(5), u(17), date(2026, 11, 2)),
        (u(18), u(24), date(2026, 11, 2)),
    ]
    # A marker without an hour (older code) makes the whole day plain rows, as before.
    assert rollup.plan(f, dirty={date(2026, 11, 5): None}).live == [(u(0), u(24))]


def test_plan_for_a_viewer_east_of_utc_splits_the_week_start_day_by_hour():
    oslo = ZoneInfo("Europe/Oslo")  # UTC+1 in November: the viewer's days start at 23:00 UTC
    f = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15), tz=oslo)
    u = lambda day, hour=0: datetime(2026, 11, day, hour, tzinfo=UTC)  # noqa: E731
    p = rollup.plan(f, dirty=set())
    # The range's partial UTC days by whole hours; nothing from plain rows: 1 Nov's hour in the range
    # from the cube, 15 Nov (23 hours in the range) whole from the slices less its last hour.
    assert p.slice_days == [date(2026, 11, d) for d in range(2, 16)]
    assert p.spans == [(u(1, 23), u(2), date(2026, 11, 2))]
    assert p.minus == [(u(15, 23), u(16), date(2026, 11, 9))]
    assert p.live == []
    with mock.patch.object(rollup, "_EDGE_MINUS", False):  # without complements: both edges from the cube
        p_cube = rollup.plan(f, dirty=set())
    assert p_cube.spans == [(u(1, 23), u(2), date(2026, 11, 2)), (u(15), u(15, 23), date(2026, 11, 9))]
    assert p_cube.minus == [] and p_cube.slice_days == [date(2026, 11, d) for d in range(2, 15)]
    # 8 Nov (UTC) holds the viewer's Monday 9 Nov 00:00 (23:00 UTC): its priority rows by hour.
    eighth = [(hour, week, skip) for d, hour, week, skip in p.days if d == date(2026, 11, 8)]
    assert eighth[0] == (cells.WHOLE_DAY, None, True)
    assert eighth[1:] == [(h, date(2026, 11, 2), False) for h in range(23)] + [(23, date(2026, 11, 9), False)]
    # With a dimension filter everything comes from the cube, one span per week.
    p = rollup.plan(f, dirty=set(), slices=False)
    assert p.days == [] and p.live == []
    assert p.spans == [(u(1, 23), u(8, 23), date(2026, 11, 2)), (u(8, 23), u(15, 23), date(2026, 11, 9))]


def test_plan_for_a_half_hour_timezone_reads_only_the_half_hours_from_plain_rows():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30: the viewer's days start at 18:30 UTC
    f = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15), tz=kolkata)
    u = lambda day, hour=0, minute=0: datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # noqa: E731
    p = rollup.plan(f, dirty=set())
    # 8 Nov (UTC) is cut at 18:30 by the week start: not from the slices.
    assert p.slice_days == [date(2026, 11, d) for d in (*range(2, 8), *range(9, 15))]
    assert p.spans == [
        (u(1, 19), u(2), date(2026, 11, 2)),
        (u(8), u(8, 18), date(2026, 11, 2)),
        (u(8, 19), u(9), date(2026, 11, 9)),
        (u(15), u(15, 18), date(2026, 11, 9)),
    ]
    assert p.live == [(u(1, 18, 30), u(1, 19)), (u(8, 18), u(8, 19)), (u(15, 18), u(15, 18, 30))]
    # The previous period's themes need no weeks: 8 Nov whole from the slices.
    assert date(2026, 11, 8) in rollup.plan(f, dirty=set(), weeks=False).slice_days


# --- the sweep --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_change_marks_its_case_day_and_the_sweep_consumes_each_marker_once(manager, tenant_a):
    case = CaseFactory(tenant=tenant_a, status=Status.NEW, created_at=timezone.now() - timedelta(days=3))
    rollup.rollup_sweep()
    assert not ReportDirtyDay.objects.exists()
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=manager)
    assert list(ReportDirtyDay.objects.values_list("day", flat=True)) == [rollup.utc_day(case.created_at)]
    assert list(ReportDirtyDay.objects.values_list("hour", flat=True)) == [case.created_at.astimezone(UTC).hour]
    assert rollup.dirty_days(date.min, date.max) == {
        rollup.utc_day(case.created_at): {case.created_at.astimezone(UTC).hour}
    }
    first = rollup.rollup_sweep()
    assert (first.days, first.markers) == (1, 1) and not ReportDirtyDay.objects.exists()
    assert rollup.rollup_sweep().markers == 0
    assert ReportHour.objects.get(hour=rollup.utc_hour(case.created_at)).created == 1
    day = rollup.utc_day(case.created_at)
    for tenant_id in (tenant_a.pk, None):  # the tenant's slice and the all-tenants slice
        assert ReportSlice.objects.get(day=day, hour=-1, tenant_id=tenant_id, dim="tenant").created == 1


@pytest.mark.django_db
def test_a_rebuild_ends_with_fresh_planner_statistics_taken_as_the_owner(tenant_a):
    """The application's role may not ANALYZE the rollup tables (PostgreSQL skips them with a
    warning), so a rebuild analyzes both through the owner's connection: without it the slice reads
    were planned from the statistics of the empty tables a migration left (a 90-day report 400 ms)."""
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    CaseFactory(tenant=tenant_a, created_at=timezone.now() - timedelta(days=1))
    used = []

    @contextmanager
    def owner():
        used.append(True)
        yield connection

    with mock.patch("companyos.db.owner_connection", owner), CaptureQueriesContext(connection) as ctx:
        rollup.rebuild()
    analyzed = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]
    assert used and analyzed == [f"ANALYZE {ReportHour._meta.db_table}, {ReportSlice._meta.db_table}"]


@pytest.mark.django_db
def test_the_slice_read_is_one_index_lookup_per_slice_wanted(manager, tenant_a):
    """Each (day, hour) slice the report wants is looked up by the index (tenant, day, hour, dim):
    a LATERAL subquery behind an OFFSET 0 fence, which the planner can neither flatten into a join
    with the whole range of days nor answer with a hash of every slice in the range, whatever its
    statistics say (stale ones made a 90-day report 400 ms)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import login

    for days in (3, 10, 20):
        CaseFactory(tenant=tenant_a, created_at=timezone.now() - timedelta(days=days))
    rollup.rebuild()
    with CaptureQueriesContext(connection) as ctx:
        assert login(manager).get("/reports/").status_code == 200
    sums = [
        q["sql"] for q in ctx.captured_queries if "FROM cases_reportslice" in q["sql"] and "sum(r.created)" in q["sql"]
    ]
    assert len(sums) == 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows here: as the planner sees a big table
        cursor.execute("EXPLAIN " + sums[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if "on cases_reportslice" in line]
    assert scans and all("Index" in line for line in scans), plan
    assert plan.count("(day = m") == len(scans) and "Hash Join" not in plan, plan


@pytest.mark.django_db
def test_rebuild_repairs_what_verify_finds(manager, tenant_a):
    case = CaseFactory(tenant=tenant_a, created_at=timezone.now() - timedelta(days=2))
    rollup.rollup_sweep()
    day = rollup.utc_day(case.created_at)
    ReportSlice.objects.filter(day=day, tenant_id=None, dim="tenant").update(created=5)  # what the page reads
    with pytest.raises(CommandError, match="differ"):
        call_command("reports_verify", user="mona")
    call_command("reports_rollup", "--rebuild")
    call_command("reports_verify", user="mona")
    ReportHour.objects.filter(hour=rollup.utc_hour(case.created_at)).update(created=5)  # the cube too
    with pytest.raises(CommandError, match="differ"):
        call_command("reports_verify", user="mona")
    call_command("reports_rollup", "--rebuild")
    week = ReportSlice.objects.filter(day=cells.monday(day), hour=cells.WEEK, tenant_id=None, dim="tenant")
    assert week.get().created == 1  # the week slices are built by the rebuild, and checked by verify
    week.update(created=5)
    with pytest.raises(CommandError, match="differ"):
        call_command("reports_verify", user="mona")
    call_command("reports_rollup", "--rebuild")
    call_command("reports_verify", user="mona")


# --- random operations through the services ------------------------------------------------------------


TAGS = ["sso", "billing", "latency"]


class RollupMachine(RuleBasedStateMachine):
    """Random cases and operations through the case and closure services; `check` sweeps and compares."""

    cases = Bundle("cases")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        w = self.world
        self.tenants, self.teams, self.agents, self.actor = w["tenants"], w["teams"], w["agents"], w["actor"]
        self.requesters = {t.pk: RequesterFactory(tenant=t) for t in self.tenants}
        self.now = timezone.now()

    @rule(
        target=cases,
        days_ago=st.integers(0, 9),
        tenant=st.integers(0, 1),
        priority=st.sampled_from(list(Priority)),
        category=st.sampled_from([Category.AUTHENTICATION, Category.DOCUMENTATION, Category.OTHER]),
        channel=st.sampled_from(["email", "web", "slack"]),
        team=st.sampled_from([None, 0, 1]),
        owner=st.sampled_from([None, 0, 1]),
        tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
    )
    def create(self, days_ago, tenant, priority, category, channel, team, owner, tags):
        tenant = self.tenants[tenant]
        at = self.now - timedelta(days=days_ago, hours=3)
        with mock.patch("django.utils.timezone.now", return_value=at):
            case = services.case_create(
                actor=self.actor,
                tenant=tenant,
                requester=self.requesters[tenant.pk],
                subject="s",
                priority=priority,
                category=category,
                channel=channel,
                team=None if team is None else self.teams[team],
                owner=None if owner is None else self.agents[owner],
                tags=tags,
            )
        return case.pk

    @rule(case=cases, choice=st.integers(0, 1), sweep_first=st.booleans())
    def transition(self, case, choice, sweep_first):
        """One allowed move (cases.choices.TRANSITIONS), so cases do get resolved, closed, reopened."""
        self._maybe_sweep(sweep_first)
        allowed = TRANSITIONS[services.Case.objects.values_list("status", flat=True).get(pk=case)]
        to = allowed[choice % len(allowed)]
        try:
            services.case_transition(case_id=case, to=to, actor=self.actor, resolution=RESOLUTION, waiting_for="logs")
        except CaseError:
            pass

    @rule(case=cases, sweep_first=st.booleans())
    def reply(self, case, sweep_first):
        self._maybe_sweep(sweep_first)
        services.case_reply(case_id=case, actor=self.actor, body="On it.", public=True)

    @rule(
        case=cases, team=st.sampled_from([None, 0, 1]), owner=st.sampled_from([None, 0, 1]), sweep_first=st.booleans()
    )
    def assign(self, case, team, owner, sweep_first):
        self._maybe_sweep(sweep_first)
        services.case_assign(
            case_id=case,
            actor=self.actor,
            team=None if team is None else self.teams[team],
            owner=None if owner is None else self.agents[owner],
        )  # every agent sees both tenants: never refused

    @rule(
        case=cases,
        priority=st.sampled_from(list(Priority)),
        category=st.sampled_from(list(Category)),
        sweep_first=st.booleans(),
    )
    def classify(self, case, priority, category, sweep_first):
        self._maybe_sweep(sweep_first)
        try:
            services.case_classify(case_id=case, actor=self.actor, priority=priority, category=category, reason="r")
        except CaseError:
            pass

    @rule(
        case=cases,
        add=st.lists(st.sampled_from(TAGS), max_size=2),
        remove=st.lists(st.sampled_from(TAGS), max_size=1),
        sweep_first=st.booleans(),
    )
    def tag(self, case, add, remove, sweep_first):
        self._maybe_sweep(sweep_first)
        services.case_tag(case_id=case, actor=self.actor, add=add, remove=remove)

    @rule(case=cases, sweep_first=st.booleans())
    def customer_reopens(self, case, sweep_first):
        self._maybe_sweep(sweep_first)
        c = services.Case.objects.get(pk=case)
        if c.status in (Status.RESOLVED, Status.CLOSED):
            services.case_customer_message(
                case_id=case, requester=c.requester, body="Still broken.", channel="email", reopen=True
            )

    @rule(case=cases, sweep_first=st.booleans())
    def send_survey(self, case, sweep_first):
        self._maybe_sweep(sweep_first)
        closure = Closure.objects.filter(case_id=case, survey_sent_at__isnull=True).order_by("-closed_at").first()
        if closure is not None:
            closure_services.send_survey(closure_id=closure.pk)

    @rule(case=cases, csat=st.integers(1, 5), nps=st.one_of(st.none(), st.integers(0, 10)), sweep_first=st.booleans())
    def answer_survey(self, case, csat, nps, sweep_first):
        """A first answer, or a change within 24 h (no timeline entry: the service marks the day)."""
        self._maybe_sweep(sweep_first)
        closure = Closure.objects.filter(case_id=case).order_by("-closed_at").first()
        if closure is None:
            return
        _, at = links.read_survey(links.survey_token(closure.pk, closure.closed_at))
        try:
            closure_services.survey_answer(
                closure_id=closure.pk, stamp=at, answer=closure_services.Answer(csat=csat, nps=nps, comment="")
            )
        except CaseError:
            pass

    def _maybe_sweep(self, sweep_first: bool) -> None:
        """The sweep may run between any two changes: a change it then misses shows in `check`."""
        if sweep_first:
            rollup.rollup_sweep()

    @rule()
    def sweep(self):
        rollup.rollup_sweep()

    @rule()
    def check(self):
        self._check()

    def _check(self):
        today = self.now.astimezone(UTC).date()
        f = Filters(date_from=today - timedelta(days=13), date_to=today, tz=UTC)
        before = metrics.report(self.actor, f)  # whatever the sweep's lag
        rollup.rollup_sweep()
        assert not ReportDirtyDay.objects.exists()
        assert rollup.rollup_differences(f.bounds[0].date() + timedelta(days=i) for i in range(14)) == []
        after = metrics.report(self.actor, f)
        assert after.sums.rollup_days == 14 and after.sums.live_cases == 0  # every clean day from the slices
        assert after.sums.rollup_weeks >= 1  # 14 days hold a whole UTC week: read from its week slices
        assert verify.differences(self.actor, f) == []
        # A viewer in New York (the range's edge days as slices less their outside hours, the week
        # starts by the hour) and a dimension filter (everything from the cube) agree with the
        # recomputation too.
        new_york = Filters(date_from=f.date_from, date_to=f.date_to, tz=ZoneInfo("America/New_York"))
        ny = metrics.report(self.actor, new_york)
        assert ny.sums.live_cases == 0
        with mock.patch.object(rollup, "_EDGE_MINUS", False):  # the edge days from the cube instead
            ny_cube = metrics.report(self.actor, new_york)
        assert [(t.key, [r.values for r in t.rows]) for t in ny.tables] == [
            (t.key, [r.values for r in t.rows]) for t in ny_cube.tables
        ]
        assert verify.differences(self.actor, new_york) == []
        assert verify.differences(self.actor, replace(new_york, priority=Priority.HIGH)) == []
        # A priority filter alone reads the priority pairs (day and week slices), not the cube's days.
        high = metrics.report(self.actor, replace(f, priority=Priority.HIGH)).sums
        assert (high.rollup_days, high.cube_hours, high.live_cases) == (14, 0, 0) and high.rollup_weeks >= 1
        assert verify.differences(self.actor, replace(f, priority=Priority.HIGH)) == []
        # Another dimension filter still reads the cube.
        assert metrics.report(self.actor, replace(f, category=Category.OTHER)).sums.rollup_days == 0
        for key in ("created", "mtta_h", "mttr_h", "reopen", "closing", "satisfaction", "docs"):
            assert before.tiles[key] == after.tiles[key], key
        assert [(t.key, [r.values for r in t.rows]) for t in before.tables] == [
            (t.key, [r.values for r in t.rows]) for t in after.tables
        ]

    def teardown(self):
        try:
            self._check()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)


@pytest.mark.django_db
def test_rollups_equal_a_recomputation_after_random_operations(manager):
    tenants = [TenantFactory(name="Acme", slug="acme-r"), TenantFactory(name="Initech", slug="initech-r")]
    RollupMachine.world = {
        "tenants": tenants,
        "teams": [TeamFactory(name="Tier 1 r", slug="tier-1-r"), TeamFactory(name="Tier 2 r", slug="tier-2-r")],
        "agents": [UserFactory(username=name, role="agent", tenants=tenants) for name in ("ra", "rb")],
        "actor": manager,
    }
    run_state_machine_as_test(
        RollupMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.django_db
def test_a_survey_answer_marks_its_case_day(manager, tenant_a):
    """A survey answer writes no timeline entry: the closure service marks the day itself."""
    case = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS, created_at=timezone.now() - timedelta(days=2))
    services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=manager, resolution=RESOLUTION)
    services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=manager)
    closure = Closure.objects.get(case=case)
    closure_services.send_survey(closure_id=closure.pk)
    rollup.rollup_sweep()
    _, at = links.read_survey(links.survey_token(closure.pk, closure.closed_at))
    closure_services.survey_answer(
        closure_id=closure.pk, stamp=at, answer=closure_services.Answer(csat=5, nps=9, comment="")
    )
    assert ReportDirtyDay.objects.filter(day=rollup.utc_day(case.created_at)).exists()
    rollup.rollup_sweep()
    slice_ = ReportSlice.objects.get(day=rollup.utc_day(case.created_at), hour=-1, tenant_id=None, dim="tenant")
    assert slice_.answered == 1
    assert rollup.rollup_differences([rollup.utc_day(case.created_at)]) == []


@pytest.mark.django_db
def test_migration_2200_builds_the_pairs_and_weeks_the_sweep_would(manager, tenant_a):
    """The migration adds the priority pairs (SQL over the stored cube) and the week slices to
    rollups built before them: the same rows the sweep writes from the cells."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cases.migrations.2200_reports_week_slices")
    team = TeamFactory(name="Tier m", slug="tier-m")
    now = timezone.now()
    for i, priority in enumerate([Priority.HIGH, Priority.HIGH, Priority.LOW, Priority.CRITICAL]):
        case = CaseFactory(
            tenant=tenant_a,
            priority=priority,
            team=team if i % 2 else None,
            created_at=now - timedelta(days=3 + i * 4, hours=i),
            first_response_at=now - timedelta(days=3 + i * 4, hours=i - 1),
            resolved_at=now - timedelta(days=1),
            status=Status.RESOLVED,
        )
        case.tags.add(TagFactory(name=f"m{i}"))
        rollup.mark_dirty(case.created_at)
    rollup.rollup_sweep()
    days = [rollup.utc_day(now) - timedelta(days=i) for i in range(21)]
    assert rollup.rollup_differences(days) == []
    built = {k: c.as_comparable() for k, c in rollup.stored_slices(days).items()}
    weeks = {k: c.as_comparable() for k, c in rollup.stored_slices({cells.monday(d) for d in days}, weeks=True).items()}
    assert any(k[3] == "pteam" for k in built) and weeks
    migration.drop(apps, None)
    assert not ReportSlice.objects.filter(dim__in=list(cells.PAIRS.values())).exists()
    from django.db import connection

    migration.build(apps, connection.schema_editor())
    assert {k: c.as_comparable() for k, c in rollup.stored_slices(days).items()} == built
    assert {
        k: c.as_comparable() for k, c in rollup.stored_slices({cells.monday(d) for d in days}, weeks=True).items()
    } == weeks
    assert rollup.rollup_differences(days) == []


@pytest.mark.django_db
def test_a_sweep_of_an_hour_marker_recomputes_only_that_hour_and_the_day_slices_from_the_cube(manager, tenant_a):
    """An hour marker: the sweep reads the plain rows of that hour only (the day's other cells are
    right in the cube), and builds the day's slices from the day's stored cells — the same slices a
    recomputation of the whole day gives."""
    team = TeamFactory(name="Tier h", slug="tier-h")
    day = rollup.utc_day(timezone.now()) - timedelta(days=3)
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    cases = [
        CaseFactory(
            tenant=tenant_a,
            status=Status.NEW,
            priority=[Priority.HIGH, Priority.LOW][i % 2],
            team=team if i % 2 else None,
            created_at=midnight + timedelta(hours=hour, minutes=7 * i),
            first_response_at=midnight + timedelta(hours=hour + 1, minutes=i),
        )
        for i, hour in enumerate([2, 2, 9, 17, 23])
    ]
    cases[3].tags.add(TagFactory(name="h3"))
    rollup.rollup_sweep()
    assert not ReportDirtyDay.objects.exists()
    services.case_transition(case_id=cases[0].pk, to=Status.TRIAGE, actor=manager)
    services.case_tag(case_id=cases[2].pk, actor=manager, add=["sso"])
    assert rollup.dirty_days(day, day) == {day: {2, 9}}
    read, real = [], rollup.facts

    def recording(qs, intervals):
        read.append(list(intervals))
        return real(qs, intervals)

    with mock.patch.object(rollup, "facts", recording):
        result = rollup.rollup_sweep()
    assert (result.days, result.markers) == (1, 2) and not ReportDirtyDay.objects.exists()
    hour = lambda h: midnight + timedelta(hours=h)  # noqa: E731
    assert read == [[(hour(2), hour(3)), (hour(9), hour(10))]]
    want = cells.slices_of(rollup.recompute([day]))
    assert {k: c.as_comparable() for k, c in rollup.stored_slices([day]).items()} == {
        k: c.as_comparable() for k, c in want.items()
    }
    assert rollup.rollup_differences([day]) == []
    # A marker without an hour still recomputes the whole day.
    ReportDirtyDay.objects.create(day=day, hour=None)
    ReportDirtyDay.objects.create(day=day, hour=17)
    read.clear()
    with mock.patch.object(rollup, "facts", recording):
        assert rollup.rollup_sweep().markers == 2
    assert read == [[(midnight, midnight + timedelta(days=1))]]
    assert rollup.rollup_differences([day]) == []


@pytest.mark.django_db
def test_a_marked_hour_is_recomputed_once_per_version_and_read_by_any_scope_and_filter(manager, tenant_a):
    """A report reads a dirty day from its slices plus the marked hours' change against their stored
    cells, recomputed from the plain rows once per version of the hour's markers (the cache): the
    next report, whoever reads it with whatever filter, takes the cells from the cache and filters
    them by their key; a change in the hour writes a marker, so the next report recomputes it."""
    other = TenantFactory(name="Other h", slug="other-h")
    agent = UserFactory(username="ana-h", role="agent", tenants=[tenant_a])
    day = rollup.utc_day(timezone.now()) - timedelta(days=3)
    ten = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    mine = CaseFactory(
        tenant=tenant_a, status=Status.NEW, priority=Priority.HIGH, created_at=ten + timedelta(minutes=5)
    )
    theirs = CaseFactory(tenant=other, status=Status.NEW, priority=Priority.LOW, created_at=ten + timedelta(minutes=20))
    CaseFactory(tenant=tenant_a, status=Status.NEW, priority=Priority.LOW, created_at=ten - timedelta(hours=4))
    rollup.rollup_sweep()
    services.case_tag(case_id=mine.pk, actor=manager, add=["sso"])  # marks 10:00
    assert rollup.dirty_days(day, day) == {day: {10}}
    f = Filters(date_from=day - timedelta(days=2), date_to=day + timedelta(days=1), tz=UTC)
    read, real = [], rollup.facts

    def recording(qs, intervals):
        read.append(list(intervals))
        return real(qs, intervals)

    with mock.patch.object(rollup, "facts", recording):
        first = metrics.report(manager, f)
        assert read == [[(ten, ten + timedelta(hours=1))]]  # the marked hour only, once
        # The day from its slices, plus the marked hour's change against its stored cells.
        assert (first.sums.rollup_days, first.sums.delta_hours, first.sums.cube_hours) == (4, 1, 0)
        assert first.tiles["created"] == 3
        again = metrics.report(manager, f)
        mine_only = metrics.report(agent, f)  # another scope: the same cells, by their tenant
        low = metrics.report(manager, replace(f, priority=Priority.LOW))  # a filter: by their priority
        assert len(read) == 1  # all three from the cache
        assert again.tiles["created"] == 3 and mine_only.tiles["created"] == 2 and low.tiles["created"] == 2
        for user, view in ((manager, f), (agent, f), (manager, replace(f, priority=Priority.LOW))):
            assert verify.differences(user, view) == []
        # A change in the hour marks it again: the next report recomputes it and sees the change.
        services.case_classify(case_id=theirs.pk, actor=manager, priority=Priority.HIGH, reason="r")
        read.clear()
        low = metrics.report(manager, replace(f, priority=Priority.LOW))
        assert read == [[(ten, ten + timedelta(hours=1))]] and low.tiles["created"] == 1
        assert verify.differences(manager, replace(f, priority=Priority.HIGH)) == []
    # A marker committed late with a lower id than the hour's newest still changes the version.
    versions = rollup.dirty_days(day, day).versions
    lowest = ReportDirtyDay.objects.order_by("id").first()
    ReportDirtyDay.objects.create(id=lowest.pk - 1, day=day, hour=10)
    assert rollup.dirty_days(day, day).versions[(day, 10)] != versions[(day, 10)]
