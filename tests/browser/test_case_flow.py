"""A person's day, in Debian's Chromium: sign in, filter the queue, open a case, reply, wait on the
customer and back, resolve, and see it all in the audit tab."""

import re

import pytest
from playwright.sync_api import expect

from cases.choices import Priority, Status
from cases.models import Case
from tests.browser.conftest import send_reply, sign_in
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_works_a_case_end_to_end(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    hidden = TenantFactory(name="Hidden Co", slug="hidden")
    UserFactory(username="kari", role="agent", tenants=[acme])
    target = CaseFactory(
        tenant=acme,
        subject="All our API calls return 500 since 10:00 UTC",
        priority=Priority.CRITICAL,
        status=Status.IN_PROGRESS,
    )
    CaseFactory(tenant=acme, subject="How do I implement pagination correctly?", priority=Priority.LOW)
    CaseFactory(tenant=hidden, subject="Secret case of another tenant", priority=Priority.CRITICAL)

    sign_in(page, "kari")
    expect(page).to_have_url(re.compile(r"/cases/$"))
    results = page.locator("#queue-results")
    expect(results).to_contain_text("All our API calls return 500")
    expect(results).to_contain_text("pagination")
    expect(results).not_to_contain_text("Secret case")

    # Filter by priority through the chip menu: HTMX swaps the results and the URL keeps the filter.
    page.locator("details.chip", has_text="Priority").locator("summary").click()
    page.get_by_label("Critical").check()
    expect(results).not_to_contain_text("pagination")
    expect(page).to_have_url(re.compile(r"priority=critical"))
    expect(results).to_contain_text("All our API calls return 500")

    # Keyboard: j selects the first row, Enter opens it.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{target.key}/$"))

    # Reply to the customer.
    send_reply(page, "We are on it; next update within 30 minutes.")
    expect(page.locator("#timeline")).to_contain_text("next update within 30 minutes")

    # Wait on the customer, and back.
    page.get_by_text("Wait on customer…").click()
    page.get_by_label("Logs").check()
    page.get_by_role("button", name="Wait on customer", exact=True).click()
    expect(page.locator(".case-header")).to_contain_text("Waiting on customer")
    page.get_by_role("button", name="Resume work").click()
    expect(page.locator(".case-header")).to_contain_text("In progress")

    # Resolve: a critical case needs its resolution record (summary, evidence, preventive actions).
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#actions .error")).to_contain_text("write the resolution summary")
    page.get_by_label("Resolution summary").fill("Rolled back the faulty deploy")
    page.get_by_label("Evidence").fill("5xx rate back to 0 since 10:40")
    page.get_by_label("Preventive actions").fill("Canary checks on the gateway")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".case-header")).to_contain_text("Resolved")
    target.refresh_from_db()
    assert target.status == Status.RESOLVED and target.first_response_at is not None

    # The audit tab shows the changes and the views, newest first.
    page.get_by_role("link", name="Audit").click()
    audit = page.locator("#audit")
    expect(audit).to_contain_text("viewed the case")
    expect(audit).to_contain_text("changed status from In progress to Resolved")
    expect(audit).to_contain_text("Waiting on customer")
    first_row = audit.locator("tbody tr").first
    expect(first_row).to_contain_text("kari")

    # The other tenant's case is a 404 for this agent.
    other = Case.objects.get(subject="Secret case of another tenant")
    response = page.goto(f"/cases/{other.key}/")
    assert response.status == 404


def test_agent_sees_the_sla_badge_pause_while_waiting_on_the_customer(page):
    from cases import services

    acme = TenantFactory(name="Acme Corp", slug="acme")
    agent = UserFactory(username="kari", role="agent", tenants=[acme])
    from tests.factories import RequesterFactory

    case = services.case_create(
        actor=agent,
        tenant=acme,
        requester=RequesterFactory(tenant=acme),
        subject="Webhooks missing since 10:40",
        priority=Priority.HIGH,
    )
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=agent)
    services.case_reply(case_id=case.pk, actor=agent, body="Looking into it", public=True)

    sign_in(page, "kari")
    row = page.locator(f"[data-href='/cases/{case.key}/']")
    badge = row.locator(".sla")
    expect(badge).not_to_have_class(re.compile("sla-paused"))
    expect(badge).to_have_attribute("title", re.compile(r"due \d{4}-\d\d-\d\d"))

    page.goto(f"/cases/{case.key}/")
    resolution = page.locator("[data-clock='resolution']")
    expect(resolution).not_to_contain_text("paused")
    page.get_by_text("Wait on customer…").click()
    page.get_by_label("Logs").check()
    page.get_by_role("button", name="Wait on customer", exact=True).click()
    expect(page.locator(".case-header")).to_contain_text("Waiting on customer")
    expect(page.locator("[data-clock='resolution']")).to_contain_text("paused")
    expect(page.locator("#timeline")).to_contain_text("resolution clock paused (waiting on customer)")

    page.goto("/cases/")
    expect(page.locator(f"[data-href='/cases/{case.key}/'] .sla")).to_have_class(re.compile("sla-paused"))
    expect(page.locator(f"[data-href='/cases/{case.key}/'] .sla")).to_contain_text("paused")

    # And back: resuming restarts the clock, with the time already used kept.
    page.goto(f"/cases/{case.key}/")
    page.get_by_role("button", name="Resume work").click()
    expect(page.locator("[data-clock='resolution']")).to_contain_text("left")
    expect(page.locator("#timeline")).to_contain_text("resolution clock resumed")
