"""The customer's closure pages (no sign-in: the signed link is the credential) and the case page's
Closure panel.

The customer pages show only the case key and the customer's own answer. A GET never changes
anything (mail scanners open links): "is this solved?" and the survey answer are POSTs of the page's
form. A tampered link answers 404, an expired one 410, an answer to a question already answered 409,
a bad value 422 with the form kept — never a 500."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companyos import audit, pageview, roles
from companyos.access import audit_exempt, audited_read, audited_write, covered_by_page_view
from tenants.models import Tenant

from ..errors import CaseConflict, CaseError
from ..models import Case
from ..selectors import case_get_for_user
from . import links, selectors, services
from .models import AutoClose, Closure
from .rules import CSAT_RANGE, NPS_RANGE, survey_editable

PUBLIC = "closure/public.html"
CUSTOMER_LINK = "a customer's signed link: shows only their own case's key and their own answer"


def _link_error(request, error: Exception):
    if isinstance(error, links.LinkExpired):
        return render(request, PUBLIC, {"page": "expired"}, status=410)
    return render(request, PUBLIC, {"page": "invalid"}, status=404)


@audit_exempt(reason=CUSTOMER_LINK)
@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    try:
        timer_id, stamp = links.read_confirm(token)
    except (links.LinkExpired, links.LinkInvalid) as error:
        return _link_error(request, error)
    timer = AutoClose.objects.select_related("case").filter(pk=timer_id).first()
    if timer is None or not links.same_instant(stamp, timer.resolved_at):
        return _link_error(request, links.LinkInvalid())
    context = {"page": "confirm", "key": timer.case.key, "answer": request.GET.get("answer", ""), "timer": timer}
    if request.method == "GET":
        if timer.state != AutoClose.State.PENDING:
            context["page"] = "confirm_done"
        return render(request, PUBLIC, context)
    answer = request.POST.get("answer", "")
    if answer not in ("yes", "no"):
        return render(request, PUBLIC, {**context, "error": "Choose yes or no."}, status=422)
    try:
        services.confirm(
            auto_close_id=timer.pk, stamp=stamp, solved=answer == "yes", comment=request.POST.get("comment", "")
        )
    except CaseConflict:
        return render(request, PUBLIC, {**context, "page": "confirm_done"}, status=409)
    except CaseError as error:
        return render(request, PUBLIC, {**context, "error": str(error)}, status=422)
    return render(request, PUBLIC, {**context, "page": "confirmed", "solved": answer == "yes"})


@audit_exempt(reason=CUSTOMER_LINK)
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    try:
        closure_id, stamp = links.read_survey(token)
    except (links.LinkExpired, links.LinkInvalid) as error:
        return _link_error(request, error)
    closure = Closure.objects.select_related("case").filter(pk=closure_id).first()
    if closure is None or not links.same_instant(stamp, closure.closed_at):
        return _link_error(request, links.LinkInvalid())
    now = timezone.now()
    context = {
        "page": "survey",
        "key": closure.case.key,
        "closure": closure,
        "editable": survey_editable(closure.first_answered_at, now),
        "csat_choices": list(CSAT_RANGE),
        "nps_choices": list(NPS_RANGE),
        "values": {
            "csat": str(closure.csat or ""),
            "nps": "" if closure.nps is None else str(closure.nps),
            "comment": closure.comment,
        },
    }
    if request.method == "GET":
        return render(request, PUBLIC, context)
    values = {name: request.POST.get(name, "") for name in ("csat", "nps", "comment")}
    try:
        answer = services.parse_answer(values)
        closure = services.survey_answer(closure_id=closure.pk, stamp=stamp, answer=answer, now=now)
    except CaseConflict as error:
        return render(request, PUBLIC, {**context, "error": str(error), "editable": False}, status=409)
    except CaseError as error:
        return render(request, PUBLIC, {**context, "error": str(error), "values": values}, status=422)
    return render(request, PUBLIC, {**context, "closure": closure, "page": "thanks"})


@audited_read(Case, view="closure panel")
@require_GET
def closure_panel(request, key: str):
    """The case page's Closure panel (lazy): auto-close date, resolution record, closures and surveys."""
    case = case_get_for_user(request.user, key, path=request.path)
    panel = selectors.closure_panel(case)
    response = render(request, "closure/_panel.html", {"case": case, "panel": panel})
    if pageview.page_cid(request, case) is not None:  # loaded by the case page: its "viewed" covers this
        return covered_by_page_view(response)
    audit.log_access(case, view="closure panel")
    return response


