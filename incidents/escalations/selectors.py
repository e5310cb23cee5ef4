"""The escalation reads a user sees, permission-scoped first: a task follows its case's tenant
(tenants.selectors.visible_tenant_ids, the one permission root) and is also visible to the members
of the team it is routed to; outside that → 404, audited."""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from cases.models import Case
from companyos import audit
from companyos.converters import row_id
from tenants.selectors import visible_tenant_ids

from .choices import REJECTION_TARGET_PCT, TaskStatus
from .models import Component, EngineeringTask, EngineeringTaskEntry

KEY_RE = re.compile(r"^\s*ENG-(\d{1,12})\s*$", re.IGNORECASE)
LIST_ROWS = 100


def parse_task_key(key: str) -> int | None:
    match = KEY_RE.match(key or "")
    return row_id(match.group(1)) if match else None


def task_visible_to(user) -> QuerySet[EngineeringTask]:
    """The tasks of the tenants `user` sees, and the tasks routed to a team `user` is a member of
    (the escalation is addressed to them: the task page, not the case or the tenant)."""
    ids = visible_tenant_ids(user)
    qs = EngineeringTask.objects.all()
    if ids is None:
        return qs
    if not user.is_authenticated:
        return qs.none()
    return qs.filter(Q(tenant_id__in=ids) | Q(team__members=user)).distinct() if ids else qs.filter(team__members=user)


def task_get_for_user(user, key: str, *, path: str = "") -> EngineeringTask:
    pk = parse_task_key(key)
    task = (
        task_visible_to(user)
        .select_related("case", "tenant", "component", "team", "created_by", "decided_by")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if task is None:
        audit.log_denied(EngineeringTask, pk or (key or "")[:40], path=path, reason="not visible or does not exist")
        raise Http404("No such engineering task")
    return task


def task_timeline(task: EngineeringTask) -> list[EngineeringTaskEntry]:
    return list(EngineeringTaskEntry.objects.filter(task=task).select_related("actor"))


def task_list(user, *, status: str = "", team: str = "", overdue: bool = False, now: datetime | None = None):
    qs = task_visible_to(user).select_related("tenant", "component", "team")
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    if team:
        qs = qs.filter(team__slug=team)
    if overdue and now is not None:
        qs = qs.filter(
            update_due_at__lte=now, status__in=(TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.INFO_REQUESTED)
        )
    return list(qs.order_by("-created_at", "-id")[:LIST_ROWS])


def case_tasks(case: Case) -> list[EngineeringTask]:
    return list(EngineeringTask.objects.filter(case=case).select_related("component", "team").order_by("-created_at"))


def components() -> list[Component]:
    return list(
        Component.objects.select_related("team").annotate(
            open_tasks=Count("tasks", filter=Q(tasks__status__in=("open", "accepted", "info_requested")))
        )
    )


def rejection_rate(user, *, start: datetime | None = None, end: datetime | None = None, tenant_ids=None) -> dict:
    """Escalations rejected by engineering over those engineering decided (accepted or rejected at
    some point: `decided_at`), among the tasks escalated in [start, end) that `user` may see (seed
    002: should be under 10 %). By team too."""
    qs = task_visible_to(user)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    if tenant_ids is not None:
        qs = qs.filter(tenant_id__in=tenant_ids)
    rows = list(
        qs.values("team__name")
        .annotate(
            escalated=Count("id"),
            decided=Count("id", filter=Q(decided_at__isnull=False)),
            rejected=Count("id", filter=Q(status=TaskStatus.REJECTED)),
        )
        .order_by("team__name")
    )
    decided = sum(r["decided"] for r in rows)
    rejected = sum(r["rejected"] for r in rows)
    return {
        "escalated": sum(r["escalated"] for r in rows),
        "decided": decided,
        "rejected": rejected,
        "pct": round(100 * rejected / decided, 1) if decided else None,
        "target": REJECTION_TARGET_PCT,
        "teams": rows,
    }
