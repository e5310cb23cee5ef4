"""The audit trail's retention rule (companyos.retention): monthly partitions past
AUDIT_RETENTION_MONTHS are exported, verified and dropped (companyos.audit_trail)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import audit_trail
from .retention import Rule, register_rule


def _expired() -> int:
    months = settings.AUDIT_RETENTION_MONTHS
    if months <= 0 or not audit_trail.supported():
        return 0
    cutoff = audit_trail.retention_cutoff(timezone.now(), months)
    with connection.cursor() as cursor:
        return sum(1 for _name, _begin, end in audit_trail.partitions(cursor) if end <= cutoff)


def register() -> None:
    register_rule(
        Rule(
            name="audit-partitions",
            what="Audit-trail months (exported to a verified .csv.gz archive first, then dropped)",
            kept=lambda: f"{settings.AUDIT_RETENTION_MONTHS} months" if settings.AUDIT_RETENTION_MONTHS else "forever",
            setting="AUDIT_RETENTION_MONTHS, AUDIT_ARCHIVE_DIR",
            count=_expired,
            purge=lambda: len(audit_trail.archive_expired_partitions()),
            beat="audit-retention",
        )
    )
