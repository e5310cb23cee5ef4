"""Celery tasks: thin, idempotent wrappers that take ids and call one service."""
from celery import shared_task

from companyos import roles

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
    from .enrichment import capture_context
    from .models import Case

    if Case.objects.filter(pk=case_id).exists():
        capture_context(case_id=case_id, actor=roles.system_user())
