"""The known-issue frequency section of the manager reports (/reports/, the weekly operations
report), registered with cases.reports.sections in RunbooksConfig.ready(): the known issues linked
to the cases of the report's cohort, with how many, beside the previous period of the same length.
And the weekly report's diagnostics learnings (seed 004): what the week's inspected trace bundles
found — failed spans, error codes with their runbooks."""

from __future__ import annotations

from django.urls import reverse

from cases.reports.filters import cohort
from cases.reports.metrics import Row, Table, growth
from cases.reports.rollup import tenant_ids_for
from cases.reports.sections import ReportSection, register_section

from .choices import KnownIssueStatus
from .diagnostics.selectors import weekly_bundle_learnings
from .selectors import known_issue_frequency

DEFINITION = (
    "Known issues linked to the cases created in the range that match the filters (each case counted once per "
    "issue), the 15 most linked, with the same count for the period of the same length just before and the "
    "growth between them."
)


def known_issue_tables(user, f) -> list[Table]:
    now = known_issue_frequency(cohort(user, f))
    before = {r["known_issue_id"]: r["n"] for r in known_issue_frequency(cohort(user, f.previous()), limit=1000)}
    labels = dict(KnownIssueStatus.choices)
    rows = [
        Row(
            label=r["known_issue__title"],
            values=[
                r["n"],
                str(labels.get(r["known_issue__status"], r["known_issue__status"])),
                before.get(r["known_issue_id"], 0),
                growth(r["n"], before.get(r["known_issue_id"], 0)),
            ],
            url=f"/incidents/known-issues/{r['known_issue_id']}/",
            bar=r["n"],
        )
        for r in now
    ]
    return [
        Table(
            "known_issues",
            "Known-issue frequency",
            DEFINITION,
            ["Cases", "Status", "Previous period", "Growth %"],
            rows,
        )
    ]


def weekly(tables: list[Table]) -> list[tuple[str, object]]:
    return [(r.label, r.values[0]) for r in tables[0].rows]


DIAGNOSTICS_DEFINITION = (
    "The trace bundles inspected in the week (cases you may see; valid ones, redacted or not): their failed spans "
    "and the error codes their spans carried, summed over the bundles, each code with the catalogue's runbook. "
    "Failed span names are counted among the first 200 failed spans each report lists."
)


def diagnostics_tables(user, f) -> list[Table]:
    start, end = f.bounds
    data = weekly_bundle_learnings(start=start, end=end, tenant_ids=tenant_ids_for(user, f))
    summary = [
        Row(label="bundles inspected", values=[data["bundles"]]),
        Row(label="cases with a bundle", values=[data["cases"]]),
        Row(label="bundles with unredacted personal data", values=[data["pii"]]),
        Row(label="failed spans", values=[data["failed_spans"]]),
        Row(label="failed spans near the reported time", values=[data["near_failed"]]),
    ]
    codes = [
        Row(
            label=c["code"],
            values=[c["count"], c["bundles"], c["title"], c["runbook"].title if c["runbook"] else ""],
            url=reverse("runbooks:detail", args=[c["runbook"].slug]) if c["runbook"] else "",
            bar=c["count"],
        )
        for c in data["codes"]
    ]
    spans = [
        Row(label=s["name"], values=[s["count"], s["bundles"], s["service"]], bar=s["count"]) for s in data["spans"]
    ]
    return [
        Table("bundles", "Trace bundles inspected", DIAGNOSTICS_DEFINITION, ["Count"], summary, chart=False),
        Table(
            "bundle_codes", "Top error codes", DIAGNOSTICS_DEFINITION, ["Count", "Bundles", "Meaning", "Runbook"], codes
        ),
        Table("bundle_spans", "Top failed spans", DIAGNOSTICS_DEFINITION, ["Failed", "Bundles", "Service"], spans),
    ]


def diagnostics_weekly(tables: list[Table]) -> list[tuple[str, object]]:
    summary, codes, spans = tables
    rows = [(r.label, r.values[0]) for r in summary.rows]
    rows += [(f"error code {r.label}", r.values[0]) for r in codes.rows]
    rows += [(f"error code {r.label} runbook", r.values[3]) for r in codes.rows if r.values[3]]
    rows += [(f"failed span {r.label}", r.values[0]) for r in spans.rows]
    return rows


def register() -> None:
    register_section(
        ReportSection(
            key="diagnostics",
            title="Diagnostics learnings (trace bundles)",
            build=diagnostics_tables,
            order=50,
            weekly=diagnostics_weekly,
            weekly_only=True,
        )
    )
    register_section(
        ReportSection(key="known_issues", title="Known issues", build=known_issue_tables, order=20, weekly=weekly)
    )
