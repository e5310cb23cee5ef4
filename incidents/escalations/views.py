"""Thin views of the engineering escalation: parse, call one service or selector, render. A refused
write re-renders the page with the message and a 422 (a stale one: 409), keeping what was typed."""

from __future__ import annotations

import csv
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case, Tag, Team
from cases.reports import weekly as weekly_report
from cases.selectors import case_get_for_user
from companyos import audit, pageview, roles
from companyos.access import audit_exempt, audited_read, audited_write, covered_by_page_view
from incidents.models import CorrectiveAction, Incident
from incidents.selectors import incident_get_for_user
from tenants.access import MAX_HOURS

from . import handoff, selectors, services, shifts
from . import sre as sre_services
from .choices import DECISION_LABEL, NEEDS_REASON, TRANSITIONS, TaskStatus
from .forms import DecideForm, EscalateForm, FeedbackForm, TextForm
from .models import Component, EngineeringTask, FeedbackEmission, ProductFeedback, SupportShift

TASK = "incidents/escalations/task_detail.html"


def _errors(form) -> str:
    return " ".join(e for errs in form.errors.values() for e in errs)


@audited_read(EngineeringTask, view="engineering tasks")
@require_GET
def task_list(request):
    status = request.GET.get("status", "")
    team = request.GET.get("team", "")[:60]
    overdue = request.GET.get("overdue") == "1"
    now = timezone.now()
    tasks = selectors.task_list(request.user, status=status, team=team, overdue=overdue, now=now)
    audit.log_list_access(
        EngineeringTask, [t.pk for t in tasks], view="engineering tasks", query=request.GET.urlencode()
    )
    context = {
        "tasks": tasks,
        "status": status,
        "team": team,
        "overdue": overdue,
        "statuses": TaskStatus.choices,
        "teams": Team.objects.order_by("name").values_list("slug", "name"),
        "rate": selectors.rejection_rate(request.user),
        "now": now,
    }
    return render(request, "incidents/escalations/task_list.html", context)


def _task_page(request, task: EngineeringTask, *, status: int = 200, error: str = "", view: str = "engineering task"):
    audit.log_access(task, view=view, extra={"status": status} if status != 200 else None)
    context = {
        "task": task,
        "timeline": selectors.task_timeline(task),
        "decisions": [(to, DECISION_LABEL[to], to in NEEDS_REASON) for to in TRANSITIONS[task.status]],
        "may_decide": services.may_decide(request.user, task),
        "active": task.status in (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.INFO_REQUESTED),
        "error": error,
        "now": timezone.now(),
        "typed": request.POST.get("body", "") or request.POST.get("reason", ""),
    }
    return render(request, TASK, context, status=status)


@audited_read(EngineeringTask, view="engineering task")
@require_GET
def task_detail(request, key: str):
    return _task_page(request, selectors.task_get_for_user(request.user, key, path=request.path))


def _write(request, key: str, call):
    task = selectors.task_get_for_user(request.user, key, path=request.path)
    try:
        call(task)
    except services.EscalationError as error:
        code = 409 if isinstance(error, services.EscalationConflict) else 422
        task = selectors.task_get_for_user(request.user, key, path=request.path)
        return _task_page(request, task, status=code, error=str(error), view="engineering task: refused")
    return redirect(task.get_absolute_url())


@audited_write(EngineeringTask, view="engineering task: decide")
@require_POST
def task_decide(request, key: str):
    form = DecideForm(request.POST)
    if not form.is_valid():
        task = selectors.task_get_for_user(request.user, key, path=request.path)
        return _task_page(request, task, status=422, error=_errors(form), view="engineering task: refused")
    data = form.cleaned_data

    def call(task):
        services.task_decide(
            task_id=task.pk, actor=request.user, to=data["to"], reason=data["reason"], expected_version=data["version"]
        )
        messages.success(request, f"{task.key}: {TaskStatus(data['to']).label.lower()}.")

    return _write(request, key, call)


def _text_write(request, key: str, service, done: str):
    form = TextForm(request.POST)
    if not form.is_valid():
        task = selectors.task_get_for_user(request.user, key, path=request.path)
        return _task_page(request, task, status=422, error="Write something first.", view="engineering task: refused")

    def call(task):
        service(task_id=task.pk, actor=request.user, body=form.cleaned_data["body"])
        messages.success(request, done)

    return _write(request, key, call)


