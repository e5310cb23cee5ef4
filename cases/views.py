"""Thin views: parse, call one service or selector, render. The same URL answers a full page or,
for an HTMX request, the page's partial."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from companyos import audit, pageview
from companyos.access import audit_exempt, audited_read, audited_write, covered_by_page_view, no_data
from companyos.db import serial_queries
from companyos.htmx import htmx_partial, is_embedded, partial
from companyos.models import Profile
from companyos.services import profile_update
from tenants.models import Tenant

from . import audit_trail, bulk, presence, search_index, services
from .choices import Priority, Status, WaitingFor, transition_label
from .closure import rules as closure_rules
from .filtersets import COLUMNS, SORTS, CaseFilterSet, clean_query, filter_bar_key, view_query
from .forms import (
    AssignForm,
    AttachmentForm,
    BulkForm,
    CaseCreateForm,
    ClassificationForm,
    MergeForm,
    ReplyForm,
    ResourcesForm,
    SavedViewForm,
    TagForm,
    TransitionForm,
)
from .models import Attachment, Case, SavedView
from .selectors import (
    AUDIT_KINDS,
    assignee_groups,
    attachment_get_for_user,
    audit_intake_requester,
    capped_count,
    case_affected_resources,
    case_attachments,
    case_audit_entries,
    case_context_get,
    case_get_for_user,
    case_merges,
    case_queue,
    case_tag_list,
    case_timeline,
    cases_visible_by_ids,
    intake_tenant_ids,
    latest_context,
    queue_page_rows,
    requester_card,
    requesters_of,
    resource_choices,
    saved_views_counted,
    saved_views_listed,
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


def _queue_context(request, params=None):
    params = request.GET if params is None else params
    filterset = CaseFilterSet(params, queryset=case_queue(request.user), request=request)
    searching = bool(params.get("q", "").strip())
    cap = settings.SEARCH_COUNT_CAP if searching else settings.QUEUE_COUNT_CAP
    embedded = is_embedded(request, "/cases/")
    paginator = CappedPaginator(filterset.qs, EMBEDDED_PAGE_SIZE if embedded else settings.QUEUE_PAGE_SIZE, cap=cap)
    page = paginator.get_page(params.get("page"))
    page.object_list = queue_page_rows(page.object_list)  # plain values, not model instances
    # Agent collision: who has each case of the page open now (one cache round trip, cases.presence).
    viewers = presence.viewing([case.pk for case in page], request.user)
    # A search shows, under each subject, the newest message or note that matched (one query).
    found = search_index.snippets([case.pk for case in page], params.get("q", "").strip()) if searching else {}
    for case in page:
        case.viewers = viewers.get(case.pk, [])
        case.snippet = found.get(case.pk)
    query = clean_query(params)
    profile = getattr(request.user, "profile", None) if hasattr(request.user, "profile") else None
    return {
        "filterset": filterset,
        "page": page,
        "paginator": paginator,
        "query": query,
        "pills": [] if embedded else filterset.pills(query),
        "fragment_key": "" if embedded else filter_bar_key(filterset, query, request.user),
        "columns": filterset.columns,
        "column_choices": COLUMNS,
        "density": profile.density if profile else Profile.Density.COMPACT,
        "sorts": [(key, label) for key, (_, label) in SORTS.items()],
        "sort": filterset.sort_key,
        "statuses": Status.choices,
        "bulk_extensions": bulk.bulk_extensions(),  # bulk actions of apps above cases (incidents: link)
        # The bulk bar's assignees: the page's own bar is kept across the results' swaps (_results).
        "assignee_groups": [] if embedded or _results_swap(request) else assignee_groups(),
        # Embedded elsewhere (the tenant console's Cases panel): no bulk actions, no pills, no Tenant
        # column, and paging must not move the address bar.
        "embedded": embedded,
        "push_url": not embedded,
        "waiting_choices": WaitingFor.choices,
    }


def _results_swap(request) -> bool:
    """An HTMX request for the queue's results region alone (`_results`)."""
    return htmx_partial(request) and request.headers.get("HX-Target") == "queue-results"


# The tenant console's Cases panel pages through a tenant's open cases this many at a time.
EMBEDDED_PAGE_SIZE = 15
FEEDBACK_CHOICES = list(closure_rules.FEEDBACK.items())  # closing asks which backlog it feeds


