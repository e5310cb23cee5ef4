"""The tenant console's panels: the registry (PANELS) that drives the console page, its lazy panels and
its single-panel pages, and the shaping of each panel's rows into what its template shows (charts,
config diffs, entitlement rows, the blast radius). The rows come from tenants.selectors; the panels
of apps above tenants (Cases, Incidents) and the SLA policy in force come in through
tenants.extensions, filled by those apps. Nothing here queries the database itself.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import access as temporary_access
from . import extensions, selectors
from .choices import Channel, Health, SupportTier
from .models import Tenant
from .selectors import (  # noqa: F401  (the limits, re-exported: the panels' templates and tests name them here)
    COUNT_CAP,
    FIRING_CAP,
    HEALTH_RANK,
    MAX_FLAGS,
    MAX_METRICS,
    MAX_REACH,
    MAX_RESOURCES,
    MAX_SLIS,
    ROWS,
    SPARK_POINTS,
    USAGE_PERIODS,
)


def _group(rows, key: str) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


# --- charts (pure) --------------------------------------------------------------------------------------


@dataclass
class Chart:
    """A small server-rendered SVG line chart: polyline points within width × height."""

    values: list[float]
    width: int = 120
    height: int = 28
    lo: float | None = None
    hi: float | None = None
    points: str = ""
    area: str = ""
    last_x: float = 0
    last_y: float = 0
    minimum: float = 0
    maximum: float = 0

    def __post_init__(self):
        vals = self.values
        if not vals:
            return
        lo = min(vals) if self.lo is None else min(self.lo, min(vals))
        hi = max(vals) if self.hi is None else max(self.hi, max(vals))
        self.minimum, self.maximum = min(vals), max(vals)
        span = (hi - lo) or 1.0
        pad = 2
        step = (self.width - 2 * pad) / max(1, len(vals) - 1)
        coords = []
        for i, v in enumerate(vals):
            x = pad + i * step if len(vals) > 1 else self.width / 2
            y = pad + (self.height - 2 * pad) * (1 - (v - lo) / span)
            coords.append((round(x, 1), round(y, 1)))
        self.points = " ".join(f"{x},{y}" for x, y in coords)
        self.area = f"{coords[0][0]},{self.height} " + self.points + f" {coords[-1][0]},{self.height}"
        self.last_x, self.last_y = coords[-1]


# --- panels -------------------------------------------------------------------------------------------


@dataclass
class Panel:
    name: str
    title: str
    rendered_at: datetime = field(default_factory=timezone.now)
    data_at: datetime | None = None  # the newest item shown: how fresh the data itself is
    empty: bool = True
    data: dict = field(default_factory=dict)
    wide: bool = False
    loaded: bool = False

    @property
    def freshness_target(self) -> timedelta | None:
        """How fresh this panel's data must be (seed 003: "data contracts validated and refreshed
        within last 24 hrs"; `TELEMETRY_FRESHNESS_HOURS`), None for data that comes with events
        (alerts, deployments, experiments: none for a day is normal)."""
        hours = settings.TELEMETRY_FRESHNESS_HOURS.get(self.name)
        return timedelta(hours=hours) if hours else None

    @property
    def stale(self) -> bool:
        target = self.freshness_target
        return bool(target and self.data_at and self.rendered_at - self.data_at > target)


def _newest(*times) -> datetime | None:
    times = [t for t in times if t]
    return max(times) if times else None


def health_panel(tenant: Tenant, **_) -> dict:
    rows, resources = selectors.sli_history(tenant)
    slis = []
    for name, history in _group(rows, "name").items():
        latest = history[0]
        budgets = [h.error_budget_remaining for h in reversed(history)]
        slis.append(
            {
                "name": name,
                "latest": latest,
                "health": latest.health,
                "resource": resources.get(latest.resource_id),
                "history": list(reversed(history)),
                "spark": Chart(budgets, lo=0, hi=100),
                "burn": round(budgets[0] - budgets[-1], 1) if len(budgets) > 1 else None,
            }
        )
    slis.sort(key=lambda s: (HEALTH_RANK[s["health"]], s["name"]))
    overall = min((s["health"] for s in slis), key=HEALTH_RANK.get, default=tenant.health)
    counts = {state: sum(1 for s in slis if s["health"] == state) for state in (Health.RED, Health.AMBER, Health.GREEN)}
    return {
        "slis": slis,
        "overall": overall,
        "counts": counts,
        "from_slis": bool(slis),
        "empty": not slis,
        "data_at": _newest(*(s["latest"].observed_at for s in slis)),
    }


def alerts_panel(tenant: Tenant, **_) -> dict:
    alerts, n_firing, capped = selectors.tenant_alerts(tenant)
    return {
        "alerts": alerts,
        "firing_count": n_firing,
        "firing_capped": capped,
        "empty": not alerts,
        "data_at": _newest(*(a.starts_at for a in alerts), *(a.ends_at for a in alerts)),
    }


def flags_panel(tenant: Tenant, **_) -> dict:
    flags = selectors.latest_flags(tenant)
    return {
        "flags": flags,
        "enabled_count": sum(1 for f in flags if f.enabled),
        "empty": not flags,
        "truncated": len(flags) >= MAX_FLAGS,
        "data_at": _newest(*(f.observed_at for f in flags)),
    }


def flatten(data, prefix: str = "") -> dict[str, object]:
    """Nested dicts become dotted keys: {"db": {"pool": 10}} → {"db.pool": 10}. Lists stay values."""
    flat: dict[str, object] = {}
    if isinstance(data, dict):
        if not data and prefix:
            flat[prefix] = {}
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                flat.update(flatten(value, path))
            else:
                flat[path] = value
    elif prefix:
        flat[prefix] = data
    else:
        flat["(value)"] = data
    return flat


@dataclass
class ConfigDiff:
    added: dict[str, object]
    removed: dict[str, object]
    changed: dict[str, tuple[object, object]]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(key, kind, before, after) sorted by key, values shown as JSON."""
        out = [(k, "added", "", show(v)) for k, v in self.added.items()]
        out += [(k, "removed", show(v), "") for k, v in self.removed.items()]
        out += [(k, "changed", show(a), show(b)) for k, (a, b) in self.changed.items()]
        return sorted(out)


