"""Issue 9, findings 5, 22 and 24 in Debian's Chromium: the styled error pages (a forbidden case with
DEBUG on, as in the demo; a manager on the SLA admin), the SLA dashboard's heat map, a breach count
that opens the queue at those cases and the paged breach list, and the Integrations nav item."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.choices import Status
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_forbidden_case_and_admin_page_show_the_consoles_error_pages(page, settings):
    settings.DEBUG = True  # the demo's setting: no Django debug page for a 404
    acme, globex = TenantFactory(name="Acme Corp", slug="acme"), TenantFactory(name="Globex", slug="globex")
    UserFactory(username="kari", role="agent", tenants=[acme])
    UserFactory(username="mona", role="manager")
    hidden = CaseFactory(tenant=globex, subject="Globex secret")

    sign_in(page, "kari")
    page.goto(f"/cases/{hidden.key}/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="Queue")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Using the URLconf")
    expect(page.locator("body")).not_to_contain_text("Globex secret")
    page.get_by_role("button", name="Back to the previous page").click()  # history: the queue
    expect(page).to_have_url(re.compile(r"/cases/$"))
    page.goto(f"/cases/{hidden.key}/")
    page.get_by_role("link", name="Go to the queue").click()
    expect(page).to_have_url(re.compile(r"/cases/$"))

    page.context.clear_cookies()  # sign out
    sign_in(page, "mona")
    page.goto("/sla/policies/")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
    expect(page.locator(".error-detail")).to_have_text("SLA configuration is for admins.")
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="SLA")).to_be_visible()


def test_dashboard_heat_map_breach_link_and_paging(page):
    bank = TenantFactory(name="Big Bank", slug="bigbank", segment="enterprise")
    UserFactory(username="mona", role="manager")
    now = timezone.now()
    for i in range(53):
        CaseFactory(tenant=bank, status=Status.NEW, subject=f"Late {i}", sla_due_at=now - timedelta(minutes=i + 1))
    sign_in(page, "mona")
    page.goto("/sla/")
    expect(page.locator("#sla-breaches")).to_contain_text("53 breached, 0 at risk; 1–50 of 53 shown")
    page.locator("#sla-breaches").get_by_role("link", name="Next ›").click()
    expect(page.locator("#sla-breaches")).to_contain_text("51–53 of 53 shown")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#sla-breaches tbody tr")).to_have_count(3)

    page.locator('[data-queue-link="breached"]').first.click()
    expect(page).to_have_url(re.compile(r"/cases/\?sla=breached"))
    expect(page.locator("#queue-count")).to_have_text("53 cases")  # the dashboard said 53 breached


def test_integrations_page_highlights_its_own_nav_item(page):
    UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    sign_in(page, "root")
    page.goto("/tenants/integrations/")
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Integrations")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Tenants")).not_to_have_attribute("aria-current", "page")
