"""The case page in Debian's Chromium: two agents making conflicting changes, the reply box and the
timeline order, the Audit tab as a compliance reviewer reads it, the SLA badge and panel, and times
in the viewer's zone."""

import csv
import os
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from cases import services
from cases.choices import Priority, Status
from cases.models import Attachment, SLAClock
from companyos.models import Profile
from tests.browser.conftest import send_reply, sign_in
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("CASE_PAGE_SCREENSHOTS")  # a directory: save the 1440×900 screenshots there


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def test_a_refused_action_refreshes_the_header_of_the_stale_page(browser, live_server):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", role="agent", tenants=[acme])
    UserFactory(username="ana", role="agent", tenants=[acme])
    case = CaseFactory(tenant=acme, subject="Exports time out", status=Status.IN_PROGRESS)
    pages = []
    for user in ("kari", "ana"):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, user)
        page.goto(f"/cases/{case.key}/")
        pages.append(page)
    kari, ana = pages
    header_k, header_a = kari.locator("#case-header"), ana.locator("#case-header")
    expect(header_a).to_contain_text("In progress")

    # Kari takes the case and waits on the customer: her header follows each step without a reload.
    kari.get_by_role("button", name="Take").click()
    expect(header_k.locator("[data-owner]")).to_have_text("kari")
    kari.get_by_text("Wait on customer…").click()
    kari.get_by_label("Logs").check()
    kari.get_by_role("button", name="Wait on customer", exact=True).click()
    expect(header_k).to_contain_text("Waiting on customer")
    expect(kari.locator("#sla-panel")).to_be_visible()

    # Ana's page is stale. Her "Resolve" is refused, and everything that shows the case's state is fresh.
    ana.get_by_role("button", name="Resolve").click()
    expect(ana.locator("#actions .conflict")).to_be_visible()
    expect(header_a).to_contain_text("Waiting on customer")
    expect(header_a).not_to_contain_text("In progress")
    expect(header_a.locator("[data-owner]")).to_have_text("kari")
    expect(ana.get_by_role("button", name="Resume work")).to_be_visible()
    expect(ana.locator("#timeline")).to_contain_text("Waiting on customer")
    _shot(ana, "conflict")
    for page in pages:
        page.context.close()


