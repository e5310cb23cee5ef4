"""Zendesk webhook signatures: `X-Zendesk-Webhook-Signature` is the base64 HMAC-SHA256, under the
webhook's signing secret, of `X-Zendesk-Webhook-Signature-Timestamp` followed by the raw body.
The timestamp must be recent (`ZENDESK_WEBHOOK_TOLERANCE_SECONDS`), so an old delivery cannot be
replayed; a redelivered one is dropped by its event id anyway. Plain functions, no ORM."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(*, secret: str, signature: str, timestamp: str, body: bytes, now: datetime, tolerance: int) -> str:
    """'' when the delivery is genuine and fresh, else why not (a message for the 401)."""
    if not secret:
        return "The Zendesk webhook secret is not configured."
    if not signature or not timestamp:
        return "Missing X-Zendesk-Webhook-Signature or its timestamp."
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        return "The webhook signature does not match."
    try:
        when = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return "The signature timestamp is not a time."
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if abs((now - when).total_seconds()) > tolerance:
        return "The signature timestamp is too old (or in the future)."
    return ""


def parse(body: bytes) -> tuple[dict, str]:
    """(payload, '') or ({}, why not)."""
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return {}, "The body is not JSON."
    if not isinstance(payload, dict):
        return {}, "The body is not a JSON object."
    return payload, ""


def ticket_id_of(payload: dict) -> int | None:
    """The ticket a delivery is about: an event-subscription webhook (`detail.id`) or a trigger's
    custom JSON body (`ticket_id`, or `ticket.id`)."""
    for value in (
        (payload.get("detail") or {}).get("id") if isinstance(payload.get("detail"), dict) else None,
        payload.get("ticket_id"),
        (payload.get("ticket") or {}).get("id") if isinstance(payload.get("ticket"), dict) else None,
    ):
        try:
            if value is not None and int(value) > 0:
                return int(value)
        except (TypeError, ValueError):
            continue
    return None


def event_id_of(payload: dict, body: bytes, *, invocation: str = "", timestamp: str = "") -> str:
    """The delivery's identity: the event's `id` (event-subscription webhooks), else Zendesk's
    invocation id header, else a hash of the signature timestamp and body (a trigger's body may be
    the same for every update of a ticket; the pull it causes is idempotent either way)."""
    value = payload.get("id") or payload.get("event_id") or invocation
    if value:
        return str(value)[:200]
    return "sha256:" + hashlib.sha256(timestamp.encode() + body).hexdigest()
