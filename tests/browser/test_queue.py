"""The triage queue in Debian's Chromium at 1440×900 (issue 9, points 1, 2, 8, 9, 10, 19): saving the
view filtered in place, the active-filter pills, density and columns, people's names and the
type-to-search assign dropdown, opening a case from anywhere on its row, bulk changes in place, the
help, the favicon, and the tenant console's Cases panel."""

import re

import pytest
from playwright.sync_api import expect

from cases.choices import Priority, Status
from cases.models import Case, SavedView
from tests.browser.conftest import sign_in
from tests.factories import CaseFactory, TagFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECTS = [
    "Webhook deliveries to our EU endpoint are failing with TLS handshake errors since the weekend",
    "CLI `companyos support create` fails with 'no tenant context' on a fresh install",
    "Rate limit hit at a fraction of our plan's quota when exporting invoices overnight",
    "Our staging API key works but the production key returns 403 for the same calls",
    "Queue backlog growing on the eu-north ingest pipeline, events arrive 90 minutes late",
]


@pytest.fixture
def wide(browser, live_server, settings):
    """A page at the 1440×900 screen the issue was reported on."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def demo_like():
    """A demo-sized queue: long tenant names of every tier, long subjects with two or three tags,
    owners with full names, in teams."""
    tenants = [
        TenantFactory(name="Globex Corporation", slug="globex", support_tier="enterprise"),
        TenantFactory(name="Acme Corp", slug="acme", support_tier="premium"),
        TenantFactory(name="Nordic Freight AS", slug="nordic", support_tier="standard"),
    ]
    tier1 = TeamFactory(name="Tier 1", slug="tier-1")
    sre = TeamFactory(name="SRE", slug="sre")
    kari = UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=tenants)
    ola = UserFactory(username="ola", first_name="Ola", last_name="Hansen", role="agent", tenants=tenants)
    jordan = UserFactory(username="jkim", first_name="Jordan", last_name="Kim", role="SRE")
    tier1.members.add(kari, ola)
    sre.members.add(jordan)
    tags = [TagFactory(name=n) for n in ("billing", "customer-config", "trace-bundle", "regression", "rate-limit")]
    statuses = [Status.NEW, Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER]
    for i in range(40):
        CaseFactory(
            tenant=tenants[i % 3],
            subject=SUBJECTS[i % len(SUBJECTS)],
            priority=[Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW][i % 4],
            status=statuses[i % 4],
            owner=[kari, ola, jordan, None][i % 4],
            tags=tags[i % 5 : i % 5 + 3],
        )
    return {"tenants": tenants, "kari": kari, "ola": ola}


def _choose(page, chip: str, option: str):
    page.locator("details.chip", has_text=chip).locator("summary").click()
    page.get_by_label(option, exact=True).check()
    page.keyboard.press("Escape")


def test_save_current_view_saves_the_filters_set_in_place(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    _choose(page, "Priority", "Critical")
    expect(page).to_have_url(re.compile(r"/cases/\?priority=critical$"))
    page.get_by_label("Search", exact=True).press_sequentially("webhook")
    expect(page).to_have_url(re.compile(r"/cases/\?q=webhook&priority=critical$"))

    page.get_by_text("+ Save current view").click()
    page.get_by_placeholder("Name this view").fill("Critical webhooks")
    page.get_by_role("button", name="Save view").click()
    expect(page).to_have_url(re.compile(r"/cases/\?q=webhook&priority=critical$"))
    assert SavedView.objects.get(name="Critical webhooks").query == "q=webhook&priority=critical"

    page.goto("/cases/")
    page.get_by_role("link", name="Critical webhooks").click()
    expect(page).to_have_url(re.compile(r"/cases/\?q=webhook&priority=critical$"))
    pills = page.get_by_role("list", name="Active filters")
    expect(pills.get_by_role("link")).to_have_text(["Search: “webhook” ×", "Priority: Critical ×", "Clear all"])
    expect(page.get_by_label("Search", exact=True)).to_have_value("webhook")
    expect(page.locator("#queue-filters-chip-priority")).to_have_text("Priority 1")
    expect(page.locator(".view-list li.current")).to_contain_text("Critical webhooks")
    rows = page.locator("[data-queue] tbody tr")
    expect(rows).to_have_count(Case.objects.filter(priority=Priority.CRITICAL, subject__icontains="webhook").count())


def test_active_filters_are_pills_that_follow_every_swap(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    _choose(page, "Priority", "Critical")
    _choose(page, "Tenant", "Globex Corporation")
    expect(page).to_have_url(re.compile(r"/cases/\?priority=critical&tenant=globex$"))  # no empty parameters
    pills = page.get_by_role("list", name="Active filters")
    expect(pills.get_by_role("link")).to_have_text(
        ["Priority: Critical ×", "Tenant: Globex Corporation ×", "Clear all"]
    )
    expect(page.locator("#queue-filters-chip-tenant")).to_have_text("Tenant 1")

    # Remove one pill: the list, the address, the chip and its checkbox all follow …
    pills.get_by_role("link", name="Remove filter Priority: Critical").click()
    expect(page).to_have_url(re.compile(r"/cases/\?tenant=globex$"))
    expect(pills.get_by_role("link")).to_have_text(["Tenant: Globex Corporation ×"])
    expect(page.locator("#queue-filters-chip-priority")).to_have_text("Priority")
    expect(page.get_by_label("Critical", exact=True)).not_to_be_checked()
    # … so the next filter change does not bring the removed one back.
    _choose(page, "Priority", "High")
    expect(page).to_have_url(re.compile(r"/cases/\?priority=high&tenant=globex$"))
    expect(pills.get_by_role("link")).to_have_text(["Priority: High ×", "Tenant: Globex Corporation ×", "Clear all"])

    # A sort link re-renders the filter bar too: its Sort select says what the address says.
    page.get_by_role("link", name="SLA", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cases/\?priority=high&tenant=globex&sort=sla$"))
    expect(page.locator("#id_sort")).to_have_value("sla")

    # The bulk bar came with the page and stayed through every swap (hx-preserve): select a row of
    # the swapped results and it offers the assignees, grouped by team, and the macro menu.
    page.locator("[data-queue] tbody tr").first.get_by_role("checkbox").check()
    bar = page.locator("[data-bulk-bar]")
    expect(bar).to_have_class(re.compile(r"has-selection"))
    expect(bar.get_by_label("Assignee", exact=True).locator("optgroup")).to_have_count(2)
    expect(bar.locator("[data-selected-count]")).to_have_text("1 selected")
    page.screenshot(path="/tmp/queue_bulk_after_swaps.png")


def _fully_visible_rows(page) -> int:
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-queue] tbody tr')].filter((r) => {
               const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= window.innerHeight; }).length"""
    )


