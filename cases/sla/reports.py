"""Read side of the manager SLA dashboard (/sla/): attainment, MTTA/MTTR, the weekly trend and the
cases breached or at risk right now. Selectors only: nothing here writes.

Every number is aggregated in the database with a fixed number of queries, whatever the number of
cases or clocks:

* one "cube" query grouped by priority × segment over the chosen period *and* the previous period
  of the same length (filtered aggregates). Counts and duration sums are additive, so the overall
  tiles, the by-priority, by-segment and priority × segment tables and MTTA/MTTR all come from it
  and can never disagree with each other;
* one query grouped by tenant, one by team, one by ISO week (TruncWeek in the viewer's timezone);
* two queries for the current breaches and at-risk cases (their counts and the first rows).

Definitions (the footnote on the page says the same):

* A clock belongs to the period when it *started* in [from 00:00, to + 1 day 00:00) in the viewer's
  timezone. Only first-response and resolution clocks count; update-cadence clocks do not.
* met: stopped with met=True. missed: stopped with met=False, or not stopped yet and already past
  due (breached_at set, due_at reached, or paused with more time elapsed than the target).
  pending: not stopped and not yet due; pending clocks are left out of attainment.
  A clock that ended without a target (met is None) counts nowhere.
* attainment = met / (met + missed), in percent rounded half-up to one decimal.
* MTTA / MTTR: over stopped first-response / resolution clocks with an outcome. "Calendar" is
  stopped_at - started_at (wall-clock time, paused time included); "policy clock" is the clock's
  own elapsed time (`elapsed_before`): business hours on the policy's calendar for a business-time
  target, calendar time for a 24×7 target, in both cases without the time paused while waiting on
  the customer. Means are sum / count, exact to the microsecond.
* Dimensions use the case's current priority, team and tenant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from companyos.timefmt import duration as format_duration
from tenants.choices import Segment
from tenants.selectors import visible_tenant_ids

from ..choices import OPEN_STATUSES, Priority
from ..models import Case, SLAClock

FIRST_RESPONSE = SLAClock.Kind.FIRST_RESPONSE
RESOLUTION = SLAClock.Kind.RESOLUTION
STOPPED = SLAClock.State.STOPPED
PAUSED = SLAClock.State.PAUSED

DEFAULT_RANGE_DAYS = 28
MAX_RANGE_DAYS = 366
BREACH_LIST_LIMIT = 50
ZERO = timedelta(0)
# The two kinds the dashboard reports, with the short names used in annotations and the CSV.
KINDS = ((FIRST_RESPONSE, "fr"), (RESOLUTION, "res"))


# --- filters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a date range (inclusive, in `tz`) and optional dimension filters."""

    date_from: date
    date_to: date
    tz: tzinfo
    segment: str = ""
    tier: str = ""
    tenant_id: int | None = None
    team_id: int | None = None
    priority: int | None = None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[from 00:00, to + 1 day 00:00) as aware instants in the viewer's timezone."""
        return _midnight(self.date_from, self.tz), _midnight(self.date_to + timedelta(days=1), self.tz)

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        return replace(
            self, date_from=self.date_from - timedelta(days=self.days), date_to=self.date_from - timedelta(days=1)
        )


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _dimension_q(filters: Filters, prefix: str = "") -> Q:
    """The dimension filters (not the dates) on a queryset of cases (`prefix=""`) or clocks
    (`prefix="case__"`)."""
    q = Q()
    if filters.segment:
        q &= Q(**{f"{prefix}tenant__segment": filters.segment})
    if filters.tier:
        q &= Q(**{f"{prefix}tenant__support_tier": filters.tier})
    if filters.tenant_id is not None:
        q &= Q(**{f"{prefix}tenant_id": filters.tenant_id})
    if filters.team_id is not None:
        q &= Q(**{f"{prefix}team_id": filters.team_id})
    if filters.priority is not None:
        q &= Q(**{f"{prefix}priority": filters.priority})
    return q


def _scoped(qs: QuerySet, user, tenant_field: str) -> QuerySet:
    ids = visible_tenant_ids(user)
    if ids is None:
        return qs
    return qs.filter(**{f"{tenant_field}__in": ids}) if ids else qs.none()


