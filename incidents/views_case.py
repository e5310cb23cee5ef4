"""The incidents app's part of the case page (cases imports nothing of it): the Incidents panel the
case page loads by URL (hx-get, lazily: the case page's own query count stays as it was), linking
from the case (search picker, or the suggested active incident on its tenant or resources), and
declaring an incident from the case, prefilled."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cases.choices import Priority
from cases.models import Case
from cases.selectors import case_get_for_user
from companyos import audit, pageview
from companyos.access import audited_read, audited_write, covered_by_page_view, no_data
from companyos.converters import row_id
from companyos.htmx import htmx_partial

from . import selectors, services
from .choices import SEVERITY_HELP
from .forms import FromCaseForm
from .models import Incident
from .oncall.selectors import pages_of_case
from .oncall.tiers import TIERS, current_tier

PANEL = "incidents/case_panel.html"


def _panel(request, case: Case, *, status: int = 200, message: str = "", error: str = ""):
    incidents = selectors.case_incidents(case)
    # The detection hint only for a case on no incident yet (seed 002: "is this during an active incident?").
    hint = None if incidents else selectors.detection_hint(request.user, case)
    context = {
        "case": case,
        "incidents": incidents,
        "suggestions": selectors.link_suggestions(case),
        "hint": hint,
        "hint_severity": selectors.severity_for_case(case) if hint else "",
        "message": message,
        "error": error,
        "pv": request.GET.get("pv", ""),
        "pages": pages_of_case(case.pk),  # on-call (incidents/oncall): this case's pages
        "tier": current_tier(case),  # its support tier (incidents/oncall/tiers.py)
        "tiers": TIERS,
    }
    return render(request, PANEL, context, status=status)


@audited_read(Case, view="case page: incident panel")
@require_http_methods(["GET"])
def case_panel(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    if pageview.page_cid(request, case) is not None:  # loaded by the case page: its "viewed" covers this
        return covered_by_page_view(_panel(request, case))
    audit.log_access(case, view="case page: incident panel")
    return _panel(request, case)


@audited_write(Case, view="case page: link incident")
@require_POST
def case_link(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    value = (request.POST.get("incident") or "").strip()[:40]
    pk = selectors.parse_incident_key(value) or row_id(value)
    incident = selectors.incident_visible_to(request.user).filter(pk=pk).first() if pk else None
    error, text = "", ""
    if incident is None:
        audit.log_denied(Incident, value or "none", path=request.path, reason="link to an incident not visible")
        error = f"{value or 'That'} is not an incident you can see (e.g. INC-12)."
    else:
        try:
            result = services.incident_link_cases(incident_id=incident.pk, actor=request.user, case_ids=[case.pk])
            text = f"Linked to {incident.key}." if result.changed else next(iter(result.skipped.values()), "")
        except services.IncidentError as error_:
            error = str(error_)
    audit.log_access(case, view="case page: incident panel after link")
    if htmx_partial(request):
        response = _panel(request, case, status=422 if error else 200, message=text, error=error)
        if not error:
            response["HX-Trigger"] = "case-changed"
        return response
    (messages.error if error else messages.success)(request, error or text)
    return redirect(case.get_absolute_url())


@audited_write(Case, view="declare incident from case")
@require_http_methods(["GET", "POST"])
def declare_from_case(request, key: str):
    """GET: the form, prefilled from the case (title, severity from the admins' mapping of its
    priority, summary from its description); POST: declare, link, go to the incident."""
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="declare incident from case")
    severity = selectors.severity_for_case(case)
    if request.method == "GET":
        form = FromCaseForm(initial={"title": case.subject, "severity": severity, "summary": case.description[:2000]})
        status, error = 200, ""
    else:
        form = FromCaseForm(request.POST)
        error = ""
        if form.is_valid():
            try:
                incident = services.incident_declare_from_case(
                    case_id=case.pk,
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    severity=form.cleaned_data["severity"],
                    summary=form.cleaned_data["summary"],
                )
            except services.IncidentError as error_:
                error = str(error_)
            else:
                text = f"Declared {incident.key} from {case.key}; the case is linked."
                hint = selectors.detection_hint(request.user, case) if request.POST.get("link_similar") else None
                if hint and hint["cases"]:
                    linked = services.incident_link_cases(
                        incident_id=incident.pk, actor=request.user, case_ids=[c.pk for c in hint["cases"]]
                    )
                    text += f" Similar cases: {linked.summary}."
                messages.success(request, text)
                return redirect(incident.get_absolute_url())
        status = 422
    context = {
        "case": case,
        "form": form,
        "error": error,
        "mapped": severity,
        "priority": Priority(case.priority).label,
        "mapping": [(Priority(p).label, s) for p, s in selectors.severity_mapping()],
        "severity_help": SEVERITY_HELP,
        "resources": list(case.affected_resources.all()),
    }
    return render(request, "incidents/declare_from_case.html", context, status=status)


# --- the queue's detection hints (loaded by the queue page by URL, after it has rendered) -----------------


@audited_read(Case, view="queue: incident hints")
@require_http_methods(["GET"])
def queue_hints(request):
    """The queue's "possible incident" hints: a fragment the queue page loads lazily (hx-get), so its
    own statement count stays pinned; the cases it names are audited as a list view."""
    hints = selectors.queue_hints(request.user)
    named = [row["pk"] for hint in hints for row in hint["cases"]]
    response = render(request, "incidents/queue_hints.html", {"hints": hints})
    if named:
        audit.log_list_access(Case, named, view="queue: incident hints")
        return response
    return no_data(response)


@audited_write(Case, view="declare incident from a detection hint")
@require_POST
def declare_from_hint(request):
    """One click: declare an incident from the hint's earliest case and link all the others."""
    ids = [row_id(v) for v in request.POST.getlist("case")[:200]]
    ids = [pk for pk in ids if pk]
    try:
        incident, linked = services.incident_declare_and_link(case_ids=ids, actor=request.user)
    except services.IncidentNotPermitted as error:
        audit.log_denied(Case, ",".join(map(str, ids))[:100] or "none", path=request.path, reason=str(error))
        messages.error(request, str(error))
        return redirect("cases:list")
    except services.IncidentError as error:
        messages.error(request, str(error))
        return redirect("cases:list")
    messages.success(request, f"Declared {incident.key}; {linked.summary} besides the first.")
    return redirect(incident.get_absolute_url())