@audited_write(EngineeringTask, view="engineering task: update")
@require_POST
def task_update(request, key: str):
    return _text_write(request, key, services.task_update, "Update posted; the cadence clock restarted.")


@audited_write(EngineeringTask, view="engineering task: add information")
@require_POST
def task_answer(request, key: str):
    return _text_write(request, key, services.task_answer, "Information added; engineering is told.")


# --- the case page's part -----------------------------------------------------------------------------


@audited_read(Case, view="case page: engineering panel")
@require_GET
def case_panel(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    response = render(
        request,
        "incidents/escalations/case_panel.html",
        {"case": case, "tasks": selectors.case_tasks(case), "feedback": selectors.case_feedback(case)},
    )
    if pageview.page_cid(request, case) is not None:  # loaded by the case page: its "viewed" covers this
        return covered_by_page_view(response)
    audit.log_access(case, view="case page: engineering panel")
    return response


@audited_write(Case, view="escalate to engineering")
@require_http_methods(["GET", "POST"])
def escalate(request, key: str):
    """GET: the form with seed 002's eight items prefilled from the case; POST: create the task."""
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="escalate to engineering")
    components = list(Component.objects.select_related("team").order_by("name"))
    prefill = handoff.prefill(case, url=request.build_absolute_uri(case.get_absolute_url()))
    error, status = "", 200
    if request.method == "GET":
        default = services.default_component(case)
        form = EscalateForm(initial={**prefill, "component": default.pk if default else None}, components=components)
    else:
        form = EscalateForm(request.POST, components=components)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.task_escalate(
                    case_id=case.pk,
                    actor=request.user,
                    component_id=data.pop("component"),
                    **data,
                )
            except services.EscalationError as error_:
                error = str(error_)
            else:
                messages.success(request, f"Escalated to engineering: {task.key} ({task.component.name}).")
                return redirect(task.get_absolute_url())
        else:
            error = _errors(form)
    context = {
        "case": case,
        "form": form,
        "error": error,
        "sources": prefill["affected_sources"],
        "components": components,
    }
    return render(request, "incidents/escalations/escalate.html", context, status=status)


MAP_REASON = "the ownership map: components, teams and on-call schedules, no case or tenant data"


def _component_map(request, *, error: str = "", status: int = 200, edited: int | None = None):
    from incidents.oncall.models import Schedule

    context = {
        "components": selectors.components(),
        "can_edit": services.may_edit_map(request.user),
        "schedules": list(Schedule.objects.order_by("name").values_list("pk", "name")),
        "error": error,
        "edited": edited,
    }
    return render(request, "incidents/escalations/components.html", context, status=status)


@audit_exempt(reason=MAP_REASON)
@require_GET
def component_map(request):
    return _component_map(request)


@audit_exempt(reason=MAP_REASON)
@require_POST
def component_schedule(request, pk: int):
    """Set a component's on-call schedule from the map's select (admins and managers)."""
    if not services.may_edit_map(request.user):
        return HttpResponse("Only admins and managers edit the component ownership map.", status=403)
    try:
        component = services.component_set_schedule(
            component_id=pk,
            actor=request.user,
            schedule_id=request.POST.get("schedule", "")[:20],
            expected_schedule_id=request.POST.get("was", "")[:20],
        )
    except services.EscalationConflict as error:
        return _component_map(request, error=str(error), status=409, edited=pk)
    except services.EscalationError as error:
        return _component_map(request, error=str(error), status=422, edited=pk)
    schedule = component.oncall_schedule
    messages.success(
        request,
        f"{component.name}: escalations now notify "
        + (f"whoever is on call for {schedule.name}." if schedule else "the whole owning team."),
    )
    return redirect("incidents:components")


# --- an incident's corrective action → its engineering task -----------------------------------------------


