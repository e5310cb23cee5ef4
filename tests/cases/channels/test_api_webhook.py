"""Replies on cases an integration opened through the API go back to its signed reply webhook
(issue 11, point 2: "API/CLI → visible through the API and an optional signed webhook")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from cases import services
from cases.channels.api_webhook import ReplyWebhook
from cases.channels.outbox import relay_replies
from cases.models import Case, OutboundReply
from tenants.models import Integration
from tests.api_support import API, integration_token
from tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(admin_user, tenant_a):
    """A case the Acme backend opened through the API, and its integration."""
    RequesterFactory(tenant=tenant_a, email="jane@acme.example")
    api = API(integration_token(admin_user, [tenant_a]))
    response = api.post(
        "/api/v1/cases/", {"tenant": tenant_a.slug, "requester": "jane@acme.example", "subject": "Export fails"}
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=int(response.json()["key"].split("-")[1]))
    return case, Integration.objects.get(name="Acme backend")


def _relay():
    return relay_replies(now=timezone.now() + timedelta(seconds=1))


def test_a_public_reply_is_posted_signed_and_a_note_never(opened, agent, httpserver):
    case, integration = opened
    hook = ReplyWebhook.objects.create(integration=integration, url=httpserver.url_for("/hooks/support"))
    received = []

    def handler(request):
        received.append((request.headers, request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/hooks/support", method="POST").respond_with_handler(handler)
    services.case_reply(case_id=case.pk, actor=agent, body="Internal: looks like KI-7", public=False)
    services.case_reply(case_id=case.pk, actor=agent, body="We found the cause; a fix ships today.", public=True)
    assert _relay() == 1
    ((headers, body),) = received
    payload = json.loads(body)
    assert payload["event"] == "case.reply" and payload["case"] == case.key and payload["tenant"] == "acme"
    assert payload["reply"]["body"] == "We found the cause; a fix ships today."
    assert headers["X-CompanyOS-Event"] == "case.reply" and headers["Idempotency-Key"].startswith("reply-")
    t, v1 = (part.split("=", 1)[1] for part in headers["X-CompanyOS-Signature"].split(","))
    assert abs(int(t) - time.time()) < 60
    expected = hmac.new(hook.secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert OutboundReply.objects.get(case=case).sent_at is not None


def test_a_server_error_is_retried_and_a_refusal_fails_at_once(opened, agent, httpserver):
    case, integration = opened
    ReplyWebhook.objects.create(integration=integration, url=httpserver.url_for("/hooks/support"))
    httpserver.expect_oneshot_request("/hooks/support").respond_with_data("down", status=503)
    services.case_reply(case_id=case.pk, actor=agent, body="First", public=True)
    _relay()
    reply = OutboundReply.objects.get(case=case)
    assert reply.sent_at is None and reply.failed_at is None and "503" in reply.last_error
    httpserver.expect_request("/hooks/support").respond_with_data("no", status=410)
    relay_replies(now=timezone.now() + timedelta(minutes=2))
    reply.refresh_from_db()
    assert reply.failed_at is not None and "410" in reply.last_error


def test_without_a_webhook_the_reply_stays_on_the_case(opened, agent, httpserver):
    case, _integration = opened
    services.case_reply(case_id=case.pk, actor=agent, body="Visible through the API", public=True)
    assert _relay() == 1
    assert OutboundReply.objects.get(case=case).external_id == ""
    assert not httpserver.log


def test_a_case_a_person_opened_through_the_api_has_no_webhook(agent, tenant_a, httpserver):
    from tests.factories import CaseFactory

    case = CaseFactory(tenant=tenant_a, channel="api")
    services.case_reply(case_id=case.pk, actor=agent, body="Hello", public=True)
    assert _relay() == 1 and not httpserver.log
