"""Helpers of the Zendesk sync tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from cases.channels.zendesk import webhook
from cases.channels.zendesk.models import ZendeskChange
from cases.channels.zendesk.relay import relay
from demo.zendesk_fake import FakeZendesk, werkzeug_handler

SECRET = "whsec-test-secret"


def configure(httpserver, fake: FakeZendesk, settings) -> FakeZendesk:
    """Serve `fake` behind pytest-httpserver (a free port on 127.0.0.1) and point the sync at it."""
    httpserver.expect_request(re.compile(r"^/api/v2/.*")).respond_with_handler(werkzeug_handler(fake))
    settings.ZENDESK_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.ZENDESK_EMAIL = "api@companyos.example"
    settings.ZENDESK_API_TOKEN = "test-token"
    settings.ZENDESK_WEBHOOK_SECRET = SECRET
    settings.ZENDESK_TIMEOUT_SECONDS = 0.5
    settings.ZENDESK_MAX_ATTEMPTS = 4
    settings.ZENDESK_BACKOFF_SECONDS = 5
    settings.ZENDESK_BACKOFF_MAX_SECONDS = 60
    fake.httpserver = httpserver
    return fake


def drain(*, start=None, rounds: int = 50, step: float = 120.0):
    """Run the relay until nothing is pending, moving the clock on past every backoff and pause."""
    now = start or timezone.now()
    results = []
    for _ in range(rounds):
        results.append(relay(now=now))
        if not ZendeskChange.objects.filter(state=ZendeskChange.State.PENDING).exists():
            return results
        now += timedelta(seconds=step)
    raise AssertionError(f"still pending after {rounds} rounds: {results[-3:]}")


def signed_post(client, url: str, payload: dict, *, secret: str = SECRET, at: datetime | None = None, body=None):
    body = body if body is not None else json.dumps(payload).encode()
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return client.post(
        url,
        body,
        content_type="application/json",
        headers={
            "X-Zendesk-Webhook-Signature": webhook.sign(secret, stamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        },
    )
