"""Celery tasks of the escalations: thin, idempotent, one service call (registered through
incidents.tasks)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def engineering_cadence_sweep_task():
    return str(services.cadence_sweep())
