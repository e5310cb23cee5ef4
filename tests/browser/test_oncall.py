"""On-call end to end in Debian's Chromium: an SRE pages on-call from a critical case on an incident;
the outbox sends the page by e-mail; the on-call engineer acknowledges from the link in the captured
e-mail without signing in; the acknowledgement shows on the case and on the incident."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from django.core import mail
from playwright.sync_api import expect

from cases.choices import Priority, Status
from cases.sla.sweep import send_pending_notifications
from incidents import services as incident_services
from incidents.oncall import services
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_page_from_a_critical_case_and_acknowledge_from_the_email(page, browser, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = live_server.url
    acme = TenantFactory(name="Acme Corp", slug="acme")
    sam = UserFactory(username="sam", first_name="Sam", last_name="Reyes", email="sam@example.com", role="SRE")
    oda = UserFactory(username="oda", first_name="Oda", last_name="Lie", email="oda@example.com", role="SRE")
    schedule = services.schedule_create(actor=sam, name="SRE primary", timezone_name="Europe/Oslo")
    services.layer_add(
        actor=sam,
        schedule_id=schedule.pk,
        participants=[oda],
        start_date=date(2020, 1, 6),
        handoff_time=time(9),
        handoff_weekday=0,
    )
    services.chain_create(
        actor=sam,
        name="SRE chain",
        is_default=True,
        steps=[{"target": "schedule", "schedule": schedule, "wait_minutes": 5}],
    )
    case = CaseFactory(
        tenant=acme, subject="All API calls return 500", priority=Priority.CRITICAL, status=Status.IN_PROGRESS
    )
    incident = incident_services.incident_declare(actor=sam, title="API 5xx in EU", severity="SEV1", tenants=[acme])
    incident_services.incident_link_cases(incident_id=incident.pk, actor=sam, case_ids=[case.pk])

    # 1. Sam pages on-call from the case page's incident panel.
    sign_in(page, "sam")
    page.goto(f"/cases/{case.key}/")
    panel = page.locator("#incident-panel")
    expect(panel.get_by_text("Not paged.")).to_be_visible()
    panel.get_by_label("Why page on-call").fill("EU customers down")
    panel.get_by_role("button", name="Page on-call").click()
    expect(page.get_by_test_id("page-status")).to_have_text("Triggered")
    expect(page.get_by_text("notifying SRE primary's on-call")).to_be_visible()

    # 2. The outbox (the beat's job) sends the e-mail to Oda, who is on call.
    assert send_pending_notifications() >= 1
    message = next(m for m in mail.outbox if m.to == ["oda@example.com"])
    link = re.search(r"https?://\S+/oncall/link/ack/\S+/", message.body).group(0)

    # 3. Oda opens the link on her phone: no sign-in, one button.
    phone = browser.new_context(viewport={"width": 420, "height": 800})
    try:
        oda_page = phone.new_page()
        oda_page.goto(link)
        oda_page.get_by_role("button", name="Acknowledge as Oda Lie").click()
        expect(oda_page.get_by_test_id("ack-done")).to_have_text("Acknowledged")
        oda_page.goto(link)  # the link worked once
        expect(oda_page.get_by_text("Nothing to do")).to_be_visible()
    finally:
        phone.close()

    # 4. The acknowledgement is on the case and on the incident.
    page.goto(f"/cases/{case.key}/")
    expect(page.locator("#incident-panel").get_by_text("Acknowledged")).to_be_visible()
    expect(page.locator("#incident-panel").get_by_text("Oda Lie")).to_be_visible()
    page.goto(incident.get_absolute_url())
    card = page.locator(".oncall-card")
    expect(card.get_by_text("Acknowledged")).to_be_visible()
    expect(card.get_by_text("Oda Lie")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Page #\d+ acknowledged by Oda Lie")).first).to_be_visible()
    page.screenshot(path="/tmp/oc_incident.png", full_page=True)
