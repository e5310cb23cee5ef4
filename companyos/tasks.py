"""Celery tasks of the audit trail's housekeeping (companyos.audit_trail): thin and idempotent."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins
from django.utils import timezone

from . import audit_trail, backup

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def audit_seal_task():
    """Beat ("audit-seal", every 5 minutes): seal the audit trail's closed hours."""
    return audit_trail.seal_closed_intervals()


@shared_task(ignore_result=True)
def audit_partitions_task():
    """Beat ("audit-partitions"): create the coming months' audit partitions ahead of time."""
    return audit_trail.ensure_partitions()


@shared_task(ignore_result=True)
def audit_verify_task():
    """Beat ("audit-verify", daily): recompute the trail's row hashes and seals; on a mismatch log an
    error and mail the ADMINS."""
    return alert_unless_verified(audit_trail.verify())


def alert_unless_verified(result: audit_trail.Verification) -> bool:
    if result.ok:
        log.info("audit trail verified: %s entries, %s seals", result.rows_checked, result.seals_checked)
        return True
    message = (
        f"The audit trail failed verification: {result.problems[0]}\n\n"
        f"Checked {result.rows_checked} entries and {result.seals_checked} seals. "
        "Run `python manage.py audit_verify` for the details; treat this as a security incident."
    )
    log.error("audit trail verification failed: %s", result.problems[0])
    mail_admins("Audit trail verification failed", message, fail_silently=True)
    return False


@shared_task(ignore_result=True)
def audit_retention_task():
    """Beat ("audit-retention", daily): archive and drop audit partitions past AUDIT_RETENTION_MONTHS.
    Needs the owner role (MIGRATE_DATABASE_URL) in the worker's environment; does nothing when
    AUDIT_RETENTION_MONTHS is 0."""
    return len(audit_trail.archive_expired_partitions())


@shared_task(ignore_result=True)
def api_idempotency_purge_task():
    """Beat ("api-idempotency-purge", hourly): forget Idempotency-Keys past API_IDEMPOTENCY_DAYS."""
    from .api.idempotency import purge_expired

    return purge_expired()


@shared_task(ignore_result=True)
def nightly_backup_task():
    """Beat ("nightly-backup", 02:30 UTC) when BACKUP_DIR is set: one backup (companyos.backup), the
    oldest pruned to BACKUP_KEEP. A failure mails the ADMINS and raises a red banner for admins on
    every page until a backup succeeds."""
    if not settings.BACKUP_DIR:
        return None
    try:
        path = backup.backup(settings.BACKUP_DIR, out=log.info)
        backup.prune(settings.BACKUP_DIR, settings.BACKUP_KEEP)
    except Exception as error:  # noqa: BLE001 — any failure is the admins' to know about
        text = f"{type(error).__name__}: {error}"[:500]
        cache.set(backup.FAILED_KEY, {"at": timezone.now().isoformat(), "error": text}, timeout=None)
        log.error("nightly backup failed: %s", text)
        mail_admins("Nightly backup failed", f"The nightly backup to {settings.BACKUP_DIR} failed:\n\n{text}")
        return False
    cache.delete(backup.FAILED_KEY)
    log.info("nightly backup written: %s", path)
    return True


@shared_task(ignore_result=True)
def beat_heartbeat_task():
    """Beat ("beat-heartbeat", every 20 s): beat and a worker are alive (/readyz, /metrics)."""
    from . import metrics

    metrics.beat_heartbeat()


@shared_task(ignore_result=True)
def retention_task():
    """Beat ("retention", daily 03:15 UTC): every retention rule's purge (companyos.retention), each
    recorded as a PurgeRecord (on the audit trail)."""
    from . import retention

    return sum(record.count for record in retention.run(dry_run=False, beat="retention"))
