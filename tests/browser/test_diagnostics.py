"""Trace bundles in Debian's Chromium: a senior agent records the tenant's telemetry consent on the
case page, uploads a bundle, watches the inspection finish, opens the report (the failed span, the
waterfall, the remediation and its runbook), is told why a bundle stored in clear (before encryption
was required) cannot be downloaded until `bundles_reencrypt` has run, and finds the evidence on the
linked incident."""

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from cases.choices import Status
from demo import bundles
from incidents import services as incident_services
from runbooks.models import ErrorCode, Runbook, TraceBundle
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("DIAGNOSTICS_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_consent_upload_inspection_report_and_evidence_on_the_incident(page, tmp_path):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    sven = UserFactory(username="sven", role="senior agent", tenants=[acme])
    case = CaseFactory(
        tenant=acme,
        requester=RequesterFactory(tenant=acme, name="Jo Doe"),
        subject="Checkout fails with a timeout",
        status=Status.IN_PROGRESS,
    )
    incident = incident_services.incident_declare(
        actor=sven, title="Payments timeouts", severity="SEV2", tenants=[acme]
    )
    incident_services.incident_link_cases(incident_id=incident.pk, actor=sven, case_ids=[case.pk])
    runbook = Runbook.objects.create(title="Payment gateway timeouts", slug="gateway-timeouts")
    ErrorCode.objects.create(
        code=bundles.ERROR_CODE,
        title="Upstream timeout",
        remediation="Retry with the idempotency key; check the provider's status page.",
        runbook=runbook,
    )
    path = tmp_path / bundles.NAME
    path.write_bytes(bundles.bundle_bytes())

    sign_in(page, "sven")
    page.goto(f"/cases/{case.key}/")
    card = page.locator("#diagnostics-panel")
    expect(card).to_contain_text("No telemetry consent on record")
    card.get_by_label("The customer's confirmation").fill("E-mail from Acme's admin, 2 Nov")
    card.get_by_role("button", name="Record telemetry consent").click()
    expect(card.locator("[data-consent-recorded]")).to_contain_text("recorded by sven")
    expect(card.locator("[data-consent-recorded]")).to_contain_text("E-mail from Acme's admin")

    card.locator("#bundle-file").set_input_files(str(path))
    card.get_by_role("button", name="Upload and inspect").click()
    item = card.locator(f"li[data-bundle='{bundles.NAME}']")
    expect(item).to_have_attribute("data-status", "ok", timeout=20_000)
    expect(card.locator("[data-evidence-item='bundle_report']")).to_contain_text(incident.key)
    _shot(page, "case-diagnostics-card")
    if SHOTS:
        card.screenshot(path=os.path.join(SHOTS, "case-diagnostics-card-only.png"))

    item.get_by_role("link", name=bundles.NAME).click()
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "ok")
    expect(page.locator("[data-failed-spans]")).to_contain_text("gateway.outbound")
    expect(page.locator("[data-waterfall] tr.failed")).to_contain_text("gateway.outbound")
    codes = page.locator("[data-error-codes]")
    expect(codes.locator("[data-remediation]")).to_contain_text("Retry with the idempotency key")
    expect(codes.get_by_role("link", name="Payment gateway timeouts")).to_be_visible()
    expect(page.locator("[data-chart='queue_depth']")).to_contain_text("rising")
    _shot(page, "bundle-report")

    # A bundle stored in clear before encryption was required cannot be downloaded until an
    # administrator runs bundles_reencrypt; the report page says so, and afterwards it downloads.
    report_url = page.url
    bundle = TraceBundle.objects.get(case=case)
    stored = Path(settings.MEDIA_ROOT) / "bundles" / bundle.storage_name
    stored.write_bytes(bundles.bundle_bytes())
    page.locator("[data-download]").click()
    expect(page.locator("body")).to_contain_text("manage.py bundles_reencrypt")
    _shot(page, "bundle-download-in-clear")
    call_command("bundles_reencrypt", stdout=io.StringIO())
    assert not stored.exists()
    page.goto(report_url)
    with page.expect_download() as download:
        page.locator("[data-download]").click()
    assert Path(download.value.path()).read_bytes() == bundles.bundle_bytes()

    page.goto(incident.get_absolute_url())
    expect(page.locator("body")).to_contain_text(f"Evidence from {case.key}: Trace bundle report")
    _shot(page, "incident-evidence")