def _results(request, context, *, oob: bool):
    """The results partial. For an HTMX swap in the queue itself it also carries, out of band, what
    the new address changes elsewhere on the page: the query "Save current view" saves, the filter
    chips' counts (or, when the swap did not come from the filter bar — a pill, a sort link, the
    pager — the whole filter bar, so its inputs say what the URL says). The pushed URL is the clean one."""
    context["oob"] = oob and not context["embedded"]
    context["keep_bulk_bar"] = True  # the page's own bar stays (hx-preserve): only its placeholder
    context["oob_filter_bar"] = request.headers.get("HX-Trigger") != "queue-filters"
    response = render(request, "cases/case_list.html#results", context)
    # A refresh after a bulk change (the results' own `cases-changed` load) keeps the address as it is.
    if context["push_url"] and request.method == "GET" and request.headers.get("HX-Trigger") != "queue-results":
        full = clean_query(request.GET, page=True)
        response["HX-Push-Url"] = f"{request.path}?{full}" if full else request.path
    return response


@audited_read(Case, view="queue")
@require_GET
@vary_on_headers("HX-Request")
def case_list(request):
    if not htmx_partial(request):
        clean = clean_query(request.GET, page=True)
        if _pairs(clean) != _pairs(request.GET.urlencode()):  # empty values, defaults, strays (not order)
            return redirect(f"{request.path}?{clean}" if clean else request.path)
    context = _queue_context(request)
    audit.log_list_access(Case, [case.pk for case in context["page"].object_list], view="queue", query=context["query"])
    if _results_swap(request):
        return _results(request, context, oob=True)
    context["saved_views"] = saved_views_listed(request.user)
    context["view_form"] = SavedViewForm(user=request.user, initial={"query": context["query"]})
    return render(request, "cases/case_list.html", context)


def _pairs(query: str) -> list[tuple[str, str]]:
    return sorted((k, v) for k, values in QueryDict(query).lists() for v in values)


@audited_write(Case, view="queue density")
@require_POST
def queue_display(request):
    """The queue's density (compact / comfortable), remembered on the user's profile; answers the
    results again (HTMX) or goes back to the queue."""
    density = request.POST.get("density", "")
    if density not in Profile.Density.values:
        return HttpResponse("Choose compact or comfortable.", status=400)
    request.user.profile = profile_update(user=request.user, density=density)
    back = request.POST.get("next", "")
    query = back.split("?", 1)[1] if back.startswith("/cases/") and "?" in back else ""
    if not htmx_partial(request):
        return redirect(f"/cases/?{query}" if query else "/cases/")
    context = _queue_context(request, QueryDict(query))
    audit.log_list_access(Case, [case.pk for case in context["page"]], view="queue", query=query)
    return _results(request, context, oob=False)


@audit_exempt(reason="the user's saved views and how many cases each selects: no case or tenant is named")
@require_GET
def saved_view_counts(request):
    """The saved views with their counts, loaded after the queue so counting never slows it."""
    views = saved_views_counted(request.user, request=request)
    return render(
        request,
        "cases/case_list.html#saved-views",
        {
            "saved_views": views,
            "counted": True,
            # `current` from the first load, `query` (the hidden #view-query) when reloaded after a bulk change
            "query": clean_query(QueryDict(request.GET.get("current", request.GET.get("query", "")))),
        },
    )


@audited_write(SavedView, view="saved view create")
@require_POST
def saved_view_create(request):
    form = SavedViewForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        back = clean_query(QueryDict(request.POST.get("query", "")))
        return redirect(f"/cases/?{back}" if back else "/cases/")
    data = form.cleaned_data
    try:
        view = services.saved_view_create(
            actor=request.user,
            name=data["name"],
            query=data["query"],
            columns=form.columns,
            shared=data.get("shared", False),
        )
    except services.CaseError as error:
        audit.log_denied(SavedView, "new", path=request.path, reason=str(error))
        return HttpResponse(str(error), status=403)
    messages.success(request, f"Saved view “{view.name}”.")
    query = view_query(view)
    return redirect(f"/cases/?{query}" if query else "/cases/")


