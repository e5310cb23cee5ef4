"""An independent recomputation of the report numbers from the rows themselves (Python over plain
value lists, no grouping in SQL), compared with what cases.reports.metrics computes from the rollups
and the plain rows; and the rollup rows themselves against a recomputation of their days
(cases.reports.rollup.rollup_differences). The `reports_verify` command and the tests use it.
Returns the differences (empty when they agree)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from ..closure.models import AutoClose, Closure
from . import metrics, rollup
from .filters import Filters, cohort


def recompute(user, f: Filters) -> dict:
    qs = cohort(user, f)
    cases = list(qs.values_list("pk", "priority", "category", "channel", "tenant_id"))
    ids = {c[0] for c in cases}
    prio = {c[0]: c[1] for c in cases}
    timers = [t for t in AutoClose.objects.values_list("case_id", "resolved_at", "reopened_at") if t[0] in ids]
    closures = [
        c for c in Closure.objects.values_list("case_id", "how", "survey_sent_at", "csat", "nps") if c[0] in ids
    ]
    return {
        "created": len(cases),
        "by_priority": dict(Counter(c[1] for c in cases)),
        "by_category": dict(Counter(c[2] for c in cases)),
        "by_channel": dict(Counter(c[3] for c in cases)),
        "by_tenant": dict(Counter(c[4] for c in cases)),
        "resolutions": len(timers),
        "reopened": sum(1 for t in timers if t[2] is not None),
        "within": sum(1 for t in timers if t[2] is not None and t[2] <= t[1] + timedelta(days=7)),
        "reopen_by_priority": dict(Counter(prio[t[0]] for t in timers)),
        "closings": dict(Counter(c[1] for c in closures)),
        "surveys_sent": sum(1 for c in closures if c[2] is not None),
        "answered": sum(1 for c in closures if c[3] is not None),
        "csat_sum": sum(c[3] for c in closures if c[3] is not None),
        "promoters": sum(1 for c in closures if c[4] is not None and c[4] >= 9),
        "detractors": sum(1 for c in closures if c[4] is not None and c[4] <= 6),
    }


def from_report(report: metrics.Report) -> dict:
    t, s = report.tiles, report.sums
    reopen = report.table("reopen")
    sat = report.table("satisfaction").rows[-1].values
    by_priority: Counter = Counter()
    for (_, priority), c in s.week_priority.items():
        by_priority[priority] += c["created"]
    return {
        "created": t["created"],
        "by_priority": _nonzero(by_priority),
        "by_category": _nonzero({k: c["created"] for k, c in s.category.items()}),
        "by_channel": _nonzero({k: c["created"] for k, c in s.channel.items()}),
        "by_tenant": _nonzero({k: c["created"] for k, c in s.tenant.items()}),
        "resolutions": t["reopen"]["resolutions"],
        "reopened": t["reopen"]["reopened"],
        "within": t["reopen"]["within"],
        "reopen_by_priority": {r["priority"]: r["resolutions"] for r in report.reopen_rows},
        "closings": {how: n for how, n in report.closings.items() if n},
        "surveys_sent": sat[0],
        "answered": sat[1],
        "csat_sum": report.csat_sum,
        "promoters": report.nps_counts[0],
        "detractors": report.nps_counts[1],
        "_reopen_all": reopen.rows[-1].values[0],
    }


def _nonzero(counts: dict) -> dict:
    return {k: n for k, n in counts.items() if n}


def differences(user, f: Filters) -> list[str]:
    direct = recompute(user, f)
    computed = from_report(metrics.report(user, f))
    if computed.pop("_reopen_all") != computed["resolutions"]:
        return ["the reopen table's All row differs from its tile"]
    return [f"{k}: report {computed[k]!r} != recomputed {direct[k]!r}" for k in direct if computed[k] != direct[k]]


def rollup_differences(f: Filters) -> list[str]:
    """The rollup rows of the UTC days the range touches against their recomputation from plain rows."""
    start, end = f.bounds
    first, last = rollup.utc_day(start), rollup.utc_day(end)
    return rollup.rollup_differences(first + timedelta(days=i) for i in range((last - first).days + 1))
