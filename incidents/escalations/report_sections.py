"""The engineering escalations on /reports/ and in the weekly operations report: escalated, decided,
rejected and the rejection rate by owning team (seed 002: under 10 %). And the weekly report's own
sections (what the weekly ops review showed before it became part of that report): the feedback
backlogs (the week's emissions and their patterns, with the backlog exports of the week and current),
escalations and rejections by component, product feedback with ARR at risk, SRE escalations."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from cases.reports.metrics import Row, Table, pct
from cases.reports.rollup import tenant_ids_for
from cases.reports.sections import ReportSection, register_section

from .models import FeedbackEmission, SREEscalation
from .selectors import rejection_rate, weekly_emissions, weekly_escalation_review

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


# --- the weekly report's own sections -------------------------------------------------------------------

BACKLOGS_DEFINITION = (
    "Closings of the week (cases you may see) emitted to each backlog: chosen by the agent at close (confirmed) "
    "or by the classification (auto-close). Patterns: the emitted cases' tags, with how many closings and customers."
)


def _week(selector, user, f) -> dict:
    start, end = f.bounds
    return selector(start=start, end=end, tenant_ids=tenant_ids_for(user, f))


def backlog_tables(user, f) -> list[Table]:
    data = _week(weekly_emissions, user, f)
    e = data["emissions"]
    labels = dict(FeedbackEmission.Backlog.choices)
    counts = [
        Row(
            label=str(labels[b]),
            values=[e[b]["n"], e[b]["confirmed"]],
            url=reverse("incidents:backlog", args=[b]),
            bar=e[b]["n"],
        )
        for b in FeedbackEmission.Backlog.values
    ]
    patterns = [
        Row(label=f"{r['backlog']}: {r['case__tags__name']}", values=[r["n"], r["customers"]], bar=r["n"])
        for r in data["patterns"]
    ]
    return [
        Table("emissions", "Feedback emissions", BACKLOGS_DEFINITION, ["Closings", "Confirmed by the agent"], counts),
        Table("patterns", "Patterns", BACKLOGS_DEFINITION, ["Closings", "Customers"], patterns, chart=False),
    ]


def backlog_weekly(tables: list[Table]) -> list[tuple[str, object]]:
    counts, patterns = tables
    rows = [(f"{r.label} emissions", r.values[0]) for r in counts.rows]
    rows += [
        ("emissions", sum(r.values[0] for r in counts.rows)),
        ("confirmed by the agent", sum(r.values[1] for r in counts.rows)),
    ]
    rows += [(f"pattern {r.label}", r.values[0]) for r in patterns.rows]
    return rows


def backlog_links(week: str, f) -> list[tuple[str, str]]:
    out = []
    for b in FeedbackEmission.Backlog.values:
        url = reverse("incidents:backlog_export", args=[b, "csv"])
        out += [
            (f"{b} backlog {week} CSV", f"{url}?week={week}"),
            (f"{b} backlog {week} JSON", f"{url[:-3]}json?week={week}"),
            (f"{b} backlog now CSV", url),
            (f"{b} backlog now JSON", f"{url[:-3]}json"),
        ]
    return out


COMPONENTS_DEFINITION = (
    "Engineering tasks escalated in the week (cases you may see) by component, and how many of them engineering "
    "rejected."
)
PRODUCT_DEFINITION = (
    "Product feedback logged in the week by theme: items, and ARR at risk (the annual contract value of the "
    "distinct customers asking, as logged)."
)
SRE_DEFINITION = "SRE escalations opened in the week, by trigger (a case, or the error-budget burn-rate rule)."


ALL_THEMES = "All themes (distinct customers)"


def escalation_review_tables(user, f) -> list[Table]:
    data = _week(weekly_escalation_review, user, f)
    components = [
        Row(label=r["component__name"] or "no component", values=[r["n"], r["rejected"]], bar=r["n"])
        for r in data["components"]
    ]
    product = [
        Row(
            label=r["theme"],
            values=[r["n"], r["arr"]],
            url=f"{reverse('incidents:product_backlog')}?{urlencode({'theme': r['theme']})}",
            bar=r["n"],
        )
        for r in data["product"]["themes"]
    ]
    product.append(Row(label=ALL_THEMES, values=[data["product"]["items"], data["product"]["arr_at_risk"]]))
    labels = dict(SREEscalation.Trigger.choices)
    sre = [Row(label=str(labels[t]), values=[n], bar=n) for t, n in data["sre"].items()]
    return [
        Table("components", "Escalations by component", COMPONENTS_DEFINITION, ["Escalated", "Rejected"], components),
        Table("product_feedback", "Product feedback", PRODUCT_DEFINITION, ["Items", "ARR at risk"], product),
        Table("sre", "SRE escalations", SRE_DEFINITION, ["Escalations"], sre),
    ]


def escalation_review_weekly(tables: list[Table]) -> list[tuple[str, object]]:
    components, product, sre = tables
    *themes, total = product.rows
    rows = [(f"component {r.label} escalated", r.values[0]) for r in components.rows]
    rows += [(f"component {r.label} rejected", r.values[1]) for r in components.rows]
    rows += [("product feedback items", total.values[0]), ("product ARR at risk", total.values[1])]
    rows += [(f"product theme {r.label}", r.values[0]) for r in themes]
    rows += [(f"product theme {r.label} ARR", r.values[1]) for r in themes]
    rows += [("SRE escalations", sum(r.values[0] for r in sre.rows))]
    rows += [(f"SRE: {r.label}", r.values[0]) for r in sre.rows]
    return rows


def register() -> None:
    register_section(
        ReportSection(
            key="escalations", title="Engineering escalations", build=escalation_tables, order=30, weekly=weekly
        )
    )
    register_section(
        ReportSection(
            key="backlogs",
            title="Feedback backlogs",
            build=backlog_tables,
            order=40,
            weekly=backlog_weekly,
            weekly_only=True,
            links=backlog_links,
        )
    )
    register_section(
        ReportSection(
            key="escalation_review",
            title="Components, product feedback and SRE",
            build=escalation_review_tables,
            order=45,
            weekly=escalation_review_weekly,
            weekly_only=True,
        )
    )
