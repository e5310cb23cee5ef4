"""The report metrics over one cohort (filters.cohort: the cases created in the range that match the
filters and that the viewer may see), from the sums cases.reports.rollup reads (the daily rollups for
whole days, plain rows for the rest), a fixed number of queries whatever the number of cases. Each
metric's definition is its `definition` text (shown under its table, and in the README); every row
carries the queue URL of the cases behind it.

Tables are plain data (Table, Row) that the page, the charts and the CSV export all read."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from tenants.choices import Segment
from tenants.models import Tenant

from ..choices import OPEN_STATUSES, Category, Channel, Priority
from ..closure.rules import CLOSED_HOW
from ..models import Tag, Team
from . import cells, rollup, sections
from .filters import Filters, scoped_cases
from .rollup import Sums

REOPEN_TARGET = Decimal(5)  # seed 002: reopened within 7 days < 5 %
REOPEN_WINDOW = timedelta(days=7)
DURATION_BUCKETS = (
    ("< 1 h", None, timedelta(hours=1)),
    ("1–4 h", timedelta(hours=1), timedelta(hours=4)),
    ("4–24 h", timedelta(hours=4), timedelta(hours=24)),
    ("1–3 days", timedelta(hours=24), timedelta(days=3)),
    ("3–7 days", timedelta(days=3), timedelta(days=7)),
    ("> 7 days", timedelta(days=7), None),
)
BACKLOG_BUCKETS = (
    ("< 1 day", 0, 1),
    ("1–3 days", 1, 3),
    ("3–7 days", 3, 7),
    ("7–30 days", 7, 30),
    ("> 30 days", 30, None),
)
TOP_TENANTS = 15
TOP_TAGS = 15


def pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def hours(value: timedelta | float | None) -> Decimal | None:
    """A duration (or seconds) in hours, rounded half-up to one decimal."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def growth(now: int, before: int) -> Decimal | None:
    """(now − before) / before in percent; None when there was nothing before."""
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Row:
    label: str
    values: list
    url: str = ""
    bar: float | None = None  # the number the chart draws for this row


@dataclass
class Table:
    key: str
    title: str
    definition: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    chart: bool = True
    note: str = ""

    WIDE = frozenset({"volume_weekly", "times_team", "times_agent", "satisfaction", "themes", "reopen"})

    @property
    def wide(self) -> bool:
        """Shown across the page's two columns (many columns or rows)."""
        return self.key in self.WIDE

    @property
    def bar_max(self) -> float:
        return max((r.bar or 0 for r in self.rows), default=0) or 1


@dataclass
class Report:
    filters: Filters
    tiles: dict
    tables: list[Table]
    tenant_ids: list[int] = field(default_factory=list)  # the tenants whose cases it counts (the audit entry)
    # The raw aggregates behind the tables, for cases.reports.verify (an independent recomputation).
    sums: Sums = field(default_factory=Sums)
    sections: list = field(default_factory=list)  # (ReportSection, its tables): the weekly report's extra rows
    reopen_rows: list[dict] = field(default_factory=list)
    closings: dict = field(default_factory=dict)
    csat_sum: int = 0
    nps_counts: tuple[int, int] = (0, 0)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


# --- volume -------------------------------------------------------------------------------------


def _created(groups: dict) -> dict:
    return {k: c["created"] for k, c in groups.items() if c["created"]}