def clocks_visible_to(user) -> QuerySet[SLAClock]:
    """First-response and resolution clocks of the cases `user` may see."""
    return _scoped(SLAClock.objects.filter(kind__in=[FIRST_RESPONSE, RESOLUTION]), user, "case__tenant_id")


def open_cases_visible_to(user) -> QuerySet[Case]:
    # The IN list in lifecycle order: exactly the predicate of the open-case partial indexes.
    return _scoped(Case.objects.filter(status__in=OPEN_STATUSES), user, "tenant_id")


# --- outcomes as SQL ----------------------------------------------------------------------------------


def met_q() -> Q:
    return Q(state=STOPPED, met=True)


def overdue_q(now: datetime) -> Q:
    """A clock that has not stopped but is already past due."""
    return ~Q(state=STOPPED) & (
        Q(breached_at__isnull=False) | Q(due_at__lte=now) | Q(state=PAUSED, elapsed_before__gt=F("target"))
    )


def missed_q(now: datetime) -> Q:
    return Q(state=STOPPED, met=False) | overdue_q(now)


def pending_q(now: datetime) -> Q:
    return (
        ~Q(state=STOPPED)
        & Q(breached_at__isnull=True)
        & (Q(due_at__isnull=True) | Q(due_at__gt=now))
        & ~Q(state=PAUSED, elapsed_before__gt=F("target"))
    )


def finished_q() -> Q:
    """Stopped with an outcome: the clocks MTTA and MTTR average over."""
    return Q(state=STOPPED, met__isnull=False)


CALENDAR_TIME = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())


def _outcome_aggregates(now: datetime, prefix: str = "", only: Q | None = None) -> dict:
    only = only if only is not None else Q()
    out = {}
    for kind, short in KINDS:
        of_kind = Q(kind=kind) & only
        out[f"{prefix}{short}_met"] = Count("pk", filter=of_kind & met_q())
        out[f"{prefix}{short}_missed"] = Count("pk", filter=of_kind & missed_q(now))
        out[f"{prefix}{short}_pending"] = Count("pk", filter=of_kind & pending_q(now))
    return out


def _duration_aggregates(prefix: str = "", only: Q | None = None) -> dict:
    only = only if only is not None else Q()
    out = {}
    for kind, short in KINDS:
        done = Q(kind=kind) & finished_q() & only
        out[f"{prefix}{short}_n"] = Count("pk", filter=done)
        out[f"{prefix}{short}_calendar"] = Sum(CALENDAR_TIME, filter=done)
        out[f"{prefix}{short}_policy"] = Sum("elapsed_before", filter=done, output_field=DurationField())
    return out


# --- result values ---------------------------------------------------------------------------------------


