"""The admin's half of issue 3's browser test, in Debian's Chromium: open a policy, change a target,
watch the preview follow the unsaved form, save, and see the new version."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from cases.models import BusinessCalendar
from cases.sla import clocks
from companyos.models import Profile
from tests.browser.conftest import sign_in
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_previews_and_saves_a_policy(page):
    oslo = BusinessCalendar.objects.create(
        name="Browser office (Oslo)",
        timezone="Europe/Oslo",
        holiday_country="NO",
        weekly_hours={str(day): [["08:00", "16:00"]] for day in range(5)},
    )
    policy = clocks.load_preset(preset="seed-003", column="standard", name="Gold support", calendar=oslo)
    TenantFactory(name="Acme Corp", slug="acme", sla_policy=policy)
    admin = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    Profile.objects.create(user=admin, timezone="Europe/Oslo")

    sign_in(page, "root")
    page.get_by_role("link", name="SLA policies").click()
    expect(page.locator("#policies")).to_contain_text("Gold support")
    page.get_by_role("link", name="Edit Gold support").click()
    expect(page).to_have_url(re.compile(rf"/sla/policies/{policy.pk}/$"))
    expect(page.locator("h1")).to_contain_text("v1")

    # A critical case for Acme opened on a Friday at 15:00, Oslo time.
    page.get_by_label("Priority", exact=True).select_option("critical")
    page.get_by_label("Opened at").fill("2026-03-06T15:00")
    preview = page.locator("#policy-preview")
    first_response = preview.locator('[data-kind="first_response"]')
    expect(first_response).to_contain_text("Fri 6 Mar, 15:15 CET")
    expect(preview).to_contain_text("Saving this does not move running clocks")

    # Change the target: the preview follows the form before anything is saved.
    page.get_by_label("Critical first response: amount").fill("30")
    expect(first_response).to_contain_text("Fri 6 Mar, 15:30 CET")
    expect(first_response).to_contain_text("30 min business time")
    policy.refresh_from_db()
    assert policy.version == 1 and policy.target("critical", "first_response") == (timedelta(minutes=15), True)

    # An Easter case shows the holidays it skips.
    page.get_by_label("Opened at").fill("2026-04-01T15:00")
    expect(preview.locator('[data-kind="resolution"]')).to_contain_text("Easter Monday (2026-04-06) skipped")

    page.get_by_role("button", name="Save as v2").click()
    expect(page).to_have_url(re.compile(rf"/sla/policies/{policy.pk}/$"))
    expect(page.locator("#policy-version")).to_have_text("v2")
    expect(page.locator("#messages")).to_contain_text("Saved “Gold support” v2")
    expect(page.get_by_label("Critical first response: amount")).to_have_value("30")
    policy.refresh_from_db()
    assert policy.version == 2 and policy.target("critical", "first_response") == (timedelta(minutes=30), True)
