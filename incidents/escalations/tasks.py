"""Celery tasks of the escalations: thin, idempotent, one service call (registered through
incidents.tasks)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def engineering_cadence_sweep_task():
    return str(services.cadence_sweep())


@shared_task(ignore_result=True)
def burn_rate_sweep_task():
    from .sre import burn_rate_sweep

    return str(burn_rate_sweep())


@shared_task(ignore_result=True)
def shift_handoff_task():
    from .shifts import shift_handoff_sweep

    return str(shift_handoff_sweep())