def test_twenty_one_line_rows_fit_a_1440x900_screen_and_density_is_remembered(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    expect(page.locator("[data-queue] tbody tr")).to_have_count(40)
    # Measured once the lazy fragments are in (these 40 new cases share subjects, so the incidents
    # app's possible-incident hints show above the rows: they take one line).
    page.wait_for_load_state("networkidle")
    expect(page.locator("[data-queue-hint]").first).to_be_visible()
    assert _fully_visible_rows(page) >= 20
    heights = page.evaluate("() => [...document.querySelectorAll('[data-queue] tbody tr')].map((r) => r.offsetHeight)")
    assert len(set(heights)) == 1 and heights[0] <= 32  # every row one line, long subjects and tags cut
    subject = page.locator("[data-queue] tbody tr td.subject a").first
    expect(subject).to_have_attribute("title", re.compile(r"\w{3,}"))  # the whole subject on hover
    expect(page.locator("[data-queue] tbody tr td.tenant .tier").first).to_have_text(re.compile(r"^(Ent|Prem|Std)$"))

    page.get_by_role("button", name="Comfortable").click()
    expect(page.locator("#queue-results")).to_have_class(re.compile(r"density-comfortable"))
    assert page.evaluate("() => document.querySelector('[data-queue] tbody tr').offsetHeight") > heights[0]
    page.reload()
    expect(page.locator("#queue-results")).to_have_class(re.compile(r"density-comfortable"))  # remembered
    expect(page.get_by_role("button", name="Comfortable")).to_have_attribute("aria-pressed", "true")


def test_columns_are_chosen_per_view_and_saved_with_it(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    head = page.locator("[data-queue] thead th")
    expect(head).to_have_text(["", "SLA", "Key", "Subject", "Tenant", "Priority", "Status", "Owner", "Updated", "Age"])
    page.locator("details.chip", has_text="Columns").locator("summary").click()
    page.get_by_label("Requester", exact=True).check()
    expect(page).to_have_url(re.compile(r"cols=requester&cols=updated&cols=created$"))
    page.get_by_label("Updated", exact=True).uncheck()
    expect(page).to_have_url(re.compile(r"/cases/\?cols=requester&cols=created$"))
    page.keyboard.press("Escape")
    expect(head).to_have_text(
        ["", "SLA", "Key", "Subject", "Tenant", "Priority", "Status", "Owner", "Requester", "Age"]
    )

    page.get_by_text("+ Save current view").click()
    page.get_by_placeholder("Name this view").fill("With requester")
    page.get_by_role("button", name="Save view").click()
    assert SavedView.objects.get(name="With requester").columns == ["requester", "created"]
    page.goto("/cases/")
    expect(head.filter(has_text="Requester")).to_have_count(0)
    page.get_by_role("link", name="With requester").click()
    expect(head).to_have_text(
        ["", "SLA", "Key", "Subject", "Tenant", "Priority", "Status", "Owner", "Requester", "Age"]
    )


def test_full_names_type_to_search_assign_and_counts_refresh_after_bulk(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    owner = page.locator("[data-queue] tbody td.owner .person", has_text="Kari Nordmann").first
    expect(owner).to_have_attribute("title", "kari")
    expect(page.locator("[data-queue] tbody td.owner", has_text=re.compile(r"^kari$"))).to_have_count(0)
    mine = page.locator("#saved-views li", has_text="My open cases").locator(".count")
    expect(mine).to_have_text("10")

    page.evaluate("() => { window.notReloaded = true; }")
    row = page.locator("[data-queue] tbody tr", has=page.locator("td.owner", has_text="Jordan Kim")).first
    row.get_by_role("checkbox").check()
    expect(page).not_to_have_url(re.compile(r"/cases/CS-"))  # the checkbox selects, it does not open
    bar = page.locator("[data-bulk-bar]")
    assignee = bar.get_by_label("Assignee", exact=True)
    groups = assignee.locator("optgroup")
    expect(groups).to_have_count(2)
    assert [groups.nth(i).get_attribute("label") for i in range(2)] == ["SRE", "Tier 1"]  # by team
    bar.get_by_label("Find assignee").fill("kari")
    expect(assignee).to_have_value("kari")
    bar.get_by_role("button", name="Apply…").click()
    expect(page.locator("#bulk-dialog")).to_contain_text("Assign to Kari Nordmann — 1 case will change")
    page.get_by_role("button", name="Change 1 case").click()
    expect(page.locator("#messages")).to_contain_text("1")
    expect(mine).to_have_text("11")  # the sidebar's counts reload after the bulk change …
    assert page.evaluate("() => window.notReloaded") is True  # … in place, without a page load
    expect(page.locator("#bulk-dialog")).to_be_empty()


def test_case_page_assign_dropdown_is_grouped_by_team_with_type_to_search(wide, demo_like):
    page = wide
    case = Case.objects.filter(owner=demo_like["ola"]).first()
    sign_in(page, "kari")
    page.goto(case.get_absolute_url())
    expect(page.locator(".case-header [data-owner] .person")).to_have_text("Ola Hansen")
    expect(page.locator(".case-header [data-owner] .person")).to_have_attribute("title", "ola")
    page.get_by_text("Assign…").click()
    owner = page.locator("#assign-owner")
    expect(owner).to_have_value("ola")
    labels = owner.locator("optgroup").evaluate_all("(gs) => gs.map((g) => g.label)")
    assert labels == ["SRE", "Tier 1"]
    page.get_by_label("Find owner").fill("nordm")
    expect(owner).to_have_value("kari")
    expect(owner.locator("option", has_text="Ola Hansen")).to_be_hidden()
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".case-header [data-owner]")).to_have_text("Kari Nordmann")
    case.refresh_from_db()
    assert case.owner == demo_like["kari"]


def test_a_click_anywhere_on_a_row_opens_the_case_and_a_modifier_click_a_new_tab(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    first = page.locator("[data-queue] tbody tr").first
    href = first.get_attribute("data-href")
    with page.context.expect_page() as new_tab:
        first.locator("td.tenant").click(modifiers=["Control"])
    new_tab.value.wait_for_load_state()
    assert new_tab.value.url.endswith(href)
    expect(page).to_have_url(re.compile(r"/cases/$"))  # this tab stays on the queue
    new_tab.value.close()
    with page.context.expect_page() as middle:
        first.locator("td.owner").click(button="middle")
    middle.value.wait_for_load_state()
    assert middle.value.url.endswith(href)
    middle.value.close()
    first.locator("td.tenant").click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))


