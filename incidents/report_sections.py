"""The incidents section of the manager reports (/reports/ and the weekly operations report),
registered with cases.reports.sections in IncidentsConfig.ready(): incidents by severity with their
MTTA / MTTR, each row a link to the incident list filtered the same way."""

from __future__ import annotations

from urllib.parse import urlencode

from cases.reports.metrics import Row, Table, hours, pct
from cases.reports.rollup import tenant_ids_for
from cases.reports.sections import ReportSection, register_section

from .selectors import incident_report_rows

DEFINITION = (
    "Incidents started in the range that you may see (touching the filtered tenants, if any), by severity. "
    "MTTA: acknowledged − started, over the acknowledged ones; MTTR: resolved − started, over the resolved ones; "
    "in hours. Linked cases: the cases linked to them."
)


def incident_tables(user, f) -> list[Table]:
    start, end = f.bounds
    rows = incident_report_rows(user, start=start, end=end, tenant_ids=tenant_ids_for(user, f))
    total = sum(r["n"] for r in rows)
    params = {"started_after": f.date_from.isoformat(), "started_before": f.date_to.isoformat()}
    if f.tenant_slug:
        params["tenant"] = f.tenant_slug

    def mean(r: dict, total_key: str, n_key: str):
        value = r.get(total_key)
        return hours(value / r[n_key]) if value is not None and r.get(n_key) else None

    out = [
        Row(
            label=r["severity"],
            values=[
                r["n"],
                pct(r["n"], total),
                r.get("acknowledged", 0),
                mean(r, "ack_total", "acknowledged"),
                r.get("resolved", 0),
                mean(r, "res_total", "resolved"),
                r.get("linked_cases") or 0,
            ],
            url="/incidents/?" + urlencode({**params, "severity": r["severity"]}),
            bar=r["n"],
        )
        for r in rows
        if r["n"]
    ]
    return [
        Table(
            "incidents",
            "Incidents by severity",
            DEFINITION,
            ["Incidents", "Share %", "Acknowledged", "MTTA h", "Resolved", "MTTR h", "Linked cases"],
            out,
        )
    ]


def weekly(tables: list[Table]) -> list[tuple[str, object]]:
    rows = tables[0].rows
    out: list[tuple[str, object]] = [("incidents", sum(r.values[0] for r in rows))]
    for r in rows:
        out += [(f"{r.label} incidents", r.values[0]), (f"{r.label} MTTA hours", r.values[3])]
        out.append((f"{r.label} MTTR hours", r.values[5]))
    return out


def register() -> None:
    register_section(ReportSection(key="incidents", title="Incidents", build=incident_tables, order=10, weekly=weekly))
