"""The selectors: dashboard() (the cube by priority × segment over this period and the previous
one, then by tenant, by team and by ISO week) and current_breaches() (open cases breached or at
risk now), and the Dashboard they fill."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from tenants.choices import Segment

from ...choices import Priority
from ...models import Case, SLAClock
from .chart import trend_chart
from .filters import BREACH_LIST_LIMIT, NO_TEAM, Filters, _dimension_q, clocks_visible_to, open_cases_visible_to
from .outcomes import _duration_aggregates, _outcome_aggregates
from .values import Row, Trend, Week, _row_from, minutes


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
    breaches: list[Case] = field(default_factory=list)  # one page of the breach list
    breached_count: int = 0
    at_risk_count: int = 0
    breach_page: int = 1
    breach_page_size: int = BREACH_LIST_LIMIT

    @classmethod
    def breaches_only(cls, filters: Filters, *, now: datetime) -> Dashboard:
        """An empty dashboard to hold just the breach list (fill_breaches), for paging it."""
        empty = Row("all", "")
        return cls(filters, now, empty, empty, [], [], [], [], [], [])

    @property
    def breach_total(self) -> int:
        return self.breached_count + self.at_risk_count

    @property
    def breach_pages(self) -> int:
        return max(1, -(-self.breach_total // self.breach_page_size))

    @property
    def breach_first(self) -> int:
        """The position (1-based) of the page's first row in the whole list."""
        return (self.breach_page - 1) * self.breach_page_size + 1 if self.breaches else 0

    @property
    def breach_last(self) -> int:
        return self.breach_first + len(self.breaches) - 1 if self.breaches else 0

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


def dashboard(user, filters: Filters, *, now: datetime, breaches: bool = True, breach_page: int = 1) -> Dashboard:
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
    priorities = {
        p.value: Row(p.slug, f"{p.code} {p.label}", priority=p.value, dims={"priority": p.slug}) for p in Priority
    }
    segments = {s.value: Row(s.value, str(s.label), dims={"segment": s.value}) for s in Segment}
    cells: dict[tuple[int, str], Row] = {}
    for values in cube:
        p, s = values["case__priority"], values["case__tenant__segment"]
        row = _row_from(
            values, f"{Priority(p).slug}/{s}", f"{Priority(p).label} · {_segment_label(s)}", durations=True, priority=p
        )
        row.dims = {"priority": Priority(p).slug, "segment": s}
        cells[(p, s)] = row
        overall += row
        priorities.setdefault(p, Row(str(p), str(p), priority=p, dims={"priority": Priority(p).slug}))
        priorities[p] += row
        segments.setdefault(s, Row(s, _segment_label(s), dims={"segment": s}))
        segments[s] += row
        previous += _row_from(values, "", "", "prev_", durations=True)

    in_range = clocks.filter(started_at__gte=lo, started_at__lt=hi)

    # 2. By tenant and by team (this period only).
    by_tenant = [
        replace(
            _row_from(v, v["case__tenant__slug"], v["case__tenant__name"]),
            ident=v["case__tenant_id"],
            dims={"tenant": v["case__tenant__slug"]},
        )
        for v in in_range.order_by()
        .values("case__tenant_id", "case__tenant__slug", "case__tenant__name")
        .annotate(**_outcome_aggregates(now))
    ]
    by_tenant.sort(key=lambda r: (-r.missed, r.label.lower(), r.key))
    by_team = [
        replace(
            _row_from(v, v["case__team__slug"] or "", v["case__team__name"] or "No team"),
            ident=v["case__team_id"],
            dims={"team": v["case__team__slug"] or NO_TEAM},
        )
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
        fill_breaches(result, user, page=breach_page)
    return result


def fill_breaches(dash: Dashboard, user, *, page: int = 1) -> Dashboard:
    """Put the current breach counts and page `page` of the breach list (clamped to the pages there
    are) on `dash`: two queries, whatever the page."""
    breached, at_risk = breach_counts(user, dash.filters, now=dash.now)
    dash.breached_count, dash.at_risk_count = breached, at_risk
    dash.breach_page = min(max(page, 1), dash.breach_pages)
    dash.breaches = current_breaches(
        user,
        dash.filters,
        now=dash.now,
        limit=dash.breach_page_size,
        offset=(dash.breach_page - 1) * dash.breach_page_size,
    )
    return dash


# The queue's SLA states (cases.filtersets, ?sla=breached / at_risk), so the dashboard's counts and
# the queue they link to agree to the case.
def _breached_q(now: datetime) -> Q:
    return Q(sla_due_at__lt=now)


def _at_risk_q(now: datetime) -> Q:
    return Q(sla_risk_at__lte=now, sla_due_at__gte=now)


def breach_counts(user, filters: Filters, *, now: datetime) -> tuple[int, int]:
    """How many open cases are breached and at risk right now (the dimension filters apply, the
    date range does not)."""
    qs = open_cases_visible_to(user).filter(_dimension_q(filters))
    # Only the rows either count can hold, as the WHERE: two probes of the open cases' due and at-risk
    # indexes, not a pass over every open case (~150k at 1M cases: 330 ms) to test the FILTERs.
    qs = qs.filter(_breached_q(now) | Q(sla_risk_at__lte=now))
    counts = qs.aggregate(breached=Count("pk", filter=_breached_q(now)), at_risk=Count("pk", filter=_at_risk_q(now)))
    return counts["breached"], counts["at_risk"]


def current_breaches(
    user, filters: Filters, *, now: datetime, limit: int = BREACH_LIST_LIMIT, offset: int = 0
) -> list[Case]:
    """Open cases breached (a running clock past due) or at risk (past the at-risk threshold, not
    yet due) right now, soonest due first: `limit` of them from `offset` (one page). The date range
    does not apply: this is the current state."""
    qs = open_cases_visible_to(user).filter(_dimension_q(filters))
    rows = list(
        qs.filter(_breached_q(now) | _at_risk_q(now))
        .select_related("tenant", "owner", "team")
        .order_by("sla_due_at", "id")[offset : offset + limit]
    )
    for case in rows:
        case.sla_state = "breached" if case.sla_due_at < now else "at_risk"
        case.sla_clock_label = SLAClock.Kind(case.sla_clock).label if case.sla_clock in SLAClock.Kind.values else "—"
    return rows


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
