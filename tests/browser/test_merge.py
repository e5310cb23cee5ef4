"""Merging a duplicate from the case page, in Debian's Chromium (issue 9, point 20)."""

import re

import pytest
from playwright.sync_api import expect

from cases.choices import Status
from cases.models import Case, Interaction
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, InteractionFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_merges_a_duplicate_into_the_case_that_survives(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", role="agent", tenants=[acme])
    survivor = CaseFactory(tenant=acme, subject="Webhooks are not retried", status=Status.IN_PROGRESS)
    duplicate = CaseFactory(
        tenant=acme, subject="Webhook deliveries lost", requester=RequesterFactory(tenant=acme, name="Bo Li")
    )
    InteractionFactory(
        case=duplicate,
        kind=Interaction.Kind.INBOUND,
        public=True,
        body="We lost 40 deliveries",
        requester=duplicate.requester,
    )

    sign_in(page, "kari")
    page.goto(duplicate.get_absolute_url())
    page.get_by_text("Merge into…").click()
    page.get_by_label(f"Merge {duplicate.key} into").fill(str(survivor.pk))
    page.get_by_role("button", name="Review the merge").click()
    dialog = page.locator("#merge-confirm")
    expect(page.locator("details.inline-menu", has_text="Merge into…")).not_to_have_attribute("open", "")
    expect(dialog).to_contain_text(f"Merge {duplicate.key} into {survivor.key}?")
    expect(dialog).to_contain_text("Webhooks are not retried")
    page.screenshot(path="/tmp/merge-confirm.png", full_page=False)
    assert Case.objects.get(pk=duplicate.pk).duplicate_of_id is None  # a review, nothing changed yet

    dialog.get_by_label("Public note to Bo Li (optional)").fill("We track this in the other case.")
    page.get_by_role("button", name=f"Merge and close {duplicate.key}").click()
    expect(page).to_have_url(re.compile(rf"/cases/{survivor.key}/$"))
    expect(page.locator("[data-merged-here]")).to_contain_text(duplicate.key)
    expect(page.locator("[data-merged-here]")).to_contain_text("Bo Li")
    expect(page.locator("#timeline")).to_contain_text("We lost 40 deliveries")
    expect(page.locator("#timeline [data-merged-from]")).to_have_text(f"merged from {duplicate.key}")
    page.screenshot(path="/tmp/merge-survivor.png", full_page=False)

    page.locator("[data-merged-here] a", has_text=duplicate.key).click()
    expect(page.locator("[data-merged-into]")).to_contain_text(survivor.key)
    expect(page.locator(".case-header")).to_contain_text("Closed")
    expect(page.locator("#timeline")).to_contain_text("We track this in the other case.")