@audited_write(SavedView, view="saved view delete")
@require_POST
def saved_view_delete(request, pk: int):
    try:
        view = services.saved_view_delete(view_id=pk, actor=request.user)
    except SavedView.DoesNotExist:
        audit.log_denied(SavedView, pk, path=request.path, reason="no such saved view, or a built-in one")
        raise Http404("No such saved view") from None
    except services.CaseError as error:
        audit.log_denied(SavedView, pk, path=request.path, reason=f"deleting another user's saved view: {error}")
        return HttpResponse(str(error), status=403)
    messages.success(request, f"Deleted view “{view.name}”.")
    return redirect("cases:list")


@audited_write(Case, view="bulk action")
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
            return no_data(render(request, "cases/bulk_confirm.html#dialog", {"error": errors}, status=422))
        messages.error(request, errors)
        return redirect(back)
    cases = cases_visible_by_ids(request.user, form.cleaned_data["ids"])
    unseen = len(form.cleaned_data["ids"]) - len(cases)
    if unseen:
        for pk in set(form.cleaned_data["ids"]) - {c.pk for c in cases}:
            audit.log_denied(Case, pk, path=request.path, reason="bulk action on a case not visible")
    action, value = form.cleaned_data["action"], form.value
    try:
        label = _bulk_value_label(action, value, request.user)
    except services.CaseError as error:  # an added action refusing its value (an unknown incident)
        if htmx_partial(request):
            return no_data(render(request, "cases/bulk_confirm.html#dialog", {"error": str(error)}, status=422))
        messages.error(request, str(error))
        return redirect(back)
    if not form.cleaned_data["confirm"]:
        audit.log_list_access(Case, [c.pk for c in cases], view="bulk confirmation")
        context = {
            "form": form,
            "cases": cases,
            "count": len(cases),
            "unseen": unseen,
            "action": action,
            "value": value,
            "value_label": label,
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
    summary = (
        result.summary
        + "."
        + (
            ""
            if not result.skipped
            else " Skipped: " + "; ".join(f"{k}: {v}" for k, v in list(result.skipped.items())[:5])
        )
    )
    if htmx_partial(request):
        # In place: the dialog closes, the message flashes, and the `cases-changed` event makes the
        # results and the saved views' counts load again (the agent keeps the page they were on).
        response = render(request, "cases/bulk_confirm.html#done", {"summary": summary})
        response["HX-Trigger"] = "cases-changed"
        return no_data(response)  # the summary names keys only; the results reload as their own audited read
    messages.success(request, summary)
    return redirect(back)


def _bulk_value_label(action, value, actor=None):
    extension = bulk.bulk_extension(action)
    if extension is not None:
        return extension.describe(value, actor)
    if action == "assign":
        return f"assign to {value.get_full_name() or value.get_username()}" if value else "unassign"
    if action == "status":
        return f"move to {Status(value).label}"
    if action == "merge":
        return f"merge into {value} (and close)"
    return f"add tag “{value}”"


# --- intake -------------------------------------------------------------------------------------------


def _audit_intake_form(request, tenant_slug: str) -> None:
    """The intake form shows the chosen tenant's contacts, or (none chosen) the tenant choices."""
    tenant = tenant_for_intake(request.user, tenant_slug, path=request.path)
    if tenant is not None:
        audit.log_access(tenant, view="intake form")
    else:
        audit.log_list_access(Tenant, intake_tenant_ids(request.user), view="intake form: tenant choices")


@audited_write(Case, view="intake form")
def case_create(request):
    form = CaseCreateForm(request.POST or None, user=request.user, initial={"tenant": request.GET.get("tenant")})
    if request.method == "POST":
        if not form.is_valid():
            audit_intake_requester(request.user, request.POST.get("requester", ""), path=request.path)
        else:
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
        _audit_intake_form(request, request.POST.get("tenant", ""))
        return render(request, "cases/case_form.html", {"form": form}, status=422)
    _audit_intake_form(request, request.GET.get("tenant", ""))
    return render(request, "cases/case_form.html", {"form": form})


@audited_read(Tenant, view="intake: entitlements")
@require_GET
def intake_entitlements(request):
    """The intake form's entitlement check: what the chosen channel needs that the tenant's plan
    doesn't include (the case can still be opened; the flag stays on it). A tenant the user may not
    see answers empty, as for no tenant, and the attempt is audited."""
    slug = request.GET.get("tenant", "")
    tenant = tenant_for_intake(request.user, slug, path=request.path)
    flags = entitlement_flags(tenant.entitlements, channel=request.GET.get("channel", "")) if tenant else []
    if tenant is not None:
        audit.log_access(tenant, view="intake: entitlements")
    response = render(request, "cases/case_form.html#entitlements", {"entitlement_flags": flags, "tenant": tenant})
    return response if slug else no_data(response)


@audited_read(Tenant, view="intake: resource list")
@require_GET
def resource_options(request):
    """The intake form's affected-resource choices: the chosen tenant's resources."""
    tenant = tenant_for_intake(request.user, request.GET.get("tenant", ""))
    resources = resource_choices(tenant) if tenant is not None else []
    if tenant is not None:
        audit.log_access(tenant, view="intake: resource list")
    return render(request, "cases/case_form.html#resource-options", {"resources": resources, "tenant": tenant})


@audited_read(Tenant, view="intake: requester list")
@require_GET
def requester_options(request):
    slug = request.GET.get("tenant", "")
    tenant = tenant_for_intake(request.user, slug, path=request.path)
    requesters = requesters_of(tenant)
    if tenant is not None:
        audit.log_access(tenant, view="intake: requester list")
    context = {"requesters": requesters, "tenant": tenant}
    response = render(request, "cases/case_form.html#requester-options", context)
    return response if slug else no_data(response)


# --- the case page --------------------------------------------------------------------------------------


def _timeline_order(user) -> str:
    profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
    return profile.timeline_order if profile is not None else "oldest"


def _case_context(request, case: Case, **extra) -> dict:
    only = request.GET.get("show", "all")
    order = _timeline_order(request.user)
    affected = case_affected_resources(case)
    unset = set(case.unclassified or ())
    attachments = case_attachments(case)
    context = {
        "case": case,
        "timeline": case_timeline(case, only=only, newest_first=order == "newest", attachments=attachments),
        "timeline_order": order,
        "show": only,
        "pageview": pageview.token(request.user, case),
        "transitions": [(to, transition_label(case.status, to)) for to in case.allowed_transitions],
        "can_mitigate": case.mitigated_at is None
        and case.status in (Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER),
        "reply_form": ReplyForm(),
        "classify_form": ClassificationForm(
            initial={
                "version": case.version,
                "priority": case.priority_slug,
                **{f: "" if f in unset else getattr(case, f) for f in ("category", "issue_type", "environment")},
                "severity": case.severity,
            }
        ),
        "affected_resources": affected,
        "requester_card": (card := requester_card(case, affected)),
        "resource_options": card.resources,  # the Affected resources card's choices, read once
        "affected_ids": {r.pk for r in affected},
        "waiting_choices": WaitingFor.choices,
        "feedback_choices": FEEDBACK_CHOICES,
        "assign_form": AssignForm(
            initial={
                "owner": case.owner.username if case.owner_id else "",
                "team": case.team.slug if case.team_id else "",
            }
        ),
        "assignee_groups": assignee_groups(case),
        "tag_form": TagForm(),
        "tags": case_tag_list(case),
        "attachments": attachments,
        "teams": teams(),
        "sla": sla_selectors.clock_panel(case),
        "merge_form": MergeForm(initial={"version": case.version}),
        **case_merges(case),
        "entitlement_flags": entitlement_flags(case.tenant.entitlements, channel=case.channel),
        "tab": "timeline",
    }
    context.update(extra)
    return context


@audited_read(Case, view="case page")
@require_GET
@vary_on_headers("HX-Request")
def case_detail(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path, page=True)
    region = request.headers.get("HX-Target") if htmx_partial(request) else None
    # The page's own follow-ups (the SLA poll, the timeline filter) carry its token: one "viewed".
    follow_up = region in ("timeline", "sla-panel") and pageview.page_cid(request, case) is not None
    if not follow_up:
        audit.log_accesses([(case, "case page"), (case.tenant, "case page tenant card")])
    context = _case_context(request, case)
    if region in ("timeline", "sla-panel"):
        response = render(request, f"cases/case_detail.html#{region}", context)
        return covered_by_page_view(response) if follow_up else response
    return render(request, "cases/case_detail.html", context)


def _audit_rows(request, case: Case):
    kind = request.GET.get("kind", "all")
    kind = kind if kind in AUDIT_KINDS else "all"
    return kind, case_audit_entries(case, kind=kind)


@audited_read(Case, view="audit tab")
@require_GET
def case_audit(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    kind, entries = _audit_rows(request, case)
    audit.log_access(case, view="audit tab", extra={"kind": kind})
    with serial_queries():  # an index probe per monthly partition: no parallel workers (companyos.db)
        page = Paginator(entries, 50).get_page(request.GET.get("page"))
        groups = audit_trail.group(audit_trail.describe(page.object_list, case))
    context = _case_context(
        request, case, tab="audit", audit_page=page, audit_groups=groups, audit_kind=kind, audit_kinds=AUDIT_KINDS
    )
    return render(request, partial(request, "cases/case_detail.html", "audit"), context)


@audited_read(Case, view="audit export")
@require_GET
def case_audit_export(request, key: str):
    """The Audit tab's rows, with its filter, as CSV (and the export is itself audited)."""
    case = case_get_for_user(request.user, key, path=request.path)
    kind, entries = _audit_rows(request, case)
    audit.log_access(case, view="audit export", extra={"kind": kind})
    with serial_queries():
        rows = audit_trail.to_csv(audit_trail.describe(entries[: audit_trail.EXPORT_MAX_ROWS], case))
    response = HttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{case.key}-audit-{kind}.csv"'
    return response


# The regions of the case page that show facts an action can change. After any action (done or
# refused) each is rendered again, the one the form targets in place and the others out of band,
# so the header never says an old status or owner next to fresh buttons. The composer is only
# re-rendered when it was the target: a draft being typed there is never touched.
# Every region that shows a changed fact or carries the version a form sends back (classification,
# affected resources): after any action each is shown again, so no form on the page goes stale.
CASE_REGIONS = ("header", "actions", "sla-panel", "timeline", "attachments", "classification", "resources", "closure")


def _case_regions(request, case: Case, region: str, *, status: int = 200, message: str = "", **extra):
    context = _case_context(request, case, **extra)
    parts = [render_to_string(f"cases/case_detail.html#{region}", context, request)]
    for other in CASE_REGIONS:
        if other != region:
            parts.append(render_to_string(f"cases/case_detail.html#{other}", {**context, "oob": True}, request))
    if message:
        parts.append(render_to_string("cases/case_detail.html#flash", {"message": message}, request))
    return HttpResponse("".join(parts), status=status)


def _after_write(request, case_key: str, message: str, *, region: str | None = None):
    if htmx_partial(request) and region:
        fresh = case_get_for_user(request.user, case_key, path=request.path)
        audit.log_access(fresh, view=f"case page: after {request.resolver_match.url_name}")  # shows it again
        return _case_regions(request, fresh, region, message=message)
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
    """A refused write shows the case again (the region, or the whole page without HTMX) with the
    refusal: a read of the case like any other, so it is audited like the case page."""
    status = status or (409 if isinstance(error, services.CaseConflict) else 422)
    fresh = case_get_for_user(request.user, case.key, path=request.path)
    view = f"case page: refused {request.resolver_match.url_name}"
    audit.log_access(fresh, view=view, extra={"status": status})
    if htmx_partial(request):
        return _case_regions(request, fresh, region, status=status, error=str(error), error_region=region, **extra)
    audit.log_access(fresh.tenant, view=f"{view}: tenant card")
    context = _case_context(request, fresh, error=str(error), error_region=region, **extra)
    return render(request, "cases/case_detail.html", context, status=status)


@audited_write(Case, view="case reply")
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
    return _after_write(request, case.key, "Reply sent." if form.public else "Internal note added.", region="composer")


@audited_write(Case, view="case transition")
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
            resolution=form.resolution() if to == Status.RESOLVED else None,
            feedback=form.cleaned_data["feedback"] if to == Status.CLOSED else "",
        )
    except services.CaseError as error:
        return _refused(request, case, error, resolution_values=form.resolution())
    return _after_write(request, case.key, f"{case.key} is now {Status(to).label}.", region="actions")


@audited_write(Case, view="case mark mitigated")
@require_POST
def case_mitigate(request, key: str):
    """ "Mark mitigated" (seed 004's time to mitigate), from the actions bar."""
    case = case_get_for_user(request.user, key, path=request.path)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.case_mark_mitigated(
            case_id=case.pk, actor=request.user, note=request.POST.get("note", ""), expected_version=version
        )
    except services.CaseError as error:
        return _refused(request, case, error)
    return _after_write(request, case.key, f"{case.key} is marked mitigated.", region="actions")


@audited_write(Case, view="case assign")
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
    name = (owner.get_full_name() or owner.get_username()) if owner else "nobody"
    return _after_write(request, case.key, f"{case.key} is now owned by {name}.", region="actions")


@audited_write(Case, view="case classification")
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
            **{k: data[k] for k in ("priority", "category", "issue_type", "environment", "severity") if data[k] != ""},
        )
    except services.CaseError as error:
        return _refused(request, case, error, region="classification")
    return _after_write(request, case.key, f"Classification of {case.key} saved.", region="classification")


