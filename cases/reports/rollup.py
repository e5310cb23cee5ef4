"""The rollups: kept current incrementally, rebuilt on demand, and read by the report.

Two tables, written together from the same cells (cases.reports.cells):
- ReportHour, the full cube: one cell per created UTC hour × tenant × priority × category × channel ×
  team × owner. At this data's spread a cell holds about one case, so it serves only what needs every
  key: the views with a dimension filter (team, agent, priority, category, channel), and the whole
  hours at a range's edges.
- ReportSlice, the narrow rows: per UTC day, per tenant and for all tenants, one row per value of
  one dimension (priority — also per hour, to split a day at a viewer's week start —, category,
  channel, team, owner, tenant, tag). A day of all tenants is ~70 rows whatever the number of cases:
  the views without a dimension filter (at most a tenant, segment or tier) read these. Beside them,
  the priority pairs (cells.PAIRS: the same rows per priority, for a filter by priority alone) and
  the week slices (hour cells.WEEK: a UTC week's day slices added up, priority aside), rebuilt from
  the stored day slices whenever one of the week's days is (`rebuild_weeks`).

Kept current: every timeline entry (cases.changes) and every survey answer marks its case's created
day (UTC) dirty — a ReportDirtyDay row, with the case's creation hour, in the change's own
transaction (`mark_dirty`). The beat sweep (`rollup_sweep`, every 30 s) locks marker rows (SKIP
LOCKED), takes a transaction-scoped advisory lock per day (two sweeps never rebuild one day at
once), recomputes from the plain rows the cube cells of the marked hours only (a case's numbers all
sit in its creation hour's cell, so the day's other cells are right as stored; a marker without an
hour: the whole day), replaces those cells, rebuilds the day's slices from its cube cells as now
stored (in SQL, `_slices_sql`: cells.slices_of) and its week's slices, and deletes exactly the
markers it locked, all in one transaction: a marker is consumed once, and a
change that commits while the sweep runs leaves its own marker for the next run. `rebuild()`
(`manage.py reports_rollup --rebuild`) recomputes every day, for data written around the services
(the demo and bench loaders).

Read (`report_sums`, `plan`): the range is split at the viewer's week starts. A clean UTC day wholly
inside the range is read from the slices (a day cut by a week start at a whole hour takes its
priority rows per hour; a whole clean UTC week inside the range its week slices, priority aside; a
priority filter alone the priority pairs); without slices (other dimension filters) or at the
range's edges, and the unmarked hours of a dirty day, the whole UTC hours inside one week piece come
from the cube; the rest — the marked hours of dirty days, and the part-hours of a timezone that is
not a whole number of hours from UTC — from plain rows through the same cells. So the numbers are
always those of the plain rows, whatever the sweep's lag."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import add
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from companyos.db import copy_rows
from tenants.models import Tenant
from tenants.selectors import visible_tenant_ids

from ..closure.models import AutoClose, Closure
from ..models import Case, Interaction
from .cells import (
    HIST_DIMS,
    HISTOGRAMS,
    KEY_FIELDS,
    MEASURES,
    PAIRS,
    SLICE_DIMS,
    UNPAIR,
    WEEK,
    WEEK_DIMS,
    WHOLE_DAY,
    Cell,
    Fact,
    cells_by,
    monday,
    slices_of,
    weeks_of,
)
from .models import ReportDirtyDay, ReportHour, ReportSlice

if TYPE_CHECKING:
    from .filters import Filters

CUBE_WORK_MEM = "64MB"  # a dimension-filtered read holds ~35k cells at 1M cases (28 days and the 28 before)
ADVISORY = 0x5245  # pg_try_advisory_xact_lock(ADVISORY, day ordinal): one day, one rebuilder
ADVISORY_WEEK = 0x5257  # pg_advisory_xact_lock(ADVISORY_WEEK, Monday ordinal): one week's slices, one writer

# --- marking ----------------------------------------------------------------------------------------


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def utc_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def mark_dirty(created_at: datetime) -> None:
    """Mark the creation hour of a changed case: its day is recomputed by the sweep, and until then a
    report reads only that hour of the day from plain rows (the day's other hours are still right in
    the cube: a case's numbers all sit in its creation hour's cell)."""
    at = created_at.astimezone(UTC)
    ReportDirtyDay.objects.create(day=at.date(), hour=at.hour)


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


def _day_intervals(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    return _merge([(_midnight(d), _midnight(d + timedelta(days=1))) for d in days])


def recompute(days: Iterable[date]) -> dict[tuple[datetime, tuple], Cell]:
    """The cube cells (UTC hour, key) of the given UTC days, from the plain rows."""
    days = sorted(set(days))
    if not days:
        return {}
    return cells_by(facts(Case.objects.all(), _day_intervals(days)), utc_hour)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif start < end:
            out.append((start, end))
    return out


# --- writing the rollup -------------------------------------------------------------------------


HIST_FIELDS = [f"{prefix}_{part}" for prefix in HISTOGRAMS for part in ("b", "c")]
CUBE_FIELDS = ["hour", *KEY_FIELDS, *MEASURES, *HIST_FIELDS, "tag_b", "tag_c"]
SLICE_FIELDS = ["day", "hour", "tenant_id", "dim", "value", *MEASURES, *HIST_FIELDS]


def _fill(row, cell: Cell, hists) -> None:
    for name in MEASURES:
        setattr(row, name, cell.sums.get(name, 0))
    for prefix, hist in hists:
        buckets = sorted(b for b, n in hist.items() if n)
        setattr(row, f"{prefix}_b", buckets)
        setattr(row, f"{prefix}_c", [hist[b] for b in buckets])


def _cube_row(hour: datetime, key: tuple, cell: Cell) -> ReportHour:
    row = ReportHour(hour=hour, **dict(zip(KEY_FIELDS, key, strict=True)))
    _fill(row, cell, (("fr", cell.fr), ("res", cell.res), ("tag", cell.tags)))
    return row


def _slice_row(key: tuple, cell: Cell, model=None) -> ReportSlice:
    day, hour, tenant_id, dim, value = key
    row = (model or ReportSlice)(day=day, hour=hour, tenant_id=tenant_id, dim=dim, value=value)
    _fill(row, cell, (("fr", cell.fr), ("res", cell.res)) if dim in HIST_DIMS else ())
    return row


def _lock_day(day: date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY, day.toordinal()])
        return cursor.fetchone()[0]


def _hour_intervals(hours: dict[date, set[int]]) -> list[tuple[datetime, datetime]]:
    one = timedelta(hours=1)
    return _merge([(_midnight(d) + h * one, _midnight(d) + (h + 1) * one) for d, hs in hours.items() for h in hs])


def _replace(days: list[date], hours: dict[date, set[int]] | None = None) -> int:
    """Inside a transaction holding the days' advisory locks: recompute and replace the cube cells
    of the whole `days` and of the `hours` (day → its stale UTC hours; the day's other cells are
    right as stored) from the plain rows, then their days' slices — a whole day's from its fresh
    cells, an hour-marked day's from its cube cells as now stored (cells.slices_of either way) —,
    then the week slices of their weeks. Returns the cube cells written."""
    hours = {d: hs for d, hs in (hours or {}).items() if d not in set(days)}
    intervals = _merge([*_day_intervals(days), *_hour_intervals(hours)])
    if not intervals:
        return 0
    cube = cells_by(facts(Case.objects.all(), intervals), utc_hour)
    ReportHour.objects.filter(_ranges_q("hour", intervals)).delete()
    # COPY: a rebuild writes about one cube cell per case.
    copy_rows(ReportHour, [_cube_row(hour, key, cell) for (hour, key), cell in cube.items()], CUBE_FIELDS)
    slices = slices_of({k: c for k, c in cube.items() if k[0].date() not in hours} if hours else cube)
    ReportSlice.objects.filter(day__in=[*days, *hours], hour__gt=WEEK).delete()
    copy_rows(ReportSlice, [_slice_row(key, cell) for key, cell in slices.items()], SLICE_FIELDS)
    if hours:
        day_spans = _day_intervals(hours)
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{CUBE_WORK_MEM}'")  # the days' cells grouped in memory
            cursor.execute(_slices_sql(), {"starts": [a for a, _ in day_spans], "ends": [b for _, b in day_spans]})
    rebuild_weeks({monday(d) for d in [*days, *hours]})
    return len(cube)


def _slices_sql() -> str:
    """The day slices of the UTC days in %(starts)s–%(ends)s from their cube cells as stored
    (cells.slices_of, in SQL, as migration 2200 builds the pairs): per tenant and for all tenants
    (tenant NULL), every dimension and priority pair for the whole day, the priority rows per hour
    too, the tag rows from the cells' tag arrays, and the summed bucket arrays (ascending, as cells
    keeps them) of the team and owner rows and pairs."""
    cube, table = ReportHour._meta.db_table, ReportSlice._meta.db_table
    cells = (
        "c AS MATERIALIZED (SELECT (h.hour AT TIME ZONE 'UTC')::date AS d, "
        "extract(hour FROM h.hour AT TIME ZONE 'UTC')::int AS hr, h.* "
        f"FROM {cube} h JOIN unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS r(a, b) "
        "ON h.hour >= r.a AND h.hour < r.b)"
    )
    pair = "c.priority || ':' || COALESCE({}::text, '')"
    values = {dim: f"c.{column}::text" for dim, column in SLICE_DIMS.items()}
    values |= {PAIRS[dim]: pair.format(f"c.{column}") for dim, column in SLICE_DIMS.items() if dim != "priority"}
    sums = ", ".join(f"sum(c.{m}) AS {m}" for m in MEASURES)
    branches = [
        f"SELECT c.d, {WHOLE_DAY} AS hr, c.tenant_id AS t, '{dim}'::text AS dim, {v} AS v, {sums} FROM c "
        f"GROUP BY c.d, {v}, GROUPING SETS ((c.tenant_id), ())"
        for dim, v in values.items()
    ]
    branches.append(
        f"SELECT c.d, c.hr, c.tenant_id, 'priority', {values['priority']}, {sums} FROM c "
        f"GROUP BY c.d, c.hr, {values['priority']}, GROUPING SETS ((c.tenant_id), ())"
    )
    hists = []
    for metric in HISTOGRAMS:
        parts = [
            f"SELECT c.d, c.tenant_id AS t, '{dim}'::text AS dim, {values[dim]} AS v, u.b, sum(u.c)::int AS n "
            f"FROM c, unnest(c.{metric}_b, c.{metric}_c) AS u(b, c) "
            f"GROUP BY c.d, {values[dim]}, u.b, GROUPING SETS ((c.tenant_id), ())"
            for dim in HIST_DIMS
        ]
        hists.append(
            f"{metric} AS (SELECT d, t, dim, v, array_agg(b ORDER BY b) AS b, array_agg(n ORDER BY b) AS n "
            f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY d, t, dim, v)"
        )
    # As migration 2200 and _week_sql join: a team or owner value is digits or NULL, a tenant never -1.
    join = (
        "{0}.d = s.d AND {0}.dim = s.dim AND COALESCE({0}.v, '') = COALESCE(s.v, '') "
        "AND COALESCE({0}.t, -1) = COALESCE(s.t, -1)"
    )
    zeros = ", ".join("0" for _ in MEASURES[1:])
    tags = [
        f"SELECT d, {WHOLE_DAY}, t, '{dim}', v, n, {zeros}, '{{}}'::int[], '{{}}'::int[], '{{}}'::int[], '{{}}'::int[] "
        f"FROM (SELECT c.d, c.tenant_id AS t, {v} AS v, sum(u.c) AS n FROM c, unnest(c.tag_b, c.tag_c) AS u(b, c) "
        f"GROUP BY c.d, {v}, GROUPING SETS ((c.tenant_id), ())) x WHERE n > 0"
        for dim, v in (("tag", "u.b::text"), ("ptag", pair.format("u.b")))
    ]
    return (
        f"WITH {cells}, s AS ({' UNION ALL '.join(branches)}), {', '.join(hists)} "
        f"INSERT INTO {table} (day, hour, tenant_id, dim, value, {', '.join(MEASURES)}, fr_b, fr_c, res_b, res_c) "
        "SELECT s.d, s.hr, s.t, s.dim, s.v, "
        + ", ".join(f"s.{m}" for m in MEASURES)
        + ", COALESCE(fr.b, '{}'), COALESCE(fr.n, '{}'), COALESCE(res.b, '{}'), COALESCE(res.n, '{}') FROM s "
        f"LEFT JOIN fr ON {join.format('fr')} LEFT JOIN res ON {join.format('res')} UNION ALL "
        + " UNION ALL ".join(tags)
    )


def _week_sql(table: str) -> str:
    """The week slices of the UTC week from %(monday)s, from its day slices (cells.weeks_of, in SQL):
    sums, and the summed bucket arrays (ascending, as cells keeps them) of the team and owner rows
    and pairs."""
    week_dims = ", ".join(f"'{d}'" for d in WEEK_DIMS)
    hist_dims = ", ".join(f"'{d}'" for d in HIST_DIMS)
    days = (
        f"(SELECT * FROM {table} WHERE day >= %(monday)s AND day < %(next)s AND hour = {WHOLE_DAY} "
        f"AND dim IN ({week_dims}))"
    )
    sums = (
        "SELECT tenant_id AS t, dim, value AS v, "
        + ", ".join(f"sum({m}) AS {m}" for m in MEASURES)
        + f" FROM {days} d GROUP BY 1, 2, 3"
    )
    hists = [
        f"{metric} AS (SELECT t, dim, v, array_agg(b ORDER BY b) AS b, array_agg(n ORDER BY b) AS n FROM ("
        f"SELECT tenant_id AS t, dim, value AS v, u.b, sum(u.c)::int AS n FROM {days} d, "
        f"unnest(d.{metric}_b, d.{metric}_c) AS u(b, c) WHERE dim IN ({hist_dims}) "
        "GROUP BY 1, 2, 3, 4) x GROUP BY 1, 2, 3)"
        for metric in HISTOGRAMS
    ]
    join = "{0}.dim = s.dim AND COALESCE({0}.v, '') = COALESCE(s.v, '') AND COALESCE({0}.t, -1) = COALESCE(s.t, -1)"
    return (
        f"WITH s AS ({sums}), {', '.join(hists)} "
        f"INSERT INTO {table} (day, hour, tenant_id, dim, value, {', '.join(MEASURES)}, fr_b, fr_c, res_b, res_c) "
        f"SELECT %(monday)s, {WEEK}, s.t, s.dim, s.v, "
        + ", ".join(f"s.{m}" for m in MEASURES)
        + ", COALESCE(fr.b, '{}'), COALESCE(fr.n, '{}'), COALESCE(res.b, '{}'), COALESCE(res.n, '{}') FROM s "
        f"LEFT JOIN fr ON {join.format('fr')} LEFT JOIN res ON {join.format('res')}"
    )


def rebuild_weeks(mondays: Iterable[date], *, model=None) -> int:
    """Inside a transaction: replace the week slices of the UTC weeks starting at `mondays` by the
    sum of their days' slices as now stored (one INSERT … SELECT per week). Each week under a
    (waiting) advisory lock taken in date order, so two sweeps rebuilding days of one week write its
    slices one after the other, the second seeing the first's committed days. Returns the week
    slices written."""
    model = model or ReportSlice
    sql = _week_sql(model._meta.db_table)
    written = 0
    for m in sorted(set(mondays)):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_WEEK, m.toordinal()])
            model.objects.filter(day=m, hour=WEEK).delete()
            cursor.execute(sql, {"monday": m, "next": m + timedelta(days=7)})
            written += cursor.rowcount
    return written


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
            ReportDirtyDay.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "day", "hour")[:batch]
        )
        by_day: dict[date, list[int]] = defaultdict(list)
        hours: dict[date, set[int] | None] = {}
        for marker_id, day, hour in markers:
            by_day[day].append(marker_id)
            if hour is None:
                hours[day] = None  # a marker without an hour: the whole day
            elif hours.get(day, set()) is not None:
                hours.setdefault(day, set()).add(hour)
        days = [d for d in sorted(by_day)[:max_days] if _lock_day(d)]
        result.busy = len(by_day) - len(days)
        if days:
            whole = [d for d in days if hours[d] is None]
            result.cells = _replace(whole, {d: hours[d] for d in days if hours[d] is not None})
            done = [marker_id for d in days for marker_id in by_day[d]]
            ReportDirtyDay.objects.filter(id__in=done).delete()
            result.days, result.markers = len(days), len(done)
    return result


def rebuild(*, date_from: date | None = None, date_to: date | None = None, chunk_days: int = 7, out=None) -> int:
    """Recompute every day from the first case (or `date_from`) to today (or `date_to`), a chunk of
    days per transaction; rows of days outside the cases' span are dropped. Returns the cube cells
    written."""
    first = Case.objects.aggregate(first=Min("created_at"))["first"]
    today = timezone.now().astimezone(UTC).date()
    if first is None:
        ReportHour.objects.all().delete()
        ReportSlice.objects.all().delete()
        return 0
    start = date_from or utc_day(first)
    end = date_to or today
    if date_from is None and date_to is None:
        beyond = _midnight(end + timedelta(days=1))
        ReportHour.objects.filter(Q(hour__lt=_midnight(start)) | Q(hour__gte=beyond)).delete()
        ReportSlice.objects.filter(Q(day__lt=start) | Q(day__gt=end)).delete()
    written, day = 0, start
    while day <= end:
        # Whole UTC weeks per chunk (the first from `start`), so each week's slices are built once.
        span = max(1, -(-chunk_days // 7)) * 7 - day.weekday()
        chunk = [day + timedelta(days=i) for i in range(span) if day + timedelta(days=i) <= end]
        with transaction.atomic():
            locked = [d for d in chunk if _lock_day(d)]
            if locked:
                written += _replace(locked)
        day = chunk[-1] + timedelta(days=1)
        if out and day.month != chunk[-1].month:
            out(f"  rollups to {day}: {written:,} cells")
    _analyze()
    return written


def _analyze() -> None:
    """Fresh planner statistics for the rewritten cube and slices, as their owner (the application's
    role may not ANALYZE them: PostgreSQL skips the tables with a warning). Until autovacuum got to a
    rebuilt table, its statistics described the table before (empty, after a migration or a restore),
    and the reports' slice reads were planned as range scans of every slice (a 90-day report 400 ms)."""
    if connection.vendor != "postgresql":
        return
    from companyos.db import owner_connection

    with owner_connection() as owner, owner.cursor() as cursor:
        cursor.execute(f"ANALYZE {ReportHour._meta.db_table}, {ReportSlice._meta.db_table}")


