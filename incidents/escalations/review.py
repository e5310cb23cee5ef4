"""The weekly ops review (seed 003 "Weekly ops review consumes these"): one week's feedback
emissions, escalations, rejections and patterns, over every tenant (aggregates only: counts, tags,
components; no case content). `weekly_review` computes it; beat's `ops-review-export` runs
`export_week` every Monday for the week before and stores it (OpsReview: JSON and CSV, once per
week by its unique week), downloadable from the review page. Managers, admins and SRE see it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .models import EngineeringTask, FeedbackEmission, OpsReview, ProductFeedback

PATTERN_ROWS = 10


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def last_full_week(now: datetime) -> date:
    return week_of(now.astimezone(UTC).date()) - timedelta(days=7)


def _bounds(week_start: date) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start, time.min, tzinfo=UTC)
    return start, start + timedelta(days=7)


def weekly_review(week_start: date) -> dict:
    start, end = _bounds(week_start)
    emissions = FeedbackEmission.objects.filter(closed_at__gte=start, closed_at__lt=end)
    by_backlog = {b: 0 for b in FeedbackEmission.Backlog.values}
    by_backlog.update({r["backlog"]: r["n"] for r in emissions.values("backlog").annotate(n=Count("id")).order_by()})
    confirmed = emissions.filter(confirmed=True).count()
    tasks = EngineeringTask.objects.filter(created_at__gte=start, created_at__lt=end)
    escalated = tasks.count()
    decided = EngineeringTask.objects.filter(decided_at__gte=start, decided_at__lt=end)
    decisions = decided.aggregate(
        decided=Count("id"), rejected=Count("id", filter=Q(status=EngineeringTask.Status.REJECTED))
    )
    rejections = list(
        decided.filter(status=EngineeringTask.Status.REJECTED)
        .values("component__name")
        .annotate(n=Count("id"))
        .order_by("-n", "component__name")[:PATTERN_ROWS]
    )
    components = list(
        tasks.values("component__name").annotate(n=Count("id")).order_by("-n", "component__name")[:PATTERN_ROWS]
    )
    feedback = ProductFeedback.objects.filter(created_at__gte=start, created_at__lt=end)
    themes = list(
        feedback.values("theme__name")
        .annotate(n=Count("id"), arr=Sum("arr"))
        .order_by("-n", "theme__name")[:PATTERN_ROWS]
    )
    patterns = list(
        emissions.filter(case__tags__isnull=False)
        .values("backlog", "case__tags__name")
        .annotate(n=Count("id"), customers=Count("tenant", distinct=True))
        .order_by("-n", "backlog", "case__tags__name")[:PATTERN_ROWS]
    )
    pct = round(100 * decisions["rejected"] / decisions["decided"], 1) if decisions["decided"] else None
    return {
        "week_start": week_start.isoformat(),
        "week_end": (week_start + timedelta(days=6)).isoformat(),
        "emissions": {**by_backlog, "total": sum(by_backlog.values()), "confirmed": confirmed},
        "escalations": {
            "escalated": escalated,
            "decided": decisions["decided"],
            "rejected": decisions["rejected"],
            "rejection_pct": pct,
            "by_component": [{"component": r["component__name"], "n": r["n"]} for r in components],
        },
        "rejections": [{"component": r["component__name"], "n": r["n"]} for r in rejections],
        "product": {
            "items": feedback.count(),
            "themes": [{"theme": r["theme__name"], "n": r["n"], "arr": str(r["arr"] or 0)} for r in themes],
        },
        "patterns": [
            {"backlog": r["backlog"], "tag": r["case__tags__name"], "cases": r["n"], "customers": r["customers"]}
            for r in patterns
        ],
    }


def to_csv(data: dict) -> str:
    """The review as (section, item, value) rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "value"])
    writer.writerow(["week", "start", data["week_start"]])
    writer.writerow(["week", "end", data["week_end"]])
    for key, value in data["emissions"].items():
        writer.writerow(["emissions", key, value])
    for key in ("escalated", "decided", "rejected", "rejection_pct"):
        value = data["escalations"][key]
        writer.writerow(["escalations", key, "" if value is None else value])
    for r in data["escalations"]["by_component"]:
        writer.writerow(["escalations by component", r["component"], r["n"]])
    for r in data["rejections"]:
        writer.writerow(["rejections by component", r["component"], r["n"]])
    writer.writerow(["product feedback", "items", data["product"]["items"]])
    for r in data["product"]["themes"]:
        writer.writerow(["product themes", r["theme"], r["n"]])
        writer.writerow(["product themes ARR", r["theme"], r["arr"]])
    for r in data["patterns"]:
        writer.writerow([f"patterns ({r['backlog']})", r["tag"], r["cases"]])
    return out.getvalue()


def export_week(*, week_start: date | None = None, now: datetime | None = None) -> OpsReview | None:
    """Store the review of `week_start` (default: the last full week), once: a second run for the
    same week (two beats, a retry) finds the row and writes nothing. Returns the new row or None."""
    week_start = week_start or last_full_week(now or timezone.now())
    if OpsReview.objects.filter(week_start=week_start).exists():
        return None
    data = weekly_review(week_start)
    try:
        with transaction.atomic():
            return OpsReview.objects.create(week_start=week_start, data=data, csv=to_csv(data))
    except IntegrityError:  # another run stored it meanwhile
        return None


def exports() -> list[OpsReview]:
    return list(OpsReview.objects.only("week_start", "created_at").order_by("-week_start")[:12])
