"""The incident flow in Chromium (issue 13): from a critical case, create an incident; link a second
case from the queue's bulk bar; post a customer update to both; see it on both cases and on /status/;
resolve the incident and its cases."""

import re

import pytest
from playwright.sync_api import expect

from cases.choices import Priority, Status
from cases.models import Case, Interaction
from incidents.models import Incident
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLASSIFIED = {"category": "performance", "issue_type": "incident", "environment": "production"}


def test_incident_from_a_case_to_resolution(page, role_groups):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    globex = TenantFactory(name="Globex", slug="globex")
    UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[acme, globex])
    first = CaseFactory(
        tenant=acme,
        subject="All API calls return 500",
        priority=Priority.CRITICAL,
        status=Status.IN_PROGRESS,
        **CLASSIFIED,
    )
    second = CaseFactory(tenant=globex, subject="Our API calls fail", status=Status.IN_PROGRESS, **CLASSIFIED)
    sign_in(page, "kari")

    # From the critical case: create the incident (prefilled, SEV1 from the priority).
    page.goto(f"/cases/{first.key}/")
    panel = page.locator("#incident-panel")
    expect(panel.get_by_text("Not linked to an incident.")).to_be_visible()
    panel.get_by_role("link", name="Create incident from this case…").click()
    expect(page.get_by_label("Title")).to_have_value("All API calls return 500")
    expect(page.get_by_label("Severity")).to_have_value("SEV1")
    page.get_by_role("button", name=f"Declare and link {first.key}").click()
    incident = Incident.objects.get()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.key}/$"))
    expect(page.locator("[data-linked]")).to_contain_text(first.key)

    # Link the second case from the queue's bulk bar.
    page.goto("/cases/")
    page.locator(f'tr:has-text("{second.key}") input[name=id]').check()
    page.get_by_label("Bulk action").select_option("incident")
    page.get_by_label("Link to incident…").fill(incident.key)
    page.get_by_role("button", name="Apply…").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Link to {incident.key}")
    dialog.get_by_role("button", name="Change 1 case").click()
    expect(page.locator("#messages")).to_contain_text("1 case changed")
    assert incident.cases.count() == 2

    # A customer update to both cases, previewed first, and published on the status page.
    page.goto(f"/incidents/{incident.key}/")
    customers = page.locator("#customers")
    customers.get_by_label("Message").fill("We rolled back the faulty deploy.")
    customers.get_by_label("Also publish on the status page (optional)").fill("Rolled back; error rates recovering.")
    customers.get_by_role("button", name="Preview").click()
    expect(page.locator("#customers .preview-text").first).to_contain_text("We rolled back the faulty deploy.")
    page.locator("#customers").get_by_role("button", name="Send to 2 cases").click()
    expect(page.locator("#messages")).to_contain_text("queued for 2 open linked case(s)")
    for case in (first, second):
        page.goto(f"/cases/{case.key}/")
        expect(page.locator("#timeline")).to_contain_text("We rolled back the faulty deploy.")
        expect(page.locator("#incident-panel")).to_contain_text(incident.key)
    page.goto("/status/")
    expect(page.get_by_text("Rolled back; error rates recovering.")).to_be_visible()

    # Resolve the incident and its cases in one confirmed action.
    page.goto(f"/incidents/{incident.key}/")
    resolve = page.locator("#resolve")
    resolve.get_by_label("Root cause", exact=True).fill("A bad gateway config")
    resolve.get_by_label("Solution", exact=True).fill("Rolled back")
    resolve.get_by_label("Verification", exact=True).fill("Error rate at 0%")
    resolve.get_by_role("button", name="Resolve…").click()
    page.locator("#resolve").get_by_role("button", name="Confirm: resolve").click()
    expect(page.locator("#messages")).to_contain_text("2 linked case(s) resolved")
    expect(page.locator("[data-status]")).to_have_text("Resolved")
    assert set(Case.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {Status.RESOLVED}
    assert Interaction.objects.filter(
        case=first, kind=Interaction.Kind.REPLY, body__contains="A bad gateway config"
    ).exists()


def test_queue_hint_declares_and_links_all_and_a_case_is_marked_mitigated(page, role_groups, tmp_path):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[acme])
    burst = [
        CaseFactory(tenant=acme, subject=f"Webhook deliveries failing with 503 since 10:00 ({i})", **CLASSIFIED)
        for i in range(4)
    ]
    sign_in(page, "kari")

    # The queue loads the incidents app's hint after its own rows.
    page.goto("/cases/")
    hint = page.locator("[data-queue-hint]")
    expect(hint).to_contain_text("Possible incident: 4 similar cases in")
    expect(hint).to_contain_text("error 503")
    page.screenshot(path=str(tmp_path / "queue-hint.png"), full_page=True)
    hint.get_by_role("button", name="Declare and link all").click()
    incident = Incident.objects.get()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.key}/$"))
    expect(page.locator("#messages")).to_contain_text(f"Declared {incident.key}")
    for case in burst:
        expect(page.locator("[data-linked]")).to_contain_text(case.key)
    page.goto("/cases/")
    expect(page.locator("#queue-results")).to_be_visible()
    expect(page.locator("[data-queue-hint]")).to_have_count(0)  # all on the incident now

    # Mark one of them mitigated from its page.
    case = burst[0]
    page.goto(f"/cases/{case.key}/")
    page.get_by_role("button", name="Accept into triage").click()
    expect(page.locator("#case-header")).to_contain_text("Triage")
    page.get_by_text("Mark mitigated…").click()
    page.get_by_label("Mitigation steps (configuration change, retry, patch…)").fill("Retries enabled on the gateway")
    page.get_by_role("button", name="Mark mitigated", exact=True).click()
    expect(page.locator("[data-mitigated]")).to_contain_text("mitigated")
    expect(page.locator("#timeline")).to_contain_text("Retries enabled on the gateway")
    page.screenshot(path=str(tmp_path / "case-mitigated.png"), full_page=True)
    case.refresh_from_db()
    assert case.mitigated_at is not None