# --- reading ------------------------------------------------------------------------------------------


def _week_start(at: datetime, tz) -> date:
    local = timezone.localtime(at, tz).date()
    return local - timedelta(days=local.weekday())


def _segments(f: Filters) -> list[tuple[datetime, datetime, date]]:
    """The range cut at the viewer's week starts: (start, end, the week's Monday)."""
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
    return [(a, b, _week_start(a, f.tz)) for a, b in zip(cuts, cuts[1:], strict=False)]


def _ceil_hour(at: datetime) -> datetime:
    floor = utc_hour(at)
    return floor if floor == at else floor + timedelta(hours=1)


@dataclass
class Plan:
    """What to read from where. `days`: the slices' (day, hour, week, skip_priority) rows — hour
    WHOLE_DAY for a day's rows, 0–23 for a day cut by a week start, whose whole-day priority rows
    are then skipped; `spans`: whole UTC hours [start, end) of one week from the cube; `live`: plain
    rows."""

    days: list[tuple[date, int, date | None, bool]]
    spans: list[tuple[datetime, datetime, date | None]]
    live: list[tuple[datetime, datetime]]
    # Whole UTC hours [start, end) of one week counted −1 from the cube: a range's edge day whose part
    # outside the range is the shorter is read whole from the slices, less that part.
    minus: list[tuple[datetime, datetime, date | None]] = field(default_factory=list)

    @property
    def slice_days(self) -> list[date]:
        return sorted({d for d, hour, _, _ in self.days if hour == WHOLE_DAY})


