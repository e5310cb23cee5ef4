"""The Zendesk sync's pages and endpoints: thin views that parse, call one service or selector,
render.

- `/zendesk/mapping/`   admins: the field mapping (our status/priority ↔ Zendesk's, custom fields)
- `/zendesk/changes/`   admins: stuck and dead changes, with retry and discard (HTMX, per row)
- `/zendesk/cases/<key>/link/`  agents: push a case to Zendesk (creates the ticket via the outbox)
- `/api/zendesk/webhook/`  Zendesk: signed webhook deliveries (no session; CSRF-exempt)
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from companyos import audit
from companyos.access import audit_exempt, audited_read, audited_write, no_data
from companyos.htmx import htmx_partial, partial
from companyos.roles import admin_required

from ...errors import CaseConflict, CaseError, NotPermitted
from ...models import Case
from ...selectors import case_get_for_user
from . import selectors, services, webhook
from .forms import MappingForm, ProblemFilterForm
from .models import ZendeskChange, ZendeskMapping, ZendeskWebhookEvent

admin_only = admin_required(
    ZendeskMapping, reason="the Zendesk sync is configured by admins", message="The Zendesk sync is managed by admins."
)


def _connection() -> dict:
    return {
        "enabled": services.sync_enabled(),
        "base_url": settings.ZENDESK_BASE_URL,
        "email": settings.ZENDESK_EMAIL,
        "token_set": bool(settings.ZENDESK_API_TOKEN),
        "secret_set": bool(settings.ZENDESK_WEBHOOK_SECRET),
        "webhook_path": "/api/zendesk/webhook/",
    }


@audit_exempt(reason="the Zendesk field mapping: configuration, no case or tenant data", model=ZendeskMapping)
@admin_only
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def mapping_page(request):
    row = selectors.mapping()
    template = "zendesk/mapping.html"
    if request.method == "GET":
        form = MappingForm(initial=MappingForm.initial_from(row))
        return render(request, template, {"form": form, "row": row, "connection": _connection(), "section": "mapping"})
    form = MappingForm(request.POST)
    status, message = 422, ""
    if form.is_valid():
        try:
            row = services.zendesk_mapping_save(
                actor=request.user, data=form.mapping(), expected_version=form.cleaned_data["version"]
            )
        except CaseConflict as error:
            form.add_error(None, str(error))
            status = 409
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            form = MappingForm(initial=MappingForm.initial_from(row))
            status, message = 200, "Mapping saved. It applies to the next change sent or received."
    context = {"form": form, "row": row, "connection": _connection(), "section": "mapping", "saved": message}
    return render(request, partial(request, template, "mapping-form"), context, status=status)


def _problems_context(request) -> dict:
    filters = ProblemFilterForm(request.GET or None)
    state = filters.cleaned_data.get("state") or "stuck" if filters.is_valid() else "stuck"
    rows = selectors.sync_problems(state=state)
    audit.log_list_access(Case, sorted({r.case_id for r in rows}), view="zendesk sync problems", query=state)
    return {
        "rows": rows,
        "filters": filters,
        "state": state,
        "overview": selectors.sync_overview(),
        "connection": _connection(),
        "section": "changes",
        "stuck_after_minutes": settings.ZENDESK_STUCK_AFTER_SECONDS // 60,
    }


@audited_read(ZendeskChange, view="zendesk sync problems")
@admin_only
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def changes_page(request):
    return render(request, partial(request, "zendesk/changes.html", "results"), _problems_context(request))


@audited_write(ZendeskChange, view="zendesk change retry")
@admin_only
@require_POST
def change_action(request, pk: int, action: str):
    try:
        if action == "retry":
            services.zendesk_change_retry(change_id=pk, actor=request.user)
            message = f"Change {pk} queued again."
        elif action == "discard":
            services.zendesk_change_discard(change_id=pk, actor=request.user)
            message = f"Change {pk} discarded."
        else:
            raise Http404("No such action")
        status = 200
    except NotPermitted as error:
        raise Http404(str(error)) from error
    except CaseError as error:
        message, status = str(error), 409
    context = {**_problems_context(request), "message": message, "message_error": status != 200}
    if htmx_partial(request):
        return render(request, "zendesk/changes.html#results", context, status=status)
    return redirect(reverse("zendesk:changes"))


@audited_write(Case, view="zendesk link")
@require_POST
def case_link(request, key: str):
    case = case_get_for_user(request.user, key, path=request.path)
    error = ""
    try:
        services.zendesk_link_case(case_id=case.pk, actor=request.user)
    except CaseError as exc:
        error = str(exc)
    if not htmx_partial(request):
        return redirect(case.get_absolute_url())
    audit.log_access(case, view="zendesk badge")
    context = {"case": case, "sync": selectors.case_sync(case.pk), "error": error}
    return render(request, "zendesk/_case_badge.html", context, status=422 if error else 200)


@csrf_exempt
@audit_exempt(reason="Zendesk's signed webhook: a machine call that shows no data")
@require_POST
def webhook_receive(request):
    """Verify, record the delivery once (by its event id), pull the ticket after commit."""
    body = request.body
    problem = webhook.verify(
        secret=settings.ZENDESK_WEBHOOK_SECRET,
        signature=request.headers.get("X-Zendesk-Webhook-Signature", ""),
        timestamp=request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", ""),
        body=body,
        now=timezone.now(),
        tolerance=settings.ZENDESK_WEBHOOK_TOLERANCE_SECONDS,
    )
    if problem:
        return no_data(JsonResponse({"error": problem}, status=401))
    payload, problem = webhook.parse(body)
    if problem:
        return no_data(JsonResponse({"error": problem}, status=400))
    event, created = services.webhook_record(
        event_id=webhook.event_id_of(
            payload,
            body,
            invocation=request.headers.get("X-Zendesk-Webhook-Invocation-Id", ""),
            timestamp=request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", ""),
        ),
        ticket_id=webhook.ticket_id_of(payload),
        event_type=str(payload.get("type") or "")[:100],
    )
    return no_data(JsonResponse({"ok": True, "duplicate": not created, "event": event.event_id}))


__all__ = ["ZendeskWebhookEvent", "case_link", "change_action", "changes_page", "mapping_page", "webhook_receive"]
