"""Celery tasks of the tenants app: thin, idempotent wrappers that call one service."""

from celery import shared_task

from . import ingest


@shared_task(ignore_result=True)
def purge_telemetry_task():
    """Beat ("telemetry-retention"): delete telemetry past TELEMETRY_RETENTION_DAYS (see
    tenants.ingest.retention.purge_telemetry). Running it twice is harmless."""
    return ingest.purge_telemetry().pk


@shared_task(ignore_result=True)
def telemetry_freshness_task():
    """Beat ("telemetry-freshness", hourly): find the tenant feeds older than their freshness target,
    keep the list for /readyz and /metrics, and mail the ADMINS about the ones newly stale (once each,
    until it is fresh again)."""
    from django.core.cache import cache
    from django.core.mail import mail_admins

    from companyos.metrics import STALE_FEEDS_KEY

    from .selectors import stale_feeds

    stale = [(slug, panel, newest.isoformat()) for slug, panel, newest in stale_feeds()]
    before = {(slug, panel) for slug, panel, _ in cache.get(STALE_FEEDS_KEY) or []}
    cache.set(STALE_FEEDS_KEY, stale, None)
    new = [(slug, panel, newest) for slug, panel, newest in stale if (slug, panel) not in before]
    if new:
        lines = "\n".join(f"- {slug}: {panel} telemetry, newest item {newest}" for slug, panel, newest in new)
        mail_admins(f"Stale telemetry: {len(new)} tenant feed(s)", f"Older than their freshness target:\n{lines}")
    return len(stale)


@shared_task(ignore_result=True)
def temporary_access_sweep_task():
    """Beat ("temporary-access"): mark expired temporary access grants revoked, once each (access
    already ended at the expiry: every read checks it)."""
    from .access import temporary_access_sweep

    return temporary_access_sweep()
