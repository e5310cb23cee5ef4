"""The cases app's retention rules (companyos.retention): sent notifications, the original copies of
inbound e-mail, and the attachments of cases closed long ago (per tenant where it makes sense)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from companyos.retention import Rule, register_rule


def _days(name: str) -> int:
    return int(getattr(settings, name))


# --- sent notifications -----------------------------------------------------------------------------


def _old_notifications():
    from .models import Notification

    return Notification.objects.filter(
        sent_at__lt=timezone.now() - timedelta(days=_days("NOTIFICATION_RETENTION_DAYS"))
    )


def _purge_notifications() -> int:
    return _old_notifications().delete()[0]


# --- original copies of inbound e-mail ----------------------------------------------------------------


def _old_originals():
    from .channels.email.models import EmailMessage

    days = _days("EMAIL_ORIGINAL_RETENTION_DAYS")
    return EmailMessage.objects.exclude(raw="").filter(created_at__lt=timezone.now() - timedelta(days=days))


def _purge_originals() -> int:
    from .channels.email.models import EmailMessage

    n = 0
    for mail in _old_originals().iterator():
        mail.raw.delete(save=False)
        EmailMessage.objects.filter(pk=mail.pk).update(raw="")
        n += 1
    return n


# --- attachments of cases closed long ago ---------------------------------------------------------------


def attachment_days(tenant_slug: str) -> int:
    """A tenant's own rule (ATTACHMENT_RETENTION_DAYS_BY_TENANT), else ATTACHMENT_RETENTION_DAYS; 0 keeps."""
    return settings.ATTACHMENT_RETENTION_DAYS_BY_TENANT.get(tenant_slug, settings.ATTACHMENT_RETENTION_DAYS)


def _expired_cases() -> list[int]:
    from tenants.models import Tenant

    from .choices import Status
    from .models import Attachment, Case

    now = timezone.now()
    ids = []
    for tenant_id, slug in Tenant.objects.values_list("pk", "slug"):
        days = attachment_days(slug)
        if days <= 0:
            continue
        ids += list(
            Case.objects.filter(tenant_id=tenant_id, status=Status.CLOSED, closed_at__lt=now - timedelta(days=days))
            .filter(Exists(Attachment.objects.filter(case_id=OuterRef("pk"))))
            .values_list("pk", flat=True)
        )
    return ids


def _count_attachments() -> int:
    from .models import Attachment

    return Attachment.objects.filter(case_id__in=_expired_cases()).count()


def _purge_attachments() -> int:
    from companyos.roles import system_user

    from .services import case_purge_attachments

    system = system_user()
    return sum(
        case_purge_attachments(case_id=pk, actor=system, reason="closed past the attachment retention")
        for pk in _expired_cases()
    )


def register() -> None:
    register_rule(
        Rule(
            name="notifications",
            what="Sent notifications (e-mail and Slack alerts, pages) in the outbox",
            kept=lambda: f"{_days('NOTIFICATION_RETENTION_DAYS')} days after sending",
            setting="NOTIFICATION_RETENTION_DAYS",
            count=lambda: _old_notifications().count(),
            purge=_purge_notifications,
        )
    )
    register_rule(
        Rule(
            name="email-originals",
            what="The original .eml of inbound e-mail (the message itself stays on its case)",
            kept=lambda: f"{_days('EMAIL_ORIGINAL_RETENTION_DAYS')} days",
            setting="EMAIL_ORIGINAL_RETENTION_DAYS",
            count=lambda: _old_originals().count(),
            purge=_purge_originals,
        )
    )
    register_rule(
        Rule(
            name="closed-case-attachments",
            what="Attachments of closed cases (the cases, their timelines and metrics stay)",
            kept=lambda: (
                f"{settings.ATTACHMENT_RETENTION_DAYS} days after closing"
                if settings.ATTACHMENT_RETENTION_DAYS
                else "forever"
            ),
            setting="ATTACHMENT_RETENTION_DAYS",
            per_tenant="ATTACHMENT_RETENTION_DAYS_BY_TENANT, e.g. acme=730,globex=90",
            count=_count_attachments,
            purge=_purge_attachments,
        )
    )
