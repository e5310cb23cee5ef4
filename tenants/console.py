"""Reads behind the tenant console and the tenant list: every panel's rows, limited and aggregated in
the database, so a panel costs the same few queries whether a tenant sent a hundred telemetry rows or
a million. Permission scoping comes first (tenants.selectors); the views only render what these
functions return.

Latest-per-key reads (each SLI's latest observation, each flag's latest state, each usage metric's
recent periods) are one query: on PostgreSQL a recursive "skip scan" over the (tenant, key, -time)
index followed by a LATERAL top-N per key; elsewhere a window function.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Case as SQLCase, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, DenseRank, RowNumber
from django.db.models.expressions import RawSQL, Window
from django.http import Http404
from django.utils import timezone

from companyos import audit

from .choices import Channel, Health, SupportTier
from .models import Resource, Tenant
from .selectors import tenant_visible_to, visible_tenant_ids
from .telemetry import SLI, Alert, ConfigSnapshot, Deployment, Experiment, FeatureFlag, ResourceDependency, UsageMetric

ROWS = 20  # rows per list panel
SPARK_POINTS = 20  # observations per SLI sparkline
USAGE_PERIODS = 24  # periods per usage chart
MAX_SLIS = 12
MAX_FLAGS = 50
MAX_METRICS = 8
MAX_RESOURCES = 50
MAX_REACH = 2000  # (resource, dependent) pairs followed for the blast radius
COUNT_CAP = 1000  # counts stop here ("1,000+")
FIRING_CAP = 100  # firing alerts counted per resource ("100+")

HEALTH_RANK = {Health.RED: 0, Health.AMBER: 1, Health.UNKNOWN: 2, Health.GREEN: 3}

# The SLI health rule in SQL; SLI.health is the same rule in Python.
SLI_RED = Q(value__lt=F("objective")) | Q(error_budget_remaining__lte=0)
SLI_AMBER = Q(error_budget_remaining__lt=25)


# --- who may see which tenant -------------------------------------------------------------------------


def tenant_get_for_user(user, slug: str, *, path: str = "") -> Tenant:
    """The tenant behind `slug` if `user` may see it; otherwise 404, and the attempt is audited
    (under the tenant's id when it exists, so its trail shows the denial, else under the slug)."""
    tenant = tenant_visible_to(user).select_related("sla_policy", "default_team", "default_owner").filter(slug=slug).first()
    if tenant is None:
        pk = Tenant.objects.filter(slug=slug).values_list("pk", flat=True).first()
        audit.log_denied(Tenant, pk if pk is not None else slug, path=path, reason="tenant not visible or does not exist")
        raise Http404("No such tenant")
    return tenant


# --- the tenant list ----------------------------------------------------------------------------------


RANK_STATE = {rank: state for state, rank in HEALTH_RANK.items()}
# The worst latest SLI of the tenant in the outer query, per name: a skip scan over the (tenant,
# name, -observed_at) index, so its cost follows the number of SLI names, not of observations.
_WORST_LATEST_SLI_SQL = """(
    WITH RECURSIVE names(n) AS (
        (SELECT name FROM {sli} WHERE tenant_id = {tenant}.id ORDER BY name LIMIT 1)
        UNION ALL
        SELECT (SELECT name FROM {sli} WHERE tenant_id = {tenant}.id AND name > names.n ORDER BY name LIMIT 1)
        FROM names WHERE names.n IS NOT NULL
    )
    SELECT MIN(CASE WHEN latest.value < latest.objective OR latest.error_budget_remaining <= 0 THEN 0
                    WHEN latest.error_budget_remaining < 25 THEN 1 ELSE 3 END)
    FROM names CROSS JOIN LATERAL (
        SELECT value, objective, error_budget_remaining FROM {sli}
        WHERE tenant_id = {tenant}.id AND name = names.n ORDER BY observed_at DESC LIMIT 1
    ) AS latest
    WHERE names.n IS NOT NULL
)"""


def _latest_slis_of(tenant_ref) -> QuerySet[SLI]:
    """A tenant's SLI rows that are the latest observation of their name (no newer row exists)."""
    newer = SLI.objects.filter(tenant_id=OuterRef("tenant_id"), name=OuterRef("name"), observed_at__gt=OuterRef("observed_at"))
    return SLI.objects.filter(tenant_id=tenant_ref).filter(~Exists(newer))


def health_rank_expression(*, portable: bool = False):
    """0 red, 1 amber, 3 green from a tenant's latest SLIs (the worst wins); the rank of the stored
    Tenant.health when it has none (2 for unknown). One expression, so the list can filter and sort
    by health in the database; RANK_STATE turns it back into a state."""
    stored = _rank("health")
    if connection.vendor == "postgresql" and not portable:
        qn = connection.ops.quote_name
        sql = _WORST_LATEST_SLI_SQL.format(sli=qn(SLI._meta.db_table), tenant=qn(Tenant._meta.db_table))
        return Coalesce(RawSQL(sql, [], output_field=IntegerField()), stored)
    latest = _latest_slis_of(OuterRef("pk"))  # portable: reads every observation of the tenant
    return SQLCase(
        When(Exists(latest.filter(SLI_RED)), then=Value(0)),
        When(Exists(latest.filter(SLI_AMBER)), then=Value(1)),
        When(Exists(SLI.objects.filter(tenant_id=OuterRef("pk"))), then=Value(3)),
        default=stored, output_field=IntegerField(),
    )


def _rank(expression_field: str):
    return SQLCase(*[When(**{expression_field: state}, then=Value(rank)) for state, rank in HEALTH_RANK.items()],
                   default=Value(9), output_field=IntegerField())


def _case_count(**filters):
    from cases.models import Case

    # COUNT(*), not COUNT(id): the count can then come from an index alone.
    rows = Case.objects.filter(tenant_id=OuterRef("pk"), **filters).order_by().values("tenant_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def tenant_list(user) -> QuerySet[Tenant]:
    """The tenants `user` may see, each with its health rank (see health_rank_expression; the view
    names it with RANK_STATE), open and breached case counts."""
    from cases.choices import OPEN_STATUSES

    now = timezone.now()
    return tenant_visible_to(user).annotate(
        health_rank=health_rank_expression(),
        open_cases=_case_count(status__in=OPEN_STATUSES),
        breached_cases=_case_count(status__in=OPEN_STATUSES, sla_due_at__lt=now),
    )


def with_health_state(tenants) -> list[Tenant]:
    tenants = list(tenants)
    for tenant in tenants:
        tenant.health_state = RANK_STATE.get(tenant.health_rank, Health.UNKNOWN)
    return tenants


# --- latest rows per key, in one query ----------------------------------------------------------------


def latest_per_key(model, *, tenant_id: int, key: str, time_field: str, per_key: int = 1, max_keys: int = 20) -> list:
    """The newest `per_key` rows of each distinct `key` (at most `max_keys` keys, in key order) of one
    tenant, newest first within a key. Needs an index on (tenant, key, -time)."""
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        qn = connection.ops.quote_name
        k, t = qn(model._meta.get_field(key).column), qn(model._meta.get_field(time_field).column)
        sql = f"""
            WITH RECURSIVE keys(k) AS (
                (SELECT {k} FROM {table} WHERE tenant_id = %s ORDER BY {k} LIMIT 1)
                UNION ALL
                SELECT (SELECT {k} FROM {table} WHERE tenant_id = %s AND {k} > keys.k ORDER BY {k} LIMIT 1)
                FROM keys WHERE keys.k IS NOT NULL
            )
            SELECT row.* FROM (SELECT k FROM keys WHERE k IS NOT NULL LIMIT %s) AS wanted
            CROSS JOIN LATERAL (
                SELECT * FROM {table} WHERE tenant_id = %s AND {k} = wanted.k ORDER BY {t} DESC LIMIT %s
            ) AS row
            ORDER BY row.{k}, row.{t} DESC
        """
        return list(model.objects.raw(sql, [tenant_id, tenant_id, max_keys, tenant_id, per_key]))
    return latest_per_key_portable(model, tenant_id=tenant_id, key=key, time_field=time_field, per_key=per_key, max_keys=max_keys)


def latest_per_key_portable(model, *, tenant_id: int, key: str, time_field: str, per_key: int = 1, max_keys: int = 20) -> list:
    """The same with window functions (SQLite, laptops): one query, but it reads all the tenant's rows."""
    qs = (
        model.objects.filter(tenant_id=tenant_id)
        .annotate(
            _n=Window(RowNumber(), partition_by=[F(key)], order_by=F(time_field).desc()),
            _k=Window(DenseRank(), order_by=F(key).asc()),
        )
        .filter(_n__lte=per_key, _k__lte=max_keys)
        .order_by(key, f"-{time_field}")
    )
    return list(qs)


def _group(rows, key: str) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def _capped(qs: QuerySet) -> tuple[int, bool]:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


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


def _newest(*times) -> datetime | None:
    times = [t for t in times if t]
    return max(times) if times else None


def health_panel(tenant: Tenant, **_) -> dict:
    rows = latest_per_key(SLI, tenant_id=tenant.pk, key="name", time_field="observed_at", per_key=SPARK_POINTS, max_keys=MAX_SLIS)
    resources = dict(Resource.objects.filter(pk__in={r.resource_id for r in rows if r.resource_id}).values_list("pk", "external_id"))
    slis = []
    for name, history in _group(rows, "name").items():
        latest = history[0]
        budgets = [h.error_budget_remaining for h in reversed(history)]
        slis.append({
            "name": name, "latest": latest, "health": latest.health, "resource": resources.get(latest.resource_id),
            "history": list(reversed(history)),
            "spark": Chart(budgets, lo=0, hi=100),
            "burn": round(budgets[0] - budgets[-1], 1) if len(budgets) > 1 else None,
        })
    slis.sort(key=lambda s: (HEALTH_RANK[s["health"]], s["name"]))
    overall = min((s["health"] for s in slis), key=HEALTH_RANK.get, default=tenant.health)
    counts = {state: sum(1 for s in slis if s["health"] == state) for state in (Health.RED, Health.AMBER, Health.GREEN)}
    return {"slis": slis, "overall": overall, "counts": counts, "from_slis": bool(slis),
            "empty": not slis, "data_at": _newest(*(s["latest"].observed_at for s in slis))}


def tenant_health(tenant: Tenant) -> str:
    """The tenant's health now: the worst of its latest SLIs, else its stored health."""
    rows = latest_per_key(SLI, tenant_id=tenant.pk, key="name", time_field="observed_at", per_key=1, max_keys=200)
    return min((r.health for r in rows), key=HEALTH_RANK.get, default=tenant.health)


def alerts_panel(tenant: Tenant, **_) -> dict:
    base = Alert.objects.filter(tenant=tenant).select_related("resource")
    firing = list(base.filter(status=Alert.Status.FIRING).order_by("-starts_at")[:ROWS])
    resolved = list(base.filter(status=Alert.Status.RESOLVED).order_by("-starts_at")[: ROWS - len(firing)]) if len(firing) < ROWS else []
    n_firing, capped = _capped(Alert.objects.filter(tenant=tenant, status=Alert.Status.FIRING))
    alerts = firing + resolved
    return {"alerts": alerts, "firing_count": n_firing, "firing_capped": capped, "empty": not alerts,
            "data_at": _newest(*(a.starts_at for a in alerts), *(a.ends_at for a in alerts))}


def flags_panel(tenant: Tenant, **_) -> dict:
    flags = latest_per_key(FeatureFlag, tenant_id=tenant.pk, key="key", time_field="observed_at", per_key=1, max_keys=MAX_FLAGS)
    return {"flags": flags, "enabled_count": sum(1 for f in flags if f.enabled), "empty": not flags,
            "truncated": len(flags) >= MAX_FLAGS, "data_at": _newest(*(f.observed_at for f in flags))}


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
    snapshots = ConfigSnapshot.objects.filter(tenant=tenant).select_related("resource", "integration")
    wanted = (params or {}).get("snapshot", "")
    current = snapshots.filter(pk=int(wanted)).first() if str(wanted).isdigit() else None
    if current is None:
        current = snapshots.order_by("-taken_at", "-pk").first()
    if current is None:
        return {"empty": True}
    previous = (
        snapshots.filter(resource_id=current.resource_id, taken_at__lt=current.taken_at).order_by("-taken_at", "-pk").first()
        if current.resource_id else
        snapshots.filter(resource__isnull=True, taken_at__lt=current.taken_at).order_by("-taken_at", "-pk").first()
    )
    recent = list(ConfigSnapshot.objects.filter(tenant=tenant).select_related("resource").only(
        "pk", "taken_at", "resource__external_id").order_by("-taken_at", "-pk")[:10])
    diff = config_diff(previous.data if previous else {}, current.data)
    return {"current": current, "previous": previous, "diff": diff, "flat": sorted((k, show(v)) for k, v in flatten(current.data).items()),
            "recent": recent, "empty": False, "data_at": current.taken_at}


def deployments_panel(tenant: Tenant, **_) -> dict:
    deployments = list(Deployment.objects.filter(tenant=tenant).select_related("resource", "integration").order_by("-deployed_at")[:ROWS])
    return {"deployments": deployments, "empty": not deployments, "data_at": _newest(*(d.deployed_at for d in deployments))}


def usage_panel(tenant: Tenant, **_) -> dict:
    rows = latest_per_key(UsageMetric, tenant_id=tenant.pk, key="metric", time_field="period_start", per_key=USAGE_PERIODS, max_keys=MAX_METRICS)
    metrics = []
    for name, periods in _group(rows, "metric").items():
        periods = list(reversed(periods))  # oldest first
        values = [p.value for p in periods]
        latest, before = values[-1], (values[-2] if len(values) > 1 else None)
        change = round((latest - before) / before * 100, 1) if before not in (None, 0) else None
        metrics.append({"name": name, "periods": periods, "latest": latest, "change": change,
                        "chart": Chart(values, width=260, height=60, lo=0)})
    return {"metrics": metrics, "empty": not metrics, "data_at": _newest(*(m["periods"][-1].period_start for m in metrics))}


def experiments_panel(tenant: Tenant, **_) -> dict:
    active = Experiment.objects.filter(tenant=tenant, status="active")
    experiments = list(active.order_by("-started_at")[:ROWS])
    n, capped = _capped(active)
    return {"experiments": experiments, "active_count": n, "active_capped": capped, "empty": not experiments,
            "data_at": _newest(*(e.started_at for e in experiments))}


ENTITLEMENT_LABELS = {
    "trace_bundles": "Diagnostic trace bundles", "shared_slack_channel": "Shared Slack channel",
    "technical_account_manager": "Technical account manager", "business_hours_only": "Business hours only",
    "uptime_sla": "Uptime SLA",
}


def entitlement_rows(tenant: Tenant, policy) -> list[dict]:
    """What the tenant's plan includes (✓) and what it does not (✗), one row each."""
    ent = tenant.entitlements or {}
    rows = [
        {"label": "Support tier", "ok": True, "value": tenant.get_support_tier_display(),
         "note": "highest tier" if tenant.support_tier == SupportTier.ENTERPRISE else ""},
        {"label": "Phone support", "ok": bool(ent.get("phone_support")), "value": "included" if ent.get("phone_support") else "not included"},
    ]
    contacts = ent.get("named_contacts")
    rows.append({"label": "Named contacts", "ok": bool(contacts), "value": str(contacts) if contacts else "none"})
    channels = ent.get("channels")
    for value, label in Channel.choices:
        ok = channels is None or value in channels
        rows.append({"label": f"Channel: {label}", "ok": ok,
                     "value": ("not restricted" if channels is None else "included") if ok else "not included"})
    rows.append({"label": "SLA policy", "ok": policy is not None,
                 "value": policy.name if policy else "none matches: no SLA clocks run",
                 "note": "tenant override" if tenant.sla_policy_id else ("by segment and tier" if policy else "")})
    for key in sorted(set(ent) - {"phone_support", "named_contacts", "channels"}):
        value = ent[key]
        label = ENTITLEMENT_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, bool):
            rows.append({"label": label, "ok": value, "value": "included" if value else "not included"})
        else:
            rows.append({"label": label, "ok": bool(value), "value": show(value)})
    return rows


def entitlements_panel(tenant: Tenant, **_) -> dict:
    from cases.sla.clocks import policy_for_tenant

    policy = policy_for_tenant(tenant)
    rows = entitlement_rows(tenant, policy)
    return {"rows": rows, "policy": policy, "included": [r for r in rows if r["ok"]], "excluded": [r for r in rows if not r["ok"]],
            "empty": False}


def cases_panel(tenant: Tenant, **_) -> dict:
    """Counts only: the rows come from the queue's own partial, loaded by URL."""
    from urllib.parse import urlencode

    from cases.choices import OPEN_STATUSES
    from cases.models import Case

    counts = Case.objects.filter(tenant=tenant, status__in=OPEN_STATUSES).aggregate(
        open=Count("*"), breached=Count("sla_due_at", filter=Q(sla_due_at__lt=timezone.now())))  # both from an index alone
    query = urlencode({"tenant": tenant.slug, "status": "all", "sort": "sla"})
    return {"open": counts["open"], "breached": counts["breached"], "queue_url": f"/cases/?{query}",
            "open_url": "/cases/?" + urlencode({"tenant": tenant.slug, "status": "open", "sort": "sla"}), "empty": False}


def incidents_panel(tenant: Tenant, **_) -> dict:
    from django.db.models import Prefetch

    from cases.models import Case
    from incidents.models import Incident

    through_cases, through_resources = Incident.cases.through, Incident.resources.through
    touching = Exists(through_cases.objects.filter(incident_id=OuterRef("pk"), case__tenant_id=tenant.pk)) | Exists(
        through_resources.objects.filter(incident_id=OuterRef("pk"), resource__tenant_id=tenant.pk))
    incidents = list(
        Incident.objects.filter(touching)
        .annotate(active_rank=SQLCase(When(status__in=Incident.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .select_related("commander")
        .prefetch_related(
            Prefetch("cases", queryset=Case.objects.filter(tenant=tenant).only("pk", "tenant_id").order_by("pk"), to_attr="tenant_cases"),
            Prefetch("resources", queryset=Resource.objects.filter(tenant=tenant).only("pk", "external_id").order_by("external_id"), to_attr="tenant_resources"),
        )
        .order_by("active_rank", "-started_at")[:ROWS]
    )
    return {"incidents": incidents, "active_count": sum(1 for i in incidents if i.active), "empty": not incidents,
            "data_at": _newest(*(i.started_at for i in incidents))}


def reach(roots: list[int], *, limit: int = MAX_REACH) -> dict[int, set[int]]:
    """For each root resource, every resource that depends on it directly or transitively (follows
    `dependents`: a failure of the root reaches them). One recursive query; cycles end by UNION."""
    if not roots:
        return {}
    table = connection.ops.quote_name(ResourceDependency._meta.db_table)
    marks = ", ".join(["%s"] * len(roots))
    sql = f"""
        WITH RECURSIVE reach(root, rid) AS (
            SELECT depends_on_id, resource_id FROM {table} WHERE depends_on_id IN ({marks})
            UNION
            SELECT reach.root, d.resource_id FROM reach JOIN {table} d ON d.depends_on_id = reach.rid
        )
        SELECT root, rid FROM reach WHERE rid <> root LIMIT %s
    """
    found: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*roots, limit])
        for root, rid in cursor.fetchall():
            found[root].add(rid)
    return found


def _is_affected(resource) -> bool:
    return resource.health in (Health.RED, Health.AMBER) or resource.firing > 0


def resources_panel(tenant: Tenant, user=None, **_) -> dict:
    # Firing alerts per resource, counted up to FIRING_CAP (a bounded probe of the (resource, status) index).
    firing = RawSQL(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {connection.ops.quote_name(Alert._meta.db_table)} AS fa "
        f"WHERE fa.resource_id = {connection.ops.quote_name(Resource._meta.db_table)}.id AND fa.status = %s LIMIT {FIRING_CAP}) AS capped",
        [Alert.Status.FIRING.value], output_field=IntegerField())
    base = Resource.objects.filter(tenant=tenant)
    resources = list(
        base.annotate(firing=firing, rank=_rank("health"))
        .order_by("rank", "-firing", "external_id")[:MAX_RESOURCES]
    )
    if not resources:
        return {"empty": True}
    total = base.count() if len(resources) >= MAX_RESOURCES else len(resources)
    ids = [r.pk for r in resources]
    by_id = {r.pk: r for r in resources}

    edges = list(ResourceDependency.objects.filter(Q(resource_id__in=ids) | Q(depends_on_id__in=ids))
                 .values_list("resource_id", "depends_on_id")[:MAX_REACH])
    reached = reach(ids)
    other_ids = ({rid for rids in reached.values() for rid in rids} | {d for _, d in edges}) - set(ids)
    others = {r["pk"]: r for r in Resource.objects.filter(pk__in=other_ids).values("pk", "external_id", "kind", "health", "tenant_id")}
    visible = visible_tenant_ids(user) if user is not None else []

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
            return {"pk": pk, "label": r["external_id"], "health": r["health"], "own": r["tenant_id"] == tenant.pk, "tenant_id": r["tenant_id"]}
        return {"pk": pk, "label": "a resource of another tenant", "health": r["health"], "own": False, "hidden": True}

    shared_rows = list(Resource.objects.filter(external_id__in=[r.external_id for r in resources]).exclude(tenant=tenant)
                       .values_list("external_id", "tenant_id", "tenant__name", "tenant__slug"))
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
        radius = sorted((describe(pk) for pk in reached.get(r.pk, ())), key=lambda d: (d.get("hidden", False), d["label"]))
        rows.append({
            "resource": r, "affected": _is_affected(r), "in_blast": r.pk in affected_ids and not _is_affected(r),
            "depends_on": sorted((describe(pk) for pk in depends_on.get(r.pk, ())), key=lambda d: d["label"]),
            "radius": radius[:12], "radius_count": len(radius), "radius_hidden": sum(1 for d in radius if d.get("hidden")),
            "shared": shared.get(r.external_id),
        })

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
        for t in Tenant.objects.filter(pk__in=missing).values("pk", "name", "slug"):
            hit_names[t["pk"]] = {"name": t["name"], "slug": t["slug"]}
    hit_hidden |= {t for t in reached_other_tenants if not sees(t)}

    return {"rows": rows, "total": total, "firing_cap": FIRING_CAP, "truncated": total > len(resources), "failing": failing,
            "affected_count": len(affected_ids), "other_tenants": sorted(hit_names.values(), key=lambda t: t["name"]),
            "other_hidden": len(hit_hidden), "empty": False}


@dataclass(frozen=True)
class PanelSpec:
    title: str
    build: object
    wide: bool = False


PANELS: dict[str, PanelSpec] = {
    "health": PanelSpec("Health", health_panel, wide=True),
    "alerts": PanelSpec("Alerts", alerts_panel),
    "incidents": PanelSpec("Incidents", incidents_panel),
    "cases": PanelSpec("Cases", cases_panel, wide=True),
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
    return Panel(name=name, title=spec.title, data=data, empty=data.pop("empty", False), data_at=data.pop("data_at", None),
                 wide=spec.wide, loaded=True)


def tenant_header(tenant: Tenant) -> dict:
    from cases.sla.clocks import policy_for_tenant

    ent = tenant.entitlements or {}
    return {"policy": policy_for_tenant(tenant), "health": tenant_health(tenant),
            "phone": bool(ent.get("phone_support")), "named_contacts": ent.get("named_contacts"), "channels": ent.get("channels")}
