"""Replies on cases an integration opened through the API (channel `api` or `cli`) go back to it:
a signed webhook, optional per integration (issue 11, point 2). Without one the reply stays on the
case, where the integration reads it through the API (`GET /api/v1/cases/<key>/`).

An admin sets the URL in the admin (*Reply webhooks*); the signing secret is made with it and shown
there. Each public reply is POSTed, from the reply outbox (never inside the request), as JSON:

    {"event": "case.reply", "case": "CS-1042", "tenant": "acme",
     "reply": {"id": 77, "body": "…", "author": "Maya Lindqvist", "created_at": "2026-12-02T04:50:00+00:00"}}

with `X-CompanyOS-Event: case.reply`, `Idempotency-Key: reply-<id>` (a retried delivery repeats it)
and `X-CompanyOS-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body with the secret>`,
which the receiver checks (and refuses a `t` older than a few minutes). A 2xx is delivered; 429 is
retried after its Retry-After, 5xx and timeouts with the outbox's backoff; any other 4xx fails at
once and the case's timeline says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import httpx
from django.db import models

from .outbound import PermanentFailure

CHANNELS = ("api", "cli")
TIMEOUT = 10.0


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class ReplyWebhook(models.Model):
    """Where an integration hears the replies on the cases it opened."""

    integration = models.OneToOneField("tenants.Integration", on_delete=models.CASCADE, related_name="reply_webhook")
    url = models.URLField(max_length=500, help_text="HTTPS endpoint that receives each public reply as JSON")
    secret = models.CharField(max_length=80, default=new_secret, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "cases"

    def __str__(self):
        return f"reply webhook of {self.integration}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookBusy(Exception):
    """The receiver asked us to wait (429): the outbox retries after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


def _integration_of(case) -> int | None:
    """The integration that opened `case` (its opening entry says so), if one did."""
    from ..models import Interaction

    opening = (
        Interaction.objects.filter(case_id=case.pk, kind=Interaction.Kind.INBOUND).order_by("created_at", "id").first()
    )
    return (opening.data or {}).get("integration_id") if opening else None


def send_reply(interaction) -> str:
    """The reply sender for the `api` and `cli` channels (cases.channels.outbound)."""
    case = interaction.case
    integration_id = _integration_of(case)
    hook = (
        ReplyWebhook.objects.select_related("integration")
        .filter(integration_id=integration_id, active=True, integration__revoked_at__isnull=True)
        .first()
        if integration_id
        else None
    )
    if hook is None:
        return ""  # nobody to tell: the reply is on the case, visible through the API
    author = interaction.actor.get_full_name() or interaction.actor.get_username() if interaction.actor else "Support"
    body = json.dumps(
        {
            "event": "case.reply",
            "case": case.key,
            "tenant": case.tenant.slug,
            "reply": {
                "id": interaction.pk,
                "body": interaction.body,
                "author": author,
                "created_at": interaction.created_at.isoformat(),
            },
        },
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CompanyOS-Support-Webhook/1",
        "X-CompanyOS-Event": "case.reply",
        "Idempotency-Key": f"reply-{interaction.pk}",
        "X-CompanyOS-Signature": f"t={timestamp},v1={sign(hook.secret, timestamp, body)}",
    }
    try:
        response = httpx.post(hook.url, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as error:
        raise ConnectionError(f"reply webhook {hook.url}: {error}") from error
    if 200 <= response.status_code < 300:
        return f"webhook:{response.status_code}"
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        raise WebhookBusy(
            f"reply webhook {hook.url} answered 429", float(retry_after) if retry_after.isdigit() else None
        )
    if response.status_code >= 500:
        raise ConnectionError(f"reply webhook {hook.url} answered {response.status_code}")
    raise PermanentFailure(f"reply webhook {hook.url} refused the reply ({response.status_code})")


def register() -> None:
    from .outbound import register_reply_sender

    for channel in CHANNELS:
        register_reply_sender(channel, send_reply)
