"""Data freshness (issue 18, point 6): each telemetry kind has a freshness target; a stale panel says
so on the tenant console, the admins are told once, and /readyz and /metrics report it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from companyos.metrics import STALE_FEEDS_KEY
from tenants.selectors import stale_feeds
from tenants.tasks import telemetry_freshness_task
from tests.conftest import login
from tests.tenants.test_console import add_sli, panel_url, source  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.delete(STALE_FEEDS_KEY)
    yield
    cache.delete(STALE_FEEDS_KEY)


def test_a_panel_older_than_its_target_says_so(tenant_a, manager, source):  # noqa: F811
    add_sli(tenant_a, source, ago=60 * 30)  # 30 hours old: past the 24 h target
    body = login(manager).get(panel_url(tenant_a, "health"), HTTP_HX_REQUEST="true").content.decode()
    assert "stale data" in body
    add_sli(tenant_a, source, name="latency", ago=5)
    body = login(manager).get(panel_url(tenant_a, "health"), HTTP_HX_REQUEST="true").content.decode()
    assert "stale data" not in body  # the panel's newest item is fresh again


def test_the_alerts_panel_has_no_target(tenant_a, manager):
    body = login(manager).get(panel_url(tenant_a, "alerts"), HTTP_HX_REQUEST="true").content.decode()
    assert "stale data" not in body


def test_stale_feeds_are_found_reported_and_mailed_once(tenant_a, tenant_b, source, settings):  # noqa: F811
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.METRICS_TOKEN = "tok"
    add_sli(tenant_a, source, ago=60 * 30)
    add_sli(tenant_b, source, ago=10)
    assert [(slug, panel) for slug, panel, _ in stale_feeds()] == [(tenant_a.slug, "health")]
    assert telemetry_freshness_task() == 1
    assert len(mail.outbox) == 1 and tenant_a.slug in mail.outbox[0].body
    telemetry_freshness_task()
    assert len(mail.outbox) == 1  # once, not every hour
    assert Client().get("/readyz").json()["checks"]["telemetry"] == "1 stale tenant feed(s)"
    metrics = Client().get("/metrics", headers={"Authorization": "Bearer tok"}).content.decode()
    assert "companyos_telemetry_stale_feeds 1.0" in metrics
