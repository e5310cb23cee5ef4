"""The knowledge side in Debian's Chromium: a case naming an error code shows the suggested macro
and runbook with their reasons; the agent previews and applies the macro from the keyboard palette's
suggestion, marks a runbook step executed, and sees both on the timeline."""

import os

import pytest
from django.apps import apps
from playwright.sync_api import expect

from cases.choices import Status
from runbooks import builtins
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("KNOWLEDGE_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_suggested_macro_preview_apply_and_a_runbook_step(page):
    builtins.install(lambda name: apps.get_model("runbooks", name))  # a transactional test starts empty
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", role="agent", tenants=[acme])
    case = CaseFactory(
        tenant=acme,
        requester=RequesterFactory(tenant=acme, name="Jo Doe"),
        subject="Login fails for all users",
        description="Every API call answers 401 with AUTH-401-EXPIRED since 09:00.",
        status=Status.IN_PROGRESS,
    )
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    card = page.locator("#knowledge-panel")
    macros = card.locator("[data-suggested-macros]")
    expect(macros.locator("li[data-macro='Authentication issue']")).to_contain_text("error code 401 in the description")
    runbooks = card.locator("[data-suggested-runbooks]")
    expect(runbooks).to_contain_text("Authentication failures (401/403) triage")
    expect(runbooks).to_contain_text("error code AUTH-401-EXPIRED in the description")
    _shot(page, "case-knowledge-card")

    # The palette: "m" focuses it; the suggestion opens the preview.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("m")
    expect(page.locator("#macro-palette")).to_be_focused()
    page.keyboard.press("Escape")
    macros.get_by_role("link", name="Authentication issue").click()
    preview = page.locator("[data-macro-preview]")
    expect(preview.locator("[data-preview-text]")).to_contain_text("Hi Jo Doe")
    expect(preview).to_contain_text("Link runbook auth-401-403-triage")
    _shot(page, "macro-preview")
    preview.get_by_role("button", name="Apply macro").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Macro “Authentication issue” applied")
    expect(timeline.locator(".msg-reply")).to_contain_text("Hi Jo Doe")
    steps = page.locator("[data-runbook-steps='auth-401-403-triage']")
    steps.get_by_role("button", name="Mark step 1 executed").click()
    expect(page.locator("#timeline")).to_contain_text("step 1 executed")
    expect(page.locator("[data-runbook-steps='auth-401-403-triage'] li.done")).to_have_count(1)
    _shot(page, "after-apply-and-step")


def test_the_library_searches_with_highlights(page):
    builtins.install(lambda name: apps.get_model("runbooks", name))
    UserFactory(username="kari", role="agent")
    sign_in(page, "kari")
    page.goto("/runbooks/")
    page.get_by_label("Search runbooks").fill("deployment")
    expect(page.locator("#runbook-results")).to_contain_text("1 runbook matching")
    expect(page.locator("#runbook-results mark").first).to_be_visible()
    assert "q=deployment" in page.url
    _shot(page, "runbook-library")
