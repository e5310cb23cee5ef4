"""The report metrics: aggregate queries over one cohort (filters.cohort: the cases created in the
range that match the filters and that the viewer may see), a fixed number of queries whatever the
number of cases. Each metric's definition is its `definition` text (shown under its table, and in
the README); every row carries the queue URL of the cases behind it.

Tables are plain data (Table, Row) that the page, the charts and the CSV export all read."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, DateField, DurationField, ExpressionWrapper, F, FloatField, Q, Sum
from django.db.models.functions import Cast, Extract, TruncWeek
from django.utils import timezone

from tenants.choices import Segment
from tenants.models import Tenant

from ..choices import OPEN_STATUSES, Category, Channel, Priority
from ..closure.models import AutoClose, Closure
from ..closure.rules import CLOSED_HOW
from ..models import Case, Team
from .filters import Filters, cohort, related_cohort_q, scoped_cases

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
    cube: list[dict] = field(default_factory=list)
    reopen_rows: list[dict] = field(default_factory=list)
    closings: dict = field(default_factory=dict)
    csat_sum: int = 0
    nps_counts: tuple[int, int] = (0, 0)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


# --- volume -------------------------------------------------------------------------------------


def _cube(cases: list[tuple]) -> list[dict]:
    """Cohort counts by priority × category × channel × tenant (from the cohort's rows): every volume
    table and the documentation-gap count are sums over it, so they can never disagree."""
    cells = Counter((c[PRIORITY], c[CATEGORY], c[CHANNEL], c[TENANT]) for c in cases)
    return [{"priority": p, "category": k, "channel": ch, "tenant_id": t, "n": n} for (p, k, ch, t), n in cells.items()]


def _sum_by(cube: list[dict], key) -> dict:
    out: dict = defaultdict(int)
    for cell in cube:
        out[key(cell)] += cell["n"]
    return out


def volume_tables(f: Filters, cube: list[dict], tenants: dict[int, Tenant]) -> list[Table]:
    total = sum(c["n"] for c in cube)
    by_priority = _sum_by(cube, lambda c: c["priority"])
    by_category = _sum_by(cube, lambda c: c["category"])
    by_channel = _sum_by(cube, lambda c: c["channel"])
    by_tenant = _sum_by(cube, lambda c: c["tenant_id"])
    by_segment = _sum_by(cube, lambda c: tenants[c["tenant_id"]].segment if c["tenant_id"] in tenants else "")
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


def weekly_table(f: Filters, cases: list[tuple]) -> Table:
    """Cases created per ISO week (Monday, viewer's timezone) and priority."""
    weeks: dict = defaultdict(lambda: defaultdict(int))
    for c in cases:
        weeks[c[WEEK]][c[PRIORITY]] += 1
    out = []
    for week in sorted(weeks):
        counts = weeks[week]
        start, end = max(week, f.date_from), min(week + timedelta(days=6), f.date_to)
        url = f.queue_url(created_after=start.isoformat(), created_before=end.isoformat())
        out.append(
            Row(
                label=f"W{week.isocalendar()[1]:02d} ({week:%d %b})",
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

# The cohort's rows, fetched once (`cohort_rows`): every volume, weekly and time number is computed
# from them, so the tables cannot disagree and the page costs one scan of the cohort.
# Times come as seconds (float8) and the week as a date, computed in SQL: parsing 25,000 × 3
# timestamps in Python costs more than the whole query.
CASE_COLUMNS = ("pk", "priority", "category", "channel", "tenant_id", "team_id", "owner_id", "week", "fr_s", "res_s")
PK, PRIORITY, CATEGORY, CHANNEL, TENANT, TEAM, OWNER, WEEK, RESPONDED, RESOLVED = range(len(CASE_COLUMNS))


def _seconds(end: str):
    return Cast(
        Extract(ExpressionWrapper(F(end) - F("created_at"), output_field=DurationField()), "epoch"), FloatField()
    )


def cohort_rows(qs, tz) -> list[tuple]:
    return list(
        qs.order_by()
        .annotate(
            week=TruncWeek("created_at", tzinfo=tz, output_field=DateField()),
            fr_s=_seconds("first_response_at"),
            res_s=_seconds("resolved_at"),
        )
        .values_list(*CASE_COLUMNS)
    )


def percentile_cont(values: list[float], p: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks (values sorted)."""
    if not values:
        return None
    pos = p * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


@dataclass
class Times:
    n: int = 0
    first_response: list = field(default_factory=list)
    resolution: list = field(default_factory=list)

    def add(self, c: tuple) -> None:
        self.n += 1
        if c[RESPONDED] is not None:
            self.first_response.append(c[RESPONDED])
        if c[RESOLVED] is not None:
            self.resolution.append(c[RESOLVED])

    @staticmethod
    def _stats(values: list[float]) -> tuple:
        values.sort()
        mean = sum(values) / len(values) if values else None
        return mean, percentile_cont(values, 0.5), percentile_cont(values, 0.9)

    def values(self) -> list:
        fr, res = self._stats(self.first_response), self._stats(self.resolution)
        return [self.n, len(self.first_response), *map(hours, fr), len(self.resolution), *map(hours, res)]

    @property
    def mean_resolution(self) -> float | None:
        return self._stats(self.resolution)[0]

    @property
    def mean_first_response(self) -> float | None:
        return self._stats(self.first_response)[0]


def _bucket(seconds: float) -> int:
    for i, (_, lo, hi) in enumerate(DURATION_BUCKETS):
        if (lo is None or seconds >= lo.total_seconds()) and (hi is None or seconds < hi.total_seconds()):
            return i
    return len(DURATION_BUCKETS) - 1


DURATION_COLUMNS = ["Cases", "Responded", "MTTA h", "p50 h", "p90 h", "Resolved", "MTTR h", "p50 h", "p90 h"]
DURATION_DEFINITION = (
    "MTTA (mean time to acknowledge): first public reply by an agent − created, over the cases with a first response. "
    "MTTR (mean time to resolve): resolved − created (calendar time, waiting included), over the cases now resolved "
    "or closed (a reopened case counts once it is resolved again). p50/p90: interpolated percentiles (as "
    "PostgreSQL's percentile_cont), in hours."
)


def duration_tables(f: Filters, cases: list[tuple], teams: dict[int, Team], users: dict) -> tuple[dict, list[Table]]:
    overall, by_team, by_agent = Times(), defaultdict(Times), defaultdict(Times)
    for c in cases:
        overall.add(c)
        by_team[c[TEAM]].add(c)
        by_agent[c[OWNER]].add(c)
    fr_buckets, res_buckets = [0] * len(DURATION_BUCKETS), [0] * len(DURATION_BUCKETS)
    for v in overall.first_response:
        fr_buckets[_bucket(v)] += 1
    for v in overall.resolution:
        res_buckets[_bucket(v)] += 1
    team_rows = sorted(
        (
            Row(
                label=teams[tid].name if tid in teams else "No team",
                values=t.values(),
                url=f.queue_url(team=teams[tid].slug if tid in teams else "none"),
                bar=float(hours(t.mean_resolution) or 0),
            )
            for tid, t in by_team.items()
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
                values=t.values(),
                url=f.queue_url(owner=users[uid]["username"] if uid in users else "unassigned"),
                bar=float(hours(t.mean_resolution) or 0),
            )
            for uid, t in by_agent.items()
        ),
        key=lambda row: (-row.values[0], row.label),
    )[:25]
    n_fr, n_res = len(overall.first_response), len(overall.resolution)
    dist_rows = [
        Row(
            label=label,
            values=[fr_buckets[i], pct(fr_buckets[i], n_fr), res_buckets[i], pct(res_buckets[i], n_res)],
            bar=res_buckets[i],
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
    summary = {"fr_mean": overall.mean_first_response, "res_mean": overall.mean_resolution}
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


def reopen_table(f: Filters, rel: Q) -> tuple[dict, Table]:
    timers = AutoClose.objects.filter(rel)
    by = list(
        timers.order_by()
        .values("case__priority")
        .annotate(
            resolutions=Count("*"),
            reopened=Count("reopened_at"),
            within=Count("pk", filter=Q(reopened_at__lte=F("resolved_at") + REOPEN_WINDOW)),
        )
    )
    totals = {k: sum(r[k] for r in by) for k in ("resolutions", "reopened", "within")}
    rows = [
        Row(
            label=f"{Priority(r['case__priority']).code} {Priority(r['case__priority']).label}",
            values=[
                r["resolutions"],
                r["reopened"],
                pct(r["reopened"], r["resolutions"]),
                r["within"],
                pct(r["within"], r["resolutions"]),
            ],
            url=f.queue_url(priority=Priority(r["case__priority"]).slug, reopened="yes"),
            bar=float(pct(r["within"], r["resolutions"]) or 0),
        )
        for r in sorted(by, key=lambda r: r["case__priority"])
    ]
    rows.append(
        Row(
            label="All",
            values=[
                totals["resolutions"],
                totals["reopened"],
                pct(totals["reopened"], totals["resolutions"]),
                totals["within"],
                pct(totals["within"], totals["resolutions"]),
            ],
            url=f.queue_url(reopened="yes"),
        )
    )
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


def closure_table(f: Filters, cells: list[dict]) -> tuple[dict, Table]:
    """From the closings' (week × how) cells of `closure_cells`: no query of its own."""
    rows: dict = defaultdict(int)
    for cell in cells:
        rows[cell["how"]] += cell["n"]
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


SATISFACTION_SUMS = ("n", "sent", "answered", "satisfied", "csat_sum", "nps_n", "promoters", "detractors", "low")


def closure_cells(f: Filters, rel: Q) -> list[dict]:
    """The cohort's closings by week created × how, with the survey counts: one query (by the
    cohort index on Closure.case_created_at) for the closings table and the satisfaction table."""
    return list(
        Closure.objects.filter(rel)
        .order_by()
        .annotate(week=TruncWeek("case_created_at", tzinfo=f.tz))
        .values("week", "how")
        .annotate(
            n=Count("pk"),
            sent=Count("pk", filter=Q(survey_sent_at__isnull=False)),
            answered=Count("csat"),
            satisfied=Count("pk", filter=Q(csat__gte=4)),
            csat_sum=Sum("csat"),
            nps_n=Count("nps"),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            low=Count("pk", filter=Q(csat__lte=2) | Q(nps__lte=6)),
        )
    )


def satisfaction_table(f: Filters, cells: list[dict]) -> tuple[dict, Table]:
    by_week: dict = {}
    for cell in cells:
        week = by_week.setdefault(cell["week"], {"week": cell["week"], **dict.fromkeys(SATISFACTION_SUMS, 0)})
        for k in SATISFACTION_SUMS:
            week[k] += cell[k] or 0
    weekly = list(by_week.values())
    for w in weekly:
        w["csat_mean"] = w["csat_sum"] / w["answered"] if w["answered"] else None
    totals = {k: sum(w[k] for w in weekly) for k in SATISFACTION_SUMS}

    def values(a: dict, mean) -> list:
        nps = round(100 * (a["promoters"] - a["detractors"]) / a["nps_n"]) if a["nps_n"] else None
        return [
            a["sent"],
            a["answered"],
            pct(a["answered"], a["sent"]),
            None if mean is None else Decimal(mean).quantize(Decimal("0.01")),
            pct(a["satisfied"], a["answered"]),
            a["nps_n"],
            nps,
        ]

    rows = []
    for w in sorted(weekly, key=lambda w: w["week"]):
        week = w["week"].date()
        start, end = max(week, f.date_from), min(week + timedelta(days=6), f.date_to)
        v = values(w, w["csat_mean"])
        rows.append(
            Row(
                label=f"W{week.isocalendar()[1]:02d} ({week:%d %b})",
                values=v,
                url=f.queue_url(created_after=start.isoformat(), created_before=end.isoformat(), survey="answered"),
                bar=float(v[4] or 0),
            )
        )
    mean = totals["csat_sum"] / totals["answered"] if totals["answered"] else None
    overall = values(totals, mean)
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
    low = totals["low"]
    return {
        "sent": overall[0],
        "answered": overall[1],
        "response_rate": overall[2],
        "csat": overall[3],
        "satisfied": overall[4],
        "nps": overall[6],
        "low": low,
        "_raw": (totals["csat_sum"], totals["promoters"], totals["detractors"]),
    }, table


# --- themes ---------------------------------------------------------------------------------------


def themes_table(user, f: Filters, cases: list[tuple], cube: list[dict]) -> Table:
    previous = list(cohort(user, f.previous()).order_by().values_list("pk", "category"))
    # Both periods' tag counts in one scan: the range from the previous period's start to this one's end.
    start, _ = f.bounds
    both = replace(f, date_from=f.previous().date_from)
    tagged = (
        Case.tags.through.objects.filter(related_cohort_q(user, both, created="case__created_at"))
        .values("tag__name")
        .annotate(
            now=Count("pk", filter=Q(case__created_at__gte=start)),
            before=Count("pk", filter=Q(case__created_at__lt=start)),
        )
    )
    now, before = {}, {}
    for r in tagged:
        if r["now"]:
            now[r["tag__name"]] = r["now"]
        if r["before"]:
            before[r["tag__name"]] = r["before"]
    cat_now = _sum_by(cube, lambda c: c["category"])
    cat_before = dict(Counter(category for _, category in previous))
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
    qs = cohort(user, f)
    cases = cohort_rows(qs, f.tz)
    cube = _cube(cases)
    tenant_ids = {c["tenant_id"] for c in cube}
    tenants = {t.pk: t for t in Tenant.objects.filter(pk__in=tenant_ids).only("pk", "name", "slug", "segment")}
    teams = {t.pk: t for t in Team.objects.all()}
    owner_ids = {c[OWNER] for c in cases if c[OWNER] is not None}
    users = {
        u["pk"]: u
        for u in get_user_model().objects.filter(pk__in=owner_ids).values("pk", "username", "first_name", "last_name")
    }
    total = len(cases)
    overall, time_tables = duration_tables(f, cases, teams, users)
    rel = related_cohort_q(user, f)
    reopen, reopen_t = reopen_table(f, rel)
    cells = closure_cells(f, rel)
    closing, closure_t = closure_table(f, cells)
    satisfaction, satisfaction_t = satisfaction_table(f, cells)
    reopen_rows, closings, raw = reopen.pop("_by"), closing.pop("_by"), satisfaction.pop("_raw")
    docs = sum(c["n"] for c in cube if c["category"] == Category.DOCUMENTATION)
    tiles = {
        "created": total,
        "created_url": f.queue_url(),
        "mtta_h": hours(overall["fr_mean"]),
        "mttr_h": hours(overall["res_mean"]),
        "reopen": reopen,
        "closing": closing,
        "satisfaction": satisfaction,
        "docs": docs,
        "docs_url": f.queue_url(category=Category.DOCUMENTATION),
    }
    tables = [
        weekly_table(f, cases),
        *volume_tables(f, cube, tenants),
        backlog_table(user, f),
        reopen_t,
        closure_t,
        *time_tables,
        satisfaction_t,
        themes_table(user, f, cases, cube),
    ]
    return Report(
        filters=f,
        tiles=tiles,
        tables=tables,
        tenant_ids=sorted(tenant_ids),
        cube=cube,
        reopen_rows=reopen_rows,
        closings=closings,
        csat_sum=raw[0],
        nps_counts=(raw[1], raw[2]),
    )
