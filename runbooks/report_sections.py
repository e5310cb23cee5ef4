"""The known-issue frequency section of the manager reports (/reports/, the weekly operations
report), registered with cases.reports.sections in RunbooksConfig.ready(): the known issues linked
to the cases of the report's cohort, with how many, beside the previous period of the same length."""

from __future__ import annotations

from cases.reports.filters import cohort
from cases.reports.metrics import Row, Table, growth
from cases.reports.sections import ReportSection, register_section

from .choices import KnownIssueStatus
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


def register() -> None:
    register_section(
        ReportSection(key="known_issues", title="Known issues", build=known_issue_tables, order=20, weekly=weekly)
    )
