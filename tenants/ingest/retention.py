"""Retention: telemetry older than the window goes, in batches; each purge is recorded and logged."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..telemetry import (
    RETENTION_FIELD,
    SLI,
    TELEMETRY_MODELS,
    Alert,
    ConfigSnapshot,
    Experiment,
    FeatureFlag,
    TelemetryPurge,
)

retention_log = logging.getLogger("tenants.retention")


def _newer_exists(model, group: tuple[str, ...], time_field: str):
    """Exists(a row of the same group that is newer: later time, or same time and higher id)."""
    newer = model.objects.filter(**{g: OuterRef(g) for g in group}).filter(
        Q(**{f"{time_field}__gt": OuterRef(time_field)})
        | Q(**{time_field: OuterRef(time_field), "pk__gt": OuterRef("pk")})
    )
    return Exists(newer)


def purgeable(model, cutoff: datetime) -> list:
    """The querysets of `model`'s rows the purge deletes: older than the cutoff by RETENTION_FIELD, minus
    the rows that are still the current state (see purge_telemetry)."""
    field = RETENTION_FIELD[model]
    old = model.objects.filter(**{f"{field}__lt": cutoff})
    if model is Alert:
        return [old.exclude(status=Alert.Status.FIRING)]
    if model is SLI:
        return [old.filter(_newer_exists(SLI, ("tenant_id", "name"), field))]
    if model is FeatureFlag:
        return [old.filter(_newer_exists(FeatureFlag, ("tenant_id", "key"), field))]
    if model is ConfigSnapshot:
        # Per resource, and tenant-wide (no resource) as a group of its own.
        tenant_wide = old.filter(resource__isnull=True).filter(
            Exists(
                ConfigSnapshot.objects.filter(tenant_id=OuterRef("tenant_id"), resource__isnull=True).filter(
                    Q(taken_at__gt=OuterRef("taken_at")) | Q(taken_at=OuterRef("taken_at"), pk__gt=OuterRef("pk"))
                )
            )
        )
        per_resource = old.filter(resource__isnull=False).filter(
            _newer_exists(ConfigSnapshot, ("tenant_id", "resource_id"), field)
        )
        return [tenant_wide, per_resource]
    if model is Experiment:
        return [old.exclude(status="active")]
    return [old]


def purge_telemetry(
    *, now: datetime | None = None, retention_days: int | None = None, batch_size: int = 5000
) -> TelemetryPurge:
    """Delete telemetry older than the retention window (settings.TELEMETRY_RETENTION_DAYS) by each
    kind's RETENTION_FIELD, in batches of `batch_size` rows (one short transaction each, rows locked
    with SKIP LOCKED so two purges never wait on each other), and record a TelemetryPurge row with
    the counts per kind, also logged to "tenants.retention".

    Kept however old, because they are still the current state the console shows:
      - firing alerts (an alert is open until it is resolved);
      - the latest SLI per (tenant, name);
      - the latest config snapshot per (tenant, resource), and per tenant for tenant-wide snapshots;
      - the latest feature flag observation per (tenant, key);
      - active experiments.
    Resources and dependency edges are structure, not telemetry: never purged.

    Idempotent: a second run finds nothing more to delete (and records a purge of zero rows).
    """
    now = now or timezone.now()
    days = settings.TELEMETRY_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = now - timedelta(days=days)
    deleted = {}
    for kind, model in TELEMETRY_MODELS.items():
        if model not in RETENTION_FIELD:
            continue
        total = 0
        for qs in purgeable(model, cutoff):
            while True:
                with transaction.atomic():
                    ids = list(
                        qs.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:batch_size]
                    )
                    if ids:
                        total += model.objects.filter(pk__in=ids).delete()[0]
                if len(ids) < batch_size:
                    break
        deleted[kind] = total
    purge = TelemetryPurge.objects.create(ran_at=now, cutoff=cutoff, deleted=deleted)
    retention_log.info(
        "Telemetry purge %s: deleted %s rows older than %s (%s)",
        purge.pk,
        sum(deleted.values()),
        cutoff.isoformat(),
        ", ".join(f"{k} {n}" for k, n in deleted.items()),
    )
    return purge
