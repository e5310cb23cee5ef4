"""The in-app help widget in Debian's Chromium: a product page on another origin (a tiny HTTP server on
127.0.0.1, under a strict CSP of its own) embeds widget.js; the visitor files a case from the panel
with the page's error ids (one added later by the page's script, through postMessage); the case is in
the agent's queue with its error ids; the agent's public reply shows in the panel through the signed
follow-replies link. A forged context is refused inside the frame."""

from __future__ import annotations

import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from cases.models import Case
from tenants import ingest
from tenants import services as tenant_services
from tenants.widget import sign_context
from tests.browser.conftest import send_reply, sign_in
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOT_DIR")

VIOLATIONS_JS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + e.lineNumber);
});
"""

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Reports</title></head>
<body><h1>Acme Reports</h1><p>Export failed: ERR-EXPORT-17</p>
<script src="{console}/static/widget/widget.js" data-tenant-context="{context}" data-app-version="4.2.1"
        data-error-ids="ERR-EXPORT-17" data-trace-links="https://traces.acme.example/t/4bf92f" defer></script>
</body></html>"""


class HostPage:
    """The product's page, served on 127.0.0.1 (a port of its own: another origin than the console's)."""

    def __init__(self):
        self.html = ""
        self.policy = ""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = host.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", host.policy)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, *, console: str, context: str):
        self.html = HOST_PAGE.format(console=console, context=context)
        # The product's own strict policy: the widget works under it (no inline style or script).
        self.policy = f"default-src 'none'; script-src {console}; frame-src {console}; style-src 'none'"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host():
    page = HostPage()
    yield page
    page.close()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/widget-{name}.png", full_page=True)


