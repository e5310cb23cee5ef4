"""/reports/ and /reports/export.csv: thin views over cases.reports.metrics. Managers and admins only."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companyos import audit, roles
from companyos.access import audited_read, no_data
from companyos.htmx import htmx_partial, partial
from tenants.models import Tenant

from . import metrics
from .filters import ReportFilterForm

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


# The weekly operations report (/reports/weekly/) is cases.reports.weekly_views.
