"""The weekly operations report (seed 003 "weekly export to product/reliability backlogs", seed 001
"weekly operations report", seed 004 "learnings in the weekly report"): the one weekly builder.

One ISO week, Monday to Sunday, as sections of (metric, value) rows and tables:

    volume · times · attainment · reopen · closing · satisfaction · themes · backlog   (cases: metrics.report
               and the SLA dashboard's attainment, computed once there)
    learnings  what the week's closings captured: the resolution record's root cause and preventive
               actions, and the closings emitted to the docs backlog (documentation gaps)
    incidents, escalations, known issues, feedback backlogs, SRE, product, diagnostics
               the higher apps' sections (cases.reports.sections), registered by incidents and
               runbooks: cases imports neither

`build(user, monday, tz)` computes it for a viewer (the /reports/weekly/ page and its live CSV/JSON);
`export_week()` stores last week's over every tenant, in UTC, once (WeeklyExport, unique week), run
by beat every Monday (`weekly-report-export`); earlier weeks stay listed and downloadable.
`to_json`/`to_csv` are the one serialisation both use."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from companyos import roles
from tenants.selectors import visible_tenant_ids

from ..choices import Status
from ..closure.rules import DOCS, RESOLUTION_LABELS
from ..models import Case, Closure, Interaction
from . import metrics, sections
from .export_models import WeeklyExport
from .filters import Filters
from .metrics import Row, Table

LEARNING_ROWS = 50  # closings listed with their root cause / preventive actions (all are counted)
LISTED_EXPORTS = 52


# --- weeks ---------------------------------------------------------------------------------------------


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_full_week(today: date) -> date:
    """The Monday of the last complete week before `today`."""
    return monday_of(today) - timedelta(days=7)


def parse_week(raw: str) -> date | None:
    """'2026-W48' (ISO year and week) or a date ('2026-11-25': its week, as the old ops review
    took it) → the Monday; None when it is neither or outside 2000–2100."""
    raw = (raw or "").strip().upper()[:20]
    try:
        if "-W" in raw:
            year, week = raw.split("-W")
            monday = date.fromisocalendar(int(year), int(week), 1)
        else:
            monday = monday_of(date.fromisoformat(raw))
    except (ValueError, TypeError):
        return None
    return monday if 2000 <= monday.year <= 2100 else None


def week_filters(monday: date, tz: tzinfo) -> Filters:
    return Filters(date_from=monday, date_to=monday + timedelta(days=6), tz=tz)


# --- the report ------------------------------------------------------------------------------------------


@dataclass
class CaseRow(Row):
    """A row about one case (the learnings): its id for the access entry."""

    case_id: int = 0


@dataclass
class WeeklySection:
    key: str
    title: str
    metrics: list[tuple[str, object]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class WeeklyReport:
    monday: date
    filters: Filters
    sections: list[WeeklySection]
    tenant_ids: list[int]
    scope: str  # "every tenant" (the stored export) or "your tenants" (the page)

    @property
    def label(self) -> str:
        return week_label(self.monday)

    def section(self, key: str) -> WeeklySection:
        return next(s for s in self.sections if s.key == key)

    @property
    def rows(self) -> list[tuple[str, str, object]]:
        """(section, metric, value): the CSV's rows, the JSON's `metrics`."""
        return [(s.key, metric, value) for s in self.sections for metric, value in s.metrics]


def _attainment(user, f: Filters, now: datetime) -> WeeklySection:
    """The SLA dashboard's attainment for the week (cases.sla.reports: computed there, once)."""
    from ..sla import reports as sla_reports
    from ..sla.reports.filters import Filters as SLAFilters

    dash = sla_reports.dashboard(user, SLAFilters(f.date_from, f.date_to, f.tz), now=now, breaches=False)
    o = dash.overall
    rows: list[tuple[str, object]] = [
        ("first response attainment %", o.first_response.percent),
        ("first response met", o.first_response.met),
        ("first response missed", o.first_response.missed),
        ("resolution attainment %", o.resolution.percent),
        ("resolution met", o.resolution.met),
        ("resolution missed", o.resolution.missed),
    ]
    for r in dash.by_priority:
        rows += [
            (f"{r.label} first response attainment %", r.first_response.percent),
            (f"{r.label} resolution attainment %", r.resolution.percent),
        ]
    return WeeklySection("attainment", "SLA attainment", rows)


