"""Demo telemetry, so a newcomer's tenant consoles have something to show: two weeks of SLIs (one
tenant burning its error budget), alerts (some firing), deployments, feature flags, two config
snapshots per resource (so the diff shows), daily usage, experiments, dependency edges, a shared
resource and incidents. Idempotent: it does nothing once the demo integration has data."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tenants.ingest import integration_mark_used
from tenants.models import (
    SLI,
    Alert,
    ConfigSnapshot,
    Deployment,
    Experiment,
    FeatureFlag,
    Integration,
    Resource,
    ResourceDependency,
    Tenant,
    UsageMetric,
)

DEMO_INTEGRATION = "demo-monitoring"
TROUBLED = "globex"  # the tenant whose API is burning its error budget right now


@transaction.atomic
def build_demo_telemetry(*, out=lambda msg: None, seed: int = 5) -> bool:
    existing = Integration.objects.filter(name=DEMO_INTEGRATION).first()
    if existing is not None:
        if existing.last_used_at is None:  # a demo database loaded before the loader recorded its use
            latest = SLI.objects.filter(integration=existing).aggregate(at=Max("received_at"))["at"]
            if latest is not None:
                integration_mark_used(integration_id=existing.pk, at=latest)
        return False
    raw, prefix, digest = Integration.new_token()
    integration = Integration.objects.create(name=DEMO_INTEGRATION, token_prefix=prefix, token_hash=digest)
    integration.tenants.set(Tenant.objects.all())  # the demo's monitoring watches every demo tenant
    rng = random.Random(seed)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows: dict[type, list] = {
        m: [] for m in (SLI, Alert, Deployment, FeatureFlag, ConfigSnapshot, UsageMetric, Experiment)
    }
    shared = None
    for tenant in Tenant.objects.order_by("pk"):
        resources = list(tenant.resources.order_by("pk"))
        troubled = tenant.slug == TROUBLED
        common = dict(tenant=tenant, integration=integration)
        # A shared database cluster that several tenants' services depend on (blast radius).
        if tenant.segment in ("enterprise", "mid_market") and tenant.region.startswith("us"):
            shared = shared or "postgres-shared-us-1"
            db, _ = Resource.objects.get_or_create(
                tenant=tenant,
                external_id=shared,
                defaults={
                    "kind": "postgres",
                    "region": tenant.region,
                    "version": "15.6",
                    "health": "red" if troubled else "green",
                },
            )
            for resource in resources[:2]:
                ResourceDependency.objects.get_or_create(
                    resource=resource, depends_on=db, defaults={**common, "source_id": f"dep-{resource.pk}-{db.pk}"}
                )
        if len(resources) >= 2:
            ResourceDependency.objects.get_or_create(
                resource=resources[0],
                depends_on=resources[1],
                defaults={**common, "source_id": f"dep-{resources[0].pk}-{resources[1].pk}"},
            )
        for name, objective in (("availability", 99.9), ("latency_p95_under_300ms", 99.0)):
            budget = 100.0
            for hours_ago in range(14 * 24, -1, -6):
                at = now - timedelta(hours=hours_ago)
                burn = rng.uniform(0.0, 1.2) + (6.0 if troubled and hours_ago < 48 else 0.0)
                budget = round(budget - burn, 2)
                value = round(
                    objective
                    + rng.uniform(0.01, 0.08)
                    - (0.6 if troubled and hours_ago < 48 and name == "availability" else 0),
                    3,
                )
                rows[SLI].append(
                    SLI(
                        **common,
                        source_id=f"{tenant.slug}-{name}-{hours_ago}",
                        name=name,
                        objective=objective,
                        value=value,
                        error_budget_remaining=budget,
                        observed_at=at,
                        resource=resources[0] if resources else None,
                    )
                )
        for i, resource in enumerate(resources):
            for n, days_ago in enumerate((12, 5, 1)):
                rows[Deployment].append(
                    Deployment(
                        **common,
                        source_id=f"{resource.pk}-deploy-{n}",
                        resource=resource,
                        version=f"2026.11.{20 - days_ago}",
                        description=f"Release {resource.kind} {n + 1}",
                        deployed_at=now - timedelta(days=days_ago, hours=i),
                    )
                )
            base = {"replicas": 3, "timeout_ms": 30000, "rate_limit": {"per_minute": 600, "burst": 100}, "tls": "1.2"}
            newer = {
                **base,
                "timeout_ms": 10000 if troubled else 30000,
                "rate_limit": {"per_minute": 1200, "burst": 100},
                "tls": "1.3",
            }
            rows[ConfigSnapshot].append(
                ConfigSnapshot(
                    **common,
                    source_id=f"{resource.pk}-cfg-1",
                    resource=resource,
                    taken_at=now - timedelta(days=6),
                    data=base,
                )
            )
            rows[ConfigSnapshot].append(
                ConfigSnapshot(
                    **common,
                    source_id=f"{resource.pk}-cfg-2",
                    resource=resource,
                    taken_at=now - timedelta(hours=3),
                    data=newer,
                )
            )
        if troubled and resources:
            rows[Alert].append(
                Alert(
                    **common,
                    source_id="globex-5xx",
                    resource=resources[0],
                    name="HighErrorRate",
                    severity="critical",
                    status=Alert.Status.FIRING,
                    summary="5xx above 5% for 10 minutes",
                    fingerprint="a1b2c3",
                    labels={"alertname": "HighErrorRate", "tenant": tenant.slug, "service": resources[0].external_id},
                    starts_at=now - timedelta(minutes=40),
                )
            )
            rows[Alert].append(
                Alert(
                    **common,
                    source_id="globex-budget",
                    name="ErrorBudgetBurn",
                    severity="warning",
                    status=Alert.Status.FIRING,
                    summary="availability budget burning 14x",
                    fingerprint="d4e5f6",
                    starts_at=now - timedelta(hours=2),
                )
            )
        rows[Alert].append(
            Alert(
                **common,
                source_id=f"{tenant.slug}-disk",
                resource=resources[-1] if resources else None,
                name="DiskUsageHigh",
                severity="warning",
                status=Alert.Status.RESOLVED,
                summary="disk above 85%",
                fingerprint=f"{tenant.pk}ff",
                starts_at=now - timedelta(days=3),
                ends_at=now - timedelta(days=3, hours=-2),
            )
        )
        for key, enabled in (
            ("new-ingest-pipeline", troubled or rng.random() < 0.5),
            ("webhook-retries-v2", True),
            ("dark-mode", False),
        ):
            rows[FeatureFlag].append(
                FeatureFlag(
                    **common,
                    source_id=f"{tenant.slug}-{key}",
                    key=key,
                    enabled=enabled,
                    variant="on" if enabled else "off",
                    observed_at=now - timedelta(hours=rng.randint(1, 72)),
                )
            )
        for metric, level in (("api_requests", 250_000), ("active_users", 400)):
            for day in range(30, -1, -1):
                value = level * (1 + 0.3 * rng.random()) * (1.4 if troubled and day < 2 else 1)
                rows[UsageMetric].append(
                    UsageMetric(
                        **common,
                        source_id=f"{tenant.slug}-{metric}-{day}",
                        metric=metric,
                        value=round(value),
                        period_start=now.replace(hour=0) - timedelta(days=day),
                    )
                )
        rows[Experiment].append(
            Experiment(
                **common,
                source_id=f"{tenant.slug}-exp-1",
                key="smart-batching",
                status="active",
                variant=rng.choice(["control", "treatment"]),
                started_at=now - timedelta(days=9),
            )
        )
    for model, objects in rows.items():
        model.objects.bulk_create(objects, batch_size=2000)
    # The rows stand for what the integration sent: its "Last used" says so (the API records a use
    # the same way when a token authenticates).
    sent = [item.received_at for objects in rows.values() for item in objects]
    if sent:
        integration_mark_used(integration_id=integration.pk, at=max(sent))
    _demo_incidents()
    out(
        f"Demo telemetry: {sum(len(v) for v in rows.values()):,} rows from integration “{DEMO_INTEGRATION}” "
        f"(token {prefix}…, not kept)."
    )
    return True


def _demo_incidents() -> None:
    """The demo incidents live in demo.incidents (built through the incident services)."""
    from demo.incidents import build_demo_incidents

    build_demo_incidents(out=lambda *_: None)
