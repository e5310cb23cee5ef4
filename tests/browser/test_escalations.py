"""Engineering escalation in Chromium (issue 14 point 7): from a critical case's Engineering panel,
escalate with the eight items prefilled; an engineer of the owning team rejects it with a reason;
the case's timeline and the escalation list (rejection rate) show it; the closing's product emission
is in the weekly operations report, reached through the old weekly ops review address."""

import re

import pytest
from playwright.sync_api import expect

from cases.choices import Priority, Status
from incidents.escalations.models import Component, EngineeringTask
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/escal-shots"


def test_escalate_a_case_and_engineering_rejects_it(page, role_groups):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[acme])
    engineer = UserFactory(username="eli", first_name="Eli", last_name="Eng", role="engineer")
    team = TeamFactory(name="Ingest", slug="ingest")
    team.members.add(engineer)
    Component.objects.create(name="Ingest API", team=team, tracker_project="ING", categories=["performance"])
    case = CaseFactory(
        tenant=acme,
        subject="Ingest API returns 503 on batch upload",
        description="POST /v1/batch with 500 events → HTTP 503 ERR_THROTTLED",
        priority=Priority.CRITICAL,
        status=Status.IN_PROGRESS,
        category="performance",
    )
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    panel = page.locator("#engineering-panel")
    expect(panel.get_by_text("Not escalated to engineering.")).to_be_visible()
    panel.get_by_role("link", name="Escalate to engineering…").click()
    expect(page.get_by_label("4. Error messages and logs")).to_contain_text("ERR_THROTTLED")
    expect(page.get_by_label("Component (owning team)")).to_have_value(str(Component.objects.get().pk))
    page.screenshot(path=f"{SHOTS}/escalate.png", full_page=True)
    page.get_by_role("button", name="Escalate to engineering").click()
    task = EngineeringTask.objects.get()
    expect(page).to_have_url(re.compile(rf"/incidents/escalations/{task.key}/$"))
    expect(page.locator("[data-cadence]")).to_contain_text("every 4 h")

    page.context.clear_cookies()
    sign_in(page, "eli")
    page.goto(task.get_absolute_url())
    form = page.locator('form[data-decision="rejected"]')
    form.get_by_label("Why (required)").fill("Working as designed: the tenant's quota")
    form.get_by_role("button", name="Reject").click()
    expect(page.locator("[data-status]")).to_have_text("Rejected")
    expect(page.locator("[data-reason]")).to_contain_text("Working as designed")
    page.screenshot(path=f"{SHOTS}/task.png", full_page=True)
    page.goto("/incidents/escalations/")
    expect(page.locator("[data-rejection-rate]")).to_contain_text("100.0 %")
    page.screenshot(path=f"{SHOTS}/list.png", full_page=True)

    page.context.clear_cookies()
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    expect(page.locator("#engineering-panel")).to_contain_text("Rejected")
    page.screenshot(path=f"{SHOTS}/case.png", full_page=True)