def _cases_sections(report: metrics.Report) -> list[WeeklySection]:
    t = report.tiles
    return [
        WeeklySection(
            "volume",
            "Volume",
            [
                ("cases created", t["created"]),
                *[(f"priority {r.label}", r.values[0]) for r in report.table("volume_priority").rows],
                *[(f"channel {r.label}", r.values[0]) for r in report.table("volume_channel").rows],
            ],
        ),
        WeeklySection(
            "times", "Response and resolution times", [("MTTA hours", t["mtta_h"]), ("MTTR hours", t["mttr_h"])]
        ),
        WeeklySection(
            "reopen",
            "Reopen rate",
            [
                ("resolutions", t["reopen"]["resolutions"]),
                ("reopened", t["reopen"]["reopened"]),
                ("reopened within 7 days %", t["reopen"]["within_rate"]),
            ],
        ),
        WeeklySection(
            "closing",
            "Closings",
            [("closings", t["closing"]["closings"]), ("closed without confirmation", t["closing"]["unconfirmed"])],
        ),
        WeeklySection(
            "satisfaction",
            "CSAT and NPS",
            [
                ("surveys sent", t["satisfaction"]["sent"]),
                ("surveys answered", t["satisfaction"]["answered"]),
                ("CSAT", t["satisfaction"]["csat"]),
                ("NPS", t["satisfaction"]["nps"]),
                ("low scores", t["satisfaction"]["low"]),
            ],
        ),
        WeeklySection("themes", "Top themes", [(r.label, r.values[1]) for r in report.table("themes").rows]),
        WeeklySection("backlog", "Documentation", [("documentation cases (docs backlog)", t["docs"])]),
    ]


LEARNINGS_DEFINITION = (
    "The closings of the week (cases you may see, closed Monday to Sunday) and what their resolution record "
    "captured: the root cause and the preventive actions (the latest resolution before the closing). "
    "Documentation gaps: the closings emitted to the docs backlog."
)


def learnings(user, f: Filters) -> WeeklySection:
    """Learnings captured from the week's closings: three queries (the closings, their resolution
    records, their closing entries' docs emissions), whatever the week's volume."""
    start, end = f.bounds
    closings = Closure.objects.filter(closed_at__gte=start, closed_at__lt=end)
    ids = visible_tenant_ids(user)
    if ids is not None:
        closings = closings.filter(tenant_id__in=ids)
    closed = list(closings.order_by("closed_at", "id").values_list("case_id", "closed_at"))
    case_ids = sorted({case_id for case_id, _ in closed})
    records: dict[int, dict] = {}
    for case_id, data in (
        Interaction.objects.filter(
            case_id__in=case_ids, kind=Interaction.Kind.STATUS, data__has_key="resolution", created_at__lt=end
        )
        .order_by("case_id", "-created_at", "-id")
        .distinct("case_id")
        .values_list("case_id", "data")
    ):
        records[case_id] = (data or {}).get("resolution") or {}
    docs = set(
        Interaction.objects.filter(
            Q(data__to=Status.CLOSED) & Q(data__feedback=DOCS),
            case_id__in=case_ids,
            kind=Interaction.Kind.STATUS,
            created_at__gte=start,
            created_at__lt=end,
        ).values_list("case_id", flat=True)
    )
    with_root = [c for c in case_ids if records.get(c, {}).get("root_cause")]
    with_actions = [c for c in case_ids if records.get(c, {}).get("preventive_actions")]
    keys = Case(pk=0)  # the key format, without a query
    rows = []
    for case_id in [c for c in case_ids if c in with_root or c in with_actions][:LEARNING_ROWS]:
        keys.pk = case_id
        record = records[case_id]
        rows.append(
            CaseRow(
                case_id=case_id,
                label=keys.key,
                values=[record.get("root_cause", ""), record.get("preventive_actions", "")],
                url=keys.get_absolute_url(),
            )
        )
    docs_rows = []
    for case_id in sorted(docs)[:LEARNING_ROWS]:
        keys.pk = case_id
        summary = records.get(case_id, {}).get("summary", "")
        docs_rows.append(CaseRow(case_id=case_id, label=keys.key, values=[summary], url=keys.get_absolute_url()))
    out = WeeklySection(
        "learnings",
        "Learnings captured from cases",
        [
            ("cases closed", len(case_ids)),
            ("with a root cause", len(with_root)),
            ("with preventive actions", len(with_actions)),
            ("documentation gaps (docs emissions)", len(docs)),
        ],
        [
            Table(
                "learnings",
                "Root causes and preventive actions",
                LEARNINGS_DEFINITION,
                [RESOLUTION_LABELS["root_cause"], RESOLUTION_LABELS["preventive_actions"]],
                rows,
                chart=False,
            ),
            Table(
                "docs_gaps",
                "Documentation gaps",
                "The week's closings emitted to the docs backlog (a missing guide), with their resolution summary.",
                [RESOLUTION_LABELS["summary"]],
                docs_rows,
                chart=False,
            ),
        ],
    )
    for r in rows:
        out.metrics += [(f"{r.label} root cause", r.values[0]), (f"{r.label} preventive actions", r.values[1])]
    return out


