"""Browser: a manager filters /reports/ by segment, drills into a number and lands on the queue with
exactly the cases behind it; a customer answers the survey on the plain page."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.choices import Priority, Status
from cases.closure import links
from cases.closure.models import Closure
from tenants.choices import Segment
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("REPORT_SCREENSHOTS")  # a directory: save screenshots there


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_manager_filters_by_segment_and_drills_into_the_queue(page, role_groups):
    smb = TenantFactory(name="Acme Corp", slug="acme", segment=Segment.SMB)
    ent = TenantFactory(name="Initech", slug="initech", segment=Segment.ENTERPRISE)
    UserFactory(username="mona", role="manager")
    now = timezone.now()
    for i in range(3):
        CaseFactory(
            tenant=ent, subject=f"Enterprise high {i}", priority=Priority.HIGH, created_at=now - timedelta(days=i + 1)
        )
    CaseFactory(tenant=ent, subject="Enterprise low", priority=Priority.LOW, created_at=now - timedelta(days=2))
    CaseFactory(tenant=smb, subject="SMB high", priority=Priority.HIGH, created_at=now - timedelta(days=2))
    sign_in(page, "mona")
    page.get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/reports/$"))
    expect(page.locator("#r-volume_priority")).to_contain_text("P2 High")
    _shot(page, "reports")

    page.get_by_label("Segment", exact=True).select_option("enterprise")
    expect(page).to_have_url(re.compile(r"segment=enterprise"))
    section = page.locator("#r-volume_priority")
    row = section.locator("tr", has_text="P2 High")
    expect(row).to_contain_text("3")
    _shot(page, "reports-enterprise")

    row.get_by_role("link", name="3").click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*segment=enterprise"))
    expect(page).to_have_url(re.compile(r"priority=high"))
    results = page.locator("#queue-results")
    for i in range(3):
        expect(results).to_contain_text(f"Enterprise high {i}")
    expect(results).not_to_contain_text("SMB high")
    expect(results).not_to_contain_text("Enterprise low")


def test_customer_answers_the_survey(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    case = CaseFactory(tenant=acme, status=Status.CLOSED)
    closure = Closure.objects.create(case=case, tenant=acme, closed_at=timezone.now(), how="confirmed")
    path = "/" + links.survey_url(closure.pk, closure.closed_at).split("/", 3)[3]
    page.goto(path)
    expect(page.get_by_role("heading", name=re.compile("How did we do"))).to_be_visible()
    _shot(page, "survey")
    page.get_by_role("group", name=re.compile("How satisfied")).get_by_label("4", exact=True).check()
    page.get_by_role("group", name=re.compile("How likely")).get_by_label("9", exact=True).check()
    page.get_by_label("Comment").fill("Fast, thanks")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    closure.refresh_from_db()
    assert (closure.csat, closure.nps, closure.comment) == (4, 9, "Fast, thanks")
    page.goto(path)
    expect(page.locator(".answered")).to_contain_text("satisfaction 4 of 5")
    _shot(page, "survey-answered")


def test_agent_resolves_with_the_record_and_sees_when_it_closes(page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", role="agent", tenants=[acme])
    case = CaseFactory(
        tenant=acme, subject="Login loop after SSO change", priority=Priority.HIGH, status=Status.IN_PROGRESS
    )
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    actions = page.locator("#actions")
    expect(actions).to_contain_text("Resolution notes (required: high)")
    actions.get_by_label("Resolution summary").fill("Re-issued the SAML certificate")
    actions.get_by_label("Root cause").fill("Certificate rotated on the IdP only")
    actions.get_by_label("Evidence").fill("Three sign-ins succeeded")
    actions.get_by_label("Preventive actions").fill("Rotation runbook covers both sides")
    _shot(page, "case-resolve-form")
    actions.get_by_role("button", name="Resolve").click()
    expect(page.locator(".case-header")).to_contain_text("Resolved")
    panel = page.locator("#closure-panel")
    expect(panel).to_contain_text("Closes automatically on")
    expect(panel).to_contain_text("Re-issued the SAML certificate")
    expect(page.locator("#timeline")).to_contain_text("Is this solved for you?")
    _shot(page, "case-closure-panel")