def show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def config_diff(before: dict | None, after: dict | None) -> ConfigDiff:
    old, new = flatten(before or {}), flatten(after or {})
    added = {k: new[k] for k in new.keys() - old.keys()}
    removed = {k: old[k] for k in old.keys() - new.keys()}
    changed = {k: (old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]}
    return ConfigDiff(added, removed, changed, len(old.keys() & new.keys()) - len(changed))


def config_panel(tenant: Tenant, params=None, **_) -> dict:
    current, previous, recent = selectors.config_snapshots(tenant, (params or {}).get("snapshot", ""))
    if current is None:
        return {"empty": True}
    diff = config_diff(previous.data if previous else {}, current.data)
    return {
        "current": current,
        "previous": previous,
        "diff": diff,
        "flat": sorted((k, show(v)) for k, v in flatten(current.data).items()),
        "recent": recent,
        "empty": False,
        "data_at": current.taken_at,
    }


def deployments_panel(tenant: Tenant, **_) -> dict:
    deployments = selectors.recent_deployments(tenant)
    return {
        "deployments": deployments,
        "empty": not deployments,
        "data_at": _newest(*(d.deployed_at for d in deployments)),
    }


def usage_panel(tenant: Tenant, **_) -> dict:
    rows = selectors.usage_rows(tenant)
    metrics = []
    for name, periods in _group(rows, "metric").items():
        periods = list(reversed(periods))  # oldest first
        values = [p.value for p in periods]
        latest, before = values[-1], (values[-2] if len(values) > 1 else None)
        change = round((latest - before) / before * 100, 1) if before not in (None, 0) else None
        metrics.append(
            {
                "name": name,
                "periods": periods,
                "latest": latest,
                "change": change,
                "chart": Chart(values, width=260, height=60, lo=0),
            }
        )
    return {
        "metrics": metrics,
        "empty": not metrics,
        "data_at": _newest(*(m["periods"][-1].period_start for m in metrics)),
    }


def experiments_panel(tenant: Tenant, **_) -> dict:
    experiments, n, capped = selectors.active_experiments(tenant)
    return {
        "experiments": experiments,
        "active_count": n,
        "active_capped": capped,
        "empty": not experiments,
        "data_at": _newest(*(e.started_at for e in experiments)),
    }


