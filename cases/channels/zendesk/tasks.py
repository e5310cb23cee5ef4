"""Celery tasks of the Zendesk sync: thin, idempotent, ids in (see cases/tasks.py for the rules)."""

import logging

from celery import shared_task

from .client import ZendeskError
from .inbound import process_webhook_event, retry_webhook_events, run_export
from .relay import alert_stuck, relay
from .services import sync_enabled


@shared_task(ignore_result=True)
def zendesk_relay_task():
    """Beat, every few seconds: the outbox, stuck-change alerts, webhook pulls that failed."""
    if not sync_enabled():
        return "off"
    result = relay()
    alerted = alert_stuck()
    retried = retry_webhook_events()
    return f"{result}; {alerted} alerted; {retried} webhook(s) retried"


@shared_task(ignore_result=True)
def zendesk_export_task():
    if not sync_enabled():
        return "off"
    try:
        return str(run_export())
    except ZendeskError as error:  # the cursor keeps what was applied; the next run goes on from it
        logging.getLogger(__name__).warning("zendesk export: %s", error)
        return f"stopped: {error}"


@shared_task(ignore_result=True)
def zendesk_webhook_task(event_id: int):
    return process_webhook_event(event_id=event_id)
