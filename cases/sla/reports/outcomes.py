"""A clock's outcome (met, missed, pending, finished) as SQL, and the filtered aggregates the
dashboard's grouped queries annotate: counts per outcome, duration sums for MTTA/MTTR."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from .filters import KINDS, PAUSED, STOPPED


def met_q() -> Q:
    return Q(state=STOPPED, met=True)


def overdue_q(now: datetime) -> Q:
    """A clock that has not stopped but is already past due."""
    return ~Q(state=STOPPED) & (
        Q(breached_at__isnull=False) | Q(due_at__lte=now) | Q(state=PAUSED, elapsed_before__gt=F("target"))
    )


def missed_q(now: datetime) -> Q:
    return Q(state=STOPPED, met=False) | overdue_q(now)


def pending_q(now: datetime) -> Q:
    return (
        ~Q(state=STOPPED)
        & Q(breached_at__isnull=True)
        & (Q(due_at__isnull=True) | Q(due_at__gt=now))
        & ~Q(state=PAUSED, elapsed_before__gt=F("target"))
    )


def finished_q() -> Q:
    """Stopped with an outcome: the clocks MTTA and MTTR average over."""
    return Q(state=STOPPED, met__isnull=False)


CALENDAR_TIME = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())


def _outcome_aggregates(now: datetime, prefix: str = "", only: Q | None = None) -> dict:
    only = only if only is not None else Q()
    out = {}
    for kind, short in KINDS:
        of_kind = Q(kind=kind) & only
        out[f"{prefix}{short}_met"] = Count("pk", filter=of_kind & met_q())
        out[f"{prefix}{short}_missed"] = Count("pk", filter=of_kind & missed_q(now))
        out[f"{prefix}{short}_pending"] = Count("pk", filter=of_kind & pending_q(now))
    return out


def _duration_aggregates(prefix: str = "", only: Q | None = None) -> dict:
    only = only if only is not None else Q()
    out = {}
    for kind, short in KINDS:
        done = Q(kind=kind) & finished_q() & only
        out[f"{prefix}{short}_n"] = Count("pk", filter=done)
        out[f"{prefix}{short}_calendar"] = Sum(CALENDAR_TIME, filter=done)
        out[f"{prefix}{short}_policy"] = Sum("elapsed_before", filter=done, output_field=DurationField())
    return out
