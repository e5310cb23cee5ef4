"""/reports/ and /reports/export.csv: thin views over cases.reports.metrics. Managers and admins only."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companyos import audit, roles
from companyos.access import audited_read, no_data
from companyos.htmx import htmx_partial, partial
from tenants.models import Tenant

from . import metrics
from .filters import Filters, ReportFilterForm

TEMPLATE = "reports/dashboard.html"
FORBIDDEN = "The reports are for managers and admins."


def _form(request) -> ReportFilterForm:
    return ReportFilterForm(request.GET, user=request.user, today=timezone.localdate())


@audited_read(Tenant, view="reports")
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request):
    if not roles.sees_sla_dashboard(request.user):
        audit.log_denied(Tenant, "list", path=request.path, reason="the reports are for managers and admins")
        return render(request, TEMPLATE, {"forbidden": True}, status=403)
    form = _form(request)
    context = {"form": form}
    restoring = getattr(getattr(request, "htmx", None), "history_restore_request", False)
    if restoring or not htmx_partial(request):  # the whole page draws the filter form
        form.drawn_choices()
    if form.is_valid():
        report = metrics.report(request.user, form.report_filters())
        query = form.query()
        audit.log_list_access(Tenant, report.tenant_ids, view="reports", query=query)
        context.update(report=report, query=query, tiles=report.tiles)
    response = render(request, TEMPLATE if restoring else partial(request, TEMPLATE, "results"), context)
    return response if "report" in context else no_data(response)


@audited_read(Tenant, view="reports export")
@require_GET
def export_csv(request):
    if not roles.sees_sla_dashboard(request.user):
        audit.log_denied(Tenant, "list", path=request.path, reason="the reports are for managers and admins")
        return HttpResponse(FORBIDDEN + "\n", status=403, content_type="text/plain; charset=utf-8")
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + " ".join(form.error_list()) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    report = metrics.report(request.user, form.report_filters())
    key = request.GET.get("table", "")
    table = next((t for t in report.tables if t.key == key), None)
    if table is None:
        known = ", ".join(t.key for t in report.tables)
        return no_data(
            HttpResponse(
                f"Unknown table {key[:40]!r}. Tables: {known}.\n", status=400, content_type="text/plain; charset=utf-8"
            )
        )
    audit.log_list_access(Tenant, report.tenant_ids, view="reports export", query=f"{key}?{form.query()}")
    f = report.filters
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{key}-{f.date_from.isoformat()}-to-{f.date_to.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["", *table.columns, "queue"])
    for row in table.rows:
        writer.writerow(
            [
                row.label,
                *["" if v is None else v for v in row.values],
                request.build_absolute_uri(row.url) if row.url else "",
            ]
        )
    return response


# --- the weekly operations report (seed 003: "weekly export to product/reliability backlogs") ----------


def _week(request) -> tuple[date, str] | None:
    """?week=2026-W48 (ISO), default the last complete week in the viewer's timezone; None if bad."""
    raw = request.GET.get("week", "")
    if not raw:
        today = timezone.localdate()
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
    try:
        year, week = raw.upper().split("-W")
        monday = date.fromisocalendar(int(year[:4]), int(week[:2]), 1)
    except (ValueError, TypeError):
        return None
    if not 2000 <= monday.year <= 2100:
        return None
    return monday, f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"


def weekly_rows(report: metrics.Report) -> list[tuple[str, str, object]]:
    """The weekly report as (section, metric, value) rows: what the page, the CSV and the JSON show."""
    t = report.tiles
    rows: list[tuple[str, str, object]] = [
        ("volume", "cases created", t["created"]),
        *[("volume", f"priority {r.label}", r.values[0]) for r in report.table("volume_priority").rows],
        *[("volume", f"channel {r.label}", r.values[0]) for r in report.table("volume_channel").rows],
        ("times", "MTTA hours", t["mtta_h"]),
        ("times", "MTTR hours", t["mttr_h"]),
        ("reopen", "resolutions", t["reopen"]["resolutions"]),
        ("reopen", "reopened", t["reopen"]["reopened"]),
        ("reopen", "reopened within 7 days %", t["reopen"]["within_rate"]),
        ("closing", "closings", t["closing"]["closings"]),
        ("closing", "closed without confirmation", t["closing"]["unconfirmed"]),
        ("satisfaction", "surveys sent", t["satisfaction"]["sent"]),
        ("satisfaction", "surveys answered", t["satisfaction"]["answered"]),
        ("satisfaction", "CSAT", t["satisfaction"]["csat"]),
        ("satisfaction", "NPS", t["satisfaction"]["nps"]),
        ("satisfaction", "low scores", t["satisfaction"]["low"]),
        ("backlog", "documentation cases (docs backlog)", t["docs"]),
        *[("themes", r.label, r.values[1]) for r in report.table("themes").rows],
    ]
    for section, tables in report.sections:  # the higher apps' sections (cases.reports.sections)
        if section.weekly is not None:
            rows += [(section.key, metric, value) for metric, value in section.weekly(tables)]
        else:
            rows += [(section.key, f"{t.title}: {r.label}", r.values[0]) for t in tables for r in t.rows]
    return rows


@audited_read(Tenant, view="weekly operations report")
@require_GET
def weekly(request):
    if not roles.sees_sla_dashboard(request.user):
        audit.log_denied(Tenant, "list", path=request.path, reason="the reports are for managers and admins")
        return HttpResponse(FORBIDDEN + "\n", status=403, content_type="text/plain; charset=utf-8")
    found = _week(request)
    if found is None:
        return no_data(
            HttpResponse(
                "Give the week as ?week=2026-W48 (ISO year and week).\n", status=400, content_type="text/plain"
            )
        )
    monday, label = found
    f = Filters(date_from=monday, date_to=monday + timedelta(days=6), tz=timezone.get_current_timezone())
    report = metrics.report(request.user, f)
    audit.log_list_access(Tenant, report.tenant_ids, view="weekly operations report", query=f"week={label}")
    rows = weekly_rows(report)
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="weekly-operations-{label}.csv"'
        writer = csv.writer(response)
        writer.writerow(["week", "section", "metric", "value"])
        writer.writerows([label, *row] for row in rows)
        return response
    if fmt == "json":
        data = {"week": label, "from": f.date_from.isoformat(), "to": f.date_to.isoformat(), "queue": f.queue_url()}
        data["metrics"] = [
            {"section": s, "metric": m, "value": None if v is None else (str(v) if isinstance(v, Decimal) else v)}
            for s, m, v in rows
        ]
        response = JsonResponse(data)
        response["Content-Disposition"] = f'attachment; filename="weekly-operations-{label}.json"'
        return response
    previous = [monday - timedelta(weeks=i) for i in range(1, 9)]
    weeks = [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in previous]
    context = {"label": label, "filters": f, "rows": rows, "report": report, "weeks": weeks}
    return render(request, "reports/weekly.html", context)
