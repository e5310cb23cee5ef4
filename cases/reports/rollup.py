"""The daily rollups: kept current incrementally, rebuilt on demand, and read by the report.

Kept current: every timeline entry (cases.changes) and every survey answer marks its case's created
day (UTC) dirty — a ReportDirtyDay row in the change's own transaction (`mark_dirty`). The beat
sweep (`rollup_sweep`, every 30 s) locks marker rows (SKIP LOCKED), takes a transaction-scoped
advisory lock per day (two sweeps never rebuild one day at once), recomputes the day's cells from
the plain rows, replaces them and deletes exactly the markers it locked, all in one transaction: a
marker is consumed once, and a change that commits while the sweep runs leaves its own marker for
the next run. `rebuild()` (`manage.py reports_rollup --rebuild`) recomputes every day, for data
written around the services (the demo and bench loaders).

Read (`report_sums`): the range is split at the viewer's week starts; a UTC day lying wholly inside
one piece, before today (UTC) and not dirty, is read from the rollup; the rest (today, dirty days,
the edges when the viewer's timezone is not UTC) from plain rows through the same cells. So the
numbers are always those of the plain rows, whatever the sweep's lag."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from companyos.db import copy_rows
from tenants.models import Tenant
from tenants.selectors import visible_tenant_ids

from ..closure.models import AutoClose, Closure
from ..models import Case, Interaction
from .cells import HISTOGRAMS, KEY_FIELDS, MEASURES, Cell, Fact, cells_by_day
from .models import ReportDay, ReportDirtyDay

if TYPE_CHECKING:
    from .filters import Filters

ADVISORY = 0x5245  # pg_try_advisory_xact_lock(ADVISORY, day ordinal): one day, one rebuilder

# --- marking ----------------------------------------------------------------------------------------


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def mark_dirty(created_at: datetime) -> None:
    ReportDirtyDay.objects.create(day=utc_day(created_at))


def on_change(interaction: Interaction) -> None:
    """cases.changes listener: any timeline entry may move a number (status, reply, classification,
    assignment, tags, closure rows written beside it), so every one marks its case's day."""
    mark_dirty(interaction.case.created_at)


# --- facts: the plain rows, as cells.Fact ----------------------------------------------------------


def _ranges_q(field_name: str, intervals: list[tuple[datetime, datetime]]) -> Q:
    q = Q(pk__in=[])
    for start, end in intervals:
        q |= Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
    return q


CASE_FIELDS = (
    "pk",
    "created_at",
    "tenant_id",
    "priority",
    "category",
    "channel",
    "team_id",
    "owner_id",
    "first_response_at",
    "resolved_at",
)


def facts(cases, intervals: list[tuple[datetime, datetime]]) -> list[Fact]:
    """The cases of `cases` (a queryset: scope and dimension filters) created in the intervals, with
    their resolutions, closings and tags: four queries, whatever the number of cases."""
    if not intervals:
        return []
    by_pk = {
        row[0]: Fact(*row)
        for row in cases.filter(_ranges_q("created_at", intervals)).order_by().values_list(*CASE_FIELDS)
    }
    if not by_pk:
        return []
    for case_id, resolved_at, reopened_at in (
        AutoClose.objects.filter(_ranges_q("case_created_at", intervals))
        .order_by()
        .values_list("case_id", "resolved_at", "reopened_at")
    ):
        if case_id in by_pk:
            by_pk[case_id].resolutions.append((resolved_at, reopened_at))
    for case_id, *closing in (
        Closure.objects.filter(_ranges_q("case_created_at", intervals))
        .order_by()
        .values_list("case_id", "how", "survey_sent_at", "csat", "nps")
    ):
        if case_id in by_pk:
            by_pk[case_id].closings.append(tuple(closing))
    for case_id, tag_id in (
        Case.tags.through.objects.filter(_ranges_q("case__created_at", intervals))
        .order_by()
        .values_list("case_id", "tag_id")
    ):
        if case_id in by_pk:
            by_pk[case_id].tags.append(tag_id)
    return list(by_pk.values())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def recompute(days: Iterable[date]) -> dict[tuple[date, tuple], Cell]:
    """The cells of the given UTC days, from the plain rows."""
    days = sorted(set(days))
    if not days:
        return {}
    intervals = _merge([(_midnight(d), _midnight(d + timedelta(days=1))) for d in days])
    return cells_by_day(facts(Case.objects.all(), intervals), utc_day)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif start < end:
            out.append((start, end))
    return out


# --- writing the rollup -------------------------------------------------------------------------


ROW_FIELDS = [
    "day",
    *KEY_FIELDS,
    *MEASURES,
    *(f"{prefix}_{part}" for prefix in ("fr", "res", "tag") for part in ("b", "c")),
]


