"""The tenant console in Debian's Chromium: from the tenant list to a tenant's console, see a firing
alert in the lazily loaded Alerts panel, refresh it, and open a case from the Cases panel."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.choices import Priority, Status
from tenants.models import SLI, Alert, Integration
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, ResourceFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_sees_a_firing_alert_and_opens_a_case_from_the_console(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    TenantFactory(name="Hidden Co", slug="hidden")
    UserFactory(username="kari", role="agent", tenants=[acme])
    monitoring = Integration.objects.create(name="alertmanager", token_prefix="x", token_hash="browser-console")
    api = ResourceFactory(tenant=acme, external_id="orders-api")
    now = timezone.now()
    Alert.objects.create(
        tenant=acme,
        integration=monitoring,
        source_id="fp-1",
        name="HighErrorRate",
        severity="critical",
        status=Alert.Status.FIRING,
        summary="5xx above 5% on orders-api",
        starts_at=now - timedelta(minutes=12),
        resource=api,
    )
    Alert.objects.create(
        tenant=acme,
        integration=monitoring,
        source_id="fp-2",
        name="DiskAlmostFull",
        severity="warning",
        status=Alert.Status.RESOLVED,
        starts_at=now - timedelta(minutes=2),
        ends_at=now - timedelta(minutes=1),
    )
    SLI.objects.create(
        tenant=acme,
        integration=monitoring,
        source_id="sli-1",
        name="availability",
        objective=99.9,
        value=99.2,
        error_budget_remaining=-4,
        observed_at=now,
    )
    case = CaseFactory(
        tenant=acme, subject="All our API calls return 500", priority=Priority.CRITICAL, status=Status.IN_PROGRESS
    )

    sign_in(page, "kari")
    page.get_by_role("link", name="Tenants").click()
    expect(page).to_have_url(re.compile(r"/tenants/$"))
    results = page.locator("#tenant-results")
    expect(results).to_contain_text("Acme Corp")
    expect(results).not_to_contain_text("Hidden Co")
    expect(results.locator("[data-tenant='acme'] [data-health]")).to_have_text(re.compile("Unhealthy"))
    results.get_by_role("link", name="Acme Corp").click()
    expect(page).to_have_url(re.compile(r"/tenants/acme/$"))

    # The Alerts panel loads by itself; the firing alert comes first.
    alerts = page.locator("#panel-alerts")
    expect(alerts.locator(".alert-list li").first).to_contain_text("HighErrorRate")
    expect(alerts.locator(".alert-list li").first).to_contain_text("Firing")
    expect(alerts).to_contain_text("1 firing")
    expect(alerts).to_contain_text("updated just now")
    expect(page.locator("#panel-health")).to_contain_text("Unhealthy")

    # Refresh swaps in the panel again (and does not leave the page).
    Alert.objects.create(
        tenant=acme,
        integration=monitoring,
        source_id="fp-3",
        name="QueueBacklog",
        severity="warning",
        status=Alert.Status.FIRING,
        starts_at=timezone.now(),
    )
    alerts.get_by_role("link", name="Refresh alerts").click()
    expect(page.locator("#panel-alerts")).to_contain_text("QueueBacklog")
    expect(page.locator("#panel-alerts")).to_contain_text("2 firing")
    expect(page).to_have_url(re.compile(r"/tenants/acme/$"))

    # The Cases panel shows the queue's own results; a case key opens the case.
    cases = page.locator("#panel-cases")
    expect(cases.locator("#queue-results")).to_contain_text("All our API calls return 500")
    cases.get_by_role("link", name=case.key).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.key}/$"))
    expect(page.locator(".case-header")).to_contain_text("All our API calls return 500")

    # Another tenant's console is a 404 for this agent.
    assert page.goto("/tenants/hidden/").status == 404
