"""The triage copilot in Debian's Chromium: a new case shows the proposals with their reasons and the
initial-assessment checklist; the agent accepts one and overrides another with a reason; the case's
timeline and the managers' acceptance report show both."""

import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("COPILOT_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
        if page.locator("#copilot-panel").count():
            page.locator("#copilot-panel").screenshot(path=os.path.join(SHOTS, f"{name}-card.png"))


def test_proposals_accept_override_and_the_report(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", role="agent", tenants=[acme])
    UserFactory(username="mona", role="manager")
    globex = TenantFactory(name="Globex", slug="globex")
    done = {"status": "resolved", "category": "performance", "priority": 2}
    past = [
        CaseFactory(tenant=acme, subject="API latency is 2x normal", **done),
        CaseFactory(tenant=acme, subject="API latency 3x normal since deploy", **{**done, "priority": 3}),
    ]
    theirs = CaseFactory(tenant=globex, subject="API latency is 3x normal", **done)
    case = CaseFactory(
        tenant=acme,
        requester=RequesterFactory(tenant=acme, name="Jo Doe"),
        subject="API latency is 3x normal",
        description="GET /v1/items went from 200 ms to 700 ms since 10:00 UTC in production.",
    )
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    panel = page.locator("#copilot-panel")
    severity = panel.locator("li.copilot-proposal[data-field='severity']")
    expect(severity).to_contain_text("High (P2)", timeout=20_000)
    expect(severity).to_contain_text("P2: performance degradation >50% from baseline")
    expect(panel.locator(".copilot-checklist")).to_contain_text("Is this a duplicate?")
    expect(panel.locator("[data-review]")).to_contain_text("All P1 and P2 tickets (proposed P2)")
    # the similar past cases behind the proposal: Acme's finished cases, never Globex's
    severity.locator("summary", has_text="Similar past cases (2)").click()
    similar = severity.locator("[data-similar]")
    for c in past:
        expect(similar.locator(f"[data-similar-case='{c.key}'] a")).to_have_attribute("href", c.get_absolute_url())
    expect(similar.locator(f"[data-similar-case='{past[1].key}']")).to_contain_text("P3")
    expect(similar).not_to_contain_text(theirs.key)
    _shot(page, "copilot-panel")

    severity.get_by_role("button", name="Accept Priority").click()
    expect(panel.locator("li[data-field='severity'] [data-decision='accepted']")).to_be_visible(timeout=20_000)

    category = panel.locator("li.copilot-proposal[data-field='category']")
    category.locator("summary", has_text="Override").click()
    category.get_by_label("Category value").fill("integration")
    category.get_by_label("Override reason for Category").fill("It is their SDK")
    category.get_by_role("button", name="Override").click()
    expect(panel.locator("li[data-field='category'] [data-decision='overridden']")).to_contain_text(
        "It is their SDK", timeout=20_000
    )
    _shot(page, "copilot-decided")

    page.reload()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Copilot proposal accepted: Priority P2")
    expect(timeline).to_contain_text("Copilot proposal overridden: Category")
    expect(timeline).to_contain_text("It is their SDK")

    page.context.clear_cookies()
    sign_in(page, "mona")
    page.goto("/runbooks/copilot/report/")
    fields = page.get_by_role("table", name="Acceptance by field")
    expect(fields.locator("tr[data-field='severity']")).to_contain_text("100%")
    expect(fields.locator("tr[data-field='category']")).to_contain_text("0%")
    rules = page.get_by_role("table", name="Acceptance by rule")
    expect(rules).to_contain_text("P2: performance degradation >50% from baseline")
    _shot(page, "copilot-report")