def volume_tables(f: Filters, s: Sums, tenants: dict[int, Tenant]) -> list[Table]:
    total = s.totals()["created"]
    by_priority: dict = defaultdict(int)
    for (_, priority), c in s.week_priority.items():
        by_priority[priority] += c["created"]
    by_category, by_channel, by_tenant = _created(s.category), _created(s.channel), _created(s.tenant)
    by_segment: dict = defaultdict(int)
    for tid, n in by_tenant.items():
        by_segment[tenants[tid].segment if tid in tenants else ""] += n
    definition = "Cases created in the range, by {}. Share: of all cases created in the range."

    def rows(counts: dict, labels, param: str, slug=lambda v: v) -> list[Row]:
        return [
            Row(
                label=str(label),
                values=[counts.get(value, 0), pct(counts.get(value, 0), total)],
                url=f.queue_url(**{param: slug(value)}),
                bar=counts.get(value, 0),
            )
            for value, label in labels
            if counts.get(value, 0)
        ]

    cols = ["Cases", "Share %"]
    tenant_rows = sorted(by_tenant.items(), key=lambda kv: -kv[1])[:TOP_TENANTS]
    return [
        Table(
            "volume_priority",
            "Volume by priority",
            definition.format("priority"),
            cols,
            rows(
                by_priority,
                [(p.value, f"{p.code} {p.label}") for p in Priority],
                "priority",
                lambda v: Priority(v).slug,
            ),
        ),
        Table(
            "volume_segment",
            "Volume by segment",
            definition.format("the tenant's segment"),
            cols,
            rows(by_segment, Segment.choices, "segment"),
        ),
        Table(
            "volume_category",
            "Volume by category",
            definition.format("category"),
            cols,
            rows(by_category, Category.choices, "category"),
        ),
        Table(
            "volume_channel",
            "Volume by channel",
            definition.format("channel"),
            cols,
            rows(by_channel, Channel.choices, "channel"),
        ),
        Table(
            "volume_tenant",
            f"Volume by tenant (top {TOP_TENANTS})",
            definition.format("tenant"),
            cols,
            [
                Row(
                    label=tenants[tid].name, values=[n, pct(n, total)], url=f.queue_url(tenant=tenants[tid].slug), bar=n
                )
                for tid, n in tenant_rows
                if tid in tenants
            ],
        ),
    ]


def _week_label(week) -> str:
    return f"W{week.isocalendar()[1]:02d} ({week:%d %b})"


def _weeks(s: Sums) -> dict:
    """week (the Monday, viewer's timezone) → {priority → Counter}."""
    weeks: dict = defaultdict(dict)
    for (week, priority), c in s.week_priority.items():
        weeks[week][priority] = c
    return weeks


def weekly_table(f: Filters, s: Sums) -> Table:
    """Cases created per ISO week (Monday, viewer's timezone) and priority."""
    out = []
    for week, by_priority in sorted(_weeks(s).items()):
        counts = {p: c["created"] for p, c in by_priority.items()}
        if not sum(counts.values()):
            continue
        start, end = max(week, f.date_from), min(week + timedelta(days=6), f.date_to)
        url = f.queue_url(created_after=start.isoformat(), created_before=end.isoformat())
        out.append(
            Row(
                label=_week_label(week),
                values=[sum(counts.values()), *[counts.get(p.value, 0) for p in Priority]],
                url=url,
                bar=sum(counts.values()),
            )
        )
    return Table(
        "volume_weekly",
        "Volume over time (by week created)",
        "Cases created per ISO week (Monday–Sunday, your timezone), in total and per priority; the first and last "
        "week are cut to the range.",
        ["Cases", *[p.code for p in Priority]],
        out,
    )


# --- response and resolution times --------------------------------------------------------------


def _mean_s(c: Counter, metric: str) -> float | None:
    n = c[f"{metric}_n"]
    return c[f"{metric}_us"] / n / 1e6 if n else None


def _time_values(c: Counter, fr: dict, res: dict) -> list:
    return [
        c["created"],
        c["fr_n"],
        hours(_mean_s(c, "fr")),
        hours(cells.percentile(fr, 0.5)),
        hours(cells.percentile(fr, 0.9)),
        c["res_n"],
        hours(_mean_s(c, "res")),
        hours(cells.percentile(res, 0.5)),
        hours(cells.percentile(res, 0.9)),
    ]


DURATION_COLUMNS = ["Cases", "Responded", "MTTA h", "p50 h", "p90 h", "Resolved", "MTTR h", "p50 h", "p90 h"]
DURATION_DEFINITION = (
    "MTTA (mean time to acknowledge): first public reply by an agent − created, over the cases with a first response. "
    "MTTR (mean time to resolve): resolved − created (calendar time, waiting included), over the cases now resolved "
    "or closed (a reopened case counts once it is resolved again). p50/p90: percentiles (as PostgreSQL's "
    "percentile_cont) estimated from 5 %-wide time buckets, within 2.5 % of the exact value; in hours."
)


