"""A person creates an API token on the preferences page, sees it once, uses it, revokes it; the API
docs page renders from local assets under the console's CSP."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.api_support import API
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOT_DIR")


VIOLATIONS_JS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + e.lineNumber);
});
"""


def watch_csp(page):
    page.add_init_script(VIOLATIONS_JS)


def violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_create_use_and_revoke_a_token(page, agent, case_a):
    watch_csp(page)
    sign_in(page, "kari")
    page.goto("/accounts/preferences/")
    section = page.get_by_role("region", name="API tokens")
    section.get_by_label("Name").fill("laptop CLI")
    section.get_by_label("Read and write").check()
    section.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Token “laptop CLI” — copy it now")).to_be_visible()
    raw = page.locator("#new-api-token").input_value()
    assert raw.startswith("cop_")
    expect(section.get_by_role("cell", name="laptop CLI", exact=True)).to_be_visible()
    assert violations(page) == []
    if SHOTS:  # Playwright's screenshot styles the caret inline: a violation of its own, reported later
        page.screenshot(path=f"{SHOTS}/preferences-api-tokens.png", full_page=True)
    assert API(raw).get("/api/v1/cases/").status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    section.get_by_role("button", name="Revoke laptop CLI").click()
    expect(section.get_by_text("Revoked")).to_be_visible()
    expect(page.locator("#new-api-token")).to_have_count(0)
    assert API(raw).get("/api/v1/cases/").status_code == 401
    assert SHOTS or violations(page) == []


def test_the_api_docs_render_from_local_assets(page, live_server):
    watch_csp(page)
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto("/api/docs/")
    expect(page.get_by_text("CompanyOS Support Console API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/cases/").first).to_be_visible()
    assert [u for u in external if not u.startswith(("data:", "blob:"))] == []
    assert violations(page) == []
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/api-docs.png")