def _registered(section, tables: list[Table], week: str, f: Filters) -> WeeklySection:
    if section.weekly is not None:
        rows = list(section.weekly(tables))
    else:
        rows = [(f"{t.title}: {r.label}", r.values[0]) for t in tables for r in t.rows]
    links = list(section.links(week, f)) if section.links else []
    return WeeklySection(section.key, section.title, rows, tables, links)


def build(user, monday: date, tz: tzinfo, *, now: datetime | None = None, scope: str = "your tenants") -> WeeklyReport:
    """The week of `monday` in `tz`, for `user` (scoped to what they may see)."""
    now = now or timezone.now()
    f = week_filters(monday, tz)
    label = week_label(monday)
    report = metrics.report(user, f)
    out = _cases_sections(report)
    out.insert(2, _attainment(user, f, now))
    out.append(learnings(user, f))
    for section, tables in report.sections:  # on /reports/ too: incidents, known issues, escalations
        out.append(_registered(section, tables, label, f))
    for section in sections.weekly_sections():  # the weekly report's own: backlogs, SRE, diagnostics
        out.append(_registered(section, list(section.build(user, f)), label, f))
    return WeeklyReport(monday=monday, filters=f, sections=out, tenant_ids=report.tenant_ids, scope=scope)


# --- serialisation (the page's downloads and the stored export alike) -----------------------------------


def named_cases(weekly: WeeklyReport) -> list[int]:
    """The cases the report names (its learnings and documentation gaps), for the access entries."""
    return sorted({r.case_id for t in weekly.section("learnings").tables for r in t.rows})


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def to_json(weekly: WeeklyReport) -> dict:
    f = weekly.filters
    data = {
        "week": weekly.label,
        "from": f.date_from.isoformat(),
        "to": f.date_to.isoformat(),
        "timezone": str(f.tz),
        "scope": weekly.scope,
        "queue": f.queue_url(),
        "metrics": [{"section": s, "metric": m, "value": _plain(v)} for s, m, v in weekly.rows],
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "tables": [
                    {
                        "key": t.key,
                        "title": t.title,
                        "columns": t.columns,
                        "rows": [
                            {"label": r.label, "values": [_plain(v) for v in r.values], "url": r.url} for r in t.rows
                        ],
                    }
                    for t in s.tables
                ],
            }
            for s in weekly.sections
        ],
    }
    return json.loads(json.dumps(data))  # exactly what is stored and served


def to_csv(weekly: WeeklyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["week", "section", "metric", "value"])
    for section, metric, value in weekly.rows:
        writer.writerow([weekly.label, section, metric, "" if value is None else _plain(value)])
    return out.getvalue()


# --- the Monday export ----------------------------------------------------------------------------------


def export_viewer():
    """Who the stored export reads as: every tenant (as managers, admins and SRE see them), never
    saved and unable to log in. The export is for managers and admins (the page's permission)."""
    from django.contrib.auth import get_user_model

    viewer = get_user_model()(username="weekly-export", is_active=True, is_superuser=True)
    viewer._role_names = {roles.ADMIN}
    viewer._visible_tenant_ids = None
    return viewer


def export_week(*, week: date | None = None, now: datetime | None = None) -> WeeklyExport | None:
    """Store the report of `week` (a Monday; default the last full UTC week before `now`) over every
    tenant, once: a second run for the same week (two beats, a retry) finds the row and writes
    nothing. Returns the new row or None."""
    now = now or timezone.now()
    week = week or last_full_week(now.astimezone(UTC).date())
    if WeeklyExport.objects.filter(week_start=week).exists():
        return None
    weekly = build(export_viewer(), week, UTC, now=now, scope="every tenant")
    try:
        with transaction.atomic():
            return WeeklyExport.objects.create(
                week_start=week,
                label=weekly.label,
                data=to_json(weekly),
                csv=to_csv(weekly),
                tenant_ids=weekly.tenant_ids,
                case_ids=named_cases(weekly),
                created_at=now,
            )
    except IntegrityError:  # another run stored it meanwhile
        return None


def exports(limit: int = LISTED_EXPORTS) -> list[WeeklyExport]:
    return list(WeeklyExport.objects.only("week_start", "label", "created_at", "kind").order_by("-week_start")[:limit])
