"""The reply outbox: every public reply that leaves through its case's channel.

`on_change` is a change listener (`cases.changes`): for a public reply on a case whose channel has
a sender (`cases.channels.outbound.sender_for`) it runs the channel's check (which may refuse the
reply, rolling back the whole write) and writes an `OutboundReply` row in the same transaction.
Every other timeline entry costs it two attribute reads. Internal notes never leave; the copies a
merge makes of messages already sent are not sent again.

`relay_replies` (beat, every few seconds) claims one row at a time with a lease (`SELECT … FOR
UPDATE SKIP LOCKED`), calls the sender with no transaction open, then marks it sent. A failure is
retried after 1, 2, 4 … minutes (capped at an hour) up to `REPLY_MAX_ATTEMPTS`; then, or at once
for a `PermanentFailure`, the reply is marked failed and the case's timeline says so. A relay killed
mid-send re-sends at most the one reply it had in flight (its lease runs out), and the e-mail
sender reuses the same Message-ID, so the customer's mail client shows one message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .. import services
from ..models import Interaction
from .models import OutboundReply
from .outbound import PermanentFailure, check_for, sender_for

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def on_change(interaction: Interaction) -> None:
    if interaction.kind != Interaction.Kind.REPLY or not interaction.public:
        return
    data = interaction.data or {}
    if data.get("merged_from"):
        return  # a merge's copy of a reply the customer already has
    case = interaction.case
    channel = interaction.channel or case.channel
    sender = sender_for(channel)
    if sender is None:
        return  # widget, API: the reply stays on the case, visible there
    check = check_for(channel)
    if check is not None:
        check(interaction)
    OutboundReply.objects.create(interaction=interaction, case=case, channel=channel, send_after=interaction.created_at)


def _lockable(qs):
    features = connection.features
    if features.has_select_for_update:
        return qs.select_for_update(skip_locked=features.has_select_for_update_skip_locked)
    return qs


def _claim_next(now: datetime) -> OutboundReply | None:
    due = OutboundReply.objects.filter(sent_at__isnull=True, failed_at__isnull=True, send_after__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    with transaction.atomic():
        reply = _lockable(due.order_by("send_after", "id")).first()
        if reply is None:
            return None
        reply.attempts += 1
        reply.lease_until = now + LEASE
        reply.save(update_fields=["attempts", "lease_until"])
    return reply


def relay_replies(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send what is due; returns how many were sent."""
    now = now or timezone.now()
    max_attempts = settings.REPLY_MAX_ATTEMPTS
    sent = 0
    for _ in range(limit):
        reply = _claim_next(now)
        if reply is None:
            break
        sender = sender_for(reply.channel)
        try:
            if sender is None:
                raise PermanentFailure(f"no sender is registered for the {reply.channel} channel")
            interaction = Interaction.objects.select_related("case", "actor").get(pk=reply.interaction_id)
            external_id = sender(interaction) or ""
        except Exception as error:  # noqa: BLE001 — any transport failure is retried or recorded
            _failed(reply, error, now, permanent=isinstance(error, PermanentFailure) or reply.attempts >= max_attempts)
        else:
            OutboundReply.objects.filter(pk=reply.pk).update(
                sent_at=timezone.now(), lease_until=None, last_error="", external_id=external_id[:300]
            )
            sent += 1
    return sent


def _failed(reply: OutboundReply, error: Exception, now: datetime, *, permanent: bool) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    if not permanent:
        delay = min(BACKOFF * 2 ** (reply.attempts - 1), MAX_BACKOFF)
        retry_after = getattr(error, "retry_after", None)  # a sender's 429 (Slack) says when to come back
        if retry_after:
            delay = timedelta(seconds=float(retry_after))
        OutboundReply.objects.filter(pk=reply.pk).update(lease_until=None, last_error=text, send_after=now + delay)
        return
    log.error("reply %s of case %s could not be sent: %s", reply.interaction_id, reply.case_id, text)
    with transaction.atomic():
        OutboundReply.objects.filter(pk=reply.pk).update(lease_until=None, last_error=text, failed_at=now)
        services.record_system_entries(
            [
                {
                    "case_id": reply.case_id,
                    "created_at": now,
                    "body": f"The reply could not be delivered by {reply.channel} after {reply.attempts} "
                    f"attempt(s): {text}",
                    "data": {"outbound_failed": reply.interaction_id, "channel": reply.channel, "error": text},
                }
            ]
        )