def duration_tables(f: Filters, s: Sums, teams: dict[int, Team], users: dict) -> tuple[dict, list[Table]]:
    hist = lambda group, key, metric: s.hist.get((group, key, metric), {})  # noqa: E731
    team_rows = sorted(
        (
            Row(
                label=teams[tid].name if tid in teams else "No team",
                values=_time_values(c, hist("team", tid, "fr"), hist("team", tid, "res")),
                url=f.queue_url(team=teams[tid].slug if tid in teams else "none"),
                bar=float(hours(_mean_s(c, "res")) or 0),
            )
            for tid, c in s.team.items()
            if c["created"]
        ),
        key=lambda row: row.label,
    )

    def agent_label(uid) -> str:
        if uid is None or uid not in users:
            return "Unassigned"
        u = users[uid]
        return f"{u['first_name']} {u['last_name']}".strip() or u["username"]

    agent_rows = sorted(
        (
            Row(
                label=agent_label(uid),
                values=_time_values(c, hist("owner", uid, "fr"), hist("owner", uid, "res")),
                url=f.queue_url(owner=users[uid]["username"] if uid in users else "unassigned"),
                bar=float(hours(_mean_s(c, "res")) or 0),
            )
            for uid, c in s.owner.items()
            if c["created"]
        ),
        key=lambda row: (-row.values[0], row.label),
    )[:25]
    fr_bands, res_bands = cells.bands(hist("all", None, "fr")), cells.bands(hist("all", None, "res"))
    n_fr, n_res = sum(fr_bands), sum(res_bands)
    dist_rows = [
        Row(
            label=label,
            values=[fr_bands[i], pct(fr_bands[i], n_fr), res_bands[i], pct(res_bands[i], n_res)],
            bar=res_bands[i],
        )
        for i, (label, _, _) in enumerate(DURATION_BUCKETS)
    ]
    tables = [
        Table(
            "times_team",
            "MTTA / MTTR by team",
            DURATION_DEFINITION,
            DURATION_COLUMNS,
            team_rows,
            note="Bars: MTTR in hours.",
        ),
        Table(
            "times_agent",
            "MTTA / MTTR by agent (owner, 25 busiest)",
            DURATION_DEFINITION,
            DURATION_COLUMNS,
            agent_rows,
            note="Bars: MTTR in hours.",
        ),
        Table(
            "times_distribution",
            "First response and resolution time distribution",
            "How many cases took how long: first response − created over the cases with a first response; resolved "
            "− created over the resolved and closed ones. Bars: resolutions.",
            ["First responses", "%", "Resolutions", "%"],
            dist_rows,
        ),
    ]
    totals = s.totals()
    summary = {"fr_mean": _mean_s(totals, "fr"), "res_mean": _mean_s(totals, "res")}
    return summary, tables


# --- backlog --------------------------------------------------------------------------------------


def backlog_table(user, f: Filters) -> Table:
    """The open cases now (not bound to the date range), by age since created, in days."""
    now = timezone.now()
    today = timezone.localdate(now, f.tz)
    qs = scoped_cases(user).filter(f.dimension_q(), status__in=OPEN_STATUSES)
    aggs = {}
    for i, (_, lo, hi) in enumerate(BACKLOG_BUCKETS):
        q = Q(created_at__lte=now - timedelta(days=lo))
        if hi is not None:
            q &= Q(created_at__gt=now - timedelta(days=hi))
        aggs[f"b{i}"] = Count("pk", filter=q)
    counts = qs.aggregate(**aggs)
    total = sum(counts.values())
    rows = []
    for i, (label, lo, hi) in enumerate(BACKLOG_BUCKETS):
        params = {"status": "open", "created_before": (today - timedelta(days=lo)).isoformat(), "created_after": ""}
        if hi is not None:
            params["created_after"] = (today - timedelta(days=hi)).isoformat()
        rows.append(
            Row(
                label=label,
                values=[counts[f"b{i}"], pct(counts[f"b{i}"], total)],
                url=f.queue_url(**params),
                bar=counts[f"b{i}"],
            )
        )
    return Table(
        "backlog_age",
        "Backlog age (open now)",
        "Open cases now (new, triage, in progress, waiting on customer) matching the filters but not the date "
        "range, by time since created. The queue links select by created date, so a bucket's link can include a few "
        "cases either side of its edge.",
        ["Open cases", "Share %"],
        rows,
    )


# --- reopen and closure -------------------------------------------------------------------------


def _by_priority(s: Sums) -> dict[int, Counter]:
    out: dict = defaultdict(Counter)
    for (_, priority), c in s.week_priority.items():
        out[priority].update(c)
    return out