@audited_write(Incident, view="corrective action: link engineering task")
@require_POST
def action_link(request, key: str, pk: int):
    incident = incident_get_for_user(request.user, key, path=request.path)
    action = CorrectiveAction.objects.filter(pk=pk, incident=incident).first()
    if action is None:
        audit.log_denied(CorrectiveAction, pk, path=request.path, reason="not an action of this incident")
        messages.error(request, "That corrective action is not on this incident.")
        return redirect(incident.get_absolute_url())
    audit.log_access(incident, view="corrective action: link engineering task")
    try:
        services.action_link_task(action_id=action.pk, actor=request.user, task_key=request.POST.get("task", "")[:40])
    except services.EscalationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Corrective action updated.")
    return redirect(incident.get_absolute_url())


# --- product escalation -----------------------------------------------------------------------------------


@audited_write(Case, view="log product feedback")
@require_http_methods(["GET", "POST"])
def feedback(request, key: str):
    """GET: seed 002's "To Product" fields prefilled from the case; POST: log the item."""
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="log product feedback")
    tags = list(Tag.objects.order_by("name"))
    error, status = "", 200
    if request.method == "GET":
        form = FeedbackForm(initial=handoff.product_prefill(case), tags=tags)
    else:
        form = FeedbackForm(request.POST, tags=tags)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.feedback_log(case_id=case.pk, actor=request.user, theme_id=data.pop("theme"), **data)
            except services.EscalationError as error_:
                error = str(error_)
            else:
                messages.success(request, f"Logged to the product backlog under “{item.theme.name}”.")
                return redirect(f"{reverse('incidents:product_backlog')}?theme={item.theme.name}")
        else:
            error = _errors(form)
    context = {"case": case, "form": form, "error": error, "tags": tags}
    return render(request, "incidents/escalations/feedback.html", context, status=status)


@audited_read(ProductFeedback, view="product feedback backlog")
@require_GET
def product_backlog(request):
    theme = request.GET.get("theme", "")[:50]
    backlog = selectors.product_backlog(request.user, theme=theme)
    audit.log_list_access(
        ProductFeedback, backlog["ids"], view="product feedback backlog", query=request.GET.urlencode()
    )
    shown = [pk for t in backlog["themes"] for pk in t["case_ids"]] + [i.case_id for i in backlog["items"]]
    if shown:
        audit.log_list_access(Case, sorted(set(shown)), view="product feedback backlog: linked cases")
    return render(request, "incidents/escalations/product_backlog.html", {"backlog": backlog, "theme": theme})


# --- the feedback backlogs, their exports, and the old weekly ops review's addresses ----------------

BACKLOG_NAMES = dict(FeedbackEmission.Backlog.choices)


@audited_read(FeedbackEmission, view="feedback backlog")
@require_GET
def backlog_page(request, name: str = ""):
    name = name or "reliability"
    if name not in BACKLOG_NAMES:
        audit.log_denied(FeedbackEmission, name[:40], path=request.path, reason="no such backlog")
        raise Http404("No such backlog")
    data = selectors.backlog(request.user, name, now=timezone.now())
    counts = selectors.backlog_counts(request.user)
    audit.log_list_access(Case, [e.case_id for e in data["cases"]], view=f"feedback backlog: {name}")
    context = {
        "backlog": data,
        "name": name,
        "label": BACKLOG_NAMES[name],
        "tabs": [(k, text, counts.get(k, 0)) for k, text in BACKLOG_NAMES.items()],
    }
    return render(request, "incidents/escalations/backlog.html", context)


BACKLOG_EXPORT_FORBIDDEN = "The backlog exports are for managers and admins."


def _export_cell(value) -> str:
    if isinstance(value, list):  # tags; the product feedback's themes with their ARR
        return "; ".join(f"{v['theme']} ({v['arr']})" if isinstance(v, dict) else str(v) for v in value)
    return "" if value is None else str(value)


