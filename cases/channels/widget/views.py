"""The widget's panel and thread pages (mounted at /widget/ by companyos.urls; no console login).

    GET  /widget/panel/?ctx=<signed context>   the contact form (403 with the reason for a context that
                                               is missing, forged, expired or for another tenant)
    POST /widget/panel/                        file the case (cases.services.case_create, channel
                                               "widget", the page's error ids and trace links as evidence),
                                               then 303 to its thread
    GET  /widget/t/<signed link>/              the case key, status and public conversation (audited)
    POST /widget/t/<signed link>/              the customer's follow-up message

Every response carries the panel's own CSP, framable only by the widget's allowed origins.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from companyos import audit
from companyos.access import audited_write, no_data
from tenants import selectors as tenant_selectors
from tenants.services import requester_match_or_create
from tenants.widget import ContextRefused

from ... import services
from ...choices import REQUIRED_TO_RESOLVE, Status
from ...errors import CaseError
from ...models import Case
from . import context as ctx
from . import selectors
from .extensions import panel_sections
from .forms import ContactForm


def _refused(request, message: str, *, config, status: int = 403, reason: str = ""):
    audit.log_denied(Case, "widget", path=request.path, reason=f"widget refused ({reason or message})"[:300])
    context = {"message": message, "parent_origins": _parent_origins(config)}
    response = render(request, "widget/refused.html", context, status=status)
    return ctx.framed_by(response, config)


def _parent_origins(config) -> list[str]:
    return [o for o in ctx.frame_ancestors(config) if o != "'none'"]


@audited_write(Case, view="widget: contact support")
@csrf_exempt  # the signed context in the form is the authority; the third-party iframe has no cookies
@require_http_methods(["GET", "POST"])
def panel(request):
    token = request.POST.get("ctx", "") if request.method == "POST" else request.GET.get("ctx", "")
    try:
        visitor = ctx.visitor(token)
    except ContextRefused as exc:
        return _refused(request, str(exc), config=ctx.config_named_by(token))
    page = {
        "token": token,
        "tenant": visitor.tenant,
        "visitor": visitor.context,
        "parent_origins": _parent_origins(visitor.config),
        "sections": panel_sections(request, tenant=visitor.tenant, context=visitor.context),
    }
    if request.method == "GET":
        # The form shows back only what the host's signed context says (the organisation, the visitor).
        response = render(request, "widget/panel.html", {**page, "form": ContactForm()})
        return ctx.framed_by(no_data(response), visitor.config)
    form = ContactForm(request.POST)
    if form.is_valid():
        evidence, page_facts = form.page_facts()
        requester = requester_match_or_create(
            tenant=visitor.tenant, email=visitor.context.email, name=visitor.context.name
        )
        try:
            case = services.case_create(
                actor=None,  # the customer's own message: the requester, no user
                tenant=visitor.tenant,
                requester=requester,
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                channel="widget",
                unclassified=list(REQUIRED_TO_RESOLVE),
                channel_data={**page_facts, "widget": visitor.config.integration.name},
                evidence=evidence or None,
            )
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            link = ctx.thread_token(
                case_id=case.pk, requester_id=requester.pk, integration_id=visitor.config.integration_id
            )
            response = redirect(reverse("widget:thread", kwargs={"token": link}) + "?filed=1", permanent=False)
            response.status_code = 303
            return ctx.framed_by(response, visitor.config)
    response = render(request, "widget/panel.html", {**page, "form": form}, status=422)
    return ctx.framed_by(no_data(response), visitor.config)


@audited_write(Case, view="widget: case thread")
@csrf_exempt  # the signed link is the authority (no cookies in the host's iframe)
@require_http_methods(["GET", "POST"])
def thread(request, token: str):
    try:
        link = ctx.read_thread_token(token)
    except ctx.LinkRefused as exc:
        return _refused(
            request, str(exc), config=None, reason="thread link " + ("expired" if exc.expired else "invalid")
        )
    config = tenant_selectors.widget_config_of(link.integration_id)
    case = selectors.requester_case(case_id=link.case_id, requester_id=link.requester_id)
    if case is None:
        return _refused(request, "This case is no longer available here.", config=config, status=404)
    error = ""
    if request.method == "POST":
        body = (request.POST.get("body") or "").strip()[:10_000]
        if not body:
            error = "Write something before sending."
        else:
            try:
                services.case_customer_message(
                    case_id=case.pk, requester=case.requester, body=body, channel="widget", data={"via": "widget"}
                )
            except CaseError as exc:
                error = str(exc)
            else:
                return ctx.framed_by(redirect(request.path), config)
    audit.log_access(case, view="widget: case thread", extra={"requester": case.requester_id, "via": "signed link"})
    response = render(
        request,
        "widget/thread.html",
        {
            "case": case,
            "messages_": selectors.customer_timeline(case),
            "filed": request.GET.get("filed") == "1",
            "link": request.build_absolute_uri(request.path),
            "can_write": case.status not in (Status.RESOLVED, Status.CLOSED),
            "error": error,
            "body": request.POST.get("body", "") if error else "",
            "parent_origins": _parent_origins(config),
        },
        status=422 if error else 200,
    )
    return ctx.framed_by(response, config)