def test_help_lists_the_a_shortcut_and_the_favicon_is_served(wide, demo_like):
    page = wide
    sign_in(page, "kari")
    page.locator("body").click(position={"x": 5, "y": 600})
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Assign the open case to me (take it)")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(icon)
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")


def test_tenant_console_cases_panel_lists_the_open_cases_it_counts(wide, demo_like):
    page = wide
    UserFactory(username="mona", role="manager")
    acme = demo_like["tenants"][1]
    CaseFactory(tenant=acme, status=Status.RESOLVED, subject="Resolved last week")
    CaseFactory(tenant=acme, status=Status.CLOSED, subject="Closed long ago")
    open_count = Case.objects.filter(tenant=acme).open().count()
    sign_in(page, "mona")
    page.goto("/tenants/acme/")
    panel = page.locator("#panel-cases")
    expect(panel.locator(".tpanel-summary").first).to_contain_text(f"{open_count} open")
    expect(panel.locator("#queue-count")).to_have_text(f"{open_count} cases")  # the list agrees
    expect(panel.locator("[data-queue] tbody tr")).to_have_count(min(open_count, 15))
    expect(panel).not_to_contain_text("Resolved last week")
    expect(panel.locator("th", has_text="Tenant")).to_have_count(0)
    expect(panel.get_by_role("link", name="all cases, resolved and closed too")).to_be_visible()
    boxes = panel.evaluate(
        """(p) => [p, ...p.querySelectorAll('*')].filter((e) => {
               const s = getComputedStyle(e);
               return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1;
           }).length"""
    )
    assert boxes == 0  # no box scrolling inside the panel