@audited_read(FeedbackEmission, view="feedback backlog export")
@require_GET
def backlog_export(request, name: str, fmt: str):
    """One backlog's emissions as CSV or JSON: current (every emission you may see) or, with
    ?week=2026-W48, those of that week's closings (Monday to Sunday in your timezone)."""
    if not roles.sees_sla_dashboard(request.user):
        audit.log_denied(FeedbackEmission, name[:40], path=request.path, reason="the backlog exports are for managers")
        return HttpResponse(BACKLOG_EXPORT_FORBIDDEN + "\n", status=403, content_type="text/plain; charset=utf-8")
    if name not in FeedbackEmission.Backlog.values:
        audit.log_denied(FeedbackEmission, name[:40], path=request.path, reason="no such backlog")
        raise Http404("No such backlog")
    start = end = None
    label = "current"
    if request.GET.get("week"):
        monday = weekly_report.parse_week(request.GET["week"])
        if monday is None:
            return HttpResponse(
                "Give the week as ?week=2026-W48 (ISO year and week).\n", status=400, content_type="text/plain"
            )
        label = weekly_report.week_label(monday)
        start, end = weekly_report.week_filters(monday, timezone.get_current_timezone()).bounds
    rows = selectors.backlog_export(request.user, name, start=start, end=end)
    audit.log_list_access(
        Case,
        [int(r["case"].rsplit("-", 1)[1]) for r in rows],
        view=f"feedback backlog export: {name}",
        query=request.GET.urlencode(),
    )
    filename = f"{name}-backlog-{label}.{fmt}"
    if fmt == "json":
        data = {"backlog": name, "week": None if start is None else label, "count": len(rows), "items": rows}
        if start is not None:
            data |= {"from": start.isoformat(), "to": end.isoformat()}
        response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        columns = selectors.backlog_export_columns(name)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_export_cell(r.get(c)) for c in columns])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@audit_exempt(reason="a redirect: the weekly ops review is now the weekly operations report")
@require_GET
def ops_review(request):
    """The old weekly ops review page: it is the weekly operations report now (the week kept)."""
    url = reverse("reports:weekly")
    monday = weekly_report.parse_week(request.GET.get("week", ""))
    if monday is not None:
        url += f"?week={weekly_report.week_label(monday)}"
    return redirect(url, permanent=True)


@audit_exempt(reason="a redirect to the stored weekly operations report of that week")
@require_GET
def ops_review_download(request, week: str, fmt: str):
    monday = weekly_report.parse_week(week)
    if monday is None:
        raise Http404("No export for that week")
    return redirect(reverse("reports:weekly_export", args=[weekly_report.week_label(monday), fmt]), permanent=True)


# --- SRE escalation ---------------------------------------------------------------------------------------


@audited_write(Case, view="escalate to SRE")
@require_http_methods(["GET", "POST"])
def sre(request, key: str):
    """GET: the form (why, the responder to grant temporary access, for how long); POST: escalate."""
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="escalate to SRE")
    error, status = "", 200
    values = {"reason": "", "responder": "", "hours": settings.SRE_ACCESS_HOURS}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip()[:300] for k in values}
        status = 422
        User = get_user_model()
        responder = None
        if values["responder"]:
            responder = User.objects.filter(username=values["responder"], is_active=True).first()
            if responder is None:
                error = f"No active user {values['responder']!r}."
        if not error:
            try:
                escalation, new = sre_services.sre_escalate(
                    tenant_id=case.tenant_id,
                    actor=request.user,
                    case_id=case.pk,
                    reason=values["reason"],
                    responder=responder,
                    hours=values["hours"] or None,
                )
            except services.EscalationError as error_:
                error = str(error_)
            else:
                text = "Escalated to SRE" if new else "Attached to the open SRE escalation"
                messages.success(request, f"{text}: {escalation.incident.key}.")
                return redirect(case.get_absolute_url())
    context = {"case": case, "values": values, "error": error, "max_hours": MAX_HOURS}
    return render(request, "incidents/escalations/sre.html", context, status=status)


# --- the shift handoff report ------------------------------------------------------------------------------


@audited_read(Case, view="shift handoff report")
@require_GET
def shift_handoff(request):
    team = Team.objects.filter(slug=request.GET.get("team", "")[:60]).first() if request.GET.get("team") else None
    report = shifts.handoff_report(request.user, team=team)
    audit.log_list_access(
        Case,
        [c.pk for c in report["urgent"] + report["waiting"]],
        view="shift handoff report",
        query=request.GET.urlencode(),
    )
    context = {
        "report": report,
        "team": team,
        "teams": Team.objects.order_by("name"),
        "shifts": SupportShift.objects.select_related("team").order_by("team__name", "starts_at"),
    }
    return render(request, "incidents/escalations/handoff.html", context)