def test_a_host_page_files_a_case_that_reaches_the_queue_and_follows_the_reply(browser, page, live_server, host):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", first_name="Kari", role="agent", tenants=[acme])
    admin = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    integration, _ = ingest.integration_create(name="Acme app", actor=admin, tenant_ids=[acme.pk])
    console = live_server.url
    assert console != host.origin

    # The admin turns the widget on for the product's origin and copies the key id and the secret.
    admin_page = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=console).new_page()
    sign_in(admin_page, "root")
    admin_page.goto(f"/tenants/integrations/{integration.pk}/")
    widget_section = admin_page.get_by_role("region", name="In-app help widget")
    widget_section.get_by_label("Page origins that may embed the panel").fill(host.origin)
    widget_section.get_by_role("button", name="Turn on and show secret").click()
    expect(admin_page.get_by_text("Widget secret — copy it now")).to_be_visible()
    secret = admin_page.locator("#widget-secret").input_value()
    key_id = admin_page.locator("[data-widget-key]").inner_text()
    _shot(admin_page, "admin-secret")
    admin_page.context.close()
    context = sign_context(
        key_id=key_id,
        secret=secret,
        tenant="acme",
        email="jane@acme.example",
        name="Jane Doe",
        expires_at=int(time.time()) + 600,
    )
    host.serve(console=console, context=context)

    page.add_init_script(VIOLATIONS_JS)
    page.goto(host.origin + "/reports")
    page.evaluate("window.__filed = []; CompanyOSWidget.onFiled((key) => window.__filed.push(key));")
    page.get_by_role("button", name="Help").click()
    panel = page.frame_locator("iframe[title='Help and support']")
    expect(panel.get_by_role("heading", name="Contact support")).to_be_visible()
    expect(panel.locator(".w-who")).to_contain_text("For Acme Corp · Jane Doe")
    attached = panel.get_by_role("region", name="Attached from this page")
    expect(attached.locator("[data-attached=error_ids]")).to_have_text(["ERR-EXPORT-17"])
    expect(attached.locator("[data-attached=app_version]")).to_have_text("4.2.1")
    expect(attached.locator("[data-attached=page_url]")).to_have_text(host.origin + "/reports")
    # The page's script reports another error while the panel is open (postMessage to the console's origin).
    page.evaluate("CompanyOSWidget.attach({errorIds: ['ERR-LATE-7']})")
    expect(attached.locator("[data-attached=error_ids]")).to_have_text(["ERR-EXPORT-17", "ERR-LATE-7"])
    panel.get_by_label("Subject").fill("Export fails with an error")
    panel.get_by_label("What happened?").fill("Clicking Export CSV shows an error banner.")
    _shot(page, "panel-form")

    panel.get_by_role("button", name="Send to support").click()
    key = panel.locator("[data-case-key]")
    expect(key).to_have_text(re.compile(r"^[A-Z]+-\d+$"))
    case = Case.objects.get()
    assert key.inner_text() == case.key
    assert page.evaluate("window.__filed") == [case.key]
    assert (case.channel, case.tenant_id, case.requester.email) == ("widget", acme.pk, "jane@acme.example")
    opening = case.interactions.get(kind="inbound")
    assert opening.data["evidence"]["error_ids"] == ["ERR-EXPORT-17", "ERR-LATE-7"]
    assert opening.data["evidence"]["trace_links"] == ["https://traces.acme.example/t/4bf92f"]
    assert opening.data["channel_data"]["app_version"] == "4.2.1"
    assert "Chrome" in opening.data["channel_data"]["browser"]
    panel_frame = next(f for f in page.frames if "/widget/t/" in f.url)
    assert page.evaluate("window.__csp") == [], "widget.js works under the host page's strict CSP"
    assert panel_frame.evaluate("window.__csp || []") == [], "the panel runs under its own strict CSP"
    _shot(page, "panel-filed")

    # The agent finds it in the queue, with its error ids on the case page, and replies.
    agent_context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=console)
    agent = agent_context.new_page()
    agent.set_default_timeout(10_000)
    sign_in(agent, "kari")
    agent.goto("/cases/?status=open")
    agent.get_by_role("link", name="Export fails with an error").click()
    evidence = agent.locator("[data-evidence]")
    expect(evidence.locator("[data-error-id]")).to_have_text(["ERR-EXPORT-17", "ERR-LATE-7"])
    expect(evidence.locator("[data-trace-link]")).to_have_text("https://traces.acme.example/t/4bf92f")
    expect(evidence.locator("[data-app-version]")).to_have_text("4.2.1")
    _shot(agent, "case-page-evidence")
    send_reply(agent, "Thanks Jane, we found the failing export job and are fixing it.")
    expect(agent.locator("#timeline")).to_contain_text("we found the failing export job")
    agent_context.close()

    # The follow-replies link, inside the panel (no console login in the product's page)…
    panel_frame.goto(panel_frame.url.split("?")[0])
    expect(panel.get_by_text("we found the failing export job")).to_be_visible()
    expect(panel.get_by_text("Kari · Support")).to_be_visible()
    _shot(page, "panel-reply")
    # …and the same link on its own, as the requester keeps it.
    standalone = browser.new_context(base_url=console).new_page()
    standalone.goto(panel_frame.url)
    expect(standalone.get_by_role("heading", name=f"Your request {case.key}")).to_be_visible()
    expect(standalone.get_by_text("we found the failing export job")).to_be_visible()
    standalone.context.close()


def test_a_forged_context_is_refused_inside_the_frame(page, live_server, host):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    admin = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    integration, _ = ingest.integration_create(name="Acme app", actor=admin, tenant_ids=[acme.pk])
    config, _ = tenant_services.widget_configure(
        integration_id=integration.pk, actor=admin, enabled=True, allowed_origins=[host.origin]
    )
    forged = sign_context(
        key_id=config.key_id,
        secret="wsk_guessed",
        tenant="acme",
        email="mallory@acme.example",
        expires_at=int(time.time()) + 600,
    )
    host.serve(console=live_server.url, context=forged)
    page.goto(host.origin + "/")
    page.get_by_role("button", name="Help").click()
    panel = page.frame_locator("iframe[title='Help and support']")
    expect(panel.get_by_role("heading", name="Help is unavailable")).to_be_visible()
    expect(panel.locator("[data-refusal]")).to_contain_text("not correctly signed")
    expect(panel.locator("form")).to_have_count(0)
    _shot(page, "panel-refused")
    panel.get_by_role("button", name="Close help").click()
    expect(page.locator("[data-companyos-widget=panel]")).to_be_hidden()
    assert not Case.objects.exists()
