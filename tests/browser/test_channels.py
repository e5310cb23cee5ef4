"""Issue 11's phone and channel-SLA pages in Debian's Chromium: an agent logs a call on a phone case
from its Phone card, answers it publicly and marks the callback done; an admin sets a Slack
first-response target and the preview follows it. Screenshots go to $SCREENSHOT_DIR when set."""

import os
import re

import pytest
from playwright.sync_api import expect

from cases import services
from cases.choices import Priority
from cases.sla import clocks
from companyos.models import Profile
from tests.browser.conftest import send_reply, sign_in
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_agent_logs_a_call_and_works_the_callback(page):
    tenant = TenantFactory(name="Globex", slug="globex", entitlements={"phone_support": False})
    agent = UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[tenant])
    Profile.objects.create(user=agent, timezone="Europe/Oslo")
    case = services.case_create(
        actor=agent,
        tenant=tenant,
        requester=RequesterFactory(tenant=tenant, name="Jane Doe"),
        subject="Checkout returns 502",
        priority=Priority.HIGH,
        channel="phone",
    )

    sign_in(page, "kari")
    page.goto(case.get_absolute_url())
    card = page.locator("#phone-card")
    expect(card).to_contain_text("Phone support is not in Globex's plan")
    expect(card).to_contain_text("phone support is for critical issues only — this case is High")
    card.get_by_label("Customer called us").check()
    card.get_by_label("Duration (minutes)").fill("9")
    card.get_by_label("Summary").fill("Jane says every checkout fails with 502 since the 10:00 deploy.")
    card.get_by_role("button", name="Log call").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("phone call · customer called · 9 min")
    expect(timeline).to_contain_text("⚠ phone support is not included in the tenant's plan")
    expect(page.locator("#messages")).to_contain_text("Call logged. Recorded on the case")

    send_reply(page, "We rolled the deploy back; checkout works again.")
    expect(timeline).to_contain_text("We rolled the deploy back")
    page.reload()
    callback = page.locator("#phone-card .callback")
    expect(callback).to_contain_text("Call Jane Doe back")
    shot(page, "case-phone-card")
    callback.get_by_role("button", name="Mark done").click()
    expect(page.locator("#phone-card")).to_contain_text("Callback marked done.")
    expect(page.locator("#phone-card .callback")).to_contain_text("Called back · kari")

    page.goto("/cases/new/call/")
    expect(page.locator("h1")).to_have_text("New case from a phone call")
    shot(page, "phone-case-form")


def test_admin_sets_a_slack_first_response_target(page):
    policy = clocks.load_preset(preset="seed-001", column="channels", name="Channel SLAs")
    TenantFactory(name="Acme Corp", slug="acme", sla_policy=policy)
    admin = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    Profile.objects.create(user=admin, timezone="UTC")

    sign_in(page, "root")
    page.goto(f"/sla/policies/{policy.pk}/")
    grid = page.locator(".channel-grid")
    expect(grid.locator('[data-cell="slack-high"] input.amount')).to_have_value("1")
    # Seed 001 has no resolution targets and a policy needs them: the admin adds 8 h, 24×7.
    for priority in ("Critical", "High", "Medium", "Low"):
        page.get_by_label(f"{priority} resolution: amount").fill("8")
        page.get_by_label(f"{priority} resolution: business time").uncheck()
    page.get_by_label("Priority", exact=True).select_option("high")
    page.get_by_label("Channel", exact=True).select_option("slack")
    page.get_by_label("Opened at").fill("2026-03-04T10:00")
    preview = page.locator('#policy-preview [data-kind="first_response"]')
    expect(preview).to_contain_text("11:00")
    expect(preview).to_contain_text("(Slack target)")

    grid.get_by_label("Slack target for high: amount").fill("30")
    grid.get_by_label("Slack target for high: unit").select_option("minutes")
    expect(preview).to_contain_text("10:30")
    shot(page, "sla-policy-channel-targets")
    page.get_by_label("Channel", exact=True).select_option("email")
    expect(preview).to_contain_text("12:00")
    expect(page.locator("#moved-clocks")).to_contain_text(re.compile(r"\d+ running clock"))