_EDGE_MINUS = True  # read an edge day as its slices less its outside part (tests compare with False)
_DIRTY_MINUS = True  # read a dirty day as its slices less its stale hours (tests compare with False)


def _cube_or_live(a: datetime, b: datetime, w, spans: list, live: list) -> None:
    """[a, b): its whole UTC hours from the cube, the parts of hours at its ends from plain rows."""
    ha, hb = _ceil_hour(a), utc_hour(b)
    if ha < hb:
        spans.append((ha, hb, w))
        live += [(x, y) for x, y in ((a, ha), (hb, b)) if x < y]
    else:
        live.append((a, b))


def _hour_runs(a: datetime, b: datetime, midnight: datetime, stale: set[int]):
    """[a, b) within one UTC day cut into runs of stale (hours in `stale`) and clean hours."""
    runs: list = []
    t = a
    while t < b:
        hour = (t - midnight) // timedelta(hours=1)
        end = min(b, midnight + timedelta(hours=hour + 1))
        flag = hour in stale
        if runs and runs[-1][2] == flag and runs[-1][1] == t:
            runs[-1] = (runs[-1][0], end, flag)
        else:
            runs.append((t, end, flag))
        t = end
    return runs


def _from_slices(d: date, ds, de, lo, hi, pieces: list, weeks: bool, days: list, minus: list) -> bool:
    """Plan UTC day `d` ([ds, de), of which [lo, hi) is in the range) from its slices when they can
    serve it: a whole day of one week piece (or no weeks needed); a whole day cut by week starts at
    whole UTC hours (its priority rows per hour, its other rows whole); an edge day of one piece cut at
    a whole hour, whole less its outside part from the cube when that part is the shorter. False
    when they cannot."""
    if (lo, hi) == (ds, de):
        if len(pieces) == 1 or not weeks:
            days.append((d, WHOLE_DAY, pieces[0][2], False))
            return True
        if all(utc_hour(a) == a for a, _, _ in pieces):  # the week starts fall on whole UTC hours
            days.append((d, WHOLE_DAY, None, True))
            for a, b, w in pieces:
                first_hour, end_hour = (a - ds) // timedelta(hours=1), (b - ds) // timedelta(hours=1)
                days.extend((d, h, w, False) for h in range(first_hour, end_hour))
            return True
    if _EDGE_MINUS and len(pieces) == 1:
        a, b, w = pieces[0]
        outside = (ds, a) if b == de else (b, de) if a == ds else None
        if outside and all(utc_hour(t) == t for t in outside) and outside[1] - outside[0] < b - a:
            days.append((d, WHOLE_DAY, w, False))
            minus.append((*outside, w))
            return True
    return False


