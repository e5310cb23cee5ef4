"""/reports/weekly/: the weekly operations report (cases.reports.weekly) as a page and as CSV + JSON
of the week for the viewer, and the stored Monday exports of every week (/reports/weekly/exports/
<week>.csv|.json). Managers and admins only, as /reports/."""

from __future__ import annotations

import json
from datetime import timedelta

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from companyos import audit, roles
from companyos.access import audited_read, no_data
from tenants.models import Tenant

from ..models import Case
from . import weekly as weekly_report
from .export_models import WeeklyExport

FORBIDDEN = "The weekly operations report is for managers and admins."
BAD_WEEK = "Give the week as ?week=2026-W48 (ISO year and week).\n"
EARLIER_WEEKS = 8


def _forbidden(request, model=Tenant):
    audit.log_denied(model, "list", path=request.path, reason="the weekly operations report is for managers and admins")
    return HttpResponse(FORBIDDEN + "\n", status=403, content_type="text/plain; charset=utf-8")


@audited_read(Tenant, view="weekly operations report")
@require_GET
def weekly(request):
    if not roles.sees_sla_dashboard(request.user):
        return _forbidden(request)
    today = timezone.localdate()
    raw = request.GET.get("week", "")
    monday = weekly_report.parse_week(raw) if raw else weekly_report.last_full_week(today)
    if monday is None:
        return no_data(HttpResponse(BAD_WEEK, status=400, content_type="text/plain; charset=utf-8"))
    report = weekly_report.build(request.user, monday, timezone.get_current_timezone())
    label = report.label
    audit.log_list_access(Tenant, report.tenant_ids, view="weekly operations report", query=f"week={label}")
    named = weekly_report.named_cases(report)
    if named:
        audit.log_list_access(Case, named, view="weekly operations report: learnings", query=f"week={label}")
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        response = HttpResponse(weekly_report.to_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="weekly-operations-{label}.csv"'
        return response
    if fmt == "json":
        response = JsonResponse(weekly_report.to_json(report))
        response["Content-Disposition"] = f'attachment; filename="weekly-operations-{label}.json"'
        return response
    this_week = weekly_report.monday_of(today)
    following = monday + timedelta(days=7)
    context = {
        "weekly": report,
        "label": label,
        "filters": report.filters,
        "previous": weekly_report.week_label(monday - timedelta(days=7)),
        "next": weekly_report.week_label(following) if following <= this_week else None,
        "weeks": [weekly_report.week_label(monday - timedelta(weeks=i)) for i in range(1, EARLIER_WEEKS + 1)],
        "exports": weekly_report.exports(),
        "stored": WeeklyExport.objects.filter(week_start=monday).only("label", "created_at").first(),
    }
    return render(request, "reports/weekly.html", context)


@audited_read(Tenant, view="weekly operations report export")
@require_GET
def weekly_export(request, week: str, fmt: str):
    """The Monday export of `week` as beat stored it (every tenant, Monday to Sunday UTC)."""
    if not roles.sees_sla_dashboard(request.user):
        return _forbidden(request)
    monday = weekly_report.parse_week(week)
    stored = WeeklyExport.objects.filter(week_start=monday).first() if monday else None
    if stored is None:
        raise Http404("No stored export for that week: beat writes one every Monday for the week before.")
    audit.log_list_access(Tenant, stored.tenant_ids, view="weekly operations report export", query=stored.label)
    if stored.case_ids:
        audit.log_list_access(
            Case, stored.case_ids, view="weekly operations report export: learnings", query=stored.label
        )
    if fmt == "csv":
        response = HttpResponse(stored.csv, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(json.dumps(stored.data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="weekly-operations-{stored.label}.{fmt}"'
    return response