ENTITLEMENT_LABELS = {
    "trace_bundles": "Diagnostic trace bundles",
    "shared_slack_channel": "Shared Slack channel",
    "technical_account_manager": "Technical account manager",
    "business_hours_only": "Business hours only",
    "uptime_sla": "Uptime SLA",
}


def entitlement_rows(tenant: Tenant, policy) -> list[dict]:
    """What the tenant's plan includes (✓) and what it does not (✗), one row each."""
    ent = tenant.entitlements or {}
    rows = [
        {
            "label": "Support tier",
            "ok": True,
            "value": tenant.get_support_tier_display(),
            "note": "highest tier" if tenant.support_tier == SupportTier.ENTERPRISE else "",
        },
        {
            "label": "Phone support",
            "ok": bool(ent.get("phone_support")),
            "value": "included" if ent.get("phone_support") else "not included",
        },
    ]
    contacts = ent.get("named_contacts")
    rows.append({"label": "Named contacts", "ok": bool(contacts), "value": str(contacts) if contacts else "none"})
    channels = ent.get("channels")
    for value, label in Channel.choices:
        ok = channels is None or value in channels
        rows.append(
            {
                "label": f"Channel: {label}",
                "ok": ok,
                "value": ("not restricted" if channels is None else "included") if ok else "not included",
            }
        )
    rows.append(
        {
            "label": "SLA policy",
            "ok": policy is not None,
            "value": policy.name if policy else "none matches: no SLA clocks run",
            "note": "tenant override" if tenant.sla_policy_id else ("by segment and tier" if policy else ""),
        }
    )
    for key in sorted(set(ent) - {"phone_support", "named_contacts", "channels"}):
        value = ent[key]
        label = ENTITLEMENT_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, bool):
            rows.append({"label": label, "ok": value, "value": "included" if value else "not included"})
        else:
            rows.append({"label": label, "ok": bool(value), "value": show(value)})
    return rows


def entitlements_panel(tenant: Tenant, **_) -> dict:
    policy = extensions.policy_for(tenant)
    rows = entitlement_rows(tenant, policy)
    return {
        "rows": rows,
        "policy": policy,
        "included": [r for r in rows if r["ok"]],
        "excluded": [r for r in rows if not r["ok"]],
        "empty": False,
    }


def _is_affected(resource) -> bool:
    return resource.health in (Health.RED, Health.AMBER) or resource.firing > 0


