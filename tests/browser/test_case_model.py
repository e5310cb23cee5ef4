"""The case's own entities in Debian's Chromium (issue 9, points 14-18): intake with affected
resources and the classification left unset, the context panel's suggestion quoting the words and
its deployments table, the requester card's warning, waiting on the customer for something, and the
resolve button that says why it is disabled."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.choices import Status
from cases.models import Case
from tenants.choices import Health
from tenants.models import Deployment, Integration
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, RequesterFactory, ResourceFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/casemodel-shots"


def _shot(page, name):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=False)


@pytest.fixture(autouse=True)
def _patient(page):
    page.set_default_timeout(30_000)  # a loaded 2-core machine: sign-in (PBKDF2) alone can take seconds


@pytest.fixture
def acme(role_groups):
    tenant = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[tenant])
    return tenant


def test_intake_with_resources_and_unset_fields_suggests_by_the_text(page, acme):
    hooks = ResourceFactory(
        tenant=acme, external_id="acme-hooks-prod", kind="webhook-dispatcher", version="v3.2.1", health=Health.AMBER
    )
    ResourceFactory(tenant=acme, external_id="acme-gw-prod", kind="api-gateway", version="v1.4.0")
    integration = Integration.objects.create(name="ci", token_prefix="c", token_hash="c" * 64)
    Deployment.objects.create(
        tenant=acme,
        integration=integration,
        source_id="d1",
        resource=hooks,
        version="v3.2.1",
        deployed_at=timezone.now() - timedelta(hours=5),
    )
    RequesterFactory(tenant=acme, name="Ines Berg", email="ines@acme.example")

    sign_in(page, "kari")
    page.goto("/cases/new/")
    page.get_by_label("Tenant").select_option("acme")
    page.get_by_label("Requester").select_option(label="Ines Berg <ines@acme.example>")
    # The tenant's resources arrive with the tenant (HTMX), with their health.
    resource = page.get_by_role("checkbox", name=re.compile("acme-hooks-prod"))
    expect(resource).to_be_visible()
    expect(page.locator("#resource-options")).to_contain_text("Degraded")
    resource.check()
    page.get_by_label("Subject").fill("Webhook retries")
    page.get_by_label("Description").fill(
        "Production, all endpoints: since this morning none of our webhook deliveries are retried."
    )
    # Category, issue type and environment stay "— not set —".
    expect(page.get_by_label("Issue type")).to_have_value("")
    _shot(page, "intake")
    page.get_by_role("button", name="Open case").click()
    expect(page).to_have_url(re.compile(r"/cases/CS-\d+/$"))

    resources = page.locator("#resources")
    expect(resources).to_contain_text("acme-hooks-prod")
    expect(resources).to_contain_text("v3.2.1")
    expect(resources).to_contain_text("Degraded")

    context = page.locator("#context-panel")
    suggestion = context.locator(".suggestion")
    expect(suggestion).to_contain_text("High")
    expect(suggestion).to_contain_text("“none of our webhook deliveries are retried”")
    expect(suggestion).not_to_contain_text("general usage question")
    table = context.get_by_role("table", name="Deployments in the last 7 days")
    expect(table.get_by_role("row")).to_have_count(2)  # the head and one deployment
    expect(table).to_contain_text("acme-hooks-prod")
    _shot(page, "case-new")


def test_requester_card_warns_when_the_case_names_a_resource_they_cannot_see(page, acme):
    gateway = ResourceFactory(tenant=acme, external_id="acme-gw-prod", kind="api-gateway", version="v1.4.0")
    hooks = ResourceFactory(tenant=acme, external_id="acme-hooks-prod", kind="webhook-dispatcher", health=Health.RED)
    requester = RequesterFactory(
        tenant=acme, name="Pat Lee", role="Product manager", auth_method="sso", sees_all_resources=False
    )
    requester.visible_resources.set([gateway])
    case = CaseFactory(tenant=acme, requester=requester, subject="Webhooks delayed", status=Status.IN_PROGRESS)

    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    card = page.get_by_role("region", name="Requester")
    expect(card).to_contain_text("Product manager")
    expect(card).to_contain_text("SSO")
    expect(card).to_contain_text("acme-gw-prod")
    expect(card).not_to_contain_text("may not see")

    # Name the webhook dispatcher as affected: the list updates and the card warns.
    resources = page.get_by_role("region", name="Affected resources")
    resources.get_by_text("Change affected resources").click()
    resources.get_by_role("checkbox", name=re.compile("acme-hooks-prod")).check()
    resources.get_by_role("button", name="Save resources").click()
    expect(page.get_by_role("region", name="Affected resources")).to_contain_text("Unhealthy")
    warning = page.get_by_role("region", name="Requester").get_by_role("note")
    expect(warning).to_contain_text("Pat Lee may not see acme-hooks-prod (affected resource)")
    _shot(page, "case-requester")
    assert list(Case.objects.get(pk=case.pk).affected_resources.all()) == [hooks]
    expect(page.locator("#timeline")).to_contain_text("acme-hooks-prod")


def test_waiting_asks_what_for_and_resolve_says_why_it_is_disabled(page, acme):
    case = CaseFactory(
        tenant=acme,
        subject="Export stuck at 99%",
        status=Status.IN_PROGRESS,
        unclassified=["issue_type", "environment"],
    )
    sign_in(page, "kari")
    page.goto(f"/cases/{case.key}/")
    actions = page.locator("#actions")
    resolve = actions.get_by_role("button", name="Resolve")
    expect(resolve).to_be_disabled()
    expect(actions).to_contain_text("Set issue type, environment to resolve")

    # Wait on the customer: the menu asks what for.
    actions.get_by_text("Wait on customer…").click()
    actions.get_by_label("Reproduction steps").check()
    _shot(page, "case-waiting-menu")
    actions.get_by_role("button", name="Wait on customer", exact=True).click()
    header = page.locator(".case-header")
    expect(header).to_contain_text("Waiting on customer")
    expect(header).to_contain_text("for reproduction steps")
    expect(page.locator("#timeline")).to_contain_text("waiting for reproduction steps")
    _shot(page, "case-waiting")
    page.goto("/cases/?status=waiting_on_customer")
    expect(page.locator("#queue-results tr", has_text="Export stuck")).to_contain_text("for reproduction steps")

    # Set the classification: Resolve is enabled and works.
    page.goto(f"/cases/{case.key}/")
    page.get_by_role("button", name="Resume work").click()
    expect(page.locator(".case-header")).not_to_contain_text("for reproduction steps")
    classification = page.get_by_role("region", name="Classification")
    classification.get_by_label("Issue type").select_option("bug")
    classification.get_by_label("Environment").select_option("production")
    classification.get_by_role("button", name="Save classification").click()
    resolve = page.locator("#actions").get_by_role("button", name="Resolve")
    expect(resolve).to_be_enabled()
    resolve.click()
    expect(page.locator(".case-header")).to_contain_text("Resolved")
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.unclassified == []