def test_product_feedback_and_the_closing_feeds_a_backlog(page, role_groups):
    from decimal import Decimal

    from cases import services as case_services
    from tests.factories import TagFactory

    acme = TenantFactory(name="Acme Corp", slug="acme", annual_contract_value=Decimal("250000"), industry="retail")
    kari = UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[acme])
    UserFactory(username="mona", role="manager")
    tag = TagFactory(name="bulk-export")
    case = CaseFactory(
        tenant=acme,
        subject="Export every invoice as CSV",
        description="We export 2,000 invoices by hand each month",
        status=Status.IN_PROGRESS,
        category="feature_request",
        issue_type="question",
    )
    case.tags.add(tag)
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    page.locator("#engineering-panel").get_by_role("link", name="Log product feedback…").click()
    expect(page.get_by_label("Industry")).to_have_value("retail")
    page.get_by_label("3. Current workaround").fill("A spreadsheet macro")
    page.get_by_role("button", name="Log to the product backlog").click()
    expect(page.locator('tr[data-theme="bulk-export"] [data-arr]')).to_have_text("250,000")
    page.screenshot(path=f"{SHOTS}/product.png", full_page=True)

    case_services.case_transition(
        case_id=case.pk,
        to=Status.RESOLVED,
        actor=kari,
        resolution={"summary": "Logged as a feature request", "evidence": "-", "preventive_actions": "-"},
    )
    page.goto(f"/cases/{case.key}/")
    page.locator("summary", has_text="Close").click()
    expect(page.locator("select[data-feedback]")).to_have_value("product")
    page.locator(".close-menu").get_by_role("button", name="Close").click()
    expect(page.locator(".close-menu")).to_have_count(0)  # closed: no Close action any more
    page.goto("/incidents/escalations/backlogs/product/")
    expect(page.locator(f'tr[data-case="{case.key}"]')).to_be_visible()
    page.screenshot(path=f"{SHOTS}/backlog.png", full_page=True)

    page.context.clear_cookies()
    sign_in(page, "mona")
    # The weekly ops review's old address opens the weekly operations report of that week.
    year, week, _ = case.created_at.isocalendar()
    label = f"{year}-W{week:02d}"
    page.goto("/incidents/escalations/review/?week=" + case.created_at.strftime("%Y-%m-%d"))
    expect(page).to_have_url(re.compile(rf"/reports/weekly/\?week={label}$"))
    emissions = page.locator('[data-section="backlogs"] [data-table="emissions"] tr', has_text="Product")
    expect(emissions.locator("td").first).to_have_text("1")
    for key in ("volume", "attainment", "satisfaction", "learnings", "escalations", "diagnostics"):
        expect(page.locator(f'[data-section="{key}"]')).to_be_visible()
    page.screenshot(path=f"{SHOTS}/weekly.png", full_page=True)
    # Another week through the picker, and back.
    page.locator("a", has_text="‹").first.click()
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(label)
    page.get_by_label("Week", exact=True).fill(label)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Weekly operations report {label}")


def test_the_map_sets_an_on_call_schedule_and_the_handoff_shows_known_issues(page, role_groups):
    """A manager picks a component's on-call schedule with the map's select and sees who is on call
    for it; the shift handoff report lists the open known issues (runbooks' section)."""
    from datetime import date, time

    from incidents.oncall import services as oncall_services
    from runbooks.models import KnownIssue, KnownIssueCase

    manager = UserFactory(username="mona", first_name="Mona", role="manager")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Dev", role="engineer")
    team = TeamFactory(name="Ingest", slug="ingest")
    team.members.add(dana, manager)
    schedule = oncall_services.schedule_create(actor=manager, name="Ingest on-call", timezone_name="Europe/Oslo")
    oncall_services.layer_add(
        actor=manager, schedule_id=schedule.pk, participants=[dana], start_date=date(2026, 1, 5), handoff_time=time(9)
    )
    component = Component.objects.create(name="Ingest API", team=team, tracker_project="ING")
    sign_in(page, "mona")
    page.goto("/incidents/escalations/components/")
    row = page.locator('tr[data-component="Ingest API"]')
    expect(row.locator("[data-oncall-now]")).to_have_text("—")
    row.get_by_label("On-call schedule of Ingest API").select_option(label="Ingest on-call")
    row.get_by_role("button", name="Save").click()
    saved = "Ingest API: escalations now notify whoever is on call for Ingest on-call."
    expect(page.get_by_text(saved)).to_be_visible()
    expect(page.locator('tr[data-component="Ingest API"] [data-oncall-now]')).to_contain_text("Dana Dev")
    page.screenshot(path=f"{SHOTS}/components.png", full_page=True)
    component.refresh_from_db()
    assert component.oncall_schedule == schedule
    # The on-call overview (values, not model instances) says the same.
    page.goto("/oncall/")
    expect(page.get_by_role("row", name=re.compile("Ingest on-call"))).to_contain_text("Dana Dev")
    page.screenshot(path=f"{SHOTS}/oncall.png", full_page=True)

    acme = TenantFactory(name="Acme Corp", slug="acme")
    case = CaseFactory(tenant=acme, team=team, priority=Priority.HIGH, status=Status.IN_PROGRESS, subject="503s")
    issue = KnownIssue.objects.create(title="Batch upload 503 under load", workaround="Retry with backoff")
    KnownIssueCase.objects.create(known_issue=issue, case=case)
    page.goto("/incidents/escalations/handoff/?team=ingest")
    known = page.locator('[data-section="known_issues"]')
    expect(known).to_contain_text("Known issues (1)")
    expect(known.get_by_role("link", name="Batch upload 503 under load")).to_be_visible()
    expect(known).to_contain_text("1 open case · workaround: Retry with backoff")
    page.screenshot(path=f"{SHOTS}/handoff.png", full_page=True)