def percent(met: int, missed: int) -> Decimal | None:
    """met / (met + missed) in percent, rounded half-up to one decimal; None without outcomes."""
    total = met + missed
    if not total:
        return None
    return (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def minutes(value: timedelta | None) -> Decimal | None:
    """A duration in minutes, rounded half-up to one decimal (what the page and the CSV show)."""
    if value is None:
        return None
    micro = value // timedelta(microseconds=1)
    return (Decimal(micro) / Decimal(60_000_000)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Attainment:
    met: int = 0
    missed: int = 0
    pending: int = 0

    def __add__(self, other: Attainment) -> Attainment:
        return Attainment(self.met + other.met, self.missed + other.missed, self.pending + other.pending)

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def percent(self) -> Decimal | None:
        return percent(self.met, self.missed)


@dataclass
class Mean:
    """A mean duration kept as count and totals, so means of groups combine exactly."""

    count: int = 0
    calendar_total: timedelta = ZERO
    policy_total: timedelta = ZERO

    def __add__(self, other: Mean) -> Mean:
        return Mean(
            self.count + other.count, self.calendar_total + other.calendar_total, self.policy_total + other.policy_total
        )

    @property
    def calendar(self) -> timedelta | None:
        return self.calendar_total / self.count if self.count else None

    @property
    def policy(self) -> timedelta | None:
        return self.policy_total / self.count if self.count else None

    # For the page: minutes with one decimal (as in the CSV) and "5 h 12 min".
    @property
    def calendar_minutes(self) -> Decimal | None:
        return minutes(self.calendar)

    @property
    def policy_minutes(self) -> Decimal | None:
        return minutes(self.policy)

    @property
    def calendar_text(self) -> str:
        return duration_text(self.calendar)

    @property
    def policy_text(self) -> str:
        return duration_text(self.policy)


@dataclass
class Row:
    """One key of a dimension: attainment for both kinds, and (where computed) MTTA and MTTR."""

    key: str
    label: str
    first_response: Attainment = field(default_factory=Attainment)
    resolution: Attainment = field(default_factory=Attainment)
    mtta: Mean = field(default_factory=Mean)
    mttr: Mean = field(default_factory=Mean)
    priority: int | None = None
    ident: int | None = None  # the tenant's or team's id

    def __iadd__(self, other: Row) -> Row:
        self.first_response += other.first_response
        self.resolution += other.resolution
        self.mtta += other.mtta
        self.mttr += other.mttr
        return self

    @property
    def missed(self) -> int:
        return self.first_response.missed + self.resolution.missed

    @property
    def clocks(self) -> int:
        fr, res = self.first_response, self.resolution
        return fr.decided + fr.pending + res.decided + res.pending


def _row_from(
    values: dict, key: str, label: str, prefix: str = "", *, durations: bool = False, priority: int | None = None
) -> Row:
    row = Row(key=key, label=label, priority=priority)
    row.first_response = Attainment(
        values[f"{prefix}fr_met"], values[f"{prefix}fr_missed"], values[f"{prefix}fr_pending"]
    )
    row.resolution = Attainment(
        values[f"{prefix}res_met"], values[f"{prefix}res_missed"], values[f"{prefix}res_pending"]
    )
    if durations:
        row.mtta = Mean(
            values[f"{prefix}fr_n"], values[f"{prefix}fr_calendar"] or ZERO, values[f"{prefix}fr_policy"] or ZERO
        )
        row.mttr = Mean(
            values[f"{prefix}res_n"], values[f"{prefix}res_calendar"] or ZERO, values[f"{prefix}res_policy"] or ZERO
        )
    return row


@dataclass
class Trend:
    """The change of a tile against the previous period of the same length."""

    current: Decimal | None
    previous: Decimal | None
    higher_is_better: bool = True
    unit: str = "pp"

    @property
    def delta(self) -> Decimal | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self) -> str:
        """up | down | flat | none (no comparison possible)."""
        if self.delta is None:
            return "none"
        return "flat" if self.delta == 0 else ("up" if self.delta > 0 else "down")

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▶", "none": "–"}[self.direction]

    @property
    def verdict(self) -> str:
        """better | worse | same | none."""
        if self.direction in ("flat", "none"):
            return {"flat": "same", "none": "none"}[self.direction]
        return "better" if (self.direction == "up") == self.higher_is_better else "worse"

    def _format(self, value: Decimal) -> str:
        if self.unit == "pp":
            return f"{value} pp"
        return duration_text(timedelta(minutes=float(value)))

    @property
    def text(self) -> str:
        """ "−3.3 pp (worse)", "+12 min (worse)", "unchanged", or why there is no comparison."""
        if self.delta is None:
            return "no data in the previous period" if self.previous is None else "no data in this period"
        if self.delta == 0:
            return "unchanged"
        sign = "+" if self.delta > 0 else "−"
        return f"{sign}{self._format(abs(self.delta))} ({self.verdict})"

    @property
    def previous_text(self) -> str:
        if self.previous is None:
            return "—"
        return f"{self.previous}%" if self.unit == "pp" else self._format(self.previous)


@dataclass
class Week:
    start: date
    label: str  # ISO week, e.g. 2026-W05
    partial: bool  # clipped by the date range
    first_response: Attainment
    resolution: Attainment

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


@dataclass
class Dashboard:
    filters: Filters
    now: datetime
    overall: Row
    previous: Row
    by_priority: list[Row]
    by_segment: list[Row]
    matrix: list[dict]  # priority rows × segment cells, for the priority × segment table
    by_tenant: list[Row]
    by_team: list[Row]
    weeks: list[Week]
    breaches: list[Case] = field(default_factory=list)
    breached_count: int = 0
    at_risk_count: int = 0

    @property
    def has_data(self) -> bool:
        return self.overall.clocks > 0

    @property
    def trends(self) -> dict[str, Trend]:
        cur, prev = self.overall, self.previous
        return {
            "first_response": Trend(cur.first_response.percent, prev.first_response.percent),
            "resolution": Trend(cur.resolution.percent, prev.resolution.percent),
            "mtta": Trend(minutes(cur.mtta.policy), minutes(prev.mtta.policy), higher_is_better=False, unit="min"),
            "mttr": Trend(minutes(cur.mttr.policy), minutes(prev.mttr.policy), higher_is_better=False, unit="min"),
        }

    @property
    def tenant_ids(self) -> list[int]:
        """Every tenant whose data the dashboard shows (for the access audit entry)."""
        ids = {row.ident for row in self.by_tenant}
        ids |= {case.tenant_id for case in self.breaches}
        if self.filters.tenant_id is not None:
            ids.add(self.filters.tenant_id)
        return sorted(ids)

    @property
    def chart(self) -> dict:
        return trend_chart(self.weeks)


# --- the selectors ---------------------------------------------------------------------------------------


def dashboard(user, filters: Filters, *, now: datetime, breaches: bool = True) -> Dashboard:
    """Everything the dashboard shows for `user` (scoped to the tenants they may see)."""
    lo, hi = filters.bounds
    prev_lo, _ = filters.previous().bounds
    clocks = clocks_visible_to(user).filter(_dimension_q(filters, "case__"))

    # 1. The cube: priority × segment, this period and the previous one.
    current, earlier = Q(started_at__gte=lo), Q(started_at__lt=lo)
    cube = (
        clocks.filter(started_at__gte=prev_lo, started_at__lt=hi)
        .order_by()
        .values("case__priority", "case__tenant__segment")
        .annotate(
            **_outcome_aggregates(now, only=current),
            **_duration_aggregates(only=current),
            **_outcome_aggregates(now, "prev_", only=earlier),
            **_duration_aggregates("prev_", only=earlier),
        )
    )
    overall, previous = Row("all", _period_label(filters)), Row("previous", _period_label(filters.previous()))
    priorities = {p.value: Row(p.slug, f"{p.code} {p.label}", priority=p.value) for p in Priority}
    segments = {s.value: Row(s.value, str(s.label)) for s in Segment}
    cells: dict[tuple[int, str], Row] = {}
    for values in cube:
        p, s = values["case__priority"], values["case__tenant__segment"]
        row = _row_from(
            values, f"{Priority(p).slug}/{s}", f"{Priority(p).label} · {_segment_label(s)}", durations=True, priority=p
        )
        cells[(p, s)] = row
        overall += row
        priorities.setdefault(p, Row(str(p), str(p), priority=p))
        priorities[p] += row
        segments.setdefault(s, Row(s, _segment_label(s)))
        segments[s] += row
        previous += _row_from(values, "", "", "prev_", durations=True)

    in_range = clocks.filter(started_at__gte=lo, started_at__lt=hi)

    # 2. By tenant and by team (this period only).
    by_tenant = [
        replace(_row_from(v, v["case__tenant__slug"], v["case__tenant__name"]), ident=v["case__tenant_id"])
        for v in in_range.order_by()
        .values("case__tenant_id", "case__tenant__slug", "case__tenant__name")
        .annotate(**_outcome_aggregates(now))
    ]
    by_tenant.sort(key=lambda r: (-r.missed, r.label.lower(), r.key))
    by_team = [
        replace(_row_from(v, v["case__team__slug"] or "", v["case__team__name"] or "No team"), ident=v["case__team_id"])
        for v in in_range.order_by()
        .values("case__team_id", "case__team__slug", "case__team__name")
        .annotate(**_outcome_aggregates(now))
    ]
    by_team.sort(key=lambda r: (r.key == "", -r.missed, r.label.lower()))

    # 3. Weekly trend: ISO weeks, Monday to Sunday in the viewer's timezone.
    weekly = {
        _as_date(v["week"], filters.tz): v
        for v in in_range.annotate(week=TruncWeek("started_at", tzinfo=filters.tz))
        .order_by()
        .values("week")
        .annotate(**_outcome_aggregates(now))
    }
    weeks = []
    for start in iso_weeks(filters.date_from, filters.date_to):
        v = weekly.get(start)
        row = _row_from(v, "", "") if v else Row("", "")
        year, number, _ = start.isocalendar()
        weeks.append(
            Week(
                start=start,
                label=f"{year}-W{number:02d}",
                partial=start < filters.date_from or start + timedelta(days=6) > filters.date_to,
                first_response=row.first_response,
                resolution=row.resolution,
            )
        )

    result = Dashboard(
        filters=filters,
        now=now,
        overall=overall,
        previous=previous,
        by_priority=[priorities[p] for p in sorted(priorities)],
        by_segment=list(segments.values()),
        matrix=_matrix(cells, priorities, segments),
        by_tenant=by_tenant,
        by_team=by_team,
        weeks=weeks,
    )
    if breaches:
        result.breaches, result.breached_count, result.at_risk_count = current_breaches(user, filters, now=now)
    return result


def current_breaches(
    user, filters: Filters, *, now: datetime, limit: int = BREACH_LIST_LIMIT
) -> tuple[list[Case], int, int]:
    """Open cases breached (a running clock past due) or at risk (past the at-risk threshold, not
    yet due) right now, soonest due first: (the first `limit`, how many breached, how many at risk).
    The date range does not apply: this is the current state."""
    qs = open_cases_visible_to(user).filter(_dimension_q(filters))
    breached, at_risk = Q(sla_due_at__lte=now), Q(sla_risk_at__lte=now, sla_due_at__gt=now)
    counts = qs.aggregate(breached=Count("pk", filter=breached), at_risk=Count("pk", filter=at_risk))
    rows = list(
        qs.filter(breached | at_risk).select_related("tenant", "owner", "team").order_by("sla_due_at", "id")[:limit]
    )
    for case in rows:
        case.sla_state = "breached" if case.sla_due_at <= now else "at_risk"
        case.sla_clock_label = SLAClock.Kind(case.sla_clock).label if case.sla_clock in SLAClock.Kind.values else "—"
    return rows, counts["breached"], counts["at_risk"]


def _segment_label(value: str) -> str:
    try:
        return str(Segment(value).label)
    except ValueError:
        return value


def _period_label(filters: Filters) -> str:
    return f"{filters.date_from.isoformat()} – {filters.date_to.isoformat()}"


def _as_date(value, tz: tzinfo) -> date:
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def _matrix(cells: dict, priorities: dict, segments: dict) -> list[dict]:
    """Rows of priorities, a cell per segment (None when no clock), and the priority's total."""
    return [
        {"priority": row, "cells": [cells.get((p, s)) for s in segments], "total": row}
        for p, row in sorted(priorities.items())
    ]


def iso_weeks(date_from: date, date_to: date) -> list[date]:
    """The Mondays of the ISO weeks that overlap [date_from, date_to]."""
    start = date_from - timedelta(days=date_from.weekday())
    out = []
    while start <= date_to:
        out.append(start)
        start += timedelta(days=7)
    return out


# --- the weekly chart (pure geometry; the template draws it) ------------------------------------------------


def trend_chart(weeks: list[Week], *, width: int = 660, height: int = 240) -> dict:
    """Coordinates of an inline SVG line chart of weekly attainment (0–100 %) for both kinds."""
    left, right, top, bottom = 46, 14, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(weeks), 1)

    def x(i: int) -> float:
        return round(left + plot_w * (i + 0.5) / n, 1)

    def y(value: Decimal) -> float:
        return round(top + plot_h * (1 - float(value) / 100), 1)

    series = []
    for kind, css in KINDS:
        key, label = kind.value, kind.label
        points, segments, run = [], [], []
        for i, week in enumerate(weeks):
            att: Attainment = getattr(week, key)
            if att.percent is None:
                if run:
                    segments.append(run)
                run = []
                continue
            point = {
                "x": x(i),
                "y": y(att.percent),
                "sx": round(x(i) - 4, 1),
                "sy": round(y(att.percent) - 4, 1),
                "label": f"{label}, week {week.label}: {att.percent}% ({att.met} met, {att.missed} missed)",
            }
            points.append(point)
            run.append(point)
        if run:
            segments.append(run)
        series.append(
            {
                "key": key,
                "label": label,
                "css": css,
                "points": points,
                "lines": [" ".join(f"{p['x']},{p['y']}" for p in seg) for seg in segments if len(seg) > 1],
            }
        )
    step = max(1, math.ceil(len(weeks) / 12))
    x_ticks = [
        {"x": x(i), "label": f"W{week.start.isocalendar()[1]:02d}", "date": week.start.strftime("%d %b")}
        for i, week in enumerate(weeks)
        if i % step == 0
    ]
    y_ticks = [{"y": y(Decimal(v)), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    summary = " ".join(
        f"{s['label']}: "
        + (
            ", ".join(p["label"].split("week ", 1)[1] for p in s["points"])
            if s["points"]
            else "no clocks with an outcome"
        )
        + "."
        for s in series
    )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "desc": f"Weekly attainment in percent, {len(weeks)} ISO week{'s' if len(weeks) != 1 else ''}. " + summary,
    }


# --- CSV ---------------------------------------------------------------------------------------------------

CSV_HEADER = [
    "dimension",
    "key",
    "label",
    "first_response_met",
    "first_response_missed",
    "first_response_pending",
    "first_response_attainment_pct",
    "resolution_met",
    "resolution_missed",
    "resolution_pending",
    "resolution_attainment_pct",
    "clocks",
    "calendar_mean_minutes",
    "policy_mean_minutes",
]


def _attainment_cells(row: Row) -> list:
    cells = []
    for att in (row.first_response, row.resolution):
        cells += [att.met, att.missed, att.pending, "" if att.percent is None else att.percent]
    return cells


def _safe(text: str) -> str:
    """Keep a spreadsheet from reading a tenant name like "=cmd()" as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(dash: Dashboard):
    """The dashboard as CSV rows (header first): attainment per (dimension, key), then MTTA and MTTR
    per priority. The numbers are the page's: the same objects, the same rounding."""
    yield CSV_HEADER
    blank_times = ["", "", ""]
    yield ["overall", "current", _period_label(dash.filters), *_attainment_cells(dash.overall), *blank_times]
    yield [
        "overall",
        "previous",
        _period_label(dash.filters.previous()),
        *_attainment_cells(dash.previous),
        *blank_times,
    ]
    for row in dash.by_priority:
        yield ["priority", row.key, row.label, *_attainment_cells(row), *blank_times]
    for row in dash.by_segment:
        yield ["segment", row.key, row.label, *_attainment_cells(row), *blank_times]
    for line in dash.matrix:
        for cell in line["cells"]:
            if cell is not None:
                yield ["priority_segment", cell.key, cell.label, *_attainment_cells(cell), *blank_times]
    for row in dash.by_tenant:
        yield ["tenant", row.key, _safe(row.label), *_attainment_cells(row), *blank_times]
    for row in dash.by_team:
        yield ["team", row.key, _safe(row.label), *_attainment_cells(row), *blank_times]
    for week in dash.weeks:
        row = Row(
            week.label,
            f"{week.start.isoformat()} – {week.end.isoformat()}" + (" (partial)" if week.partial else ""),
            first_response=week.first_response,
            resolution=week.resolution,
        )
        yield ["week", row.key, row.label, *_attainment_cells(row), *blank_times]
    blank_attainment = [""] * 8
    for dimension, attr in (("mtta", "mtta"), ("mttr", "mttr")):
        for row in [dash.overall, *dash.by_priority]:
            mean: Mean = getattr(row, attr)
            key = "all" if row is dash.overall else row.key
            label = "All priorities" if row is dash.overall else row.label
            yield [
                dimension,
                key,
                label,
                *blank_attainment,
                mean.count,
                *("" if m is None else m for m in (mean.calendar_minutes, mean.policy_minutes)),
            ]


def duration_text(value: timedelta | None) -> str:
    """A mean duration for the page: "42 min", "5 h 12 min" (hours, not days: business hours are
    not calendar days). Rounded to the minute from the one-decimal value the CSV shows."""
    m = minutes(value)
    if m is None:
        return "—"
    return format_duration(timedelta(minutes=int(m.quantize(Decimal("1"), rounding=ROUND_HALF_UP))), style="hours")
