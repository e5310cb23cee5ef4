"""The message action's answer, sent after commit through the payload's `response_url` (Slack wants
the HTTP answer to an interaction within 3 seconds and shows nothing from its body)."""

from __future__ import annotations

import logging

from celery import shared_task

from . import api

log = logging.getLogger(__name__)


# Named under cases.tasks so CELERY_TASK_ROUTES ("cases.tasks.*") routes it with the app's other tasks.
@shared_task(name="cases.tasks.slack_respond_task", acks_late=True, ignore_result=True)
def slack_respond_task(response_url: str, message: dict) -> None:
    """The answer is a courtesy (the case exists either way, and `/support CS-…` shows it): a
    failure is logged, not retried for ever."""
    try:
        api.post_response(response_url, message)
    except api.SlackSendError as error:
        log.warning("Slack response_url answer failed: %s", error)