@audited_write(Case, view="case affected resources")
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


@audited_write(Case, view="case tags")
@require_POST
def case_tags(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    form = TagForm(request.POST)
    form.is_valid()
    try:
        services.case_tag(case_id=case.pk, actor=request.user, add=form.names("add"), remove=form.names("remove"))
    except services.CaseError as error:
        return _refused(request, case, error, region="classification")
    return _after_write(request, case.key, "Tags saved.", region="classification")


@audited_write(Case, view="case attachment")
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
    return _after_write(request, case.key, f"Attached {attachment.display_name}.", region="attachments")


@audited_read(Attachment, view="attachment download")
@require_GET
def attachment_download(request, pk: int):
    attachment = attachment_get_for_user(request.user, pk, path=request.path)
    audit.log_access(attachment, view="download", extra={"case": attachment.case.key})
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.download_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- context (auto-enrichment) ---------------------------------------------------------------------------


def _context_response(request, case: Case, *, view: str | None, error: str = "", status: int = 200):
    """The Context panel: whatever answers it (the load, a refresh, a refused decision) shows the
    case's context, and records so under `view` (None: the load is part of a page view already
    recorded, companyos.pageview)."""
    if view is not None:
        audit.log_access(case, view=view, extra={"status": status} if status != 200 else None)
    context = latest_context(case)
    return render(
        request,
        "cases/case_detail.html#context-panel",
        {"case": case, "context": context, "context_error": error, "priorities": list(Priority)},
        status=status,
    )


@audited_read(Case, view="context panel")
@require_GET
def case_context(request, key: str):
    """The Context panel, loaded on its own by the case page."""
    case = case_get_for_user(request.user, key, path=request.path)
    if pageview.page_cid(request, case) is not None:  # loaded by the case page: its "viewed" covers this
        return covered_by_page_view(_context_response(request, case, view=None))
    return _context_response(request, case, view="context panel")


@audited_write(Case, view="context refresh")
@require_POST
def case_context_refresh(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    services.case_capture_context(case_id=case.pk, actor=request.user)
    if not htmx_partial(request):
        return redirect(case)
    return _context_response(request, case, view="context panel: refreshed")


DECIDE_REFUSED = "context panel: refused priority decision"


@audited_write(Case, view="priority decision")
@require_POST
def case_context_decide(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    context = case_context_get(case, request.POST.get("context", ""))
    try:
        priority = Priority.from_slug(request.POST.get("priority", ""))
    except KeyError:
        return _context_response(request, case, view=DECIDE_REFUSED, error="Choose a priority.", status=422)
    if context is None:
        error = "That context snapshot no longer exists; refresh it."
        return _context_response(request, case, view=DECIDE_REFUSED, error=error, status=409)
    try:
        services.case_decide_priority(context_id=context.pk, actor=request.user, priority=priority)
    except services.CaseError as error:
        return _context_response(request, case, view=DECIDE_REFUSED, error=str(error), status=422)
    label = "Accepted" if priority == context.suggested_priority else "Overrode"
    return _after_write(request, case.key, f"{label} the suggested priority: {case.key} is {Priority(priority).label}.")
