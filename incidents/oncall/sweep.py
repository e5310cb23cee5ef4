"""The page sweep (beat, every 10 s): each triggered page whose next step is due fires that step.
Pages are claimed with SELECT … FOR UPDATE SKIP LOCKED in small transactions, so two sweeps take
different pages, and PageStep's unique (page, round, position) makes a step fire once even if a
claim were lost; a worker killed mid-batch rolls its transaction back and the rows stay due for the
next sweep. A page whose case was resolved or closed (or whose incident was resolved) is resolved
by the sweep instead of escalating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases.choices import OPEN_STATUSES
from companyos import roles

from ..choices import ACTIVE
from . import services
from .models import Page


@dataclass
class PageSweepResult:
    fired: int = 0
    resolved: int = 0
    skipped: int = 0

    def __str__(self):
        return f"page sweep: {self.fired} steps fired, {self.resolved} resolved, {self.skipped} already fired"


def page_sweep(*, now: datetime | None = None, batch: int = 100, limit: int = 20000) -> PageSweepResult:
    now = now or timezone.now()
    result = PageSweepResult()
    done = 0
    cache: dict = {}  # each chain's steps and people, once per sweep
    while done < limit:
        with transaction.atomic():
            pages = list(
                Page.objects.filter(status=Page.Status.TRIGGERED, next_due_at__lte=now)
                .select_related("chain", "chain__fallback_user", "chain__fallback_team", "case", "incident")
                .order_by("next_due_at", "id")
                .select_for_update(skip_locked=True, of=("self",))[:batch]
            )
            if not pages:
                break
            for page in pages:
                if _settled(page):
                    services.page_resolve(page_id=page.pk, actor=roles.system_user(), reason=_settled(page))
                    result.resolved += 1
                elif services.fire_due_step(page, now=now, cache=cache):
                    result.fired += 1
                else:
                    result.skipped += 1
                    Page.objects.filter(pk=page.pk).update(next_due_at=None)
            done += len(pages)
    return result


def _settled(page: Page) -> str:
    if page.case_id and page.case.status not in OPEN_STATUSES:
        return f"case {page.case.key} is {page.case.get_status_display().lower()}"
    if page.incident_id and page.incident.status not in ACTIVE:
        return f"incident {page.incident.key} is resolved"
    return ""
