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
    # The preview is a server round trip; under CI's load (two workers, Chromium) it can take seconds.
    expect(preview.locator("[data-preview-text]")).to_contain_text("Hi Jo Doe", timeout=20_000)
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


def test_the_macro_action_builder(page):
    """Rows for actions: choose a type and see its fields, add, move and remove rows, a bad row's
    message on that row, then save and edit again with the rows in their new order."""
    builtins.install(lambda name: apps.get_model("runbooks", name))
    UserFactory(username="kari", role="agent")
    sign_in(page, "kari")
    page.goto("/runbooks/macros/")
    page.get_by_role("link", name="New macro").click()
    page.get_by_label("Name").fill("SSO lockout")
    page.get_by_label("Text", exact=True).fill("Hi {{ customer_name }}, we are on it ({{ case_key }}).")
    expect(page.get_by_role("button", name="Update rows")).to_be_hidden()  # JavaScript does it in the page

    rows = page.locator("[data-action-row]:visible")
    page.get_by_role("button", name="Add an action").click()
    first = rows.nth(0)
    expect(first.get_by_label("Action", exact=True)).to_be_focused()
    first.get_by_label("Action", exact=True).select_option(label="Set priority")
    expect(first.get_by_label("Priority")).to_be_visible()
    expect(first.get_by_label("Status")).to_be_hidden()
    first.get_by_label("Priority").select_option(label="High")

    page.get_by_role("button", name="Add an action").click()
    second = rows.nth(1)
    second.get_by_label("Action", exact=True).select_option(label="Add / remove tags")
    second.get_by_label("Add tags").fill("sso, auth")

    page.get_by_role("button", name="Add an action").click()
    third = rows.nth(2)
    third.get_by_label("Action", exact=True).select_option(label="Set status")
    third.get_by_label("Status").select_option(label="Waiting on customer")  # without "waiting for": refused

    page.get_by_role("button", name="Add an action").click()
    rows.nth(3).get_by_label("Action", exact=True).select_option(label="Add an internal note")
    rows.nth(3).get_by_label("Note").fill("remove me")
    page.get_by_role("button", name="Remove action 4").click()
    expect(rows).to_have_count(3)

    page.get_by_role("button", name="Move action 2 up").click()  # tags first, then priority
    expect(rows.nth(0).get_by_label("Add tags")).to_have_value("sso, auth")
    page.get_by_role("button", name="Save macro").click()

    # Refused on the server: the message is on the status row, what was typed is kept.
    bad = page.locator("fieldset.action-row.has-errors")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("say what the case waits for")
    expect(bad.get_by_label("Waiting for")).to_be_visible()
    _shot(page, "macro-builder-errors")
    bad.get_by_label("Waiting for").select_option(label="Logs")
    page.get_by_role("button", name="Save macro").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("Saved macro “SSO lockout” (3 action(s))")
    expect(page.get_by_role("row", name="SSO lockout")).to_contain_text(
        "tags, priority → high, status → waiting_on_customer"
    )

    page.get_by_role("link", name="Edit SSO lockout").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(0).get_by_label("Action", exact=True)).to_have_value("tags")
    expect(rows.nth(2).get_by_label("Waiting for")).to_have_value("logs")
    _shot(page, "macro-builder")


def test_an_editor_writes_an_article_with_a_live_preview(page):
    builtins.install(lambda name: apps.get_model("runbooks", name))
    UserFactory(username="sen", role="senior agent")
    sign_in(page, "sen")
    page.goto("/runbooks/kb/")
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("SSO lockouts")
    page.get_by_label("Category").select_option(label="Security")
    page.get_by_label("Body").fill("## Unlock\n\n1. Open **Settings**\n\n<script>alert(1)</script>")
    preview = page.locator("#md-preview")
    expect(preview.locator("h2", has_text="Unlock")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("Settings")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    _shot(page, "article-editor")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("SSO lockouts")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("This cannot be undone")
    page.get_by_role("button", name="Delete article").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("Deleted “SSO lockouts”")
