"""The reply outbox honours a sender's Retry-After (Slack's 429) instead of its own backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.channels import outbound
from cases.channels.outbox import relay_replies
from cases.models import OutboundReply
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


class Busy(Exception):
    retry_after = 120.0


def test_a_sender_saying_retry_after_is_retried_then_and_not_sooner(tenant_a, agent, monkeypatch):
    case = CaseFactory(tenant=tenant_a, channel="slack")
    calls = []

    def sender(interaction):
        calls.append(interaction.pk)
        raise Busy("rate limited")

    monkeypatch.setitem(outbound._senders, "slack", sender)
    services.case_reply(case_id=case.pk, actor=agent, body="On it.", public=True)
    reply = OutboundReply.objects.get(case=case)
    now = timezone.now() + timedelta(seconds=1)
    relay_replies(now=now)
    reply.refresh_from_db()
    assert calls and reply.sent_at is None and reply.failed_at is None
    assert reply.send_after == now + timedelta(seconds=120)
    relay_replies(now=now + timedelta(seconds=60))  # not yet due
    assert len(calls) == 1
