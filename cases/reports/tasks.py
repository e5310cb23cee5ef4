"""Thin, idempotent tasks of the reports."""

from __future__ import annotations

from celery import shared_task

from . import rollup


@shared_task(ignore_result=True)
def rollup_sweep_task():
    result = rollup.rollup_sweep()
    return {"days": result.days, "markers": result.markers, "cells": result.cells, "busy": result.busy}


@shared_task(ignore_result=True)
def weekly_export_task():
    """Beat, every Monday: store last week's weekly operations report (once per week)."""
    from .weekly import export_week

    stored = export_week()
    return stored.label if stored else "already exported"