def resources_panel(tenant: Tenant, user=None, **_) -> dict:
    graph = selectors.resource_graph(tenant)
    if graph is None:
        return {"empty": True}
    resources, total, edges, reached = graph["resources"], graph["total"], graph["edges"], graph["reached"]
    others, shared_rows = graph["others"], graph["shared_rows"]
    by_id = {r.pk: r for r in resources}
    visible = selectors.visible_tenant_ids(user) if user is not None else []

    def sees(tenant_id: int) -> bool:
        return tenant_id == tenant.pk or visible is None or tenant_id in visible

    def describe(pk: int) -> dict:
        if pk in by_id:
            r = by_id[pk]
            return {"pk": pk, "label": r.external_id, "health": r.health, "own": True}
        r = others.get(pk)
        if r is None:
            return {"pk": pk, "label": "unknown resource", "health": Health.UNKNOWN, "own": False, "hidden": True}
        if sees(r["tenant_id"]):
            return {
                "pk": pk,
                "label": r["external_id"],
                "health": r["health"],
                "own": r["tenant_id"] == tenant.pk,
                "tenant_id": r["tenant_id"],
            }
        return {"pk": pk, "label": "a resource of another tenant", "health": r["health"], "own": False, "hidden": True}

    shared: dict[str, dict] = defaultdict(lambda: {"names": [], "hidden": 0})
    for external_id, tenant_id, name, slug in shared_rows:
        if sees(tenant_id):
            shared[external_id]["names"].append({"name": name, "slug": slug})
        else:
            shared[external_id]["hidden"] += 1

    depends_on: dict[int, list[int]] = defaultdict(list)
    for rid, dep in edges:
        if rid in by_id:
            depends_on[rid].append(dep)

    failing = [r for r in resources if _is_affected(r)]
    affected_ids = {r.pk for r in failing} | {rid for r in failing for rid in reached.get(r.pk, ())}
    rows = []
    for r in resources:
        radius = sorted(
            (describe(pk) for pk in reached.get(r.pk, ())), key=lambda d: (d.get("hidden", False), d["label"])
        )
        rows.append(
            {
                "resource": r,
                "affected": _is_affected(r),
                "in_blast": r.pk in affected_ids and not _is_affected(r),
                "depends_on": sorted((describe(pk) for pk in depends_on.get(r.pk, ())), key=lambda d: d["label"]),
                "radius": radius[:12],
                "radius_count": len(radius),
                "radius_hidden": sum(1 for d in radius if d.get("hidden")),
                "shared": shared.get(r.external_id),
            }
        )

    # Who else an outage here touches: tenants sharing an affected resource (same external id), and
    # tenants whose resources a failing one reaches through dependency edges.
    hit_names: dict[int, dict] = {}
    hit_hidden: set[int] = set()
    affected_external = {by_id[pk].external_id for pk in affected_ids if pk in by_id}
    for external_id, tenant_id, name, slug in shared_rows:
        if external_id not in affected_external:
            continue
        if sees(tenant_id):
            hit_names[tenant_id] = {"name": name, "slug": slug}
        else:
            hit_hidden.add(tenant_id)
    reached_other_tenants = {others[pk]["tenant_id"] for pk in affected_ids if pk in others} - {tenant.pk}
    missing = [t for t in reached_other_tenants if sees(t) and t not in hit_names]
    if missing:
        for t in selectors.tenant_names(missing):
            hit_names[t["pk"]] = {"name": t["name"], "slug": t["slug"]}
    hit_hidden |= {t for t in reached_other_tenants if not sees(t)}

    return {
        "rows": rows,
        "total": total,
        "firing_cap": FIRING_CAP,
        "truncated": total > len(resources),
        "failing": failing,
        "affected_count": len(affected_ids),
        "other_tenants": sorted(hit_names.values(), key=lambda t: t["name"]),
        "other_hidden": len(hit_hidden),
        "empty": False,
    }


def provided(name: str):
    """The builder of a panel an app above tenants provides (tenants.extensions.register_panel)."""

    def build(tenant: Tenant, **kwargs) -> dict:
        builder = extensions.panel_builder(name)
        return builder(tenant, **kwargs) if builder is not None else {"empty": True}

    build.__name__ = f"{name}_panel"
    return build


@dataclass(frozen=True)
class PanelSpec:
    title: str
    build: object
    wide: bool = False


PANELS: dict[str, PanelSpec] = {
    "health": PanelSpec("Health", health_panel, wide=True),
    "alerts": PanelSpec("Alerts", alerts_panel),
    "incidents": PanelSpec("Incidents", provided("incidents")),
    "cases": PanelSpec("Cases", provided("cases"), wide=True),
    "resources": PanelSpec("Resources and blast radius", resources_panel, wide=True),
    "deployments": PanelSpec("Deployments", deployments_panel),
    "config": PanelSpec("Config", config_panel),
    "flags": PanelSpec("Feature flags", flags_panel),
    "experiments": PanelSpec("Experiments", experiments_panel),
    "usage": PanelSpec("Usage", usage_panel),
    "entitlements": PanelSpec("Entitlements", entitlements_panel),
}


def build_panel(name: str, *, tenant: Tenant, user, params=None) -> Panel:
    spec = PANELS[name]
    data = spec.build(tenant, user=user, params=params or {})
    return Panel(
        name=name,
        title=spec.title,
        data=data,
        empty=data.pop("empty", False),
        data_at=data.pop("data_at", None),
        wide=spec.wide,
        loaded=True,
    )


def tenant_header(tenant: Tenant) -> dict:
    ent = tenant.entitlements or {}
    return {
        "policy": extensions.policy_for(tenant),
        "health": selectors.tenant_health(tenant),
        "phone": bool(ent.get("phone_support")),
        "named_contacts": ent.get("named_contacts"),
        "channels": ent.get("channels"),
        # Temporary elevated access in force (tenants.access): who, until when, why, granted by whom.
        "temporary_access": temporary_access.tenant_grants(tenant),
    }