def plan(f: Filters, *, dirty: set[date] | dict, slices: bool = True, weeks: bool = True) -> Plan:
    """`dirty`: the stale days (`dirty_days`: each with its stale hours, or None for the whole day; a
    plain set: whole days). `slices`: the slices may serve (no dimension filter); `weeks`: the week of
    each number is needed (not for the previous period's themes)."""
    start, end = f.bounds
    segments = _segments(f)
    days, spans, live, minus = [], [], [], []
    day, last = utc_day(start), utc_day(end)
    while day <= last:
        ds, de = _midnight(day), _midnight(day + timedelta(days=1))
        lo, hi = max(ds, start), min(de, end)
        day += timedelta(days=1)
        if lo >= hi:
            continue
        pieces = [(max(lo, a), min(hi, b), w if weeks else None) for a, b, w in segments if max(lo, a) < min(hi, b)]
        d = day - timedelta(days=1)
        stale: set[int] = set()
        if d in dirty:
            hours = dirty.get(d) if isinstance(dirty, dict) else None
            if hours is None:  # the whole day is stale
                live.append((lo, hi))
                continue
            stale = set(hours)
        # A day read from its slices (the sum of its cube cells as stored) is right less its marked
        # hours: their stored cells are taken off (from the cube) and they are read from plain rows.
        if slices and (not stale or _DIRTY_MINUS) and _from_slices(d, ds, de, lo, hi, pieces, weeks, days, minus):
            for h in sorted(stale):
                a = ds + timedelta(hours=h)
                b = a + timedelta(hours=1)
                if lo <= a and b <= hi:  # (a marked hour outside the range is in the part taken off)
                    minus.append((a, b, next(w for x, y, w in pieces if x <= a < y)))
                    live.append((a, b))
            continue
        if stale:  # the marked hours from plain rows, the others from the cube
            for a, b, w in pieces:
                for x, y, is_stale in _hour_runs(a, b, ds, stale):
                    if is_stale:
                        live.append((x, y))
                    else:
                        _cube_or_live(x, y, w, spans, live)
            continue
        for a, b, w in pieces:
            _cube_or_live(a, b, w, spans, live)
    merged: list = []
    for a, b, w in spans:
        if merged and merged[-1][1] == a and merged[-1][2] == w:
            merged[-1] = (merged[-1][0], b, w)
        else:
            merged.append((a, b, w))
    return Plan(days, merged, _merge(live), minus)


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
    rollup_days: int = 0  # UTC days read from the slices
    rollup_weeks: int = 0  # of which in whole UTC weeks, from the week slices (priority aside)
    cube_hours: int = 0  # UTC hours read from the cube
    live_cases: int = 0  # cases read from plain rows
    delta_hours: int = 0  # marked hours read as their change against the cube (`_hour_rows`)

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


def has_dimension_filter(f: Filters) -> bool:
    """A filter on a case dimension (team, agent, priority, category, channel)."""
    return any(v not in (None, "") for v in (f.team_id, f.agent_id, f.priority, f.category, f.channel))


def slice_pair(f: Filters) -> int | None:
    """The priority of a view filtered by priority alone: the slices answer it from their priority
    pairs (cells.PAIRS). Any other dimension filter: the cube."""
    others = (f.team_id, f.agent_id, f.category, f.channel)
    return f.priority if f.priority is not None and all(v in (None, "") for v in others) else None


def _cube_where(f: Filters, tenant_ids: list[int] | None) -> tuple[str, list]:
    sql, params = [], []
    if tenant_ids is not None:
        sql.append("c.tenant_id = ANY(%s)")
        params.append(tenant_ids)
    for column, value in (
        ("team_id", f.team_id),
        ("owner_id", f.agent_id),
        ("priority", f.priority),
        ("category", f.category or None),
        ("channel", f.channel or None),
    ):
        if value is not None:
            sql.append(f"c.{column} = %s")
            params.append(value)
    return "".join(f" AND {part}" for part in sql), params


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


GROUPS = ("(r.week, r.priority)", "(r.category)", "(r.channel)", "(r.tenant_id)", "(r.team_id)", "(r.owner_id)")
_R_SUMS = ", ".join(f"sum(r.{m})" for m in MEASURES)
_R_SIGNED = ", ".join(f"sum(r.sign * r.{m})" for m in MEASURES)  # the cube: a complement span counts −1
_PAD = ", ".join("NULL::numeric" for _ in MEASURES[1:])  # a histogram row's missing sums (its count is in `created`)
# Statement row kinds.
SUMS, FR, RES, TAG, CATEGORY = 0, 1, 2, 3, 4
HIST_KIND = {FR: "fr", RES: "res"}


def _counts(sums) -> Counter:
    return Counter({m: int(v) for m, v in zip(MEASURES, sums, strict=True) if v})


@dataclass
class _Period:
    """One period of a report read: its filters, plan and sums; `themes_only` for the previous
    period of Top themes (categories and tags only)."""

    f: Filters
    themes_only: bool
    plan: Plan
    sums: Sums = field(default_factory=Sums)
    cover: list = field(default_factory=list)  # the Mondays of the weeks read from the week slices
    delta: dict = field(default_factory=dict)  # marked hour → its week: slices + (fresh − stored) cells