def _row(day: date, key: tuple, cell: Cell) -> ReportDay:
    row = ReportDay(day=day, **dict(zip(KEY_FIELDS, key, strict=True)))
    for name in MEASURES:
        setattr(row, name, cell.sums.get(name, 0))
    for prefix, hist in (("fr", cell.fr), ("res", cell.res), ("tag", cell.tags)):
        buckets = sorted(b for b, n in hist.items() if n)
        setattr(row, f"{prefix}_b", buckets)
        setattr(row, f"{prefix}_c", [hist[b] for b in buckets])
    return row


def _lock_day(day: date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY, day.toordinal()])
        return cursor.fetchone()[0]


def _replace(days: list[date]) -> int:
    """Inside a transaction holding the days' advisory locks: recompute and replace their cells."""
    cells = recompute(days)
    ReportDay.objects.filter(day__in=days).delete()
    rows = [_row(day, key, cell) for (day, key), cell in cells.items()]
    copy_rows(ReportDay, rows, ROW_FIELDS)  # COPY: a rebuild writes about one cell per case
    return len(rows)


@dataclass
class SweepResult:
    days: int = 0
    markers: int = 0
    cells: int = 0
    busy: int = 0


def rollup_sweep(*, batch: int = 1000, max_days: int = 60) -> SweepResult:
    """Consume dirty-day markers: each run takes up to `batch` markers (SKIP LOCKED) and rebuilds
    their days (up to `max_days`), in one transaction."""
    result = SweepResult()
    with transaction.atomic():
        markers = list(
            ReportDirtyDay.objects.select_for_update(skip_locked=True).order_by("id").values_list("id", "day")[:batch]
        )
        by_day: dict[date, list[int]] = defaultdict(list)
        for marker_id, day in markers:
            by_day[day].append(marker_id)
        days = [d for d in sorted(by_day)[:max_days] if _lock_day(d)]
        result.busy = len(by_day) - len(days)
        if days:
            result.cells = _replace(days)
            done = [marker_id for d in days for marker_id in by_day[d]]
            ReportDirtyDay.objects.filter(id__in=done).delete()
            result.days, result.markers = len(days), len(done)
    return result


def rebuild(*, date_from: date | None = None, date_to: date | None = None, chunk_days: int = 7, out=None) -> int:
    """Recompute every day from the first case (or `date_from`) to today (or `date_to`), a chunk of
    days per transaction; rows of days outside the cases' span are dropped. Returns the cells written."""
    first = Case.objects.aggregate(first=Min("created_at"))["first"]
    today = timezone.now().astimezone(UTC).date()
    if first is None:
        ReportDay.objects.all().delete()
        return 0
    start = date_from or utc_day(first)
    end = date_to or today
    if date_from is None and date_to is None:
        ReportDay.objects.filter(Q(day__lt=start) | Q(day__gt=end)).delete()
    written, day = 0, start
    while day <= end:
        chunk = [day + timedelta(days=i) for i in range(chunk_days) if day + timedelta(days=i) <= end]
        with transaction.atomic():
            locked = [d for d in chunk if _lock_day(d)]
            if locked:
                written += _replace(locked)
        day = chunk[-1] + timedelta(days=1)
        if out and day.day == 1:
            out(f"  rollups to {day}: {written:,} cells")
    return written


# --- reading ------------------------------------------------------------------------------------------


def _week_start(at: datetime, tz) -> date:
    local = timezone.localtime(at, tz).date()
    return local - timedelta(days=local.weekday())


@dataclass
class Plan:
    rollup_days: list[date]
    live: list[tuple[datetime, datetime]]
    week_of_day: dict[date, date]


def plan(f: Filters, *, dirty: set[date], today: date) -> Plan:
    start, end = f.bounds
    cuts = [start]
    monday = _week_start(start, f.tz) + timedelta(days=7)
    while True:
        at = datetime.combine(monday, time.min, tzinfo=f.tz)
        if at >= end:
            break
        cuts.append(at)
        monday += timedelta(days=7)
    cuts.append(end)
    days, live, weeks = [], [], {}
    for seg_start, seg_end in zip(cuts, cuts[1:], strict=False):
        cursor = seg_start
        day = utc_day(seg_start)
        while _midnight(day) < seg_end:
            ds, de = _midnight(day), _midnight(day + timedelta(days=1))
            if ds >= seg_start and de <= seg_end and day < today and day not in dirty:
                if cursor < ds:
                    live.append((cursor, ds))
                days.append(day)
                weeks[day] = _week_start(ds, f.tz)
                cursor = de
            day += timedelta(days=1)
        if cursor < seg_end:
            live.append((cursor, seg_end))
    return Plan(days, _merge(live), weeks)


