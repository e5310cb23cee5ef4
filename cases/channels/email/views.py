"""The e-mail channel's two doors: the Mailgun inbound webhook (django-anymail) and the
unmatched-mail page where an agent says whose a message is."""

from __future__ import annotations

import logging
import time

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from companyos import audit
from companyos.access import audit_exempt, audited_read, audited_write, no_data
from tenants.models import Requester
from tenants.selectors import tenant_visible_to
from tenants.services import requester_create

from ...errors import CaseError
from . import inbound
from .models import EmailMessage
from .selectors import sees_unmatched, unmatched_for

log = logging.getLogger(__name__)


# --- the ESP webhook -------------------------------------------------------------------------------------


def _mailgun_view() -> MailgunInboundWebhookView:
    return MailgunInboundWebhookView(webhook_signing_key=settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY", ""))


@audit_exempt(reason="an ESP delivering inbound mail: answers only whether it was taken")
@csrf_exempt
@require_POST
def mailgun_inbound(request):
    """Mailgun's inbound route (forward() to this URL; `…/mailgun/mime/` for raw MIME): the signature
    (HMAC-SHA256 of timestamp and token with the webhook signing key) checked by django-anymail, the
    timestamp within `EMAIL_WEBHOOK_MAX_AGE` (a captured request cannot be replayed later), then
    the raw message handed to the same service as the MTA pipe. 400 for a bad or stale signature or
    a request that is not a Mailgun inbound post; 406 (Mailgun does not retry) for a message it
    should not send again; a failure to store it is a 5xx, which Mailgun retries."""
    if not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        return HttpResponse("The Mailgun inbound webhook is not configured.", status=404, content_type="text/plain")
    view = _mailgun_view()
    try:
        view.run_validators(request)
        if abs(time.time() - int(request.POST.get("timestamp", "0"))) > settings.EMAIL_WEBHOOK_MAX_AGE:
            raise AnymailWebhookValidationFailure("Mailgun webhook timestamp is outside the allowed window")
        events = view.parse_events(request)
    except (AnymailWebhookValidationFailure, AnymailConfigurationError, MultiPartParserError) as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    except (ValueError, KeyError, TypeError, UnicodeError):
        return HttpResponseBadRequest("Not a Mailgun inbound message.", content_type="text/plain")
    outcomes = []
    for event in events:
        body_mime = request.POST.get("body-mime")
        raw = body_mime.encode("utf-8", "surrogateescape") if body_mime else event.message.as_bytes()
        outcomes.append(inbound.receive(raw, source="mailgun"))
    return JsonResponse({"received": [{"state": o.state, "duplicate": o.duplicate} for o in outcomes]})


# --- the unmatched queue --------------------------------------------------------------------------------


def _queue_or_404(request):
    if not sees_unmatched(request.user):
        raise Http404("No such page")
    return unmatched_for(request.user)


@audited_read(EmailMessage, view="unmatched mail")
@require_GET
def unmatched_list(request):
    queue = _queue_or_404(request)
    page = Paginator(queue.order_by("-created_at", "-id"), 25).get_page(request.GET.get("page"))
    rows = list(page)
    audit.log_list_access(EmailMessage, [email.pk for email in rows], view="unmatched mail")
    tenants = list(tenant_visible_to(request.user).order_by("name"))
    return render(request, "cases/email/unmatched.html", {"page": page, "rows": rows, "tenants": tenants})


def _requester_from(request, email: EmailMessage) -> Requester:
    tenant = tenant_visible_to(request.user).filter(slug=request.POST.get("tenant", "")).first()
    if tenant is None:
        raise CaseError("Choose a tenant.")
    if request.POST.get("new_contact"):
        try:
            return requester_create(
                tenant=tenant,
                name=request.POST.get("name", "") or email.from_name,
                email=email.from_address,
                actor=request.user,
            )
        except ValidationError as error:
            raise CaseError(" ".join(error.messages)) from None
        except PermissionDenied as error:
            raise CaseError(str(error)) from None
    pk = request.POST.get("requester", "")
    requester = Requester.objects.filter(tenant=tenant, pk=int(pk)).first() if pk.isdigit() and len(pk) < 12 else None
    if requester is None:
        raise CaseError(f"Choose a contact of {tenant.name}, or add the sender as a new contact.")
    return requester


@audited_write(EmailMessage, view="unmatched mail: assign")
@require_POST
def unmatched_assign(request, pk: int):
    queue = _queue_or_404(request)
    email = queue.filter(pk=pk).first()
    if email is None:
        messages.error(request, "That message is no longer in the unmatched queue.")
        return no_data(redirect("cases:email_unmatched"))
    try:
        requester = _requester_from(request, email)
        outcome = inbound.assign_unmatched(email_id=email.pk, actor=request.user, requester=requester)
    except CaseError as error:
        messages.error(request, f"{email.subject or 'The message'}: {error}")
        return no_data(redirect("cases:email_unmatched"))
    verb = "opened" if outcome.created else "added to"
    messages.success(request, f"{email.subject or 'The message'}: {verb} {outcome.case_key}.")
    return no_data(redirect("cases:detail", key=outcome.case_key))


@audited_write(EmailMessage, view="unmatched mail: discard")
@require_POST
def unmatched_discard(request, pk: int):
    queue = _queue_or_404(request)
    email = queue.filter(pk=pk).first()
    if email is None:
        messages.error(request, "That message is no longer in the unmatched queue.")
        return no_data(redirect("cases:email_unmatched"))
    try:
        inbound.discard_unmatched(email_id=email.pk, actor=request.user)
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Discarded: {email.subject or '(no subject)'} from {email.from_address}.")
    return no_data(redirect("cases:email_unmatched"))