# --- SLA credits (seed 001 "Offer credit if SLA violated"): managers decide, the CSV goes to billing ---

CREDIT_STATES = {"pending": "Pending", "decided": "Decided", "all": "All"}
CREDIT_TEMPLATE = "closure/credits.html"


def _credit_state(request) -> str:
    state = request.GET.get("state", "pending")
    return state if state in CREDIT_STATES else "pending"


def _credits_forbidden(request, *, text: bool = False):
    audit.log_denied(Tenant, "list", path=request.path, reason="SLA credits are for managers and admins")
    if text:
        return HttpResponse("SLA credits are for managers and admins.\n", status=403, content_type="text/plain")
    return render(request, CREDIT_TEMPLATE, {"forbidden": True}, status=403)


def _credit_page(request, *, status: int = 200, error: str = "", message: str = ""):
    state = _credit_state(request)
    rows = list(selectors.credits_visible_to(request.user, state=state)[:CREDIT_PAGE])
    audit.log_list_access(Tenant, sorted({r.tenant_id for r in rows}), view="sla credits", query=f"state={state}")
    context = {"rows": rows, "state": state, "states": CREDIT_STATES, "error": error, "message": message}
    return render(request, CREDIT_TEMPLATE, context, status=status)


CREDIT_PAGE = 200


@audited_read(Tenant, view="sla credits")
@require_GET
def credit_list(request):
    if not roles.sees_sla_dashboard(request.user):
        return _credits_forbidden(request)
    return _credit_page(request)


@audited_write(Tenant, view="sla credit decision")
@require_POST
def credit_decide(request, pk: int):
    if not roles.sees_sla_dashboard(request.user):
        return _credits_forbidden(request)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "decline"):
        return _credit_page(request, status=422, error="Choose approve or decline.")
    visible = selectors.credits_visible_to(request.user, state="all").filter(pk=pk).exists()
    if not visible:
        return _credit_page(request, status=404, error="That credit does not exist or is not visible to you.")
    try:
        closure = services.credit_decide(
            closure_id=pk, actor=request.user, approve=decision == "approve", note=request.POST.get("note", "")
        )
    except CaseConflict as error:
        return _credit_page(request, status=409, error=str(error))
    except CaseError as error:
        return _credit_page(request, status=422, error=str(error))
    return _credit_page(request, message=f"{closure.get_credit_display()} for {closure.case.key}.")


@audited_read(Tenant, view="sla credits export")
@require_GET
def credit_csv(request):
    if not roles.sees_sla_dashboard(request.user):
        return _credits_forbidden(request, text=True)
    state = _credit_state(request)
    rows = list(selectors.credits_visible_to(request.user, state=state))
    audit.log_list_access(
        Tenant, sorted({r.tenant_id for r in rows}), view="sla credits export", query=f"state={state}"
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-credits-{state}.csv"'
    writer = csv.writer(response)
    writer.writerow(["case", "tenant", "closed_at", "closed_how", "credit", "decided_by", "decided_at", "note"])
    for r in rows:
        writer.writerow(
            [
                r.case.key,
                r.tenant.slug,
                r.closed_at.isoformat(),
                r.how,
                r.credit,
                r.credit_decided_by.get_username() if r.credit_decided_by else "",
                r.credit_decided_at.isoformat() if r.credit_decided_at else "",
                r.credit_note,
            ]
        )
    return response


@audited_write(Case, view="root cause with timeline")
@require_POST
def root_cause(request, key: str):
    """ "Root cause identified, timeline communicated" from the Closure panel (policy option)."""
    from .. import services as case_services

    case = case_get_for_user(request.user, key, path=request.path)
    error, status = "", 200
    try:
        case_services.case_root_cause(
            case_id=case.pk,
            actor=request.user,
            root_cause=request.POST.get("root_cause", ""),
            timeline=request.POST.get("timeline", ""),
        )
    except CaseConflict as exc:
        error, status = str(exc), 409
    except CaseError as exc:
        error, status = str(exc), 422
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="closure panel: after root cause")
    context = {"case": case, "panel": selectors.closure_panel(case), "root_cause_error": error, "values": request.POST}
    if not error:
        context["root_cause_done"] = True
    return render(request, "closure/_panel.html", context, status=status)
