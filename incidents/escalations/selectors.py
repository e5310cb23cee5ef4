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
from .models import (
    Component,
    EngineeringTask,
    EngineeringTaskEntry,
    FeedbackEmission,
    ProductFeedback,
    SREEscalation,
)

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


# --- the weekly operations report's escalation sections (report_sections) and the backlog exports --------


def _in_scope(qs: QuerySet, tenant_ids, field: str = "tenant_id") -> QuerySet:
    return qs if tenant_ids is None else qs.filter(**{f"{field}__in": tenant_ids})


def weekly_emissions(*, start: datetime, end: datetime, tenant_ids) -> dict:
    """One week's feedback emissions (closings in [start, end)) per backlog, with how many the agent
    confirmed, and their patterns (backlog × the cases' tags), within `tenant_ids` (None: every
    tenant). Two queries."""
    emissions = _in_scope(FeedbackEmission.objects.filter(closed_at__gte=start, closed_at__lt=end), tenant_ids)
    by_backlog = {b: {"n": 0, "confirmed": 0} for b in FeedbackEmission.Backlog.values}
    grouped = emissions.order_by().values("backlog")
    for r in grouped.annotate(n=Count("id"), confirmed=Count("id", filter=Q(confirmed=True))):
        by_backlog[r["backlog"]] = {"n": r["n"], "confirmed": r["confirmed"]}
    patterns = list(
        emissions.filter(case__tags__isnull=False)
        .values("backlog", "case__tags__name")
        .annotate(n=Count("id"), customers=Count("tenant", distinct=True))
        .order_by("-n", "backlog", "case__tags__name")[:PATTERN_ROWS]
    )
    return {"emissions": by_backlog, "patterns": patterns}


def weekly_escalation_review(*, start: datetime, end: datetime, tenant_ids) -> dict:
    """One week's engineering escalations by component (created in [start, end); rejected: those of
    them engineering rejected), product feedback logged by theme with ARR at risk (the distinct
    tenants' contract value, as on the backlog page) and SRE escalations by trigger, within
    `tenant_ids` (None: every tenant). Three queries."""
    tasks = _in_scope(EngineeringTask.objects.filter(created_at__gte=start, created_at__lt=end), tenant_ids)
    components = list(
        tasks.values("component__name")
        .annotate(n=Count("id"), rejected=Count("id", filter=Q(status=TaskStatus.REJECTED)))
        .order_by("-n", "component__name")[:PATTERN_ROWS]
    )
    feedback = list(
        _in_scope(ProductFeedback.objects.filter(created_at__gte=start, created_at__lt=end), tenant_ids)
        .values("theme__name", "tenant_id", "arr")
        .order_by()
    )
    themes: dict[str, dict] = {}
    for r in feedback:
        t = themes.setdefault(r["theme__name"], {"theme": r["theme__name"], "n": 0, "tenants": {}})
        t["n"] += 1
        t["tenants"].setdefault(r["tenant_id"], r["arr"])
    theme_rows = sorted(
        ({"theme": t["theme"], "n": t["n"], "arr": sum(t["tenants"].values(), Decimal(0))} for t in themes.values()),
        key=lambda t: (-t["arr"], -t["n"], t["theme"]),
    )[:PATTERN_ROWS]
    sre = {t: 0 for t in SREEscalation.Trigger.values}
    sre.update(
        {
            r["trigger"]: r["n"]
            for r in _in_scope(SREEscalation.objects.filter(created_at__gte=start, created_at__lt=end), tenant_ids)
            .values("trigger")
            .annotate(n=Count("id"))
            .order_by()
        }
    )
    return {
        "components": components,
        "product": {
            "items": len(feedback),
            "arr_at_risk": sum({r["tenant_id"]: r["arr"] for r in feedback}.values(), Decimal(0)),
            "themes": theme_rows,
        },
        "sre": sre,
    }


BACKLOG_EXPORT_ROWS = 10_000
BACKLOG_EXPORT_COLUMNS = (
    "case",
    "subject",
    "status",
    "priority",
    "tenant",
    "closed_at",
    "closed_how",
    "confirmed",
    "category",
    "issue_type",
    "tags",
)


def backlog_export_columns(name: str) -> tuple[str, ...]:
    return BACKLOG_EXPORT_COLUMNS + (("product_feedback",) if name == FeedbackEmission.Backlog.PRODUCT else ())


def backlog_export(user, name: str, *, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """The emissions of one backlog `user` may see — all of them (the current backlog) or those of
    the closings in [start, end) (one week's) — newest first, each with its case, tenant, tags and,
    for the product backlog, the product feedback logged from the case (themes, ARR)."""
    qs = emission_visible_to(user).filter(backlog=name)
    if start is not None:
        qs = qs.filter(closed_at__gte=start, closed_at__lt=end)
    rows = list(
        qs.order_by("-closed_at", "-id").values(
            "case_id",
            "case__subject",
            "case__status",
            "case__priority",
            "tenant_id",
            "tenant__name",
            "closed_at",
            "closed_how",
            "confirmed",
            "category",
            "issue_type",
        )[:BACKLOG_EXPORT_ROWS]
    )
    case_ids = [r["case_id"] for r in rows]
    tags: dict[int, list[str]] = {}
    for case_id, tag in (
        Case.tags.through.objects.filter(case_id__in=case_ids).order_by("tag__name").values_list("case_id", "tag__name")
    ):
        tags.setdefault(case_id, []).append(tag)
    product: dict[int, list[dict]] = {}
    if name == FeedbackEmission.Backlog.PRODUCT and case_ids:
        for case_id, theme, arr in (
            ProductFeedback.objects.filter(case_id__in=case_ids)
            .order_by("theme__name")
            .values_list("case_id", "theme__name", "arr")
        ):
            product.setdefault(case_id, []).append({"theme": theme, "arr": str(arr)})
    key = Case(pk=0)
    out = []
    for r in rows:
        key.pk = r["case_id"]
        out.append(
            {
                "case": key.key,
                "subject": r["case__subject"],
                "status": r["case__status"],
                "priority": r["case__priority"],
                "tenant": r["tenant__name"],
                "closed_at": r["closed_at"].isoformat(),
                "closed_how": r["closed_how"],
                "confirmed": r["confirmed"],
                "category": r["category"],
                "issue_type": r["issue_type"],
                "tags": tags.get(r["case_id"], []),
                **({"product_feedback": product.get(r["case_id"], [])} if name == "product" else {}),
            }
        )
    return out
