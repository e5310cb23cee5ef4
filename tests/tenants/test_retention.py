"""Retention: the beat task purges telemetry older than TELEMETRY_RETENTION_DAYS, keeps what is still
the current state, records and logs each purge, and is harmless to run twice."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants import ingest
from tenants.models import (
    SLI,
    Alert,
    ConfigSnapshot,
    Deployment,
    Experiment,
    FeatureFlag,
    LogLine,
    ResourceDependency,
    TelemetryPurge,
    UsageMetric,
)
from tenants.tasks import purge_telemetry_task
from tests.factories import ResourceFactory

NOW = timezone.now()
OLD = NOW - timedelta(days=120)
OLDER = NOW - timedelta(days=150)
RECENT = NOW - timedelta(days=5)


@pytest.fixture
def integration(admin_user, tenant_a):
    return ingest.integration_create(name="Telemetry", actor=admin_user, tenant_ids=[tenant_a.pk])[0]


@pytest.fixture
def world(integration, tenant_a, tenant_b):
    """Old and recent rows of every kind, with the rows that must survive named."""
    n = iter(range(10_000))
    gw = ResourceFactory(tenant=tenant_a, external_id="api-gateway")
    db = ResourceFactory(tenant=tenant_a, external_id="orders-db")

    def item(model, tenant=tenant_a, **fields):
        return model.objects.create(tenant=tenant, integration=integration, source_id=f"s-{next(n)}", **fields)

    def sli(name, at, tenant=tenant_a):
        return item(
            SLI, tenant=tenant, name=name, objective=99.9, value=99.0, error_budget_remaining=10, observed_at=at
        )

    def alert(status, received):
        return item(Alert, name="HighErrorRate", status=status, starts_at=received, received_at=received)

    keep = {
        # availability: two old, one recent → both old go. latency: only old rows → the newest old one stays.
        "sli_recent": sli("availability", RECENT),
        "sli_latest_old": sli("latency", OLD),
        "sli_other_tenant": sli("latency", OLDER, tenant=tenant_b),
        "alert_firing_old": alert(Alert.Status.FIRING, OLDER),
        "alert_recent": alert(Alert.Status.RESOLVED, RECENT),
        "config_gw_latest": item(ConfigSnapshot, resource=gw, taken_at=OLD, data={"v": 2}),
        "config_db_latest": item(ConfigSnapshot, resource=db, taken_at=OLDER, data={"v": 1}),
        "config_tenant_wide": item(ConfigSnapshot, taken_at=OLDER, data={"plan": "x"}),
        "flag_latest": item(FeatureFlag, key="checkout", enabled=True, observed_at=OLD),
        "experiment_active": item(Experiment, key="pricing", status="active", started_at=OLDER, received_at=OLDER),
        "deploy_recent": item(Deployment, version="2", deployed_at=RECENT),
        "usage_recent": item(UsageMetric, metric="api_requests", value=1, period_start=RECENT),
        "edge_old": item(ResourceDependency, resource=gw, depends_on=db, received_at=OLDER),
        "log_recent": item(LogLine, resource=gw, logged_at=RECENT, message="GET /v2/orders 200"),
    }
    gone = {
        "sli_old_1": sli("availability", OLD),
        "sli_old_2": sli("availability", OLDER),
        "sli_older_latency": sli("latency", OLDER),
        "alert_resolved_old": alert(Alert.Status.RESOLVED, OLD),
        "config_gw_older": item(ConfigSnapshot, resource=gw, taken_at=OLDER, data={"v": 1}),
        "config_tenant_wide_older": item(ConfigSnapshot, taken_at=OLDER - timedelta(days=1), data={"plan": "y"}),
        "flag_older": item(FeatureFlag, key="checkout", enabled=False, observed_at=OLDER),
        "experiment_ended": item(
            Experiment, key="old-test", status="ended", started_at=OLDER, ended_at=OLD, received_at=OLD
        ),
        "deploy_old": item(Deployment, version="1", deployed_at=OLD),
        "usage_old": item(UsageMetric, metric="api_requests", value=1, period_start=OLD),
        "usage_old_2": item(UsageMetric, metric="api_requests", value=2, period_start=OLDER),
        "log_old": item(LogLine, resource=gw, logged_at=OLD, message="GET /v2/orders 503", level="error"),
    }
    return keep, gone


def exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


def test_purge_deletes_old_rows_and_keeps_the_current_state(world, settings):
    settings.TELEMETRY_RETENTION_DAYS = 90
    keep, gone = world
    purge = ingest.purge_telemetry(now=NOW)
    assert {name for name, obj in keep.items() if not exists(obj)} == set()
    assert {name for name, obj in gone.items() if exists(obj)} == set()
    assert purge.deleted == {
        "slis": 3,
        "alerts": 1,
        "deployments": 1,
        "feature_flags": 1,
        "config_snapshots": 2,
        "usage": 2,
        "experiments": 1,
        "logs": 1,
    }
    assert purge.cutoff == NOW - timedelta(days=90)
    assert TelemetryPurge.objects.get() == purge


def test_purge_is_logged(world, caplog):
    with caplog.at_level(logging.INFO, logger="tenants.retention"):
        purge = ingest.purge_telemetry(now=NOW)
    [record] = [r for r in caplog.records if r.name == "tenants.retention"]
    assert record.levelno == logging.INFO
    assert f"Telemetry purge {purge.pk}: deleted 12 rows" in record.getMessage()
    assert "slis 3" in record.getMessage()


def test_purge_twice_deletes_nothing_more(world):
    ingest.purge_telemetry(now=NOW)
    remaining = {
        m: m.objects.count() for m in (SLI, Alert, ConfigSnapshot, FeatureFlag, Experiment, Deployment, UsageMetric)
    }
    second = ingest.purge_telemetry(now=NOW)
    assert sum(second.deleted.values()) == 0
    assert {m: m.objects.count() for m in remaining} == remaining
    assert TelemetryPurge.objects.count() == 2


def test_small_batches_delete_everything_too(world):
    keep, gone = world
    purge = ingest.purge_telemetry(now=NOW, batch_size=1)
    assert sum(purge.deleted.values()) == len(gone)
    assert all(exists(obj) for obj in keep.values())


def test_window_is_configurable(world, settings):
    settings.TELEMETRY_RETENTION_DAYS = 200
    assert sum(ingest.purge_telemetry(now=NOW).deleted.values()) == 0
    settings.TELEMETRY_RETENTION_DAYS = 1
    keep, _ = world
    ingest.purge_telemetry(now=NOW)
    assert not exists(keep["deploy_recent"]) and not exists(keep["usage_recent"])
    assert exists(keep["alert_firing_old"]) and exists(keep["sli_recent"])


def test_beat_task_runs_the_purge(world, settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["telemetry-retention"]["task"]
        == purge_telemetry_task.name
        == "tenants.tasks.purge_telemetry_task"
    )
    pk = purge_telemetry_task.apply().get()
    purge = TelemetryPurge.objects.get(pk=pk)
    assert purge.deleted["slis"] == 3
