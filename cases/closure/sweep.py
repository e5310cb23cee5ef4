"""The auto-close sweep (beat, every minute): resolved cases whose timer is due close by themselves.

Exactly once: each due timer is handled in its own transaction that locks the case (SKIP LOCKED: a
case someone is writing is left for the next run) and then the timer, re-checks that it is still
pending and still about the case's current resolution, and closes the case through
cases.services.case_transition — whose status entry ends the timer in the same transaction
(cases.closure.listener). A second sweep, or a concurrent one, finds it no longer pending."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from companyos import roles

from .. import services
from ..choices import Status
from ..errors import CaseError
from ..models import Case
from .models import AutoClose
from .rules import AUTO

log = logging.getLogger(__name__)


@dataclass
class AutoCloseResult:
    closed: int = 0
    cancelled: int = 0
    skipped: int = 0


def _lockable(qs, skip_locked: bool = True):
    features = connection.features
    if features.has_select_for_update:
        return qs.select_for_update(skip_locked=skip_locked and features.has_select_for_update_skip_locked)
    return qs


def auto_close_sweep(*, now=None, batch: int = 500) -> AutoCloseResult:
    now = now or timezone.now()
    result = AutoCloseResult()
    due = list(
        AutoClose.objects.filter(state=AutoClose.State.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", "case_id")[:batch]
    )
    system = roles.system_user()
    for timer_id, case_id in due:
        with transaction.atomic():
            case = _lockable(Case.objects.filter(pk=case_id)).first()
            if case is None:
                result.skipped += 1
                continue
            timer = AutoClose.objects.select_for_update().get(pk=timer_id)
            if timer.state != AutoClose.State.PENDING:
                result.skipped += 1
                continue
            if case.status != Status.RESOLVED or case.resolved_at != timer.resolved_at:
                # The case moved on without its status entry ending this timer (e.g. a demo loader).
                AutoClose.objects.filter(pk=timer.pk).update(
                    state=AutoClose.State.CANCELLED, done_at=now, note="the case is no longer in this resolution"
                )
                result.cancelled += 1
                continue
            days = max((timer.due_at - timer.resolved_at).days, 1)
            try:
                with transaction.atomic():
                    services.case_transition(
                        case_id=case.pk,
                        to=Status.CLOSED,
                        actor=system,
                        reason=f"Closed automatically: no answer from the customer {days} days after it was resolved.",
                        expected_status=Status.RESOLVED,
                        closed_how=AUTO,
                    )
            except CaseError as error:
                log.warning("auto-close of %s refused: %s", case.key, error)
                AutoClose.objects.filter(pk=timer.pk).update(
                    state=AutoClose.State.CANCELLED, done_at=now, note=str(error)[:300]
                )
                result.cancelled += 1
                continue
            result.closed += 1
    return result
