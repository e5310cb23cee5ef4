"""Helpers of the Zendesk sync tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from cases.channels.zendesk import webhook
from cases.channels.zendesk.models import ZendeskChange
from cases.channels.zendesk.relay import relay

SECRET = "whsec-test-secret"


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
