"""Told of every timeline entry inside its transaction (cases.changes): the closure rows follow the
case's status entries atomically, whatever moved the case (the case page, a bulk action, the API,
a customer's reply by e-mail, the auto-close sweep itself).

* to resolved: an AutoClose timer due after the policy's auto-close days (default 7); after commit,
  "is this solved?" goes to the customer (services.ask_if_solved).
* leaving resolved: the pending timer ends — "closed" when the case closed, "cancelled" when it was
  reopened (a customer's reply, their "no", an agent): the next resolution gets a new timer.
* to closed: a Closure row with how it closed — flagged for an SLA credit decision when a resolution
  clock of the case breached; after commit the survey goes out (services.send_survey).
* a reopen (from resolved or closed): the latest resolution's row records `reopened_at` (the reports'
  reopen rate and "reopened within 7 days").

Costs one attribute read for every entry that is not a status change. Never writes the case row.
"""

from __future__ import annotations

from django.db import transaction

from ..choices import Status
from ..models import Interaction
from .models import AutoClose, Closure
from .rules import UNCONFIRMED, auto_close_at


def _auto_close_days(case) -> int | None:
    from ..models import SLAPolicy

    if case.sla_policy_id is None:
        return None
    return SLAPolicy.objects.filter(pk=case.sla_policy_id).values_list("auto_close_days", flat=True).first()


def on_change(interaction: Interaction) -> None:
    if interaction.kind != Interaction.Kind.STATUS:
        return
    data = interaction.data or {}
    was, to = data.get("from"), data.get("to")
    case, at = interaction.case, interaction.created_at
    if was == Status.RESOLVED:
        state = AutoClose.State.CLOSED if to == Status.CLOSED else AutoClose.State.CANCELLED
        note = data.get("closed_how", "") if to == Status.CLOSED else (data.get("reason") or "reopened")[:300]
        AutoClose.objects.filter(case_id=case.pk, state=AutoClose.State.PENDING).update(
            state=state, done_at=at, note=note
        )
    if data.get("reopened"):
        latest = AutoClose.objects.filter(case_id=case.pk, reopened_at__isnull=True).order_by("-resolved_at")[:1]
        AutoClose.objects.filter(pk__in=latest.values("pk")).update(reopened_at=at)
    if to == Status.RESOLVED:
        timer = AutoClose.objects.create(
            case_id=case.pk,
            case_created_at=case.created_at,
            resolved_at=at,
            due_at=auto_close_at(at, _auto_close_days(case)),
        )
        timer_id = timer.pk
        transaction.on_commit(lambda: _later("ask_if_solved_task", timer_id))
    elif to == Status.CLOSED:
        closure = Closure.objects.create(
            case_id=case.pk,
            tenant_id=case.tenant_id,
            case_created_at=case.created_at,
            closed_at=at,
            how=data.get("closed_how") or UNCONFIRMED,
            actor=interaction.actor,
            credit=Closure.Credit.PENDING if _resolution_breached(case.pk) else Closure.Credit.NONE,
        )
        closure_id = closure.pk
        transaction.on_commit(lambda: _later("send_survey_task", closure_id))


def _resolution_breached(case_id: int) -> bool:
    """Any resolution window of the case missed its target (stopped late, or breached while running)."""
    from django.db.models import Q

    from ..models import SLAClock

    return (
        SLAClock.objects.filter(case_id=case_id, kind=SLAClock.Kind.RESOLUTION)
        .filter(Q(met=False) | Q(breached_at__isnull=False))
        .exists()
    )


def _later(name: str, row_id: int) -> None:
    from . import tasks  # tasks import services, which import this package: at call time, after commit

    getattr(tasks, name).delay(row_id)
