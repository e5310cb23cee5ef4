"""Queue notifications on the existing outbox (`cases.Notification`, sent by beat's
send-notifications) for apps above cases: they never write cases' models themselves. Called inside
the caller's transaction, so a notification exists exactly when the change that decided it does."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import Notification


def queue_notifications(
    *,
    case_id: int | None,
    emails: list[str],
    subject: str,
    body: str,
    slack: bool = False,
    send_after: datetime | None = None,
) -> int:
    """One e-mail per distinct non-empty address, and a post to SLACK_WEBHOOK_URL if `slack` and one
    is set. `case_id` None: a notification about no case (a burn-rate SRE escalation). Returns how
    many were queued."""
    when = send_after or timezone.now()
    rows = [
        Notification(
            case_id=case_id,
            channel=Notification.Channel.EMAIL,
            recipient=email,
            subject=subject[:300],
            body=body,
            send_after=when,
        )
        for email in dict.fromkeys(e for e in emails if e)
    ]
    if slack and settings.SLACK_WEBHOOK_URL:
        rows.append(
            Notification(
                case_id=case_id,
                channel=Notification.Channel.SLACK,
                recipient=settings.SLACK_WEBHOOK_URL,
                subject=subject[:300],
                body=body,
                send_after=when,
            )
        )
    Notification.objects.bulk_create(rows)
    return len(rows)
