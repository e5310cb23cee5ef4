"""Reads of the Zendesk sync that a user sees: a case's sync state (the case page's badge) and the
admins' list of stuck and dead changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import ZendeskChange, ZendeskLink, ZendeskMapping, ZendeskSyncState

State = ZendeskChange.State


@dataclass
class CaseSync:
    linked: bool
    ticket_id: int | None = None
    ticket_url: str = ""
    pending: int = 0
    stuck: int = 0
    dead: int = 0
    last_error: str = ""

    @property
    def problem(self) -> bool:
        return bool(self.stuck or self.dead)


def ticket_url(ticket_id: int | None) -> str:
    base = (settings.ZENDESK_BASE_URL or "").rstrip("/")
    return f"{base}/agent/tickets/{ticket_id}" if base and ticket_id else ""


def case_sync(case_id: int) -> CaseSync:
    """One query for an unlinked case; two for a linked one."""
    link = ZendeskLink.objects.filter(case_id=case_id).only("id", "ticket_id").first()
    if link is None:
        return CaseSync(linked=False)
    threshold = timezone.now() - timedelta(seconds=settings.ZENDESK_STUCK_AFTER_SECONDS)
    open_changes = list(
        ZendeskChange.objects.filter(case_id=case_id, state__in=[State.PENDING, State.DEAD]).values_list(
            "state", "created_at", "last_error"
        )
    )
    sync = CaseSync(linked=True, ticket_id=link.ticket_id, ticket_url=ticket_url(link.ticket_id))
    for state, created, error in open_changes:
        if state == State.DEAD:
            sync.dead += 1
        else:
            sync.pending += 1
            sync.stuck += created < threshold
        sync.last_error = error or sync.last_error
    return sync


PROBLEM_STATES = {"stuck": "Stuck or dead", "dead": "Dead", "pending": "All pending", "all": "All open and recent"}


def sync_problems(*, state: str = "stuck", limit: int = 200):
    """The changes an admin looks at, oldest first, with their case."""
    threshold = timezone.now() - timedelta(seconds=settings.ZENDESK_STUCK_AFTER_SECONDS)
    qs = ZendeskChange.objects.select_related("case", "link")
    if state == "dead":
        qs = qs.filter(state=State.DEAD)
    elif state == "pending":
        qs = qs.filter(state=State.PENDING)
    elif state == "all":
        qs = qs.filter(Q(state__in=[State.PENDING, State.DEAD]) | Q(created_at__gte=timezone.now() - timedelta(days=1)))
    else:
        qs = qs.filter(Q(state=State.DEAD) | Q(state=State.PENDING, created_at__lt=threshold))
    rows = list(qs.order_by("created_at", "id")[:limit])
    for row in rows:
        row.is_stuck = row.state == State.DEAD or (row.state == State.PENDING and row.created_at < threshold)
    return rows


def sync_overview() -> dict:
    state = ZendeskSyncState.objects.filter(pk=1).first()
    counts = {
        "pending": ZendeskChange.objects.filter(state=State.PENDING).count(),
        "dead": ZendeskChange.objects.filter(state=State.DEAD).count(),
        "links": ZendeskLink.objects.count(),
    }
    return {"state": state, "counts": counts}


def mapping() -> ZendeskMapping:
    return ZendeskMapping.objects.get_or_create(pk=1)[0]
