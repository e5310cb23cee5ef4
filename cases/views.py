"""Thin views: parse, call one service or selector, render. The same URL answers a full page or,
for an HTMX request, the page's partial."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from companyos import audit
from companyos.htmx import htmx_partial, is_embedded, partial

from . import bulk, services
from .choices import Priority, Status, WaitingFor, transition_label
from .filtersets import SORTS, CaseFilterSet
from .forms import (
    AssignForm,
    AttachmentForm,
    BulkForm,
    CaseCreateForm,
    ClassificationForm,
    ReplyForm,
    ResourcesForm,
    SavedViewForm,
    TagForm,
    TransitionForm,
)
from .models import Case, SavedView
from .selectors import (
    assignable_users,
    attachment_get_for_user,
    capped_count,
    case_affected_resources,
    case_attachments,
    case_audit_entries,
    case_context_get,
    case_get_for_user,
    case_queue,
    case_tag_list,
    case_timeline,
    cases_visible_by_ids,
    latest_context,
    requester_card,
    requesters_of,
    resource_choices,
    saved_views_counted,
    saved_views_for,
    teams,
    tenant_for_intake,
    user_id_by_username,
)
from .sla import selectors as sla_selectors
from .triage import entitlement_flags

# --- the triage queue -------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts at most `cap` rows: a million-case queue pages without a full count."""

    capped = False

    def __init__(self, *args, cap: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = cap

    @cached_property
    def count(self):
        n, self.capped = capped_count(self.object_list, self.cap)
        return n


def _errors_text(form) -> str:
    """Every error of a bound form as one sentence, for a message or a refusal."""
    return " ".join(error for errors in form.errors.values() for error in errors)


def _queue_context(request):
    filterset = CaseFilterSet(request.GET, queryset=case_queue(request.user), request=request)
    searching = bool(request.GET.get("q", "").strip())
    cap = settings.SEARCH_COUNT_CAP if searching else settings.QUEUE_COUNT_CAP
    paginator = CappedPaginator(filterset.qs, settings.QUEUE_PAGE_SIZE, cap=cap)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filterset": filterset,
        "page": page,
        "paginator": paginator,
        "query": query.urlencode(),
        "sorts": [(key, label) for key, (_, label) in SORTS.items()],
        "sort": filterset.sort_key,
        "statuses": Status.choices,
        "waiting_choices": WaitingFor.choices,
        "assignees": assignable_users(),
        # Embedded elsewhere (the tenant console's Cases panel), paging must not move the address bar.
        "push_url": not is_embedded(request, "/cases/"),
    }


@require_GET
@vary_on_headers("HX-Request")
def case_list(request):
    context = _queue_context(request)
    audit.log_list_access(Case, [case.pk for case in context["page"].object_list], view="queue", query=context["query"])
    if htmx_partial(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "cases/case_list.html#results", context)
    context["saved_views"] = saved_views_for(request.user)
    context["view_form"] = SavedViewForm(user=request.user, initial={"query": context["query"]})
    return render(request, "cases/case_list.html", context)


@require_GET
def saved_view_counts(request):
    """The saved views with their counts, loaded after the queue so counting never slows it."""
    views = saved_views_counted(request.user, request=request)
    return render(
        request,
        "cases/case_list.html#saved-views",
        {"saved_views": views, "counted": True, "query": request.GET.get("current", "")},
    )


@require_POST
def saved_view_create(request):
    form = SavedViewForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return redirect(f"{request.path.rsplit('views/', 1)[0]}?{request.POST.get('query', '')}")
    data = form.cleaned_data
    try:
        view = services.saved_view_create(
            actor=request.user, name=data["name"], query=data["query"], shared=data.get("shared", False)
        )
    except services.CaseError as error:
        return HttpResponse(str(error), status=403)
    messages.success(request, f"Saved view “{view.name}”.")
    return redirect(f"/cases/?{view.query}" if view.query else "/cases/")


@require_POST
def saved_view_delete(request, pk: int):
    try:
        view = services.saved_view_delete(view_id=pk, actor=request.user)
    except SavedView.DoesNotExist:
        raise Http404("No such saved view") from None
    except services.CaseError as error:
        return HttpResponse(str(error), status=403)
    messages.success(request, f"Deleted view “{view.name}”.")
    return redirect("cases:list")


