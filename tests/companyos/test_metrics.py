"""/healthz, /readyz and /metrics (issue 18, point 8), and the alerting rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from companyos import metrics

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_healthz_is_up_without_touching_the_database():
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"} and not ctx.captured_queries


def test_readyz_says_what_is_not_ready(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(metrics.BEAT_KEY)
    response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["cache"] == "ok" and checks["migrations"] == "ok"
    assert checks["beat"].startswith("not seen")
    metrics.beat_heartbeat()
    assert Client().get("/readyz").status_code == 200
    cache.set(metrics.BEAT_KEY, time.time() - 600, None)  # beat stopped ten minutes ago
    response = Client().get("/readyz")
    assert response.status_code == 503 and "more than 60 s" in response.json()["checks"]["beat"]
    cache.delete(metrics.BEAT_KEY)


def test_readyz_reports_pending_migrations(monkeypatch):
    monkeypatch.setattr(metrics, "_migrated", False)

    class Pending:
        def __init__(self, conn):
            self.loader = type("L", (), {"graph": type("G", (), {"leaf_nodes": lambda self: []})()})()

        def migration_plan(self, targets):
            return [("cases", "9999_future")]

    monkeypatch.setattr("django.db.migrations.executor.MigrationExecutor", Pending)
    response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["migrations"].startswith("pending")


def test_metrics_needs_its_token_and_reports_requests_and_gauges(settings, agent, case_a):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404  # off without a token
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    from tests.conftest import login

    login(agent).get("/cases/")
    response = Client().get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'companyos_request_seconds_bucket{le="0.3",method="GET",view="cases:list"}' in text
    assert 'companyos_responses_total{status="2xx",view="cases:list"}' in text
    assert "companyos_sla_sweep_lag_seconds" in text and "companyos_reply_backlog" in text
    assert "/cases/" not in text  # views by route name, never raw paths


def test_the_sweep_lag_is_how_late_the_oldest_due_unflagged_clock_is(case_a):
    from datetime import timedelta

    from django.utils import timezone

    from cases.metrics import sweep_lag
    from cases.models import SLAClock

    assert sweep_lag() == 0.0
    now = timezone.now()
    SLAClock.objects.create(
        case=case_a,
        kind="resolution",
        window=1,
        state="running",
        business=False,
        target=timedelta(hours=1),
        started_at=now - timedelta(hours=2),
        segment_started_at=now - timedelta(hours=2),
        due_at=now - timedelta(minutes=7),
    )
    assert 7 * 60 - 5 <= sweep_lag() <= 7 * 60 + 30


def test_the_alerting_rules_carry_seed_001s_thresholds():
    rules = {
        r["alert"]: r for g in yaml.safe_load((ROOT / "deploy/alerts.yml").read_text())["groups"] for r in g["rules"]
    }
    assert (
        "> 0.5" in rules["ResponseTimeP99High"]["expr"]
        and rules["ResponseTimeP99High"]["labels"]["severity"] == "medium"
    )
    assert "> 0.01" in rules["ErrorRateHigh"]["expr"] and rules["ErrorRateHigh"]["labels"]["severity"] == "high"
    assert "> 0.10" in rules["RateLimitingHigh"]["expr"] and rules["RateLimitingHigh"]["labels"]["severity"] == "low"
    assert "> 0.9" in rules["DatabaseConnectionsHigh"]["expr"]
    assert "> 300" in rules["SlaSweepLagging"]["expr"]
