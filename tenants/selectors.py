"""The tenants app's reads. Who sees which tenant comes first: every list, count, search and detail in
the console goes through `visible_tenant_ids` / `tenant_visible_to`. Then the reads behind the tenant
list and the tenant console's panels (tenants.panels shapes them): every panel's rows limited and
aggregated in the database, so a panel costs the same few queries whether a tenant sent a hundred
telemetry rows or a million.

Latest-per-key reads (each SLI's latest observation, each flag's latest state, each usage metric's
recent periods) are one query: on PostgreSQL a recursive "skip scan" over the (tenant, key, -time)
index followed by a LATERAL top-N per key; elsewhere a window function.

Data of apps above tenants (case counts on the list) comes in through tenants.extensions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Case as SQLCase
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL, Window
from django.db.models.functions import Coalesce, DenseRank, RowNumber
from django.http import Http404
from django.utils import timezone

from companyos import audit, roles

from . import access as temporary_access
from . import extensions
from .choices import Health
from .models import (
    Integration,
    Requester,
    Resource,
    Tenant,
    TenantGroupObjectPermission,
    TenantUserObjectPermission,
    WidgetConfig,
)
from .telemetry import SLI, Alert, ConfigSnapshot, Deployment, Experiment, FeatureFlag, ResourceDependency, UsageMetric

VIEW_TENANT = "view_tenant"


def visible_tenant_ids(user) -> list[int] | None:
    """The ids of the tenants `user` may see, or None when they see every tenant.

    Managers, admins and SREs see all tenants by an explicit role rule; everybody else only the
    tenants granted to them or to one of their groups (guardian object permission) and those of a
    temporary elevated access in force (tenants.access, until its expiry). The model-wide
    `view_tenant` permission deliberately grants nothing here (guardian's list leak)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if roles.sees_all_tenants(user):
        return None
    cached = getattr(user, "_visible_tenant_ids", None)
    if cached is not None:
        return cached
    direct = TenantUserObjectPermission.objects.filter(user=user, permission__codename=VIEW_TENANT).values_list(
        "content_object_id", flat=True
    )
    # Temporary elevated access (tenants.access) in force now: read with its expiry, in the same query.
    direct = direct.union(temporary_access.active().filter(user=user).values_list("tenant_id", flat=True), all=True)
    via_groups = TenantGroupObjectPermission.objects.filter(
        group__user=user, permission__codename=VIEW_TENANT
    ).values_list("content_object_id", flat=True)
    ids = sorted(set(direct) | set(via_groups))
    user._visible_tenant_ids = ids
    return ids


def tenant_visible_to(user) -> QuerySet[Tenant]:
    ids = visible_tenant_ids(user)
    qs = Tenant.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


# --- limits ---------------------------------------------------------------------------------------------

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
RANK_STATE = {rank: state for state, rank in HEALTH_RANK.items()}

# The SLI health rule in SQL; SLI.health is the same rule in Python.
SLI_RED = Q(value__lt=F("objective")) | Q(error_budget_remaining__lte=0)
SLI_AMBER = Q(error_budget_remaining__lt=25)


def tenant_get_for_user(user, slug: str, *, path: str = "") -> Tenant:
    """The tenant behind `slug` if `user` may see it; otherwise 404, and the attempt is audited
    (under the tenant's id when it exists, so its trail shows the denial, else under the slug)."""
    tenant = (
        tenant_visible_to(user).select_related("sla_policy", "default_team", "default_owner").filter(slug=slug).first()
    )
    if tenant is None:
        pk = Tenant.objects.filter(slug=slug).values_list("pk", flat=True).first()
        audit.log_denied(
            Tenant, pk if pk is not None else slug, path=path, reason="tenant not visible or does not exist"
        )
        raise Http404("No such tenant")
    return tenant


# --- the tenant list ----------------------------------------------------------------------------------

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
    newer = SLI.objects.filter(
        tenant_id=OuterRef("tenant_id"), name=OuterRef("name"), observed_at__gt=OuterRef("observed_at")
    )
    return SLI.objects.filter(tenant_id=tenant_ref).filter(~Exists(newer))


def health_rank_expression(*, portable: bool = False):
    """0 red, 1 amber, 3 green from a tenant's latest SLIs (the worst wins); the rank of the stored
    Tenant.health when it has none (2 for unknown). One expression, so the list can filter and sort
    by health in the database; RANK_STATE turns it back into a state."""
    stored = health_rank_of("health")
    if connection.vendor == "postgresql" and not portable:
        qn = connection.ops.quote_name
        sql = _WORST_LATEST_SLI_SQL.format(sli=qn(SLI._meta.db_table), tenant=qn(Tenant._meta.db_table))
        return Coalesce(RawSQL(sql, [], output_field=IntegerField()), stored)
    latest = _latest_slis_of(OuterRef("pk"))  # portable: reads every observation of the tenant
    return SQLCase(
        When(Exists(latest.filter(SLI_RED)), then=Value(0)),
        When(Exists(latest.filter(SLI_AMBER)), then=Value(1)),
        When(Exists(SLI.objects.filter(tenant_id=OuterRef("pk"))), then=Value(3)),
        default=stored,
        output_field=IntegerField(),
    )


def health_rank_of(expression_field: str):
    """HEALTH_RANK of a stored health column, as SQL (9 for a value it does not know)."""
    return SQLCase(
        *[When(**{expression_field: state}, then=Value(rank)) for state, rank in HEALTH_RANK.items()],
        default=Value(9),
        output_field=IntegerField(),
    )


def tenant_list(user) -> QuerySet[Tenant]:
    """The tenants `user` may see, each with its health rank (see health_rank_expression; the view
    names it with RANK_STATE) and the summary columns the apps above provide (tenants.extensions:
    open and breached case counts)."""
    return tenant_visible_to(user).annotate(
        health_rank=health_rank_expression(), **extensions.summary_annotations(timezone.now())
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
    return latest_per_key_portable(
        model, tenant_id=tenant_id, key=key, time_field=time_field, per_key=per_key, max_keys=max_keys
    )


def latest_per_key_portable(
    model, *, tenant_id: int, key: str, time_field: str, per_key: int = 1, max_keys: int = 20
) -> list:
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


def _capped(qs: QuerySet) -> tuple[int, bool]:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


# --- the console's panels ---------------------------------------------------------------------------------


def latest_slis(tenant: Tenant, *, since=None) -> dict[str, SLI]:
    """The latest observation of each of the tenant's SLIs (at most 200 names), by name; with
    `since`, only the SLIs observed since then."""
    rows = latest_per_key(SLI, tenant_id=tenant.pk, key="name", time_field="observed_at", per_key=1, max_keys=200)
    return {row.name: row for row in rows if since is None or row.observed_at >= since}


def worst_health(slis, default: str) -> str:
    """The worst health of `slis` (red < amber < green), else `default`."""
    return min((sli.health for sli in slis), key=HEALTH_RANK.get, default=default)


def tenant_health(tenant: Tenant) -> str:
    """The tenant's health now: the worst of its latest SLIs, else its stored health."""
    return worst_health(latest_slis(tenant).values(), tenant.health)


def sli_history(tenant: Tenant) -> tuple[list[SLI], dict[int, str]]:
    """The latest SPARK_POINTS observations of each of the tenant's first MAX_SLIS SLI names (by name,
    newest first within a name), and the external id of every resource they name."""
    rows = latest_per_key(
        SLI, tenant_id=tenant.pk, key="name", time_field="observed_at", per_key=SPARK_POINTS, max_keys=MAX_SLIS
    )
    resources = dict(
        Resource.objects.filter(pk__in={r.resource_id for r in rows if r.resource_id}).values_list("pk", "external_id")
    )
    return rows, resources


def firing_alerts(tenant: Tenant, limit: int = ROWS) -> list[Alert]:
    """The tenant's firing alerts, newest first, with their resource."""
    return list(
        Alert.objects.filter(tenant=tenant, status=Alert.Status.FIRING)
        .select_related("resource")
        .order_by("-starts_at")[:limit]
    )


def tenant_alerts(tenant: Tenant) -> tuple[list[Alert], int, bool]:
    """Up to ROWS alerts, firing first then resolved (newest first), and the firing count (capped)."""
    firing = firing_alerts(tenant)
    resolved = (
        list(
            Alert.objects.filter(tenant=tenant, status=Alert.Status.RESOLVED)
            .select_related("resource")
            .order_by("-starts_at")[: ROWS - len(firing)]
        )
        if len(firing) < ROWS
        else []
    )
    n_firing, capped = _capped(Alert.objects.filter(tenant=tenant, status=Alert.Status.FIRING))
    return firing + resolved, n_firing, capped


def latest_flags(tenant: Tenant) -> list[FeatureFlag]:
    return latest_per_key(
        FeatureFlag, tenant_id=tenant.pk, key="key", time_field="observed_at", per_key=1, max_keys=MAX_FLAGS
    )


def config_snapshots(
    tenant: Tenant, wanted: str = ""
) -> tuple[ConfigSnapshot | None, ConfigSnapshot | None, list[ConfigSnapshot]]:
    """The snapshot asked for (else the newest), the one before it of the same resource, and the ten newest."""
    snapshots = ConfigSnapshot.objects.filter(tenant=tenant).select_related("resource", "integration")
    current = snapshots.filter(pk=int(wanted)).first() if str(wanted).isdigit() else None
    if current is None:
        current = snapshots.order_by("-taken_at", "-pk").first()
    if current is None:
        return None, None, []
    previous = (
        snapshots.filter(resource_id=current.resource_id, taken_at__lt=current.taken_at)
        .order_by("-taken_at", "-pk")
        .first()
        if current.resource_id
        else snapshots.filter(resource__isnull=True, taken_at__lt=current.taken_at).order_by("-taken_at", "-pk").first()
    )
    recent = list(
        ConfigSnapshot.objects.filter(tenant=tenant)
        .select_related("resource")
        .only("pk", "taken_at", "resource__external_id")
        .order_by("-taken_at", "-pk")[:10]
    )
    return current, previous, recent


def recent_deployments(tenant: Tenant, *, since=None, limit: int = ROWS) -> list[Deployment]:
    """The tenant's latest deployments (since `since`), newest first."""
    qs = Deployment.objects.filter(tenant=tenant)
    if since is not None:
        qs = qs.filter(deployed_at__gte=since)
    return list(qs.select_related("resource", "integration").order_by("-deployed_at")[:limit])


def usage_rows(tenant: Tenant) -> list[UsageMetric]:
    """The latest USAGE_PERIODS periods of each of the first MAX_METRICS metrics (newest first)."""
    return latest_per_key(
        UsageMetric,
        tenant_id=tenant.pk,
        key="metric",
        time_field="period_start",
        per_key=USAGE_PERIODS,
        max_keys=MAX_METRICS,
    )


def active_experiments(tenant: Tenant) -> tuple[list[Experiment], int, bool]:
    active = Experiment.objects.filter(tenant=tenant, status="active")
    experiments = list(active.order_by("-started_at")[:ROWS])
    n, capped = _capped(active)
    return experiments, n, capped


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


def resource_graph(tenant: Tenant) -> dict | None:
    """The Resources panel's rows, None when the tenant has none: its first MAX_RESOURCES resources
    (worst health, most firing alerts first, each with `firing` counted up to FIRING_CAP), their
    total, their dependency edges, what each reaches, the resources of those outside the page, and
    the other tenants' resources with the same external id."""
    # Firing alerts per resource, counted up to FIRING_CAP (a bounded probe of the (resource, status) index).
    firing = RawSQL(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {connection.ops.quote_name(Alert._meta.db_table)} AS fa "
        f"WHERE fa.resource_id = {connection.ops.quote_name(Resource._meta.db_table)}.id AND fa.status = %s "
        f"LIMIT {FIRING_CAP}) AS capped",
        [Alert.Status.FIRING.value],
        output_field=IntegerField(),
    )
    base = Resource.objects.filter(tenant=tenant)
    resources = list(
        base.annotate(firing=firing, rank=health_rank_of("health")).order_by("rank", "-firing", "external_id")[
            :MAX_RESOURCES
        ]
    )
    if not resources:
        return None
    total = base.count() if len(resources) >= MAX_RESOURCES else len(resources)
    ids = [r.pk for r in resources]
    edges = list(
        ResourceDependency.objects.filter(Q(resource_id__in=ids) | Q(depends_on_id__in=ids)).values_list(
            "resource_id", "depends_on_id"
        )[:MAX_REACH]
    )
    reached = reach(ids)
    other_ids = ({rid for rids in reached.values() for rid in rids} | {d for _, d in edges}) - set(ids)
    others = {
        r["pk"]: r
        for r in Resource.objects.filter(pk__in=other_ids).values("pk", "external_id", "kind", "health", "tenant_id")
    }
    shared_rows = list(
        Resource.objects.filter(external_id__in=[r.external_id for r in resources])
        .exclude(tenant=tenant)
        .values_list("external_id", "tenant_id", "tenant__name", "tenant__slug")
    )
    return {
        "resources": resources,
        "total": total,
        "edges": edges,
        "reached": reached,
        "others": others,
        "shared_rows": shared_rows,
    }


PICK_RESOURCES = 200


def resources_of(tenant: Tenant, *, limit: int = PICK_RESOURCES) -> list[Resource]:
    """The tenant's resources by external id (at most `limit`): what an intake form or a case page
    offers as affected resources."""
    return list(Resource.objects.filter(tenant=tenant).order_by("external_id")[:limit])


def requester_visible_resource_ids(requester) -> set[int] | None:
    """The ids of the tenant's resources `requester` may see (seed 003: "permissions to view
    resources"), or None when they may see all of them."""
    if requester.sees_all_resources:
        return None
    return set(requester.visible_resources.values_list("pk", flat=True))


def tenant_names(ids) -> list[dict]:
    """{"pk", "name", "slug"} of the tenants `ids` (no visibility check: the caller decides)."""
    return list(Tenant.objects.filter(pk__in=ids).values("pk", "name", "slug"))


def integration_tenant_choices() -> QuerySet[Tenant]:
    """The tenants an admin may give an integration (every tenant), by name: its form's choices."""
    return Tenant.objects.order_by("name")


def can_see_tenant(user, tenant_id: int) -> bool:
    ids = visible_tenant_ids(user)
    return ids is None or tenant_id in ids


# --- integrations (the admins' Integrations page) -------------------------------------------------------


def integration_list() -> list[Integration]:
    return list(Integration.objects.select_related("created_by").prefetch_related("tenants"))


def integration_get(pk: int) -> Integration:
    """The integration `pk` (404 when there is none), with its tenants."""
    integration = Integration.objects.prefetch_related("tenants").filter(pk=pk).first()
    if integration is None:
        raise Http404("No such integration.")
    return integration


# --- the in-app widget (cases.channels.widget) --------------------------------------------------------------


def widget_config_by_key(key_id: str) -> WidgetConfig | None:
    """The widget config whose public key id is `key_id`, with its integration (for verify_context)."""
    return WidgetConfig.objects.select_related("integration").filter(key_id=key_id).first()


def widget_config_of(integration_id: int) -> WidgetConfig | None:
    return WidgetConfig.objects.select_related("integration").filter(integration_id=integration_id).first()


def widget_tenant(config: WidgetConfig, slug: str) -> Tenant | None:
    """The tenant `slug` if the widget's integration serves it; None otherwise (another tenant's
    context signed with this integration's secret is refused)."""
    return config.integration.tenants.filter(slug=slug).first()


# --- signals -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantSignals:
    """What a tenant's telemetry says at one instant, for a case's context capture, built from the
    same reads as the tenant console's panels: the latest SLI per name observed in the last two days,
    the worst health among them (else the tenant's own), the firing alerts (newest first, at most
    20) and the deployments of the last seven days (at most 10)."""

    latest_slis: dict  # name -> SLI
    health: str  # "red" | "amber" | "green", else the tenant's own health when it has no recent SLIs
    firing_alerts: tuple
    deployments: tuple

    @property
    def red_slis(self) -> list[str]:
        return [name for name, sli in self.latest_slis.items() if sli.health == "red"]

    @property
    def amber_slis(self) -> list[str]:
        return [name for name, sli in self.latest_slis.items() if sli.health == "amber"]


SIGNAL_SLI_WINDOW = timedelta(days=2)
SIGNAL_DEPLOY_WINDOW = timedelta(days=7)


def tenant_signals(tenant: Tenant, now) -> TenantSignals:
    slis = latest_slis(tenant, since=now - SIGNAL_SLI_WINDOW)
    return TenantSignals(
        latest_slis=slis,
        health=worst_health(slis.values(), tenant.health),
        firing_alerts=tuple(firing_alerts(tenant, limit=20)),
        deployments=tuple(recent_deployments(tenant, since=now - SIGNAL_DEPLOY_WINDOW, limit=10)),
    )


# --- the REST API -------------------------------------------------------------------------------------------


def integration_tenant_ids(integration: Integration) -> list[int]:
    return sorted(integration.tenants.values_list("pk", flat=True))


def tenants_in(ids: list[int] | None) -> QuerySet[Tenant]:
    """The tenants among `ids` (None: every tenant): the API's scope, from tenants.api_auth.api_tenant_ids."""
    qs = Tenant.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


def tenant_in_scope(ids: list[int] | None, slug: str, *, path: str, via: str) -> Tenant:
    """The tenant `slug` if it is among `ids`; otherwise 404, the attempt audited (naming `via`, the token)."""
    tenant = tenants_in(ids).filter(slug=slug).first() if isinstance(slug, str) and len(slug) <= 80 else None
    if tenant is None:
        pk = Tenant.objects.filter(slug=str(slug)[:80]).values_list("pk", flat=True).first()
        audit.log_denied(
            Tenant,
            pk if pk is not None else str(slug),
            path=path,
            reason=f"tenant not visible or does not exist ({via})",
        )
        raise Http404("No such tenant.")
    return tenant


def tenant_summary(tenant: Tenant) -> dict:
    """The tenant's health now for the API: the worst latest SLI (else its stored health), its latest SLIs,
    the firing alerts (count capped) and the deployments of the last day."""
    now = timezone.now()
    slis = latest_slis(tenant)
    alerts = firing_alerts(tenant, limit=10)
    n_firing, capped = _capped(Alert.objects.filter(tenant=tenant, status=Alert.Status.FIRING))
    return {
        "health": worst_health(slis.values(), tenant.health),
        "slis": [
            {
                "name": s.name,
                "value": s.value,
                "objective": s.objective,
                "error_budget_remaining": s.error_budget_remaining,
                "health": s.health,
                "observed_at": s.observed_at,
            }
            for s in list(slis.values())[:MAX_SLIS]
        ],
        "firing_alerts": n_firing,
        "firing_alerts_capped": capped,
        "alerts": [
            {
                "name": a.name,
                "severity": a.severity,
                "resource": a.resource.external_id if a.resource else None,
                "starts_at": a.starts_at,
            }
            for a in alerts
        ],
        "deployments_last_day": len(recent_deployments(tenant, since=now - timedelta(days=1), limit=50)),
    }


def telemetry_slice(tenant: Tenant, *, since, until) -> dict:
    """The tenant's telemetry of [since, until] as evidence for a case (`--telemetry-since`): the SLI
    observations, the alerts active in the window (started in it, or started before and still firing or
    ended in it) and the deployments, each capped at 500 rows, newest first."""
    cap = 500
    slis = list(
        SLI.objects.filter(tenant=tenant, observed_at__gte=since, observed_at__lte=until)
        .select_related("resource")
        .order_by("-observed_at")[: cap + 1]
    )
    alerts = list(
        Alert.objects.filter(tenant=tenant, starts_at__lte=until)
        .filter(Q(ends_at__isnull=True, status=Alert.Status.FIRING) | Q(ends_at__gte=since) | Q(starts_at__gte=since))
        .select_related("resource")
        .order_by("-starts_at")[: cap + 1]
    )
    deployments = list(
        Deployment.objects.filter(tenant=tenant, deployed_at__gte=since, deployed_at__lte=until)
        .select_related("resource")
        .order_by("-deployed_at")[: cap + 1]
    )

    def ext(row):
        return row.resource.external_id if row.resource_id else None

    return {
        "tenant": tenant.slug,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "truncated": {"slis": len(slis) > cap, "alerts": len(alerts) > cap, "deployments": len(deployments) > cap},
        "slis": [
            {
                "name": s.name,
                "resource": ext(s),
                "value": s.value,
                "objective": s.objective,
                "error_budget_remaining": s.error_budget_remaining,
                "observed_at": s.observed_at.isoformat(),
            }
            for s in slis[:cap]
        ],
        "alerts": [
            {
                "name": a.name,
                "resource": ext(a),
                "severity": a.severity,
                "status": a.status,
                "summary": a.summary,
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat() if a.ends_at else None,
            }
            for a in alerts[:cap]
        ],
        "deployments": [
            {
                "resource": ext(d),
                "version": d.version,
                "description": d.description,
                "deployed_at": d.deployed_at.isoformat(),
            }
            for d in deployments[:cap]
        ],
    }


def requesters_in(tenant: Tenant) -> QuerySet[Requester]:
    return Requester.objects.filter(tenant=tenant)


def requester_by_email_or_id(tenant: Tenant, value) -> Requester | None:
    """The tenant's contact named by `value`: an id, or an e-mail address (case-insensitive)."""
    qs = requesters_in(tenant)
    if isinstance(value, int) and not isinstance(value, bool):
        return qs.filter(pk=value).first() if 0 < value < 2**63 else None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit() and len(text) <= 18:
            return qs.filter(pk=int(text)).first()
        return qs.filter(email__iexact=text).first()
    return None


def resources_by_external_id(tenant: Tenant, external_ids) -> tuple[list[Resource], list[str]]:
    """The tenant's resources named by `external_ids`, and the ids that name none."""
    wanted = list(dict.fromkeys(str(e) for e in external_ids))
    found = {r.external_id: r for r in Resource.objects.filter(tenant=tenant, external_id__in=wanted)}
    return [found[e] for e in wanted if e in found], [e for e in wanted if e not in found]


# --- freshness (issue 18, point 6) ----------------------------------------------------------------------


def stale_feeds(now=None) -> list[tuple[str, str, datetime]]:
    """Every (tenant slug, panel, newest item) whose telemetry is older than the panel's freshness
    target (settings.TELEMETRY_FRESHNESS_HOURS); a tenant that never sent that kind is not counted."""
    from django.conf import settings
    from django.db.models import Max

    now = now or timezone.now()
    kinds = {
        "health": (SLI, "observed_at"),
        "usage": (UsageMetric, "period_start"),
        "flags": (FeatureFlag, "observed_at"),
    }
    slugs = dict(Tenant.objects.values_list("pk", "slug"))
    stale = []
    for panel, (model, field_name) in kinds.items():
        hours = settings.TELEMETRY_FRESHNESS_HOURS.get(panel)
        if not hours:
            continue
        cutoff = now - timedelta(hours=hours)
        for row in model.objects.values("tenant_id").annotate(newest=Max(field_name)).filter(newest__lt=cutoff):
            stale.append((slugs.get(row["tenant_id"], str(row["tenant_id"])), panel, row["newest"]))
    return sorted(stale)
