"""Thin views of the incident pages: parse, call one service or selector, render. The same URL
answers a full page or, for an HTMX request, the page's partial (the list's #results). Writes are
plain POST forms that come back to the incident page; a refusal re-renders the page with the
message and a 422 (a stale write: 409), keeping what the user typed."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cases.models import Case
from companyos import audit
from companyos.access import audited_read, audited_write
from companyos.htmx import htmx_partial, partial
from tenants.selectors import tenant_visible_to

from . import selectors, services
from .choices import ACTIVE, SEVERITY_HELP, TRANSITIONS, ActionStatus, Role, transition_label
from .customer_templates import TEMPLATES, VARIABLES
from .filtersets import SORTS, IncidentFilterSet
from .forms import (
    ActionForm,
    ActionStatusForm,
    CustomerUpdateForm,
    DeclareForm,
    EditForm,
    LinkCasesForm,
    PostmortemForm,
    ResolveForm,
    RoleForm,
    SeverityForm,
    StatusForm,
    UnlinkForm,
    UpdateForm,
    share_people,
)
from .models import Incident
from .oncall.selectors import pages_of_incident

PAGE_SIZE = 50
TEMPLATE = "incidents/incident_detail.html"


def _errors(form) -> str:
    return " ".join(e for errs in form.errors.values() for e in errs)


def _clean_query(params) -> str:
    query = params.copy() if isinstance(params, QueryDict) else QueryDict(mutable=True)
    for key in list(query):
        if all(v == "" for v in query.getlist(key)):
            del query[key]
    query.pop("page", None)
    return query.urlencode()


# --- the list ----------------------------------------------------------------------------------------


@audited_read(Incident, view="incident list")
@require_GET
@vary_on_headers("HX-Request")
def incident_list(request):
    filterset = IncidentFilterSet(request.GET, queryset=selectors.incident_list(request.user), request=request)
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    if not filterset.narrows:  # the whole list: counted off the reach rows, not by joining every incident
        paginator.count = selectors.incident_list_count(request.user)
    page = paginator.get_page(request.GET.get("page"))
    query = _clean_query(request.GET)
    audit.log_list_access(Incident, [i.pk for i in page.object_list], view="incident list", query=query)
    context = {
        "filterset": filterset,
        "page": page,
        "query": query,
        "sort": filterset.sort_key,
        "sorts": [(k, label) for k, (_, label) in SORTS.items()],
        "declare_form": DeclareForm(),
    }
    response = render(request, partial(request, "incidents/incident_list.html", "results"), context)
    if htmx_partial(request):
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
    return response


@audited_write(Incident, view="declare incident")
@require_POST
def incident_declare(request):
    form = DeclareForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("incidents:list")
    data = form.cleaned_data
    tenants = []
    if data["tenant"]:
        tenant = tenant_visible_to(request.user).filter(slug=data["tenant"].strip()).first()
        if tenant is None:
            audit.log_denied(Incident, "new", path=request.path, reason="declare for a tenant not visible")
            messages.error(request, f"No tenant {data['tenant']!r} that you can see.")
            return redirect("incidents:list")
        tenants = [tenant]
    try:
        incident = services.incident_declare(
            actor=request.user,
            title=data["title"],
            severity=data["severity"],
            summary=data["summary"],
            comms_channel=data["comms_channel"],
            tenants=tenants,
        )
    except services.IncidentError as error:
        messages.error(request, str(error))
        return redirect("incidents:list")
    messages.success(request, f"Declared {incident.key}.")
    return redirect(incident.get_absolute_url())


# --- the incident page ---------------------------------------------------------------------------------


def _page_context(request, incident: Incident, **extra) -> dict:
    linked = selectors.linked_cases(request.user, incident, page=request.GET.get("cases_page", 1))
    context = {
        "incident": incident,
        "transitions": [(to, transition_label(incident.status, to)) for to in TRANSITIONS[incident.status]],
        "timeline": selectors.incident_timeline(
            request.user, incident, only=request.GET.get("show", "all"), before=request.GET.get("before")
        ),
        "before": request.GET.get("before"),
        "show": request.GET.get("show", "all"),
        "linked": linked,
        "pages": pages_of_incident(incident.pk),  # on-call (incidents/oncall): this incident's pages
        "actions": selectors.incident_actions(incident),
        "radius": selectors.incident_blast_radius(request.user, incident),
        "affected": selectors.incident_tenants(request.user, incident),
        "severity_help": SEVERITY_HELP,
        "roles": Role.choices,
        "status_form": StatusForm(initial={"version": incident.version}),
        "severity_form": SeverityForm(initial={"version": incident.version, "severity": incident.severity}),
        "commander_form": RoleForm(
            initial={
                "role": Role.COMMANDER,
                "user": incident.commander.username if incident.commander else "",
                "version": incident.version,
            },
            prefix="commander",
        ),
        "comms_form": RoleForm(
            initial={
                "role": Role.COMMS_LEAD,
                "user": incident.comms_lead.username if incident.comms_lead else "",
                "version": incident.version,
            },
            prefix="comms",
        ),
        "update_form": UpdateForm(),
        "edit_form": EditForm(
            initial={
                "title": incident.title,
                "summary": incident.summary,
                "comms_channel": incident.comms_channel,
                "current_mitigation": incident.current_mitigation,
                "version": incident.version,
            }
        ),
        "postmortem_form": PostmortemForm(initial={"postmortem": incident.postmortem, "version": incident.version}),
        "link_form": LinkCasesForm(),
        "action_form": ActionForm(),
        "customer_form": CustomerUpdateForm(initial={"template": "status"}),
        "resolve_form": ResolveForm(initial={"version": incident.version, "resolve_cases": True}),
        "templates": TEMPLATES.values(),
        "variables": VARIABLES,
        "active": incident.status in ACTIVE,
        "now_marker": timezone.now(),
        "action_statuses": ActionStatus.choices,
    }
    context.update(extra)
    share_people(
        context["commander_form"].fields["user"],
        context["comms_form"].fields["user"],
        context["action_form"].fields["owner"],
    )
    return context


def _show(request, incident: Incident, *, view: str, status: int = 200, **extra):
    context = _page_context(request, incident, **extra)
    audit.log_access(incident, view=view, extra={"status": status} if status != 200 else None)
    audit.log_list_access(Case, [c.pk for c in context["linked"]["cases"]], view=f"{view}: linked cases")
    return render(request, TEMPLATE, context, status=status)


@audited_read(Incident, view="incident page")
@require_GET
@vary_on_headers("HX-Request")
def incident_detail(request, key: str):
    incident = selectors.incident_get_for_user(request.user, key, path=request.path)
    return _show(request, incident, view="incident page")


@audited_read(Incident, view="incident timeline")
@require_GET
def incident_timeline(request, key: str):
    """The timeline's older entries (the "Older entries" button, by HTMX): the TIMELINE_ROWS before
    `before`, and the next button when there are more."""
    incident = selectors.incident_get_for_user(request.user, key, path=request.path)
    show = request.GET.get("show", "all")
    timeline = selectors.incident_timeline(request.user, incident, only=show, before=request.GET.get("before"))
    audit.log_access(incident, view="incident timeline")
    context = {"incident": incident, "timeline": timeline, "show": show, "before": request.GET.get("before")}
    return render(request, f"{TEMPLATE}#timeline-entries", context)


def _refused(request, key: str, error: Exception, **extra):
    incident = selectors.incident_get_for_user(request.user, key, path=request.path)
    status = 409 if isinstance(error, services.IncidentConflict) else 422
    return _show(request, incident, view="incident page: refused", status=status, error=str(error), **extra)


def _done(incident_or_key, message: str):
    key = incident_or_key if isinstance(incident_or_key, str) else incident_or_key.key
    return redirect(f"/incidents/{key}/")


def _write(request, key: str, form_class, call, *, success, form_name: str = "", prefix: str | None = None):
    """The shape of every write on the incident page: see the incident (404 + audit otherwise),
    validate the form (422 with the page), call the service, come back to the page with the message."""
    incident = selectors.incident_get_for_user(request.user, key, path=request.path)
    form = form_class(request.POST, prefix=prefix) if prefix else form_class(request.POST)
    if not form.is_valid():
        return _refused(request, key, services.IncidentError(_errors(form)), **({form_name: form} if form_name else {}))
    try:
        result = call(incident, form.cleaned_data, form)
    except services.IncidentError as error:
        return _refused(request, key, error, **({form_name: form} if form_name else {}))
    messages.success(request, success(result) if callable(success) else success)
    return _done(incident, "")


@audited_write(Incident, view="incident status")
@require_POST
def incident_status(request, key: str):
    def call(incident, data, form):
        return services.incident_update_status(
            incident_id=incident.pk,
            actor=request.user,
            to=data["to"],
            expected_version=data["version"],
            note=data["note"],
            public=data["public"],
        )

    return _write(request, key, StatusForm, call, success=lambda i: f"{i.key} is now {i.get_status_display()}.")


@audited_write(Incident, view="incident severity")
@require_POST
def incident_severity(request, key: str):
    def call(incident, data, form):
        return services.incident_set_severity(
            incident_id=incident.pk, actor=request.user, severity=data["severity"], expected_version=data["version"]
        )

    return _write(request, key, SeverityForm, call, success=lambda i: f"{i.key} is now {i.severity}.")


@audited_write(Incident, view="incident role")
@require_POST
def incident_role(request, key: str):
    prefix = "comms" if "comms-role" in request.POST else "commander"

    def call(incident, data, form):
        return services.incident_assign_role(
            incident_id=incident.pk,
            actor=request.user,
            role=data["role"],
            user=data["user"],
            expected_version=data["version"],
        )

    return _write(request, key, RoleForm, call, success="Role updated.", prefix=prefix)


@audited_write(Incident, view="incident update")
@require_POST
def incident_update(request, key: str):
    def call(incident, data, form):
        return services.incident_post_update(
            incident_id=incident.pk, actor=request.user, body=data["body"], public=data["public"]
        )

    return _write(
        request,
        key,
        UpdateForm,
        call,
        success=lambda e: "Update published." if e.public else "Internal note added.",
        form_name="update_form",
    )


@audited_write(Incident, view="incident edit")
@require_POST
def incident_edit(request, key: str):
    def call(incident, data, form):
        values = {k: data[k] for k in ("title", "summary", "comms_channel", "current_mitigation")}
        return services.incident_edit(
            incident_id=incident.pk, actor=request.user, expected_version=data["version"], **values
        )

    return _write(request, key, EditForm, call, success="Saved.", form_name="edit_form")


@audited_write(Incident, view="incident postmortem")
@require_POST
def incident_postmortem(request, key: str):
    def call(incident, data, form):
        return services.incident_edit(
            incident_id=incident.pk, actor=request.user, expected_version=data["version"], postmortem=data["postmortem"]
        )

    return _write(request, key, PostmortemForm, call, success="Postmortem saved.", form_name="postmortem_form")


@audited_write(Incident, view="incident link cases")
@require_POST
def incident_link(request, key: str):
    def call(incident, data, form):
        return services.incident_link_cases(incident_id=incident.pk, actor=request.user, case_ids=data["cases"])

    return _write(request, key, LinkCasesForm, call, success=lambda r: r.summary + ".", form_name="link_form")


@audited_write(Incident, view="incident unlink case")
@require_POST
def incident_unlink(request, key: str):
    def call(incident, data, form):
        return services.incident_unlink_case(
            incident_id=incident.pk, actor=request.user, case_id=data["case"], reason=data["reason"]
        )

    response = _write(request, key, UnlinkForm, call, success="Case unlinked.")
    back = request.POST.get("next", "")
    if response.status_code == 302 and back.startswith("/cases/") and "//" not in back:
        return redirect(back)
    return response


@audited_write(Incident, view="corrective action")
@require_POST
def incident_action_add(request, key: str):
    def call(incident, data, form):
        return services.corrective_action_add(
            incident_id=incident.pk,
            actor=request.user,
            title=data["title"],
            owner=data["owner"],
            due_on=data["due_on"],
            case_id=data["case"],
        )

    return _write(request, key, ActionForm, call, success="Corrective action added.", form_name="action_form")


@audited_write(Incident, view="corrective action status")
@require_POST
def incident_action_status(request, key: str, pk: int):
    def call(incident, data, form):
        if not incident.actions.filter(pk=pk).exists():
            raise services.IncidentError("No such corrective action on this incident.")
        return services.corrective_action_update(
            action_id=pk, actor=request.user, status=data["status"], expected_version=data["version"]
        )

    return _write(request, key, ActionStatusForm, call, success="Action updated.")


# --- customer update to every linked case, and resolving ---------------------------------------------


@audited_write(Incident, view="incident customer update")
@require_POST
def incident_customers(request, key: str):
    """Preview (no `confirm`): the update rendered for the first linked open cases, and how many will
    get it. Confirmed: queued, one public reply per open linked case (sent after commit)."""
    incident = selectors.incident_get_for_user(request.user, key, path=request.path)
    form = CustomerUpdateForm(request.POST)
    if not form.is_valid():
        return _refused(request, key, services.IncidentError(_errors(form)), customer_form=form, open_tab="customers")
    data = form.cleaned_data
    text = form.template_text()
    if not data["confirm"]:
        linked = selectors.linked_cases(request.user, incident)
        sample = [c for c in linked["cases"] if c.is_open][:3]
        try:
            previews = services.preview_customer_update(
                incident=incident, cases=_with_people(sample), text=text, extra=form.extra()
            )
        except services.IncidentError as error:
            return _refused(request, key, error, customer_form=form, open_tab="customers")
        return _show(
            request,
            incident,
            view="incident page: customer update preview",
            customer_form=form,
            previews=previews,
            preview_text=text,
            open_tab="customers",
        )
    try:
        entry = services.incident_customer_update(
            incident_id=incident.pk,
            actor=request.user,
            text=text,
            extra=form.extra(),
            publish=data["publish"],
            template=data["template"],
        )
    except services.IncidentError as error:
        return _refused(request, key, error, customer_form=form, open_tab="customers")
    messages.success(request, f"Customer update queued for {entry.data['cases']} open linked case(s): one reply each.")
    return _done(incident, "")


def _with_people(cases):
    return list(Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("tenant", "requester").order_by("pk"))


@audited_write(Incident, view="incident resolve")
@require_POST
def incident_resolve(request, key: str):
    """Resolve, optionally with the linked open cases: without `confirm` the page shows what will
    happen (how many cases, the resolution text for one); confirmed, it is done."""
    incident = selectors.incident_get_for_user(request.user, key, path=request.path)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _refused(request, key, services.IncidentError(_errors(form)), resolve_form=form)
    data = form.cleaned_data
    if not data["confirm"]:
        linked = selectors.linked_cases(request.user, incident)
        sample = [c for c in linked["cases"] if c.is_open][:1]
        previews = []
        if data["resolve_cases"] and sample:
            try:
                previews = services.preview_customer_update(
                    incident=incident, cases=_with_people(sample), text=TEMPLATES["resolution"].text, extra=form.extra()
                )
            except services.IncidentError as error:
                return _refused(request, key, error, resolve_form=form)
        return _show(
            request,
            incident,
            view="incident page: resolve confirmation",
            resolve_form=form,
            resolve_preview=previews,
            confirming_resolve=True,
        )
    try:
        result = services.incident_resolve(
            incident_id=incident.pk,
            actor=request.user,
            expected_version=data["version"],
            note=data["note"],
            resolve_cases=data["resolve_cases"],
            extra=form.extra(),
        )
    except services.IncidentError as error:
        return _refused(request, key, error, resolve_form=form)
    text = f"{incident.key} resolved."
    if data["resolve_cases"]:
        text += f" {len(result.resolved)} linked case(s) resolved."
        if result.not_visible:
            text += f" {result.not_visible} case(s) of tenants you do not see were left alone."
        if result.skipped:
            text += " Not moved: " + "; ".join(f"{k}: {v}" for k, v in list(result.skipped.items())[:10])
            messages.warning(request, text)
            return _done(incident, "")
    messages.success(request, text)
    return _done(incident, "")


@audited_read(Incident, view="incident picker")
@require_http_methods(["GET"])
def incident_picker(request):
    """The search picker (by key or title): options for a case page's "Link to incident"."""
    q = request.GET.get("q") or request.GET.get("incident", "")
    found = selectors.incident_search(request.user, q)
    audit.log_list_access(Incident, [i.pk for i in found], view="incident picker", query=q[:100])
    return render(request, "incidents/_picker.html", {"found": found, "case_key": request.GET.get("case", "")[:40]})
