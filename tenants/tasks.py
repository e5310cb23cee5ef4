"""Celery tasks of the tenants app: thin, idempotent wrappers that call one service."""

from celery import shared_task

from . import ingest


@shared_task(ignore_result=True)
def purge_telemetry_task():
    """Beat ("telemetry-retention"): delete telemetry past TELEMETRY_RETENTION_DAYS (see
    tenants.ingest.retention.purge_telemetry). Running it twice is harmless."""
    return ingest.purge_telemetry().pk
