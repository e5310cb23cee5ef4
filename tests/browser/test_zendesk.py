"""The Zendesk sync in Debian's Chromium: an admin maps a status and saves; an agent pushes a case
to Zendesk and sees its ticket; a change stuck while Zendesk is away shows a red badge on the case
and a row on the sync page, which the admin retries once Zendesk is back."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.channels.zendesk.models import ZendeskChange, ZendeskLink, ZendeskMapping
from cases.channels.zendesk.relay import relay
from demo.zendesk_fake import FakeZendesk
from tests.browser.conftest import sign_in
from tests.cases.channels.zendesk_helpers import configure
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("ZENDESK_SCREENSHOTS", "")


@pytest.fixture
def zendesk(httpserver, settings):
    return configure(httpserver, FakeZendesk(), settings)


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_admin_maps_a_status(page, zendesk):
    UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    sign_in(page, "root")
    page.get_by_role("link", name="Zendesk sync").click()
    expect(page.locator("h1")).to_have_text("Zendesk sync")
    page.get_by_role("link", name="Field mapping").click()
    expect(page.locator(".zd-connection")).to_contain_text("Connected")
    page.locator("#id_status_out__new").select_option("open")
    page.get_by_label("Category").fill("360001")
    shot(page, "zendesk-mapping")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("status")).to_contain_text("Mapping saved")
    row = ZendeskMapping.objects.get(pk=1)
    assert row.status_out["new"] == "open" and row.custom_fields == {"category": 360001}


def test_agent_pushes_a_case_and_a_stuck_change_shows_red(page, zendesk):
    tenant = TenantFactory(name="Acme Corp", slug="acme")
    agent = UserFactory(username="kari", role="agent", tenants=[tenant])
    UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    case = CaseFactory(tenant=tenant, subject="Checkout returns 500")
    sign_in(page, "kari")
    page.goto(case.get_absolute_url())
    page.get_by_role("button", name="Push to Zendesk").click()
    expect(page.locator("#zendesk-sync")).to_contain_text("creating ticket")
    relay()
    ticket = ZendeskLink.objects.get(case=case).ticket_id
    page.reload()
    expect(page.locator("#zendesk-sync")).to_contain_text(f"Zendesk #{ticket}")

    zendesk.httpserver.stop()  # Zendesk goes away; the agent replies; an hour passes
    services.case_reply(case_id=case.pk, actor=agent, body="We are looking into it", public=True)
    relay()
    ZendeskChange.objects.filter(kind="comment").update(created_at=timezone.now() - timedelta(hours=1))
    page.reload()
    expect(page.locator("#zendesk-sync .zd-dead")).to_contain_text("Zendesk sync stuck: 1 change waiting")
    shot(page, "zendesk-case-badge")

    zendesk.httpserver.start()
    page.context.clear_cookies()
    sign_in(page, "root")
    page.goto("/zendesk/changes/")
    expect(page.locator("#results")).to_contain_text(case.key)
    shot(page, "zendesk-changes")
    page.get_by_role("button", name="Retry change").first.click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
    relay()
    assert zendesk.public_comments(ticket)[-1] == "We are looking into it"
    page.goto(case.get_absolute_url())
    expect(page.locator("#zendesk-sync")).not_to_contain_text("stuck")