@dataclass
class Sums:
    """The report's grouping sets, each group a Counter of MEASURES; histograms per group."""

    week_priority: dict = field(default_factory=lambda: defaultdict(Counter))
    category: dict = field(default_factory=lambda: defaultdict(Counter))
    channel: dict = field(default_factory=lambda: defaultdict(Counter))
    tenant: dict = field(default_factory=lambda: defaultdict(Counter))
    team: dict = field(default_factory=lambda: defaultdict(Counter))
    owner: dict = field(default_factory=lambda: defaultdict(Counter))
    hist: dict = field(default_factory=lambda: defaultdict(Counter))  # (set, group, "fr"|"res") → bucket counts
    tags: Counter = field(default_factory=Counter)
    rollup_days: int = 0
    live_cases: int = 0

    def totals(self) -> Counter:
        out: Counter = Counter()
        for c in self.week_priority.values():
            out.update(c)
        return out


SETS = {"category": "category", "channel": "channel", "tenant": "tenant_id", "team": "team_id", "owner": "owner_id"}


def _add_cell(s: Sums, week: date, key: tuple, cell: Cell) -> None:
    k = dict(zip(KEY_FIELDS, key, strict=True))
    s.week_priority[(week, k["priority"])].update(cell.sums)
    for name, column in SETS.items():
        getattr(s, name)[k[column]].update(cell.sums)
    for metric in HISTOGRAMS:
        hist = getattr(cell, metric)
        if hist:
            s.hist[("all", None, metric)].update(hist)
            s.hist[("team", k["team_id"], metric)].update(hist)
            s.hist[("owner", k["owner_id"], metric)].update(hist)
    s.tags.update(cell.tags)


def _where(f: Filters, tenant_ids: list[int] | None) -> tuple[str, list]:
    sql, params = ["day = ANY(%s)"], []
    if tenant_ids is not None:
        sql.append("tenant_id = ANY(%s)")
        params.append(tenant_ids)
    for column, value in (
        ("team_id", f.team_id),
        ("owner_id", f.agent_id),
        ("priority", f.priority),
        ("category", f.category or None),
        ("channel", f.channel or None),
    ):
        if value is not None:
            sql.append(f"{column} = %s")
            params.append(value)
    return " AND ".join(sql), params


def tenant_ids_for(user, f: Filters) -> list[int] | None:
    """The tenants the report may count: the viewer's, narrowed by tenant, segment and tier (None:
    every tenant). Extra sections (cases.reports.sections) scope their own data by it too."""
    ids = visible_tenant_ids(user)
    ids = None if ids is None else set(ids)
    if f.tenant_id is not None:
        ids = {f.tenant_id} if ids is None else ids & {f.tenant_id}
    if f.segment or f.tier:
        qs = Tenant.objects.all()
        if f.segment:
            qs = qs.filter(segment=f.segment)
        if f.tier:
            qs = qs.filter(support_tier=f.tier)
        found = set(qs.values_list("pk", flat=True))
        ids = found if ids is None else ids & found
    return None if ids is None else sorted(ids)


GROUPS = ("(day, priority)", "(category)", "(channel)", "(tenant_id)", "(team_id)", "(owner_id)")
_SUMS = ", ".join(f"sum({m})" for m in MEASURES)


