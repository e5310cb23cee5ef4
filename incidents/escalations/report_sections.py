"""The engineering escalations on /reports/ and in the weekly operations report: escalated, decided,
rejected and the rejection rate by owning team (seed 002: under 10 %)."""

from __future__ import annotations

from cases.reports.metrics import Row, Table, pct
from cases.reports.rollup import tenant_ids_for
from cases.reports.sections import ReportSection, register_section

from .selectors import rejection_rate

DEFINITION = (
    "Engineering tasks escalated in the range (cases you may see), by owning team. Decided: accepted or "
    "rejected at some point; rejection rate: rejected over decided (seed 002: should be under 10 %)."
)


def escalation_tables(user, f) -> list[Table]:
    start, end = f.bounds
    rate = rejection_rate(user, start=start, end=end, tenant_ids=tenant_ids_for(user, f))
    rows = [
        Row(
            label=r["team__name"] or "no team",
            values=[r["escalated"], r["decided"], r["rejected"], pct(r["rejected"], r["decided"])],
            url="/incidents/escalations/",
            bar=r["escalated"],
        )
        for r in rate["teams"]
    ]
    return [
        Table(
            "escalations",
            "Engineering escalations",
            DEFINITION,
            ["Escalated", "Decided", "Rejected", "Rejected %"],
            rows,
        )
    ]


def weekly(tables: list[Table]) -> list[tuple[str, object]]:
    rows = tables[0].rows
    decided = sum(r.values[1] for r in rows)
    rejected = sum(r.values[2] for r in rows)
    return [
        ("engineering escalations", sum(r.values[0] for r in rows)),
        ("escalations rejected", rejected),
        ("escalation rejection rate %", pct(rejected, decided)),
    ]


def register() -> None:
    register_section(
        ReportSection(
            key="escalations", title="Engineering escalations", build=escalation_tables, order=30, weekly=weekly
        )
    )