@require_POST
def case_bulk(request):
    data = request.POST.copy()
    data["ids"] = ",".join(request.POST.getlist("id") or [request.POST.get("ids", "")])
    form = BulkForm(data)
    back = request.POST.get("next") or "/cases/"
    if not back.startswith("/"):
        back = "/cases/"
    if not form.is_valid():
        errors = _errors_text(form)
        if htmx_partial(request):
            return render(request, "cases/bulk_confirm.html#dialog", {"error": errors}, status=422)
        messages.error(request, errors)
        return redirect(back)
    cases = cases_visible_by_ids(request.user, form.cleaned_data["ids"])
    unseen = len(form.cleaned_data["ids"]) - len(cases)
    if unseen:
        for pk in set(form.cleaned_data["ids"]) - {c.pk for c in cases}:
            audit.log_denied(Case, pk, path=request.path, reason="bulk action on a case not visible")
    action, value = form.cleaned_data["action"], form.value
    if not form.cleaned_data["confirm"]:
        audit.log_list_access(Case, [c.pk for c in cases], view="bulk confirmation")
        context = {
            "form": form,
            "cases": cases,
            "count": len(cases),
            "unseen": unseen,
            "action": action,
            "value": value,
            "value_label": _bulk_value_label(action, value),
            "ids": ",".join(str(c.pk) for c in cases),
            "next": back,
        }
        return render(request, partial(request, "cases/bulk_confirm.html", "dialog"), context)
    result = bulk.case_bulk(
        cases=cases,
        actor=request.user,
        action=action,
        value=value,
        waiting_for=form.cleaned_data["waiting_for"],
        waiting_note=form.cleaned_data["waiting_note"],
    )
    messages.success(
        request,
        result.summary
        + "."
        + (
            ""
            if not result.skipped
            else " Skipped: " + "; ".join(f"{k}: {v}" for k, v in list(result.skipped.items())[:5])
        ),
    )
    response = redirect(back)
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = back
    return response


def _bulk_value_label(action, value):
    if action == "assign":
        return f"assign to {value.get_username()}" if value else "unassign"
    if action == "status":
        return f"move to {Status(value).label}"
    return f"add tag “{value}”"


# --- intake -------------------------------------------------------------------------------------------


def case_create(request):
    form = CaseCreateForm(request.POST or None, user=request.user, initial={"tenant": request.GET.get("tenant")})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_create(
                    actor=request.user,
                    **{
                        k: data[k]
                        for k in (
                            "tenant",
                            "requester",
                            "subject",
                            "description",
                            "channel",
                            "priority",
                            "affected_resources",
                        )
                    },
                    **form.classification,
                )
            except services.CaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Opened {case.key}.")
                return redirect(case)
        return render(request, "cases/case_form.html", {"form": form}, status=422)
    return render(request, "cases/case_form.html", {"form": form})


@require_GET
def intake_entitlements(request):
    """The intake form's entitlement check: what the chosen channel needs that the tenant's plan
    doesn't include (the case can still be opened; the flag stays on it)."""
    tenant = tenant_for_intake(request.user, request.GET.get("tenant", ""))
    flags = entitlement_flags(tenant.entitlements, channel=request.GET.get("channel", "")) if tenant else []
    return render(request, "cases/case_form.html#entitlements", {"entitlement_flags": flags, "tenant": tenant})


@require_GET
def resource_options(request):
    """The intake form's affected-resource choices: the chosen tenant's resources."""
    tenant = tenant_for_intake(request.user, request.GET.get("tenant", ""))
    resources = resource_choices(tenant) if tenant is not None else []
    if tenant is not None:
        audit.log_access(tenant, view="intake: resource list")
    return render(request, "cases/case_form.html#resource-options", {"resources": resources, "tenant": tenant})


@require_GET
def requester_options(request):
    tenant = tenant_for_intake(request.user, request.GET.get("tenant", ""))
    requesters = requesters_of(tenant)
    if tenant is not None:
        audit.log_access(tenant, view="intake: requester list")
    return render(request, "cases/case_form.html#requester-options", {"requesters": requesters, "tenant": tenant})


# --- the case page --------------------------------------------------------------------------------------


