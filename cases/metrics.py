"""The cases app's gauges on /metrics (companyos.metrics): how late the SLA sweep is and how much
waits in the outboxes. Each is one indexed aggregate, read when Prometheus scrapes."""

from __future__ import annotations

from django.db.models import Min
from django.utils import timezone

from companyos.metrics import register_gauge


def sweep_lag() -> float:
    """Seconds since the oldest running clock fell due without being flagged breached (0: the sweep
    is keeping up; issue 18 wants breaches flagged within 30 s of due)."""
    from .models import SLAClock

    oldest = SLAClock.objects.filter(
        state=SLAClock.State.RUNNING, due_at__lt=timezone.now(), breached_at__isnull=True
    ).aggregate(oldest=Min("due_at"))["oldest"]
    return max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0


def notification_backlog() -> float:
    from .models import Notification

    return float(Notification.objects.filter(sent_at__isnull=True).count())


def reply_backlog() -> float:
    from .models import OutboundReply

    return float(OutboundReply.objects.filter(sent_at__isnull=True, failed_at__isnull=True).count())


def register() -> None:
    register_gauge("companyos_sla_sweep_lag_seconds", "How late the oldest due, unflagged SLA clock is.", sweep_lag)
    register_gauge(
        "companyos_notification_backlog", "Notifications (mail, Slack) waiting to be sent.", notification_backlog
    )
    register_gauge("companyos_reply_backlog", "Public replies waiting to leave through their channel.", reply_backlog)
