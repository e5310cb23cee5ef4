"""The copilot's pages: the case page's panel (loaded by URL, like the incidents panel), the accept /
override buttons, and the managers' acceptance report with the admins' auto-apply settings."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.errors import CaseError
from cases.models import Case
from cases.selectors import case_get_for_user
from companyos import audit, pageview, roles
from companyos.access import audit_exempt, audited_read, audited_write, covered_by_page_view, no_data
from companyos.htmx import htmx_partial

from . import selectors, services
from .models import CopilotDecision

FIRST_ASSESSMENT = timedelta(minutes=5)  # seed 002, "Initial Assessment (First 5 Minutes)"
PANEL_ORDER = (
    "severity",
    "category",
    "issue_type",
    "environment",
    "security",
    "needs_info",
    "escalation",
    "close_as",
    "duplicate",
    "active_incident",
    "known_issue",
    "sentiment",
)


def _panel(request, case: Case, *, error: str = "", status: int = 200):
    assessment = selectors.assessment_for(case)
    if assessment is None:
        assessment = services.copilot_assess(case_id=case.pk, actor=request.user)
    decisions = selectors.decisions_for(case)
    proposals = assessment.data.get("proposals", {})
    visible = selectors.similar_for_panel(request.user, case, assessment)
    rows = []
    for field in PANEL_ORDER:
        p = proposals.get(field)
        if p is None:
            continue
        shown = selectors.priority_label(p["value"]) + f" ({p['value']})" if field == "severity" else p["value"]
        rows.append(
            {
                "field": field,
                "label": services.LABELS[field],
                "p": p,
                "shown": shown,
                "decision": decisions.get(field),
                "applies": field in services.APPLICABLE,
                "similar": _similar_rows(field, p, visible),
            }
        )
    deadline = case.created_at + FIRST_ASSESSMENT
    left = deadline - timezone.now()
    context = {
        "case": case,
        "a": assessment,
        "rows": rows,
        "checklist": assessment.data.get("checklist", []),
        "review": services.review_gates(case, assessment),
        "deadline": deadline,
        "minutes_left": max(0, int(left.total_seconds() // 60)),
        "seconds_left": max(0, int(left.total_seconds() % 60)),
        "overdue": left.total_seconds() < 0,
        "error": error,
        "pv": request.GET.get("pv", ""),
    }
    return render(request, "runbooks/copilot_panel.html", context, status=status)


def _similar_rows(field: str, proposal: dict, visible: dict[int, dict]) -> list[dict]:
    """The past cases behind a proposal that the viewer may see, with the label each carries for
    the field now (needs-info and close-as: as an agent decided it on that case)."""
    out = []
    for s in proposal.get("similar", []):
        c = visible.get(s["id"])
        if c is None:
            continue
        label = c["labels"].get(field, s["label"])
        out.append({**c, "sim": s["sim"], "label": label, "agrees": label == proposal["value"]})
    return out


@audited_read(Case, view="case page: copilot panel")
@require_GET
def case_panel(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    if pageview.page_cid(request, case) is not None:
        return covered_by_page_view(_panel(request, case))
    audit.log_access(case, view="case page: copilot panel")
    return _panel(request, case)


@audited_write(Case, view="copilot decision")
@require_POST
def case_decide(request, key: str):
    """Accept or override one proposal (one click; an override with its reason)."""
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="copilot decision")
    decision = request.POST.get("decision", "")
    if decision not in ("accept", "override"):
        return _panel(request, case, error="Choose accept or override.", status=422)
    field = request.POST.get("field", "")
    try:
        d = services.copilot_decide(
            case_id=case.pk,
            field=field,
            actor=request.user,
            accept=decision == "accept",
            value=request.POST.get("value", ""),
            reason=request.POST.get("reason", ""),
        )
    except CaseError as error:
        return _panel(request, case, error=str(error), status=422)
    if field in services.APPLICABLE and d.value:
        # The case itself changed (header, classification, timeline): the page reloads, as after a macro.
        if htmx_partial(request):
            response = no_data(HttpResponse(status=204))
            response["HX-Location"] = case.get_absolute_url()
            return response
        return no_data(redirect(case))
    return _panel(request, case)


@audited_write(Case, view="copilot refresh")
@require_POST
def case_refresh(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="copilot refresh")
    services.copilot_assess(case_id=case.pk, actor=request.user)
    return _panel(request, case)


def _report(request, *, error: str = "", message: str = "", status: int = 200):
    settings = selectors.settings_by_field()
    context = {
        "report": selectors.acceptance_report(),
        "auto_rows": [(f, settings.get(f)) for f in services.AUTO_FIELDS],
        "is_admin": roles.is_admin(request.user),
        "model": selectors.CopilotModel.objects.filter(tenant__isnull=True)
        .order_by("-version")
        .only("version", "trained_at", "examples", "seconds", "source")
        .first(),
        "tenant_models": selectors.tenant_models_in_use(),
        "tenant_min": services.tenant_min_confirmed(),
        "error": error,
        "message": message,
    }
    return render(request, "runbooks/copilot_report.html", context, status=status)


@audit_exempt(
    reason="acceptance counts per field and per rule, and which tenants have a model of their own (names only; "
    "managers and admins, who see every tenant): no case data",
    model=CopilotDecision,
)
@require_GET
def report(request):
    if not roles.sees_sla_dashboard(request.user):
        raise PermissionDenied("The copilot report is for managers and admins.")
    return _report(request)


@audit_exempt(reason="the copilot's auto-apply settings: no case or tenant data", model=CopilotDecision)
@require_POST
def settings_save(request):
    if not roles.sees_sla_dashboard(request.user):
        raise PermissionDenied("The copilot report is for managers and admins.")
    try:
        threshold = float(request.POST.get("threshold", "0.9"))
    except ValueError:
        return _report(request, error="The threshold is a number between 0.5 and 1.0.", status=422)
    try:
        services.copilot_setting_save(
            field=request.POST.get("field", ""),
            auto_apply=request.POST.get("auto_apply") == "on",
            threshold=threshold,
            actor=request.user,
        )
    except CaseError as error:
        return _report(request, error=str(error), status=422)
    return _report(request, message="Auto-apply saved.")
