"""Agent collision in Debian's Chromium (issue 9, point 21): two agents on one case see each other,
and the one who starts typing a reply is shown as typing to the other."""

import pytest
from playwright.sync_api import expect

from cases import presence
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_agents_on_one_case_see_each_other_and_who_is_typing(browser, live_server, page):
    acme = TenantFactory(name="Acme Corp", slug="acme")
    UserFactory(username="kari", role="agent", tenants=[acme], first_name="Kari", last_name="Nordmann")
    UserFactory(username="ana", role="agent", tenants=[acme], first_name="Ana", last_name="Lima")
    case = CaseFactory(tenant=acme, subject="Webhooks are not retried")
    other = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url).new_page()
    try:
        sign_in(page, "kari")
        page.goto(case.get_absolute_url())
        sign_in(other, "ana")
        other.goto(case.get_absolute_url())
        expect(other.locator("#presence")).to_contain_text("Kari Nordmann is viewing", timeout=12_000)
        expect(page.locator("#presence")).to_contain_text("Ana Lima is viewing", timeout=12_000)

        other.get_by_label("Message").press_sequentially("We are looking", delay=20)
        expect(page.locator("#presence")).to_contain_text("Ana Lima is typing a reply", timeout=12_000)
        page.screenshot(path="/tmp/presence.png")
    finally:
        other.context.close()
        presence.cache.delete(presence._key(case.pk))
