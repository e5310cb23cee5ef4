"""One-click diagnostics collectors (seed 003 "diagnostics automations"): each a small class with a
`name`, a `label`, what it `needs` and `collect(case, now) -> artifact`, registered in `REGISTRY`.

An artifact is plain JSON: `{"summary", "columns", "rows": [{"key": …, …}], "inputs": {…}}`; each row's
`key` is stable between runs, so that a re-run shows what was added, removed or changed
(`diff(previous, current)`). Reads only, through the tenants' selectors and models."""

from __future__ import annotations

import re
from datetime import timedelta

from cases.models import Case
from tenants import selectors as tenant_selectors
from tenants.models import Alert, LogLine

from .. import selectors as runbook_selectors

MAX_ROWS = 200
TRACE_ID = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{16}\b")
REQUEST_ID = re.compile(r"\b(?:req|request)[-_][A-Za-z0-9-]{6,60}\b", re.IGNORECASE)
REGISTRY: dict[str, Collector] = {}


def register(cls):
    REGISTRY[cls.name] = cls()
    return cls


def _iso(when) -> str | None:
    return when.isoformat() if when else None


def reported_at(case: Case):
    """The time the customer reported the problem: the case's opening."""
    return case.created_at


class Collector:
    name = ""
    label = ""
    needs = ""
    columns: list[str] = []

    def collect(self, case: Case, now) -> dict:
        raise NotImplementedError


@register
class RecentAlerts(Collector):
    name = "recent_alerts"
    label = "Recent alerts"
    needs = "the tenant's alerts of the last 24 hours"
    columns = ["name", "severity", "status", "resource", "starts_at"]

    def collect(self, case, now):
        since = now - timedelta(hours=24)
        alerts = (
            Alert.objects.filter(tenant_id=case.tenant_id, starts_at__gte=since)
            .select_related("resource")
            .order_by("-starts_at")[:MAX_ROWS]
        )
        rows = [
            {
                "key": a.fingerprint or f"{a.name}@{a.resource.external_id if a.resource else ''}",
                "name": a.name,
                "severity": a.severity,
                "status": a.status,
                "resource": a.resource.external_id if a.resource else "",
                "starts_at": _iso(a.starts_at),
            }
            for a in alerts
        ]
        firing = sum(r["status"] == Alert.Status.FIRING for r in rows)
        return {"summary": f"{len(rows)} alert(s) in 24 h, {firing} firing", "rows": rows,
                "inputs": {"since": _iso(since)}}  # fmt: skip


def _flatten(data, prefix="") -> dict:
    out = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    else:
        out[prefix or "(value)"] = data
    return out


@register
class ConfigDiff(Collector):
    name = "config_diff"
    label = "Config snapshot diff"
    needs = "the tenant's latest config snapshot and the one before it"
    columns = ["setting", "before", "now"]

    def collect(self, case, now):
        current, previous, _ = tenant_selectors.config_snapshots(case.tenant)
        if current is None:
            return {"summary": "No config snapshot received for this tenant.", "rows": [], "inputs": {}}
        new, old = _flatten(current.data), _flatten(previous.data) if previous else {}
        rows = [
            {"key": k, "setting": k, "before": old.get(k), "now": new.get(k)}
            for k in sorted(set(new) | set(old))
            if new.get(k) != old.get(k)
        ][:MAX_ROWS]
        what = current.resource.external_id if current.resource else "tenant-wide"
        summary = (
            f"{len(rows)} setting(s) changed in {what} since {_iso(previous.taken_at)}"
            if previous
            else f"First snapshot of {what} ({len(new)} settings)"
        )
        return {"summary": summary, "rows": rows,
                "inputs": {"snapshot": current.pk, "previous": previous.pk if previous else None}}  # fmt: skip


@register
class Deployments(Collector):
    name = "deployments_7d"
    label = "Deployments (7 days)"
    needs = "the tenant's deployments of the last 7 days"
    columns = ["version", "resource", "deployed_at", "description"]

    def collect(self, case, now):
        since = now - timedelta(days=7)
        deployments = tenant_selectors.recent_deployments(case.tenant, since=since, limit=MAX_ROWS)
        rows = [
            {
                "key": f"{d.resource.external_id if d.resource else ''}@{d.version}",
                "version": d.version,
                "resource": d.resource.external_id if d.resource else "",
                "deployed_at": _iso(d.deployed_at),
                "description": d.description[:200],
            }
            for d in deployments
        ]
        return {"summary": f"{len(rows)} deployment(s) in 7 days", "rows": rows, "inputs": {"since": _iso(since)}}


