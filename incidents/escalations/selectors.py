"""The escalation reads a user sees, permission-scoped first: a task follows its case's tenant
(tenants.selectors.visible_tenant_ids, the one permission root) and is also visible to the members
of the team it is routed to; outside that → 404, audited."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from cases.models import Case, Closure
from companyos import audit
from companyos.converters import row_id
from tenants.selectors import visible_tenant_ids

from .choices import REJECTION_TARGET_PCT, TaskStatus
from .models import Component, EngineeringTask, EngineeringTaskEntry, FeedbackEmission, ProductFeedback

KEY_RE = re.compile(r"^\s*ENG-(\d{1,12})\s*$", re.IGNORECASE)
LIST_ROWS = 100


def parse_task_key(key: str) -> int | None:
    match = KEY_RE.match(key or "")
    return row_id(match.group(1)) if match else None


def task_visible_to(user) -> QuerySet[EngineeringTask]:
    """The tasks of the tenants `user` sees, the tasks routed to a team `user` is a member of, and
    those `user` was notified of as the component's on-call person (the escalation is addressed to
    them: the task page, not the case or the tenant)."""
    ids = visible_tenant_ids(user)
    qs = EngineeringTask.objects.all()
    if ids is None:
        return qs
    if not user.is_authenticated:
        return qs.none()
    told = Q(pk__in=EngineeringTaskEntry.objects.filter(data__notified_user=user.pk).values("task_id"))
    addressed = Q(team__members=user) | told
    return qs.filter(Q(tenant_id__in=ids) | addressed).distinct() if ids else qs.filter(addressed).distinct()


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


def components(*, now: datetime | None = None) -> list[Component]:
    """The ownership map, each component with its open task count and, for those with an on-call
    schedule, who is on call for it now (`oncall_now`: incidents.oncall's overview, values only)."""
    from incidents.oncall.selectors import on_call_overview

    rows = list(
        Component.objects.select_related("team", "oncall_schedule").annotate(
            open_tasks=Count("tasks", filter=Q(tasks__status__in=("open", "accepted", "info_requested")))
        )
    )
    ids = {c.oncall_schedule_id for c in rows if c.oncall_schedule_id}
    found = {r.pk: r for r in on_call_overview(schedule_ids=ids, at=now)} if ids else {}
    for c in rows:
        c.oncall_now = found.get(c.oncall_schedule_id)
    return rows


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


# --- the product feedback backlog ------------------------------------------------------------------------

CASES_PER_THEME = 8


def feedback_visible_to(user) -> QuerySet[ProductFeedback]:
    ids = visible_tenant_ids(user)
    qs = ProductFeedback.objects.all()
    if ids is None:
        return qs
    return qs.filter(tenant_id__in=ids) if ids else qs.none()


def nps_score(scores: list[int]) -> int | None:
    """Net promoter score of `scores` (0–10): % promoters (9–10) − % detractors (0–6)."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def product_backlog(user, *, theme: str = "") -> dict:
    """The product feedback items `user` may see, grouped by theme: volume (items), customers
    (distinct tenants), ARR at risk (the annual contract value of those distinct tenants, as logged:
    a tenant on a theme twice counts once), similar requests (summed), NPS impact (the NPS answers of
    the surveys of the theme's cases: their net score, the detractors) and the linked cases (the
    newest few). Biggest ARR at risk first. `theme`: only that theme's items (listed too)."""
    qs = feedback_visible_to(user)
    if theme:
        qs = qs.filter(theme__name=theme)
    rows = list(
        qs.values("pk", "theme__name", "tenant_id", "arr", "case_id", "similar_requests", "created_at").order_by(
            "-created_at", "-pk"
        )
    )
    closures = {}
    case_ids = {r["case_id"] for r in rows}
    if case_ids:
        for case_id, nps in Closure.objects.filter(case_id__in=case_ids, nps__isnull=False).values_list(
            "case_id", "nps"
        ):
            closures.setdefault(case_id, []).append(nps)
    themes: dict[str, dict] = {}
    for r in rows:
        t = themes.setdefault(
            r["theme__name"],
            {"theme": r["theme__name"], "volume": 0, "tenants": {}, "cases": [], "similar": 0, "nps": []},
        )
        t["volume"] += 1
        t["similar"] += r["similar_requests"]
        t["tenants"].setdefault(r["tenant_id"], r["arr"])
        if r["case_id"] not in t["cases"]:
            t["cases"].append(r["case_id"])
            t["nps"] += closures.get(r["case_id"], [])
    out = []
    for t in themes.values():
        out.append(
            {
                "theme": t["theme"],
                "volume": t["volume"],
                "customers": len(t["tenants"]),
                "arr_at_risk": sum(t["tenants"].values(), Decimal(0)),
                "similar": t["similar"],
                "nps": nps_score(t["nps"]),
                "nps_answers": len(t["nps"]),
                "detractors": sum(1 for s in t["nps"] if s <= 6),
                "case_ids": t["cases"][:CASES_PER_THEME],
                "more_cases": max(0, len(t["cases"]) - CASES_PER_THEME),
            }
        )
    out.sort(key=lambda t: (-t["arr_at_risk"], -t["volume"], t["theme"]))
    items = list(qs.select_related("tenant", "theme", "created_by")[:LIST_ROWS]) if theme else []
    return {
        "themes": out,
        "items": items,
        "ids": [r["pk"] for r in rows][: LIST_ROWS * 10],
        "total": len(rows),
        "arr_at_risk": sum(
            {(r["tenant_id"]): r["arr"] for r in rows}.values(), Decimal(0)
        ),  # distinct tenants over all themes
    }


def case_feedback(case: Case) -> list[ProductFeedback]:
    return list(ProductFeedback.objects.filter(case=case).select_related("theme"))


# --- the feedback backlogs (emissions at close) --------------------------------------------------------------

BACKLOG_CASES = 50
PATTERN_ROWS = 10


def emission_visible_to(user) -> QuerySet[FeedbackEmission]:
    ids = visible_tenant_ids(user)
    qs = FeedbackEmission.objects.all()
    if ids is None:
        return qs
    return qs.filter(tenant_id__in=ids) if ids else qs.none()


def backlog_counts(user) -> dict[str, int]:
    rows = emission_visible_to(user).values("backlog").annotate(n=Count("id")).order_by()
    counts = {b: 0 for b in FeedbackEmission.Backlog.values}
    counts.update({r["backlog"]: r["n"] for r in rows})
    return counts


def backlog(user, name: str, *, now: datetime) -> dict:
    """One backlog: how many closings fed it (all, the last 7 days, confirmed by the agent or by
    classification), by category, its patterns (the emitted cases' tags: cases, customers) and the
    newest linked cases."""
    qs = emission_visible_to(user).filter(backlog=name)
    totals = qs.aggregate(
        total=Count("id"),
        week=Count("id", filter=Q(closed_at__gte=now - timedelta(days=7))),
        confirmed=Count("id", filter=Q(confirmed=True)),
    )
    by_category = list(qs.values("category").annotate(n=Count("id")).order_by("-n", "category")[:PATTERN_ROWS])
    patterns = list(
        qs.filter(case__tags__isnull=False)
        .values("case__tags__name")
        .annotate(n=Count("id"), customers=Count("tenant", distinct=True))
        .order_by("-n", "case__tags__name")[:PATTERN_ROWS]
    )
    cases = list(
        qs.select_related("case", "tenant")
        .only("case__subject", "case__status", "tenant__name", "closed_at", "confirmed", "category", "case_id")
        .order_by("-closed_at", "-id")[:BACKLOG_CASES]
    )
    by_classification = totals["total"] - totals["confirmed"]
    return {
        "name": name,
        **totals,
        "by_classification": by_classification,
        "by_category": by_category,
        "patterns": patterns,
        "cases": cases,
    }
