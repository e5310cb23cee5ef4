"""Celery tasks: thin, idempotent wrappers that take ids and call one service.

Imports go one way: tasks -> services, sweep (-> services). The case services enqueue these tasks
after commit through a local import (`_enrich_later`, `_check_sla_soon`): the one place the
direction is reversed, at call time only, so no module-level cycle exists."""

from celery import shared_task

from companyos import roles

from . import services
from .channels.outbox import relay_replies
from .channels.zendesk import tasks as zendesk_tasks  # noqa: F401  (registers the Zendesk sync's tasks with the worker)
from .closure import tasks as closure_tasks  # noqa: F401  (registers the closure tasks: auto-close, the two messages)
from .reports import tasks as reports_tasks  # noqa: F401  (registers the rollup sweep)
from .selectors import case_exists
from .sla.sweep import send_pending_notifications, sla_sweep


@shared_task(ignore_result=True)
def sla_sweep_task():
    return str(sla_sweep())


@shared_task(ignore_result=True)
def sla_check_case(case_id: int):
    return str(sla_sweep(case_id=case_id))


@shared_task(ignore_result=True)
def send_notifications_task():
    return send_pending_notifications()


@shared_task(ignore_result=True)
def enrich_case_task(case_id: int):
    """Attach a context snapshot to a new case (any channel). Idempotent enough: a second run adds a
    newer snapshot, which is what a refresh does."""
    if case_exists(case_id):
        services.case_capture_context(case_id=case_id, actor=roles.system_user())


@shared_task(ignore_result=True)
def relay_replies_task():
    """The reply outbox (cases.channels.outbox): public replies out through their case's channel."""
    return relay_replies()
