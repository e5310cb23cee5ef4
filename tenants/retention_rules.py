"""The tenants app's retention rule (companyos.retention): telemetry past TELEMETRY_RETENTION_DAYS,
minus what is still the current state (tenants.ingest.retention)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from companyos.retention import Rule, register_rule


def _count() -> int:
    from .ingest.retention import RETENTION_FIELD, TELEMETRY_MODELS, purgeable

    cutoff = timezone.now() - timedelta(days=settings.TELEMETRY_RETENTION_DAYS)
    return sum(
        qs.count() for model in TELEMETRY_MODELS.values() if model in RETENTION_FIELD for qs in purgeable(model, cutoff)
    )


def _purge() -> int:
    from .ingest.retention import purge_telemetry

    return sum(purge_telemetry().deleted.values())


def register() -> None:
    register_rule(
        Rule(
            name="telemetry",
            what="Telemetry (SLIs, alerts, config snapshots, flags, usage, experiments, deployments), except the "
            "current state (firing alerts, the latest SLI, snapshot and flag, active experiments)",
            kept=lambda: f"{settings.TELEMETRY_RETENTION_DAYS} days",
            setting="TELEMETRY_RETENTION_DAYS",
            count=_count,
            purge=_purge,
            beat="telemetry-retention",
        )
    )