def test_reply_box_where_the_agent_looks_and_a_dropped_file(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    kari = UserFactory(username="kari", role="agent", tenants=[acme])
    case = CaseFactory(tenant=acme, subject="Webhooks are not retried", status=Status.IN_PROGRESS)
    for n in range(1, 26):
        services.case_reply(case_id=case.pk, actor=kari, body=f"Note number {n}", public=False)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")

    # Oldest first (the default): the reply box is on screen and the timeline opened at its end.
    composer = page.locator("#composer")
    expect(composer).to_be_in_viewport()
    expect(page.get_by_text("Note number 25")).to_be_in_viewport()
    expect(page.get_by_text("Note number 1", exact=True)).not_to_be_in_viewport()
    _shot(page, "composer-oldest-first")

    # A file dropped on the reply box is attached to the reply.
    page.evaluate(
        """() => {
            const dt = new DataTransfer();
            dt.items.add(new File(["GET /v1/hooks 500"], "hooks.log", {type: "text/plain"}));
            const box = document.querySelector("#composer form");
            box.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
            box.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    expect(composer.locator("[data-file-name]")).to_have_text("hooks.log")
    send_reply(page, "Here is the log we captured.")
    expect(page.locator("#timeline")).to_contain_text("Here is the log we captured.")
    expect(page.locator("#timeline")).to_contain_text("hooks.log")
    expect(page.get_by_label("Message")).to_have_value("")
    assert Attachment.objects.get(case=case).filename == "hooks.log"

    # The other order is a preference: newest first with the reply box on top.
    page.get_by_role("button", name="Show newest first").click()
    expect(page.get_by_role("button", name="Show oldest first")).to_be_visible()
    assert Profile.objects.get(user=kari).timeline_order == "newest"
    composer_box, first = composer.bounding_box(), page.locator("#timeline .msg").first
    expect(first).to_contain_text("Here is the log we captured.")
    assert composer_box["y"] < first.bounding_box()["y"]
    page.reload()
    expect(page.locator("#timeline .msg").first).to_contain_text("Here is the log we captured.")


def test_audit_tab_for_a_compliance_reviewer(page, tmp_path):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    kari = UserFactory(username="kari", role="agent", tenants=[acme], first_name="Kari", last_name="Nordmann")
    UserFactory(username="eve", role="agent")
    case = CaseFactory(tenant=acme, subject="Login loops", priority=Priority.MEDIUM, status=Status.IN_PROGRESS)
    services.case_classify(case_id=case.pk, actor=kari, expected_version=case.version, priority=Priority.CRITICAL)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "eve")
    assert page.goto(f"/cases/{case.key}/").status == 404
    page.context.clear_cookies()
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    expect(page.locator("#context-panel")).not_to_contain_text("Loading")  # its own request has run
    page.get_by_role("link", name="Audit").click()
    audit = page.locator("#audit")
    expect(audit).to_contain_text("changed priority from P3 Medium to P1 Critical")
    expect(audit).to_contain_text("denied: not visible")
    words = " ".join(audit.locator(".audit-what, .audit-lines").all_inner_texts())
    assert "None" not in words and "→" not in words  # the raw dump is only inside "raw entry"
    # One "viewed" for the page load (the context panel's request wrote none), one for this tab.
    expect(audit.get_by_text("viewed the case", exact=True)).to_have_count(1)
    expect(audit.get_by_text("viewed the case (audit tab)")).to_have_count(1)
    _shot(page, "audit")

    audit.get_by_role("link", name="Changes").click()
    expect(audit).to_contain_text("changed priority")
    expect(audit).not_to_contain_text("denied: not visible")
    expect(audit.locator(".badge.viewed")).to_have_count(0)
    audit.locator("details.raw summary").first.click()
    expect(audit.locator("details.raw pre").first).to_contain_text('"changes"')

    with page.expect_download() as download:
        audit.get_by_role("link", name="Export CSV").click()
    path = tmp_path / "audit.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows and {r["kind"] for r in rows} == {"change"}
    assert any("from P3 Medium to P1 Critical" in r["details"] for r in rows)

    audit.get_by_role("link", name="Denials").click()
    expect(audit).to_contain_text("denied: not visible")
    expect(audit).not_to_contain_text("changed priority")


def test_sla_badge_panel_and_times_in_the_viewers_zone(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    kari = UserFactory(username="kari", role="agent", tenants=[acme])
    Profile.objects.create(user=kari, timezone="America/New_York")
    case = services.case_create(
        actor=kari, tenant=acme, requester=RequesterFactory(tenant=acme), subject="Payments fail", priority=1
    )
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=kari)
    services.case_reply(case_id=case.pk, actor=kari, body="Looking now", public=True)
    resolution = SLAClock.objects.get(case=case, kind=SLAClock.Kind.RESOLUTION)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")

    header = page.locator("#case-header")
    expect(header.locator(".sla")).to_have_text(re.compile(r"\d+:\d\d|\d+ [hd]"))
    expect(header).to_contain_text("Times in America/New_York")

    panel = page.locator("#sla-panel")
    running = panel.get_by_role("list", name="Running clocks")
    expect(running.locator("li[data-clock=first_response]")).to_have_count(0)  # met: it went to History
    expect(panel.locator("li[data-clock=resolution]")).to_contain_text("left")
    expect(panel.get_by_text("History (1)")).to_be_visible()
    expect(panel.locator("li[data-clock=first_response]")).to_be_hidden()
    panel.get_by_text("History (1)").click()
    expect(panel.locator("li[data-clock=first_response]")).to_contain_text("met")

    # The timeline's SLA notes: the due time in New York, never a baked-in UTC; icons, not missing glyphs.
    due = resolution.due_at.astimezone(ZoneInfo("America/New_York"))
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"due {due:%Y-%m-%d %H:%M}")
    expect(timeline).not_to_contain_text("UTC")
    assert "\u23f1" not in timeline.inner_text()
    icon = timeline.locator(".sla-impact svg.icon").first
    assert icon.bounding_box()["width"] > 0
    _shot(page, "sla")