def _case_context(request, case: Case, **extra) -> dict:
    only = request.GET.get("show", "all")
    affected = case_affected_resources(case)
    unset = set(case.unclassified or ())
    context = {
        "case": case,
        "timeline": case_timeline(case, only=only),
        "show": only,
        "transitions": [(to, transition_label(case.status, to)) for to in case.allowed_transitions],
        "reply_form": ReplyForm(),
        "classify_form": ClassificationForm(
            initial={
                "version": case.version,
                "priority": case.priority_slug,
                **{f: "" if f in unset else getattr(case, f) for f in ("category", "issue_type", "environment")},
            }
        ),
        "affected_resources": affected,
        "requester_card": (card := requester_card(case, affected)),
        "resource_options": card.resources,  # the Affected resources card's choices, read once
        "affected_ids": {r.pk for r in affected},
        "waiting_choices": WaitingFor.choices,
        "assign_form": AssignForm(
            initial={
                "owner": case.owner.username if case.owner_id else "",
                "team": case.team.slug if case.team_id else "",
            }
        ),
        "tag_form": TagForm(),
        "tags": case_tag_list(case),
        "attachments": case_attachments(case),
        "teams": teams(),
        "clock_rows": sla_selectors.clock_rows(case),
        "entitlement_flags": entitlement_flags(case.tenant.entitlements, channel=case.channel),
        "tab": "timeline",
    }
    context.update(extra)
    return context


@require_GET
@vary_on_headers("HX-Request")
def case_detail(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="case page")
    audit.log_access(case.tenant, view="case page tenant card")
    context = _case_context(request, case)
    if htmx_partial(request) and request.headers.get("HX-Target") in ("timeline", "sla-panel"):
        return render(request, f"cases/case_detail.html#{request.headers['HX-Target']}", context)
    return render(request, "cases/case_detail.html", context)


@require_GET
def case_audit(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="audit tab")
    page = Paginator(case_audit_entries(case), 50).get_page(request.GET.get("page"))
    context = _case_context(request, case, tab="audit", audit_page=page)
    return render(request, partial(request, "cases/case_detail.html", "audit"), context)


def _after_write(request, case_key: str, message: str):
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Location"] = f"/cases/{case_key}/"
        messages.success(request, message)
        return response
    messages.success(request, message)
    return redirect("cases:detail", key=case_key)


def _refused(
    request, case: Case, error: services.CaseError, *, region: str = "actions", status: int | None = None, **extra
):
    status = status or (409 if isinstance(error, services.CaseConflict) else 422)
    fresh = case_get_for_user(request.user, case.key, path=request.path)
    context = _case_context(request, fresh, error=str(error), error_region=region, **extra)
    if htmx_partial(request):
        return render(request, f"cases/case_detail.html#{region}", context, status=status)
    return render(request, "cases/case_detail.html", context, status=status)


