"""The phone channel's pages (issue 11 point 5): the case page's Phone card (log a call, the
callbacks owed), and a new case from a phone call. The logic is in cases.channels.phone; the
timeline entry is written by cases.services.case_log_call."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from companyos import audit, pageview
from companyos.access import audited_write, covered_by_page_view
from companyos.htmx import htmx_partial
from tenants.selectors import tenant_visible_to

from . import services
from .channels import phone
from .models import Case
from .selectors import case_get_for_user, intake_tenant_ids
from .views import _after_write


def _card(request, case: Case, *, form=None, status: int = 200, message: str = "", error: str = ""):
    context = {
        "case": case,
        "call_form": form or phone.CallForm(),
        "rules": phone.phone_rules(case.tenant, case.priority),
        "callbacks": phone.callbacks_of(case),
        "message": message,
        "error": error,
    }
    return render(request, "cases/phone_card.html", context, status=status)


@audited_write(Case, view="case phone card")
@require_http_methods(["GET", "POST"])
def case_phone(request, key: str):
    """GET: the Phone card (loaded by the case page). POST: log a call on the case."""
    case = case_get_for_user(request.user, key, path=request.path)
    if request.method == "GET":
        if pageview.page_cid(request, case) is not None:  # loaded by the case page: its "viewed" covers this
            return covered_by_page_view(_card(request, case))
        audit.log_access(case, view="case page: phone card")
        return _card(request, case)
    form = phone.CallForm(request.POST)
    if not form.is_valid():
        audit.log_access(case, view="case page: phone card refused")
        return _card(request, case, form=form, status=422)
    try:
        entry = phone.log_call(case=case, actor=request.user, form=form)
    except services.CaseError as error:
        audit.log_access(case, view="case page: phone card refused")
        return _card(request, case, form=form, status=422, error=str(error))
    warning = "; ".join(entry.data["phone_flags"])
    # The whole page again (HTMX: HX-Location): the timeline, the SLA panel and the header changed.
    return _after_write(request, case.key, "Call logged." + (f" Recorded on the case: {warning}." if warning else ""))


@audited_write(Case, view="phone callback done")
@require_POST
def callback_done(request, key: str, pk: int):
    case = case_get_for_user(request.user, key, path=request.path)
    try:
        phone.callback_done(callback_id=int(pk), case_id=case.pk, actor=request.user)
    except services.CaseError as error:
        audit.log_access(case, view="case page: phone card refused")
        return _card(request, case, status=404 if isinstance(error, services.NotPermitted) else 422, error=str(error))
    if htmx_partial(request):
        audit.log_access(case, view="case page: after a callback")
        return _card(request, case, message="Callback marked done.")
    return _after_write(request, case.key, "Callback marked done.")


@audited_write(Case, view="phone intake")
@require_http_methods(["GET", "POST"])
def phone_case_create(request):
    """A new case from a phone call: the tenant, caller and subject, and the call itself."""
    tenants = tenant_visible_to(request.user).order_by("name")
    form = phone.PhoneCaseForm(request.POST or None, tenants=tenants, initial={"tenant": request.GET.get("tenant")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = phone.open_phone_case(actor=request.user, form=form)
            except services.CaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Opened {case.key} from the call.")
                return redirect(case)
        status = 422
    tenant = form.tenant_choice
    if tenant is not None:
        audit.log_access(tenant, view="phone intake")
    else:
        audit.log_list_access(type(tenants.model()), intake_tenant_ids(request.user), view="phone intake: tenants")
    priority = form["priority"].value()
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        priority = None
    rules = phone.phone_rules(tenant, priority) if tenant is not None else None
    context = {"form": form, "rules": rules, "rule": phone.triage.PHONE_RULE}
    return render(request, "cases/phone_case_form.html", context, status=status)
