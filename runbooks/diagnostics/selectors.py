"""Reads of the diagnostics, permission-scoped through the case (cases.selectors.case_visible_to)."""

from __future__ import annotations

from django.db import connection
from django.http import Http404

from cases.models import Case
from cases.selectors import case_visible_to
from companyos import audit

from ..models import ErrorCode
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


# --- learnings for the weekly operations report (seed 004 "learnings in the weekly report") ----------------

LEARNING_ROWS = 10
INSPECTED = ("ok", "pii")


def weekly_bundle_learnings(*, start, end, tenant_ids) -> dict:
    """What the trace bundles inspected in [start, end) (within `tenant_ids`; None: every tenant)
    found: how many, with unredacted PII, their failed spans (the reports' `failed_count`, and the
    most frequent failed span names among the first spans each report lists), and the error codes
    their spans carried (summed), each with the catalogue's title and runbook. Read from the stored
    reports in the database (jsonb), three queries, no report loaded into Python."""
    table = TraceBundle._meta.db_table
    where = "b.inspected_at >= %s AND b.inspected_at < %s AND b.status IN ('ok', 'pii') AND b.report IS NOT NULL"
    params: list = [start, end]
    if tenant_ids is not None:
        where += " AND b.tenant_id = ANY(%s)"
        params.append(list(tenant_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE b.status = 'pii'),
                       coalesce(sum((b.report->'trace'->>'failed_count')::bigint), 0)::bigint,
                       coalesce(sum((b.report->'trace'->>'near_failed')::bigint), 0)::bigint,
                       count(DISTINCT b.case_id)
                FROM {table} b WHERE {where}""",
            params,
        )
        bundles, pii, failed, near_failed, cases = cursor.fetchone()
        cursor.execute(
            f"""SELECT e->>'code', sum((e->>'count')::bigint)::bigint AS n, count(DISTINCT b.id)
                FROM {table} b, jsonb_array_elements(
                    CASE WHEN jsonb_typeof(b.report->'error_codes') = 'array' THEN b.report->'error_codes'
                    ELSE '[]'::jsonb END) e
                WHERE {where} GROUP BY 1 ORDER BY n DESC, 1 LIMIT {LEARNING_ROWS}""",
            params,
        )
        codes = cursor.fetchall()
        cursor.execute(
            f"""SELECT s->>'name', coalesce(s->>'service', ''), count(*) AS n, count(DISTINCT b.id)
                FROM {table} b, jsonb_array_elements(
                    CASE WHEN jsonb_typeof(b.report->'trace'->'failed') = 'array' THEN b.report->'trace'->'failed'
                    ELSE '[]'::jsonb END) s
                WHERE {where} GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT {LEARNING_ROWS}""",
            params,
        )
        spans = cursor.fetchall()
    catalogue = {
        e.code: e
        for e in ErrorCode.objects.filter(code__in=[c for c, _, _ in codes])
        .select_related("runbook")
        .only("code", "title", "runbook__slug", "runbook__title")
    }
    return {
        "bundles": bundles,
        "pii": pii,
        "cases": cases,
        "failed_spans": failed,
        "near_failed": near_failed,
        "codes": [
            {
                "code": code,
                "count": n,
                "bundles": b,
                "title": catalogue[code].title if code in catalogue else "",
                "runbook": catalogue[code].runbook if code in catalogue and catalogue[code].runbook_id else None,
            }
            for code, n, b in codes
        ],
        "spans": [{"name": name, "service": service, "count": n, "bundles": b} for name, service, n, b in spans],
    }