@require_POST
def case_reply(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(
            request,
            case,
            services.CaseError(_errors_text(form)),
            region="composer",
            reply_form=form,
        )
    files = [form.cleaned_data["attachment"]] if form.cleaned_data.get("attachment") else []
    try:
        services.case_reply(
            case_id=case.pk, actor=request.user, body=form.cleaned_data["body"], public=form.public, files=files
        )
    except services.CaseError as error:
        return _refused(request, case, error, region="composer", reply_form=form)
    return _after_write(request, case.key, "Reply sent." if form.public else "Internal note added.")


@require_POST
def case_transition(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, services.CaseError("That status change is not valid."))
    to = form.cleaned_data["to"]
    try:
        services.case_transition(
            case_id=case.pk,
            to=to,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_status=form.cleaned_data["expected_status"],
            waiting_for=form.cleaned_data["waiting_for"],
            waiting_note=form.cleaned_data["waiting_note"],
        )
    except services.CaseError as error:
        return _refused(request, case, error)
    return _after_write(request, case.key, f"{case.key} is now {Status(to).label}.")


@require_POST
def case_assign(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    data = request.POST.copy()
    take = data.get("owner") == "me"
    if take:
        data["owner"] = request.user.get_username()
    form = AssignForm(data)
    if not form.is_valid():
        return _refused(request, case, services.CaseError("Choose an active agent and an existing team."))
    kwargs = {}
    if "owner" in request.POST:
        kwargs["owner"] = request.user if take else form.cleaned_data["owner"]
    if "team" in request.POST:
        kwargs["team"] = form.cleaned_data["team"]
    if "expected_owner" in request.POST:
        expected = request.POST["expected_owner"]
        kwargs["expected_owner_id"] = user_id_by_username(expected) if expected else None
    try:
        services.case_assign(case_id=case.pk, actor=request.user, **kwargs)
    except services.CaseError as error:
        return _refused(request, case, error)
    owner = kwargs.get("owner", case.owner)
    return _after_write(request, case.key, f"{case.key} is now owned by {owner.get_username() if owner else 'nobody'}.")


@require_POST
def case_classify(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = ClassificationForm(request.POST)
    if not form.is_valid():
        return _refused(
            request,
            case,
            services.CaseError("Check the classification: " + _errors_text(form)),
            region="classification",
            classify_form=form,
        )
    data = form.cleaned_data
    try:
        services.case_classify(
            case_id=case.pk,
            actor=request.user,
            expected_version=data["version"],
            reason=data["reason"],
            **{k: data[k] for k in ("priority", "category", "issue_type", "environment") if data[k] != ""},
        )
    except services.CaseError as error:
        return _refused(request, case, error, region="classification")
    return _after_write(request, case.key, f"Classification of {case.key} saved.")


@require_POST
def case_resources(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = ResourcesForm(request.POST, tenant=case.tenant)
    if not form.is_valid():
        return _refused(request, case, services.CaseError(_errors_text(form)), region="resources")
    try:
        services.case_set_resources(
            case_id=case.pk,
            actor=request.user,
            resources=form.cleaned_data["resources"],
            expected_version=form.cleaned_data["version"],
        )
    except services.CaseError as error:
        return _refused(request, case, error, region="resources")
    return _after_write(request, case.key, f"Affected resources of {case.key} saved.")


@require_POST
def case_tags(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = TagForm(request.POST)
    form.is_valid()
    try:
        services.case_tag(case_id=case.pk, actor=request.user, add=form.names("add"), remove=form.names("remove"))
    except services.CaseError as error:
        return _refused(request, case, error, region="classification")
    return _after_write(request, case.key, "Tags saved.")


@require_POST
def case_attach(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, case, services.CaseError("Choose a file to attach."), region="attachments")
    try:
        attachment = services.case_attach(case_id=case.pk, actor=request.user, upload=form.cleaned_data["file"])
    except services.CaseError as error:
        return _refused(request, case, error, region="attachments")
    return _after_write(request, case.key, f"Attached {attachment.filename}.")


@require_GET
def attachment_download(request, pk: int):
    attachment = attachment_get_for_user(request.user, pk, path=request.path)
    audit.log_access(attachment, view="download", extra={"case": attachment.case.key})
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- context (auto-enrichment) ---------------------------------------------------------------------------


def _context_response(request, case: Case, *, error: str = "", status: int = 200):
    context = latest_context(case)
    return render(
        request,
        "cases/case_detail.html#context-panel",
        {"case": case, "context": context, "context_error": error, "priorities": list(Priority)},
        status=status,
    )


@require_GET
def case_context(request, key: str):
    """The Context panel, loaded on its own by the case page."""
    case = case_get_for_user(request.user, key, path=request.path)
    audit.log_access(case, view="context panel")
    return _context_response(request, case)


@require_POST
def case_context_refresh(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    services.case_capture_context(case_id=case.pk, actor=request.user)
    if not htmx_partial(request):
        return redirect(case)
    return _context_response(request, case)


@require_POST
def case_context_decide(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    context = case_context_get(case, request.POST.get("context", ""))
    try:
        priority = Priority.from_slug(request.POST.get("priority", ""))
    except KeyError:
        return _context_response(request, case, error="Choose a priority.", status=422)
    if context is None:
        return _context_response(request, case, error="That context snapshot no longer exists; refresh it.", status=409)
    try:
        services.case_decide_priority(context_id=context.pk, actor=request.user, priority=priority)
    except services.CaseError as error:
        return _context_response(request, case, error=str(error), status=422)
    label = "Accepted" if priority == context.suggested_priority else "Overrode"
    return _after_write(request, case.key, f"{label} the suggested priority: {case.key} is {Priority(priority).label}.")
