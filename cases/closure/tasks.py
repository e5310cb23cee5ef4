"""Thin, idempotent tasks: ids in, one closure service call."""

from __future__ import annotations

from celery import shared_task

from . import services, sweep


@shared_task(ignore_result=True)
def auto_close_sweep_task():
    result = sweep.auto_close_sweep()
    return {"closed": result.closed, "cancelled": result.cancelled, "skipped": result.skipped}


@shared_task(ignore_result=True)
def ask_if_solved_task(auto_close_id: int):
    services.ask_if_solved(auto_close_id=auto_close_id)


@shared_task(ignore_result=True)
def send_survey_task(closure_id: int):
    services.send_survey(closure_id=closure_id)