def _read_cube(periods: list[_Period], f: Filters, tenant_ids) -> None:
    """Every period's spans from the cube, in one statement: the grouping sets and the histograms
    of the full periods, the categories and tags of the themes-only ones."""
    spans = [(a, b, w, i) for i, p in enumerate(periods) for a, b, w in p.plan.spans]
    minus = [(a, b, w, i) for i, p in enumerate(periods) for a, b, w in p.plan.minus]
    if not spans and not minus:
        return
    filters, params = _cube_where(f, tenant_ids)
    full = [i for i, p in enumerate(periods) if not p.themes_only]
    themes = [i for i, p in enumerate(periods) if p.themes_only]
    table = ReportHour._meta.db_table
    parts = [
        f"SELECT {TAG}, r.period, NULL::date, NULL::smallint, NULL, NULL, NULL::int, NULL::int, NULL::int, NULL::int, "
        f"u.b, sum(r.sign * u.c), {_PAD} FROM r, unnest(r.tag_b, r.tag_c) AS u(b, c) GROUP BY r.period, u.b"
    ]
    if themes:
        parts.append(
            f"SELECT {CATEGORY}, r.period, NULL, NULL, r.category, NULL, NULL, NULL, NULL, NULL, NULL, "
            f"sum(r.sign * r.created), {_PAD} FROM r WHERE r.period = ANY(%s) GROUP BY r.period, r.category"
        )
    if full:
        parts.append(
            f"SELECT {SUMS}, r.period, r.week, r.priority, r.category, r.channel, r.tenant_id, r.team_id, r.owner_id, "
            "GROUPING(r.week, r.priority, r.category, r.channel, r.tenant_id, r.team_id, r.owner_id), NULL, "
            f"{_R_SIGNED} FROM r WHERE r.period = ANY(%s) GROUP BY r.period, GROUPING SETS ({', '.join(GROUPS)})"
        )
        parts += [
            f"SELECT {kind}, r.period, NULL, NULL, NULL, NULL, NULL, r.team_id, r.owner_id, "
            f"GROUPING(r.team_id, r.owner_id), u.b, sum(r.sign * u.c), {_PAD} "
            f"FROM r, unnest(r.{metric}_b, r.{metric}_c) AS u(b, c) WHERE r.period = ANY(%s) "
            "GROUP BY r.period, GROUPING SETS ((r.team_id, u.b), (r.owner_id, u.b), (u.b))"
            for kind, metric in HIST_KIND.items()
        ]
    # Each cell to its span by width_bucket over the spans' edges (a gap between two spans: no period);
    # the complement spans (Plan.minus, counted −1) likewise in a second scan: they may cover the
    # same hours as another period's span.
    columns = ", ".join(f"c.{name}" for name in (*KEY_FIELDS, *MEASURES, *HIST_FIELDS, "tag_b", "tag_c"))
    scans, scan_params = [], []
    for sign, group in ((1, spans), (-1, minus)):
        if not group:
            continue
        edges, period_of, week_of = [], [], []
        for a, b, w, i in sorted(group):
            if edges and edges[-1] == a:
                edges.pop()
            elif edges:
                period_of.append(None)
                week_of.append(None)
            edges += [a, b]
            period_of.append(i)
            week_of.append(w)
        ranges = " OR ".join("(c.hour >= %s AND c.hour < %s)" for _ in group)
        # width_bucket as an expression, not a function in FROM: a lateral function scan costs ~20 µs
        # a cell (a tuplestore per call), 200 ms for a floor's ten thousand cells.
        scans.append(
            f"SELECT (%s::int[])[c.k] AS period, (%s::date[])[c.k] AS week, {sign} AS sign, {columns} "
            f"FROM (SELECT width_bucket(c.hour, %s::timestamptz[]) AS k, c.* FROM {table} c "
            f"WHERE ({ranges}){filters}) c"
        )
        scan_params += [period_of, week_of, edges, *(t for a, b, _, _ in group for t in (a, b)), *params]
    sql = (
        f"WITH r AS MATERIALIZED (SELECT * FROM ({' UNION ALL '.join(scans)}) AS x WHERE period IS NOT NULL) "
    ) + " UNION ALL ".join(parts)
    params = scan_params
    params += [themes] * bool(themes) + [full] * (bool(full) * (1 + len(HIST_KIND)))
    # The cells are held once for the five groupings (MATERIALIZED): in memory, not spilled to disk.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{CUBE_WORK_MEM}'")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for kind, i, week, priority, category, channel, tenant_id, team_id, owner_id, g, b, *sums in rows:
        s = periods[i].sums
        if kind == TAG:
            s.tags[b] += int(sums[0])
        elif kind == CATEGORY:
            s.category[category]["created"] += int(sums[0])
        elif kind in HIST_KIND:
            metric, n = HIST_KIND[kind], int(sums[0])
            if g == 3:
                s.hist[("all", None, metric)][b] += n
            elif g == 1:
                s.hist[("team", team_id, metric)][b] += n
            else:
                s.hist[("owner", owner_id, metric)][b] += n
        else:
            counts = _counts(sums)
            # GROUPING's bits, highest first: week, priority, category, channel, tenant, team, owner.
            if not g & 0b1100000:
                s.week_priority[(week, priority)].update(counts)
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
    for p in periods:
        p.sums.cube_hours = sum((b - a) // timedelta(hours=1) for a, b, _ in (*p.plan.spans, *p.plan.minus))


def _slice_key(dim: str, value: str | None):
    if dim in ("category", "channel"):
        return value
    return None if value is None else int(value)


def _week_cover(slice_days: list[date]) -> list[date]:
    """The Mondays of the UTC weeks whose seven days are all read from the slices."""
    have = set(slice_days)
    return sorted(m for m in {monday(d) for d in have} if all(m + timedelta(days=i) in have for i in range(7)))


def _slice_rows(i: int, p: _Period) -> list[tuple]:
    """The slice rows one period reads, as (day, hour, week, skip, period, themes, priority_only):
    a week wholly read from the slices takes its week slices for every dimension but priority, and
    of its days' rows only the priority ones (none for the themes-only period)."""
    covered = set(p.cover)
    rows = [(m, WEEK, None, False, i, p.themes_only, False) for m in p.cover]
    for d, hour, w, skip in p.plan.days:
        in_week = hour == WHOLE_DAY and monday(d) in covered
        if in_week and (skip or p.themes_only):
            continue  # nothing left to read from this day's whole-day rows
        rows.append((d, hour, w, skip, i, p.themes_only, in_week))
    return rows


def _row_dims(hour: int, week, skip: bool, period: int, themes: bool, ponly: bool) -> tuple[str, ...]:
    """The dimensions one slice row of the read plan needs."""
    if themes:
        return ("category", "tag")
    if ponly or hour not in (WHOLE_DAY, WEEK):
        return ("priority",)
    if skip or hour == WEEK:
        return tuple(d for d in READ_DIMS if d != "priority")
    return READ_DIMS


def _dims_sql(pair: int | None, dims: tuple[str, ...]) -> tuple[str, list]:
    """The rows of the dimensions `dims` — or, filtered by priority `pair`, of their priority pairs
    (and the priority rows of that priority when "priority" is among them)."""
    if pair is None:
        return "r.dim = ANY(%s)", [list(dims)]
    paired = [PAIRS[d] for d in dims if d != "priority"]
    sql = "(r.dim = ANY(%s) AND r.value LIKE %s)"
    params = [paired, f"{pair}:%"]
    if "priority" in dims:
        sql = f"((r.dim = 'priority' AND r.value = %s) OR {sql})"
        params = [str(pair), *params]
    return sql, params


def _unpair(dim: str, value: str | None) -> tuple[str, str | None]:
    if dim not in UNPAIR:
        return dim, value
    value = value.split(":", 1)[1]
    return UNPAIR[dim], value or None


READ_DIMS = ("priority", "category", "channel", "team", "owner", "tenant", "tag")


def _read_slices(periods: list[_Period], tenant_ids, pair: int | None = None) -> None:
    """Every period's slice days: one statement for the sums by dimension value (and week, for the
    priority rows), one for the team and owner histograms of the full period. Whole UTC weeks come
    from the week slices (priority aside), the other days from the day slices. `pair`: filtered by
    that priority, read from the priority pairs."""
    for p in periods:
        p.cover = _week_cover(p.plan.slice_days)
    rows = [row for i, p in enumerate(periods) for row in _slice_rows(i, p)]
    if not rows:
        return
    table = ReportSlice._meta.db_table
    scope = "r.tenant_id IS NULL" if tenant_ids is None else "r.tenant_id = ANY(%s)"
    scope_params = [] if tenant_ids is None else [tenant_ids]
    all_days = [p.plan.slice_days for p in periods]
    full_period = next((p for p in periods if not p.themes_only), None)
    hist_weeks = full_period.cover if full_period else []
    hist_days = [d for d in (full_period.plan.slice_days if full_period else []) if monday(d) not in set(hist_weeks)]
    # The rows grouped by the dimensions they need, one branch each with its dimensions as constants,
    # so the index (tenant, day, hour, dim, value) bounds the read to them (a day inside a week slice
    # has ~800 rows of which it needs its few priority ones).
    by_dims: dict[tuple, list] = defaultdict(list)
    for row in rows:
        by_dims[_row_dims(*row[1:])].append(row[:5])
    branches, params = [], []
    columns = ", ".join(f"r.{m}" for m in MEASURES)
    for dims, group in sorted(by_dims.items()):
        dims_sql, dims_params = _dims_sql(pair, dims)
        # LATERAL: one index lookup per (day, hour) slice wanted. As a join with the range of days,
        # the planner read every slice of the range (a 90-day report's previous period too: ~60k
        # rows, ~110 ms) and hashed them against the few it wanted.
        branches.append(
            f"SELECT m.period, r.dim, r.value, CASE WHEN r.dim = 'priority' THEN m.week END AS week, {columns} "
            "FROM unnest(%s::date[], %s::smallint[], %s::date[], %s::bool[], %s::int[]) "
            f"AS m(day, hour, week, skip, period) CROSS JOIN LATERAL (SELECT r.dim, r.value, {columns} FROM {table} r "
            f"WHERE {scope} AND r.day = m.day AND r.hour = m.hour AND {dims_sql} OFFSET 0) r"
        )
        params += [*(list(column) for column in zip(*group, strict=True)), *scope_params, *dims_params]
    sums_sql = f"SELECT r.period, r.dim, r.value, r.week, {_R_SUMS} FROM ({' UNION ALL '.join(branches)}) r "
    sums_sql += "GROUP BY 1, 2, 3, 4"
    with connection.cursor() as cursor:
        cursor.execute(sums_sql, params)
        result = cursor.fetchall()
        hists = []
        if hist_days or hist_weeks:  # the stored bucket arrays, added up here (PostgreSQL sorts them to group)
            ends = [*hist_days, *hist_weeks]
            hist_sql, hist_params = _dims_sql(pair, ("team", "owner"))
            cursor.execute(
                f"SELECT r.dim, r.value, {', '.join(f'r.{name}' for name in HIST_FIELDS)} FROM {table} r "
                f"WHERE {scope} AND r.day >= %s AND r.day <= %s AND ((r.hour = {WHOLE_DAY} AND r.day = ANY(%s)) "
                f"OR (r.hour = {WEEK} AND r.day = ANY(%s))) AND {hist_sql}",
                [*scope_params, min(ends), max(ends), hist_days, hist_weeks, *hist_params],
            )
            hists = cursor.fetchall()
    full = full_period
    for dim, value, *arrays in hists:  # the full period's (there is one at most)
        dim, value = _unpair(dim, value)
        key = _slice_key(dim, value)
        for j, metric in enumerate(HISTOGRAMS):
            buckets, counts = arrays[2 * j], arrays[2 * j + 1]
            hist = full.sums.hist[(dim, key, metric)]
            for b, n in zip(buckets, counts, strict=True):
                hist[b] += n
            if dim == "team":  # every case has one team value (or none): the teams add up to all
                everything = full.sums.hist[("all", None, metric)]
                for b, n in zip(buckets, counts, strict=True):
                    everything[b] += n
    for i, dim, value, week, *sums in result:
        dim, value = _unpair(dim, value)
        key = _slice_key(dim, value)
        s = periods[i].sums
        if dim == "tag":
            s.tags[key] += int(sums[0])
        elif dim == "priority":
            s.week_priority[(week, key)].update(_counts(sums))
        else:
            getattr(s, dim)[key].update(_counts(sums))
    for p, days in zip(periods, all_days, strict=True):
        p.sums.rollup_days = len(days)
        p.sums.rollup_weeks = len(p.cover)


def _cohort_cases(user, f: Filters):
    ids = visible_tenant_ids(user)
    qs = Case.objects.filter(f.dimension_q())
    if ids is not None:
        qs = qs.filter(tenant_id__in=ids) if ids else qs.none()
    return qs


class DirtyDays(dict):
    """`dirty_days`' answer: stale day → its stale UTC hours (None: the whole day); `versions` the
    (day, hour) → a digest of that hour's markers (their count, highest and summed ids): it changes
    whenever a change marks the hour again (a marker is written in the change's own transaction,
    and one committed late with a lower id still changes the count and the sum) or the sweep
    consumes some of its markers."""

    versions: dict[tuple[date, int], str]


def dirty_days(start: date, end: date) -> DirtyDays:
    """The stale days between `start` and `end`, each with its stale UTC hours (None: the whole day,
    a marker without an hour), and each marked hour's version (DirtyDays.versions)."""
    out = DirtyDays()
    out.versions = {}
    rows = (
        ReportDirtyDay.objects.filter(day__gte=start, day__lte=end)
        .order_by()
        .values_list("day", "hour")
        .annotate(n=Count("id"), top=Max("id"), total=Sum("id"))
    )
    for day, hour, n, top, total in rows:
        if hour is None:
            out[day] = None
            continue
        out.versions[(day, hour)] = f"{n}.{top}.{total}"
        if day not in out or out[day] is not None:
            out.setdefault(day, set()).add(hour)
    return out


LIVE_TTL = 120  # seconds a stale hour's cells are kept under its version (the sweep clears it in ~30 s)


def _live_key(hour: datetime, version: str) -> str:
    return f"reports:live:{hour:%Y%m%d%H}:{version}"


# A stale hour's cell as cached and added up: (key, the MEASURES as a tuple, the fr, res and tag
# histograms as (bucket, count) pairs) — plain tuples, cheap to unpickle and to add.
Row = tuple[tuple, tuple, tuple, tuple, tuple]


def _row(key: tuple, cell: Cell) -> Row:
    return (
        key,
        tuple(cell.sums.get(m, 0) for m in MEASURES),
        tuple(cell.fr.items()),
        tuple(cell.res.items()),
        tuple(cell.tags.items()),
    )


def _delta(key: tuple, fresh: Row | None, kept: Row | None) -> Row | None:
    """A cell's fresh Row less its stored one (either may be missing); None when they are equal."""
    zero = (key, (0,) * len(MEASURES), (), (), ())
    fresh, kept = fresh or zero, kept or zero
    vec = tuple(x - y for x, y in zip(fresh[1], kept[1], strict=True))
    hists = []
    for j in (2, 3, 4):
        diff = dict(fresh[j])
        for b, n in kept[j]:
            diff[b] = diff.get(b, 0) - n
        hists.append(tuple((b, n) for b, n in diff.items() if n))
    if not any(vec) and not any(hists):
        return None
    return (key, vec, *hists)


def _hour_rows(hours: dict[datetime, str]) -> dict[datetime, tuple[list[Row], list[Row]]]:
    """For each stale UTC hour of `hours` (hour → its marker version), all tenants: the cells of
    every case created in it, recomputed from the plain rows, and their change against the hour's
    cube cells as stored (fresh less stored, unchanged cells left out: a marker's one or two cells),
    as Rows. From the cache under (hour, version) — the version changes with every new marker and
    with every sweep that consumes some, so both the plain rows and the stored cells are those of
    the version —, the others computed in one read each and cached. Any scope or dimension filter
    reads them by their key."""
    keys = {hour: _live_key(hour, version) for hour, version in hours.items()}
    found = cache.get_many(list(keys.values()))
    out = {hour: found[key] for hour, key in keys.items() if key in found}
    missing = [hour for hour in hours if hour not in out]
    if missing:
        one = timedelta(hours=1)
        intervals = _merge([(h, h + one) for h in missing])
        fresh: dict[datetime, dict[tuple, Row]] = {hour: {} for hour in missing}
        kept: dict[datetime, dict[tuple, Row]] = {hour: {} for hour in missing}
        for (hour, key), cell in cells_by(facts(Case.objects.all(), intervals), utc_hour).items():
            fresh[hour][key] = _row(key, cell)
        for (hour, key), cell in _stored_cube(intervals).items():
            if hour in kept:
                kept[hour][key] = _row(key, cell)
        computed = {}
        for hour in missing:
            deltas = (_delta(k, fresh[hour].get(k), kept[hour].get(k)) for k in fresh[hour].keys() | kept[hour].keys())
            computed[hour] = (list(fresh[hour].values()), [d for d in deltas if d is not None])
        cache.set_many({keys[hour]: rows for hour, rows in computed.items()}, LIVE_TTL)
        out |= computed
    return out


def _key_matches(key: tuple, f: Filters, tenant_ids: set | None) -> bool:
    """The cohort's filter (`_cohort_cases`, as `_cube_where`) on a cell key: the tenants in scope
    (tenant_ids_for: visible, tenant, segment, tier) and the dimension filters."""
    tenant_id, *dims = key
    if tenant_ids is not None and tenant_id not in tenant_ids:
        return False
    wanted = (f.priority, f.category, f.channel, f.team_id, f.agent_id)  # KEY_FIELDS' order after the tenant
    return all(want in (None, "") or have == want for have, want in zip(dims, wanted, strict=True))


_AT = {name: KEY_FIELDS.index(column) for name, column in {"week_priority": "priority", **SETS}.items()}
_TEAM_AT, _OWNER_AT = KEY_FIELDS.index("team_id"), KEY_FIELDS.index("owner_id")


def _add_rows(p: _Period, week: date, rows: list[Row], *, live: bool = True) -> None:
    """Rows into a period's sums as `_add_cell` adds cells: each grouping's measures summed as
    tuples first (C-level adds), then into the Sums' Counters once per group. `live`: the rows are
    cases read from plain rows (counted in live_cases), not changes against the cube."""
    s = p.sums
    if p.themes_only:
        for key, vec, _, _, tags in rows:
            s.live_cases += vec[0] if live else 0
            s.category[key[_AT["category"]]]["created"] += vec[0]
            s.tags.update(dict(tags))
        return
    groups: dict[str, dict] = {name: {} for name in _AT}
    hists: dict[tuple, dict] = defaultdict(dict)  # (kind, value, metric) → bucket → count
    for key, vec, fr, res, tags in rows:
        s.live_cases += vec[0] if live else 0
        for name, at in _AT.items():
            value = (week, key[at]) if name == "week_priority" else key[at]
            acc = groups[name].get(value)
            groups[name][value] = vec if acc is None else tuple(map(add, acc, vec))
        for metric, hist in (("fr", fr), ("res", res)):
            for target in (("all", None, metric), ("team", key[_TEAM_AT], metric), ("owner", key[_OWNER_AT], metric)):
                counts = hists[target]
                for b, n in hist:
                    counts[b] = counts.get(b, 0) + n
        if tags:
            s.tags.update(dict(tags))
    for name, bucket in groups.items():
        into = getattr(s, name)
        for value, vec in bucket.items():
            into[value].update({m: v for m, v in zip(MEASURES, vec, strict=True) if v})
    for target, counts in hists.items():
        if counts:
            s.hist[target].update(counts)


def _add_live_cell(p: _Period, week: date, key: tuple, cell: Cell) -> None:
    p.sums.live_cases += cell.sums["created"]
    if p.themes_only:
        p.sums.category[key[_AT["category"]]]["created"] += cell.sums["created"]
        p.sums.tags.update(cell.tags)
    else:
        _add_cell(p.sums, week, key, cell)


def _read_live(periods: list[_Period], user, f: Filters, versions: dict | None = None, tenant_ids=False) -> None:
    """Every period's plain-row intervals, each case to its period. A whole marked UTC hour inside
    one of the viewer's weeks comes from `_hour_rows` (cached under its version: a floor's managers
    recompute only the hours changed since the last report); the other intervals with one read
    (four queries)."""
    intervals = [(a, b, i) for i, p in enumerate(periods) for a, b in p.plan.live]
    if not intervals:
        return
    versions = versions or {}
    one = timedelta(hours=1)
    whole: dict[datetime, list[int]] = defaultdict(list)  # hour → the periods reading it whole
    rest = []
    for a, b, i in intervals:
        tz = periods[i].f.tz
        t = _ceil_hour(a)
        if t > a:
            rest.append((a, min(t, b), i))
        while t + one <= b:
            version = versions.get((t.date(), t.hour))
            if version is not None and (
                t in periods[i].delta  # (its stored cells are not taken off in the cube read: it must be here)
                or _week_start(t, tz) == _week_start(t + one - timedelta(microseconds=1), tz)
            ):
                whole[t].append(i)
            else:
                rest.append((t, t + one, i))
            t += one
        if t < b and t >= a:
            rest.append((t, b, i))
    if whole:
        if tenant_ids is False:
            tenant_ids = tenant_ids_for(user, f)
        scope = None if tenant_ids is None else set(tenant_ids)
        batches: dict[tuple[int, date, bool], list[Row]] = defaultdict(list)  # (period, week, live) → rows
        for hour, (fresh, deltas) in _hour_rows({h: versions[(h.date(), h.hour)] for h in whole}).items():
            for i in whole[hour]:
                p = periods[i]
                if hour in p.delta:  # the hour's slices are read: add its change against the cube
                    p.sums.delta_hours += 1
                    key = (i, p.delta[hour], False)
                    rows = deltas
                else:
                    key, rows = (i, _week_start(hour, p.f.tz), True), fresh
                batches[key] += [row for row in rows if _key_matches(row[0], f, scope)]  # the cohort's filters
        for (i, week, live), rows in batches.items():
            _add_rows(periods[i], week, rows, live=live)
    if not rest:
        return
    for fact in facts(_cohort_cases(user, f), _merge([(a, b) for a, b, _ in rest])):
        i = next(i for a, b, i in rest if a <= fact.created_at < b)
        p = periods[i]
        cell = Cell()
        cell.add_fact(fact)
        _add_live_cell(p, _week_start(fact.created_at, p.f.tz), fact.key, cell)


def report_sums(
    user, f: Filters, *, previous: Filters | None = None, dirty: dict | None = None, tenant_ids=False
) -> tuple[Sums, Sums | None]:
    """The report's sums for the cohort of `f` as `user` sees it — and the categories and tags of
    `previous` (Top themes' period before) — from the slices for whole clean days (no dimension
    filter), the cube for whole clean hours, plain rows for the rest: two statements for the slices,
    one for the cube, four for plain rows when any. `tenant_ids`: tenant_ids_for(user, f), when the
    caller has it."""
    spans = [f, *([previous] if previous else [])]
    if dirty is None:
        first, last = min(p.bounds[0] for p in spans), max(p.bounds[1] for p in spans)
        dirty = dirty_days(utc_day(first) - timedelta(days=1), utc_day(last) + timedelta(days=1))
    if tenant_ids is False:
        tenant_ids = tenant_ids_for(user, f)
    pair = slice_pair(f)
    slices = not has_dimension_filter(f) or pair is not None
    periods = [_Period(pf, i > 0, plan(pf, dirty=dirty, slices=slices, weeks=i == 0)) for i, pf in enumerate(spans)]
    if tenant_ids != []:  # [] : nothing visible
        _read_slices(periods, tenant_ids, pair)
        versions = getattr(dirty, "versions", None) or {}
        one = timedelta(hours=1)
        for p in periods:  # a marked hour of a day read from its slices: its cached change, not the cube
            for a, b, w in list(p.plan.minus):
                if b - a == one and (a.date(), a.hour) in versions and any(x <= a and b <= y for x, y in p.plan.live):
                    p.plan.minus.remove((a, b, w))
                    p.delta[a] = w
        _read_cube(periods, f, tenant_ids)
        _read_live(periods, user, f, getattr(dirty, "versions", None), tenant_ids)
    return periods[0].sums, (periods[1].sums if previous else None)


# --- verification -------------------------------------------------------------------------------------


def _stored_cell(row, hists) -> Cell:
    cell = Cell(sums=Counter({m: getattr(row, m) for m in MEASURES}))
    for prefix, hist in hists(cell):
        hist.update(dict(zip(getattr(row, f"{prefix}_b"), getattr(row, f"{prefix}_c"), strict=True)))
    return cell


def _stored_cube(intervals: list[tuple[datetime, datetime]]) -> dict[tuple[datetime, tuple], Cell]:
    """The cube cells of the UTC hours in the intervals as stored (plain tuples: a sweep reads a
    day's few thousand cells)."""
    out = {}
    n, h = len(KEY_FIELDS), len(MEASURES)
    rows = ReportHour.objects.filter(_ranges_q("hour", intervals)).order_by()
    for hour, *row in rows.values_list("hour", *KEY_FIELDS, *MEASURES, *HIST_FIELDS, "tag_b", "tag_c"):
        cell = Cell(sums=Counter({m: v for m, v in zip(MEASURES, row[n : n + h], strict=True) if v}))
        arrays = row[n + h :]
        for j, hist in enumerate((cell.fr, cell.res, cell.tags)):
            hist.update(dict(zip(arrays[2 * j], arrays[2 * j + 1], strict=True)))
        out[(hour.astimezone(UTC), tuple(row[:n]))] = cell
    return out


def stored(days: Iterable[date]) -> dict[tuple[datetime, tuple], Cell]:
    """The cube cells of the UTC days as stored."""
    return _stored_cube(_day_intervals(days))


def _slice_hists(c: Cell) -> tuple:
    return ("fr", c.fr), ("res", c.res)


def stored_slices(days: Iterable[date], *, weeks: bool = False) -> dict[tuple, Cell]:
    """The day (and hour) slices of the UTC days as stored; `weeks`: the week slices of the weeks
    starting on those days instead."""
    rows = ReportSlice.objects.filter(day__in=list(days))
    rows = rows.filter(hour=WEEK) if weeks else rows.filter(hour__gt=WEEK)
    return {(row.day, row.hour, row.tenant_id, row.dim, row.value): _stored_cell(row, _slice_hists) for row in rows}


def _compare(have: dict, want: dict, describe) -> list[str]:
    problems = []
    for k in sorted(set(have) | set(want), key=str):
        a = have[k].as_comparable() if k in have else None
        b = want[k].as_comparable() if k in want else None
        if a != b:
            problems.append(f"{describe(k)}: stored {a} != recomputed {b}")
    return problems


def rollup_differences(days: Iterable[date], *, skip_dirty: bool = True) -> list[str]:
    """The cube cells, day slices and week slices of `days` (the weeks of those days: all seven days
    recomputed) against a recomputation from the plain rows (days with a pending marker are skipped,
    and weeks with one: the report reads those from plain rows anyway)."""
    days = sorted(set(days))
    mondays = sorted({monday(d) for d in days})
    dirty = dirty_days(mondays[0], mondays[-1] + timedelta(days=6)) if skip_dirty and days else set()
    days = [d for d in days if d not in dirty]
    mondays = [m for m in mondays if not any(m + timedelta(days=i) in dirty for i in range(7))]
    if not days and not mondays:
        return []
    week_days = {m + timedelta(days=i) for m in mondays for i in range(7)}
    everything = recompute(set(days) | week_days)
    want = {k: cell for k, cell in everything.items() if k[0].date() in set(days)}
    cube = _compare(
        stored(days), want, lambda k: f"rollup {k[0]:%Y-%m-%d %H}h {dict(zip(KEY_FIELDS, k[1], strict=True))}"
    )
    narrow = _compare(
        stored_slices(days), slices_of(want), lambda k: f"slice {k[0]} hour {k[1]} tenant {k[2]} {k[3]}={k[4]}"
    )
    weekly = _compare(
        stored_slices(mondays, weeks=True),
        {k: cell for k, cell in weeks_of(slices_of(everything)).items() if k[0] in set(mondays)},
        lambda k: f"week slice {k[0]} tenant {k[2]} {k[3]}={k[4]}",
    )
    return cube + narrow + weekly