def reopen_table(f: Filters, s: Sums) -> tuple[dict, Table]:
    by = [
        {"priority": p, "resolutions": c["resolutions"], "reopened": c["reopened"], "within": c["reopened_7d"]}
        for p, c in sorted(_by_priority(s).items())
        if c["resolutions"]
    ]
    totals = {k: sum(r[k] for r in by) for k in ("resolutions", "reopened", "within")}

    def values(r: dict) -> list:
        return [
            r["resolutions"],
            r["reopened"],
            pct(r["reopened"], r["resolutions"]),
            r["within"],
            pct(r["within"], r["resolutions"]),
        ]

    rows = [
        Row(
            label=f"{Priority(r['priority']).code} {Priority(r['priority']).label}",
            values=values(r),
            url=f.queue_url(priority=Priority(r["priority"]).slug, reopened="yes"),
            bar=float(pct(r["within"], r["resolutions"]) or 0),
        )
        for r in by
    ]
    rows.append(Row(label="All", values=values(totals), url=f.queue_url(reopened="yes")))
    within_rate = pct(totals["within"], totals["resolutions"])
    table = Table(
        "reopen",
        "Reopen rate",
        "Of the resolutions of cases created in the range (each time a case was resolved), the share reopened "
        "afterwards (from resolved or closed), "
        "and the share reopened within 7 days of that resolution. Target: reopened within 7 days < 5 % (seed 002). "
        "Bars: within 7 days, %.",
        ["Resolutions", "Reopened", "Reopen %", "Within 7 days", "Within 7 days %"],
        rows,
    )
    return {
        **totals,
        "within_rate": within_rate,
        "target_met": within_rate is not None and within_rate < REOPEN_TARGET,
        "_by": by,
    }, table


def closure_table(f: Filters, s: Sums) -> tuple[dict, Table]:
    totals = s.totals()
    rows = {how: totals[f"closed_{how}"] for how in CLOSED_HOW}
    total = sum(rows.values())
    table = Table(
        "closures",
        "How cases were closed",
        "Closings of cases created in the range: confirmed by the customer (their “yes”), automatically after the "
        "policy's days without an answer, "
        "or by an agent without the customer's confirmation (seed 002 lists closing without confirmation as a "
        "mistake).",
        ["Closings", "Share %"],
        [
            Row(
                label=label,
                values=[rows.get(how, 0), pct(rows.get(how, 0), total)],
                url=f.queue_url(closed_how=how),
                bar=rows.get(how, 0),
            )
            for how, label in CLOSED_HOW.items()
        ],
    )
    return {"closings": total, "unconfirmed": rows.get("unconfirmed", 0), "_by": rows}, table


# --- satisfaction -------------------------------------------------------------------------------


def _closings(c: Counter) -> int:
    return sum(c[f"closed_{how}"] for how in CLOSED_HOW)


def satisfaction_table(f: Filters, s: Sums) -> tuple[dict, Table]:
    def values(a: Counter) -> list:
        mean = a["csat_sum"] / a["answered"] if a["answered"] else None
        nps = round(100 * (a["promoters"] - a["detractors"]) / a["nps_n"]) if a["nps_n"] else None
        return [
            a["surveys_sent"],
            a["answered"],
            pct(a["answered"], a["surveys_sent"]),
            None if mean is None else Decimal(mean).quantize(Decimal("0.01")),
            pct(a["satisfied"], a["answered"]),
            a["nps_n"],
            nps,
        ]

    rows = []
    for week, by_priority in sorted(_weeks(s).items()):
        w: Counter = Counter()
        for c in by_priority.values():
            w.update(c)
        if not _closings(w):
            continue
        start, end = max(week, f.date_from), min(week + timedelta(days=6), f.date_to)
        v = values(w)
        rows.append(
            Row(
                label=_week_label(week),
                values=v,
                url=f.queue_url(created_after=start.isoformat(), created_before=end.isoformat(), survey="answered"),
                bar=float(v[4] or 0),
            )
        )
    totals = s.totals()
    overall = values(totals)
    rows.append(Row(label="All", values=overall, url=f.queue_url(survey="answered")))
    table = Table(
        "satisfaction",
        "CSAT and NPS (by week created)",
        "Surveys of the closings of cases created in the range (one per closing). Response rate: answered / sent. "
        "CSAT: mean score 1–5; "
        "satisfied %: answers of 4 or 5. NPS: promoters (9–10) − detractors (0–6), in percent of the NPS answers. "
        "Bars: satisfied %.",
        ["Sent", "Answered", "Response %", "CSAT", "Satisfied %", "NPS answers", "NPS"],
        rows,
    )
    return {
        "sent": overall[0],
        "answered": overall[1],
        "response_rate": overall[2],
        "csat": overall[3],
        "satisfied": overall[4],
        "nps": overall[6],
        "low": totals["low"],
    }, table


