"""Reads of the diagnostics, permission-scoped through the case (cases.selectors.case_visible_to)."""

from __future__ import annotations

from django.http import Http404

from cases.models import Case
from cases.selectors import case_visible_to
from companyos import audit

from .models import Evidence, TraceBundle

CHART_W, CHART_H = 320, 80
WATERFALL_W = 600
METRIC_LABELS = {
    "queue_depth": "Queue depth",
    "error_count": "Errors",
    "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)",
    "latency_p99_ms": "Latency p99 (ms)",
}


def case_bundles(case: Case) -> list[TraceBundle]:
    return list(
        TraceBundle.objects.filter(case=case).defer("report").select_related("uploaded_by").order_by("-uploaded_at")
    )


def case_evidence(case: Case) -> list[Evidence]:
    return list(
        Evidence.objects.filter(case=case)
        .select_related("created_by")
        .prefetch_related("incidents")
        .order_by("-created_at")
    )


def bundle_get_for_user(user, pk: int, *, path: str = "") -> TraceBundle:
    bundle = (
        TraceBundle.objects.select_related("case", "tenant", "uploaded_by")
        .filter(pk=pk, case__in=case_visible_to(user))
        .first()
    )
    if bundle is None:
        audit.log_denied(TraceBundle, pk, path=path, reason="not visible or does not exist")
        raise Http404("No such bundle")
    return bundle


def charts(report: dict) -> list[dict]:
    """Each snapshot metric as an SVG polyline (x, y in the chart's units) with its table's rows."""
    snapshot = report.get("snapshot") or {}
    series = snapshot.get("series") or []
    out = []
    for name, stats in (snapshot.get("metrics") or {}).items():
        points = [(row.get("at"), row[name]) for row in series if name in row]
        if not points:
            continue
        low, high = min(v for _, v in points), max(v for _, v in points)
        span = (high - low) or 1
        step = CHART_W / max(len(points) - 1, 1)
        polyline = " ".join(
            f"{i * step:.1f},{CHART_H - 4 - (v - low) / span * (CHART_H - 8):.1f}" for i, (_, v) in enumerate(points)
        )
        out.append(
            {
                "name": name,
                "label": METRIC_LABELS.get(name, name),
                "stats": stats,
                "points": polyline,
                "rows": points[:200],
                "more": max(len(points) - 200, 0),
            }
        )
    return out


def waterfall(report: dict) -> dict:
    """The waterfall's rows with their bars in SVG units (no inline styles: the CSP forbids them)."""
    data = (report.get("trace") or {}).get("waterfall") or {}
    rows = []
    for row in data.get("rows") or []:
        x = row["left_pct"] / 100 * WATERFALL_W
        width = max(row["width_pct"] / 100 * WATERFALL_W, 2)
        rows.append(
            row | {"x": round(x, 1), "w": round(min(width, WATERFALL_W - x), 1), "indent": min(row["depth"], 9)}
        )
    return {"trace_id": data.get("trace_id"), "total_ms": data.get("total_ms"), "rows": rows, "width": WATERFALL_W,
            "truncated": data.get("truncated")}  # fmt: skip


def case_collectors(case: Case) -> list[dict]:
    """Each registered collector with its latest run on the case (one query)."""
    from .collectors import REGISTRY
    from .models import CollectorRun

    latest: dict[str, CollectorRun] = {}
    for run in CollectorRun.objects.filter(case=case).defer("result").order_by("-requested_at")[:100]:
        latest.setdefault(run.collector, run)
    return [{"collector": c, "run": latest.get(name)} for name, c in REGISTRY.items()]