def _read_rollups(s: Sums, f: Filters, p: Plan, tenant_ids, *, themes_only: bool) -> None:
    if not p.rollup_days:
        return
    where, params = _where(f, tenant_ids)
    params = [p.rollup_days, *params]
    table = ReportDay._meta.db_table
    with connection.cursor() as cursor:
        if themes_only:
            cursor.execute(f"SELECT category, sum(created) FROM {table} WHERE {where} GROUP BY category", params)
            for category, n in cursor.fetchall():
                s.category[category]["created"] += n
        else:
            cursor.execute(
                f"SELECT day, priority, category, channel, tenant_id, team_id, owner_id, "
                f"GROUPING(day, priority, category, channel, tenant_id, team_id, owner_id), {_SUMS} "
                f"FROM {table} WHERE {where} GROUP BY GROUPING SETS ({', '.join(GROUPS)})",
                params,
            )
            for day, priority, category, channel, tenant_id, team_id, owner_id, g, *sums in cursor.fetchall():
                counts = Counter({m: int(v) for m, v in zip(MEASURES, sums, strict=True) if v})
                # GROUPING's bits, highest first: day, priority, category, channel, tenant, team, owner.
                if not g & 0b1100000:
                    s.week_priority[(p.week_of_day[day], priority)].update(counts)
                elif not g & 0b0010000:
                    s.category[category].update(counts)
                elif not g & 0b0001000:
                    s.channel[channel].update(counts)
                elif not g & 0b0000100:
                    s.tenant[tenant_id].update(counts)
                elif not g & 0b0000010:
                    s.team[team_id].update(counts)
                else:
                    s.owner[owner_id].update(counts)
        hist_sql = [
            "SELECT 'tag', NULL::int, NULL::int, 3, u.b, sum(u.c) "
            "FROM r, unnest(r.tag_b, r.tag_c) AS u(b, c) GROUP BY u.b"
        ]
        if not themes_only:
            hist_sql += [
                f"SELECT '{m}', team_id, owner_id, GROUPING(team_id, owner_id), u.b, sum(u.c) "
                f"FROM r, unnest(r.{m}_b, r.{m}_c) AS u(b, c) "
                "GROUP BY GROUPING SETS ((team_id, u.b), (owner_id, u.b), (u.b))"
                for m in HISTOGRAMS
            ]
        cursor.execute(
            f"WITH r AS MATERIALIZED (SELECT team_id, owner_id, fr_b, fr_c, res_b, res_c, tag_b, tag_c "
            f"FROM {table} WHERE {where}) " + " UNION ALL ".join(hist_sql),
            params,
        )
        for metric, team_id, owner_id, g, b, n in cursor.fetchall():
            if metric == "tag":
                s.tags[b] += int(n)
            elif g == 3:
                s.hist[("all", None, metric)][b] += int(n)
            elif g == 1:
                s.hist[("team", team_id, metric)][b] += int(n)
            else:
                s.hist[("owner", owner_id, metric)][b] += int(n)
    s.rollup_days = len(p.rollup_days)


def _cohort_cases(user, f: Filters):
    ids = visible_tenant_ids(user)
    qs = Case.objects.filter(f.dimension_q())
    if ids is not None:
        qs = qs.filter(tenant_id__in=ids) if ids else qs.none()
    return qs


def dirty_days(start: date, end: date) -> set[date]:
    return set(ReportDirtyDay.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True).distinct())


def report_sums(user, f: Filters, *, themes_only: bool = False, dirty: set[date] | None = None) -> Sums:
    """The report's sums for the cohort of `f` as `user` sees it: rollups for whole clean days, plain
    rows for the rest. `themes_only`: just categories and tags (the previous period of Top themes)."""
    start, end = f.bounds
    if dirty is None:
        dirty = dirty_days(utc_day(start) - timedelta(days=1), utc_day(end) + timedelta(days=1))
    p = plan(f, dirty=dirty, today=timezone.now().astimezone(UTC).date())
    s = Sums()
    _read_rollups(s, f, p, tenant_ids_for(user, f), themes_only=themes_only)
    live = facts(_cohort_cases(user, f), p.live)
    s.live_cases = len(live)
    for (week, key), cell in cells_by_day(live, lambda at: _week_start(at, f.tz)).items():
        if themes_only:
            s.category[dict(zip(KEY_FIELDS, key, strict=True))["category"]]["created"] += cell.sums["created"]
            s.tags.update(cell.tags)
        else:
            _add_cell(s, week, key, cell)
    return s


# --- verification -------------------------------------------------------------------------------------


def stored(days: Iterable[date]) -> dict[tuple[date, tuple], Cell]:
    out = {}
    for row in ReportDay.objects.filter(day__in=list(days)):
        cell = Cell(sums=Counter({m: getattr(row, m) for m in MEASURES}))
        for prefix, hist in (("fr", cell.fr), ("res", cell.res), ("tag", cell.tags)):
            hist.update(dict(zip(getattr(row, f"{prefix}_b"), getattr(row, f"{prefix}_c"), strict=True)))
        out[(row.day, tuple(getattr(row, k) for k in KEY_FIELDS))] = cell
    return out


def rollup_differences(days: Iterable[date], *, skip_dirty: bool = True) -> list[str]:
    """The rollup cells of `days` against a recomputation from the plain rows (days with a pending
    marker are skipped: the report reads those from plain rows anyway)."""
    days = sorted(set(days))
    if skip_dirty and days:
        dirty = dirty_days(days[0], days[-1])
        days = [d for d in days if d not in dirty]
    have, want = stored(days), recompute(days)
    problems = []
    for k in sorted(set(have) | set(want), key=str):
        a = have[k].as_comparable() if k in have else None
        b = want[k].as_comparable() if k in want else None
        if a != b:
            problems.append(f"rollup {k[0]} {dict(zip(KEY_FIELDS, k[1], strict=True))}: stored {a} != recomputed {b}")
    return problems