# --- themes ---------------------------------------------------------------------------------------


def themes_table(f: Filters, s: Sums, previous: Sums) -> Table:
    tag_ids = set(s.tags) | set(previous.tags)
    names = dict(Tag.objects.filter(pk__in=tag_ids).values_list("pk", "name")) if tag_ids else {}
    now = {names[t]: n for t, n in s.tags.items() if n and t in names}
    before = {names[t]: n for t, n in previous.tags.items() if n and t in names}
    cat_now, cat_before = _created(s.category), _created(previous.category)
    rows = [
        Row(
            label=f"#{name}",
            values=["tag", n, before.get(name, 0), growth(n, before.get(name, 0))],
            url=f.queue_url(tag=name),
            bar=n,
        )
        for name, n in sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TAGS]
    ]
    labels = dict(Category.choices)
    rows += [
        Row(
            label=str(labels.get(cat, cat)),
            values=["category", n, cat_before.get(cat, 0), growth(n, cat_before.get(cat, 0))],
            url=f.queue_url(category=cat),
            bar=n,
        )
        for cat, n in sorted(cat_now.items(), key=lambda kv: -kv[1])
    ]
    return Table(
        "themes",
        "Top themes",
        "The taxonomy tags and the categories of the cases created in the range, with the same count for the period "
        "of the same length just before "
        "and the growth between them ((now − before) / before; “—” when there were none before). Documentation "
        "gaps: the Documentation category.",
        ["Kind", "Cases", "Previous period", "Growth %"],
        rows,
    )


# --- the report ---------------------------------------------------------------------------------


def report(user, f: Filters) -> Report:
    prev_f = f.previous()
    (start, _), (_, end) = prev_f.bounds, f.bounds
    dirty = rollup.dirty_days(rollup.utc_day(start) - timedelta(days=1), rollup.utc_day(end) + timedelta(days=1))
    scope = rollup.tenant_ids_for(user, f)  # the same tenants for both periods
    s, previous = rollup.report_sums(user, f, previous=prev_f, dirty=dirty, tenant_ids=scope)
    tenant_ids = {tid for tid, c in s.tenant.items() if c["created"]}
    tenants = {t.pk: t for t in Tenant.objects.filter(pk__in=tenant_ids).only("pk", "name", "slug", "segment")}
    teams = {t.pk: t for t in Team.objects.all()}
    owner_ids = {uid for uid in s.owner if uid is not None}
    users = {
        u["pk"]: u
        for u in get_user_model().objects.filter(pk__in=owner_ids).values("pk", "username", "first_name", "last_name")
    }
    totals = s.totals()
    overall, time_tables = duration_tables(f, s, teams, users)
    reopen, reopen_t = reopen_table(f, s)
    closing, closure_t = closure_table(f, s)
    satisfaction, satisfaction_t = satisfaction_table(f, s)
    reopen_rows, closings = reopen.pop("_by"), closing.pop("_by")
    tiles = {
        "created": totals["created"],
        "created_url": f.queue_url(),
        "mtta_h": hours(overall["fr_mean"]),
        "mttr_h": hours(overall["res_mean"]),
        "reopen": reopen,
        "closing": closing,
        "satisfaction": satisfaction,
        "docs": s.category.get(Category.DOCUMENTATION, Counter())["created"],
        "docs_url": f.queue_url(category=Category.DOCUMENTATION),
    }
    tables = [
        weekly_table(f, s),
        *volume_tables(f, s, tenants),
        backlog_table(user, f),
        reopen_t,
        closure_t,
        *time_tables,
        satisfaction_t,
        themes_table(f, s, previous),
    ]
    # The higher apps' sections (cases.reports.sections): incidents, known issues, escalations.
    extra = [(section, list(section.build(user, f))) for section in sections.sections()]
    tables += [t for _, section_tables in extra for t in section_tables]
    return Report(
        filters=f,
        tiles=tiles,
        tables=tables,
        tenant_ids=sorted(tenant_ids),
        sums=s,
        sections=extra,
        reopen_rows=reopen_rows,
        closings=closings,
        csat_sum=totals["csat_sum"],
        nps_counts=(totals["promoters"], totals["detractors"]),
    )