@register
class SLISnapshot(Collector):
    name = "sli_snapshot"
    label = "SLIs and error budgets"
    needs = "the latest observation of each of the tenant's SLIs"
    columns = ["name", "objective", "value", "error_budget_remaining", "observed_at"]

    def collect(self, case, now):
        slis = tenant_selectors.latest_slis(case.tenant)
        rows = [
            {
                "key": name,
                "name": name,
                "objective": s.objective,
                "value": s.value,
                "error_budget_remaining": s.error_budget_remaining,
                "observed_at": _iso(s.observed_at),
            }
            for name, s in sorted(slis.items())
        ][:MAX_ROWS]
        burning = [r["name"] for r in rows if r["value"] is not None and r["value"] < r["objective"]]
        summary = f"{len(rows)} SLI(s)" + (f"; below objective: {', '.join(burning)}" if burning else "; all met")
        return {"summary": summary, "rows": rows, "inputs": {}}


def _window(case):
    at = reported_at(case)
    return at - timedelta(minutes=30), at + timedelta(minutes=30)


@register
class TraceIds(Collector):
    name = "trace_ids"
    label = "Trace and request IDs"
    needs = "the case's text and the tenant's logs around the reported time"
    columns = ["id", "kind", "where"]

    def collect(self, case, now):
        text = runbook_selectors.case_text(case)
        found: dict[tuple[str, str], set] = {}
        for match in TRACE_ID.findall(text):
            found.setdefault((match, "trace"), set()).add("case")
        for match in REQUEST_ID.findall(text):
            found.setdefault((match, "request"), set()).add("case")
        start, end = _window(case)
        logs = LogLine.objects.filter(tenant_id=case.tenant_id, logged_at__range=(start, end)).exclude(
            trace_id="", request_id=""
        )
        for trace_id, request_id in logs.values_list("trace_id", "request_id")[:2000]:
            if trace_id:
                found.setdefault((trace_id, "trace"), set()).add("logs")
            if request_id:
                found.setdefault((request_id, "request"), set()).add("logs")
        rows = [
            {"key": f"{kind}:{value}", "id": value, "kind": kind, "where": ", ".join(sorted(where))}
            for (value, kind), where in sorted(found.items())
        ][:MAX_ROWS]
        both = sum(r["where"] == "case, logs" for r in rows)
        return {"summary": f"{len(rows)} ID(s), {both} both in the case and in its logs", "rows": rows,
                "inputs": {"from": _iso(start), "to": _iso(end)}}  # fmt: skip


@register
class RecentLogs(Collector):
    name = "recent_logs"
    label = "Recent logs"
    needs = "the tenant's logs (telemetry kind `logs`) ±30 min around the reported time"
    columns = ["logged_at", "level", "resource", "message", "trace_id"]

    def collect(self, case, now):
        start, end = _window(case)
        lines = (
            LogLine.objects.filter(tenant_id=case.tenant_id, logged_at__range=(start, end))
            .select_related("resource")
            .order_by("logged_at")[:MAX_ROWS]
        )
        rows = [
            {
                "key": f"{line.integration_id}:{line.source_id}",
                "logged_at": _iso(line.logged_at),
                "level": line.level,
                "resource": line.resource.external_id if line.resource else "",
                "message": line.message[:500],
                "trace_id": line.trace_id,
            }
            for line in lines
        ]
        errors = sum(r["level"] in ("error", "critical") for r in rows)
        return {"summary": f"{len(rows)} log line(s) around the report, {errors} error(s)", "rows": rows,
                "inputs": {"from": _iso(start), "to": _iso(end)}}  # fmt: skip


def diff(previous: dict | None, current: dict) -> dict | None:
    """What changed between two artifacts of one collector, by row key."""
    if previous is None:
        return None
    before = {r["key"]: r for r in previous.get("rows", [])}
    after = {r["key"]: r for r in current.get("rows", [])}
    return {
        "added": [k for k in after if k not in before][:50],
        "removed": [k for k in before if k not in after][:50],
        "changed": [k for k in after if k in before and after[k] != before[k]][:50],
    }
