"""An admin erases a contact from the erasure page: finds them, reads what it does, gives a reason,
types their address and erases them (issue 18, point 4); the retention page links there."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from cases.erasure_models import Erasure
from tests.browser.conftest import sign_in
from tests.factories import RequesterFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_an_admin_erases_a_contact(page, admin_user, tenant_a):
    ada = RequesterFactory(tenant=tenant_a, name="Ada Lovelace", email="ada@acme.example")
    csp = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, "root")
    page.goto("/retention/")
    page.get_by_role("link", name="Erase a contact").click()
    page.get_by_label("E-mail address or name").fill("ada@acme")
    page.get_by_role("button", name="Find").click()
    row = page.get_by_role("row", name="Ada Lovelace")
    expect(row).to_contain_text("Acme Corp")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/erasure-find.png", full_page=True)
    row.get_by_role("link", name="Erase…").click()
    expect(page.get_by_role("heading", name="Erase Ada Lovelace")).to_be_visible()
    page.get_by_label("Why (the request and its reference)").fill("GDPR request DPO-7 of 2026-12-01")
    page.get_by_label("Confirm: type ada@acme.example").fill("wrong@acme.example")
    page.get_by_role("button", name="Erase this contact").click()
    expect(page.get_by_role("alert")).to_contain_text("not this contact’s e-mail address")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/erasure-confirm.png", full_page=True)
    page.get_by_label("Confirm: type ada@acme.example").fill("ada@acme.example")
    page.get_by_role("button", name="Erase this contact").click()
    expect(page.get_by_text(f"Erased contact {ada.pk}: 0 case(s)")).to_be_visible()
    expect(page.get_by_role("table").last).to_contain_text("GDPR request DPO-7 of 2026-12-01")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/erasure-done.png", full_page=True)
    assert Erasure.objects.get().reason == "GDPR request DPO-7 of 2026-12-01"
    assert csp == []
