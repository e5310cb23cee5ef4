"""The queue's address, active-filter pills, density, columns, people's names, bulk in place and the
tenant console's Cases panel, on the server side (the browser side is tests/browser/test_queue.py)."""

import re

import pytest
from django.http import QueryDict

from cases.choices import Priority, Status
from cases.filtersets import clean_query
from cases.models import SavedView
from companyos.models import Profile
from tests.conftest import login
from tests.factories import CaseFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-results", "HTTP_HX_TRIGGER": "queue-filters"}


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("q=&priority=critical&tenant=globex&owner=&created_after=&sort=priority", "priority=critical&tenant=globex"),
        ("tenant=globex&priority=critical&page=3", "priority=critical&tenant=globex"),
        ("q=+&status=open&stray=1&sort=sla", "status=open&sort=sla"),
        ("priority=high&priority=high", "priority=high"),
        ("cols=none&cols=updated&cols=created", ""),  # the default columns
        ("cols=none", "cols=none"),  # every optional column off
        ("cols=none&cols=team&cols=requester", "cols=requester&cols=team"),
    ],
)
def test_clean_query(raw, clean):
    assert clean_query(QueryDict(raw)) == clean


def test_a_full_load_of_a_dirty_address_redirects_to_the_clean_one(agent):
    response = login(agent).get("/cases/?q=&priority=critical&owner=&sort=priority&page=2")
    assert response.status_code == 302 and response["Location"] == "/cases/?priority=critical&page=2"
    assert login(agent).get("/cases/?priority=critical").status_code == 200


def test_htmx_swap_pushes_the_clean_address_and_updates_chips_and_saved_query(tenant_a, agent):
    response = login(agent).get("/cases/?q=&priority=critical&priority=high&owner=&sort=priority", **HX)
    assert response["HX-Push-Url"] == "/cases/?priority=critical&priority=high"
    body = response.content.decode()
    # "+ Save current view" saves this query, not the one the page was first loaded with
    assert re.search(
        r'<input type="hidden" name="query" value="priority=critical&amp;priority=high" id="view-query"'
        r' hx-swap-oob="true">',
        body,
    )
    assert re.search(
        r'<summary id="queue-filters-chip-priority" hx-swap-oob="true" class="active">Priority <b>2</b></summary>', body
    )
    assert 'id="queue-filters"' not in body  # from the filter bar itself: the bar is left as it is


def test_a_swap_from_elsewhere_brings_the_filter_bar_along(tenant_a, agent):
    # a pill, the sort links and the pager are not the filter bar: its inputs must follow the address
    response = login(agent).get("/cases/?priority=high&sort=sla", **{**HX, "HTTP_HX_TRIGGER": ""})
    body = response.content.decode()
    form = re.search(r'<form id="queue-filters"[^>]*hx-swap-oob="true".*?</form>', body, re.S).group(0)
    assert re.search(r'name="priority" value="high" checked', form)
    assert re.search(r'<option value="sla" selected>', form)


def test_pills_show_each_active_filter_with_its_value_and_remove_it(tenant_a, tenant_b, manager):
    team = TeamFactory(name="Tier 2", slug="tier-2")
    body = login(manager).get(f"/cases/?priority=critical&tenant=globex&tenant=acme&team={team.slug}&q=500", **HX)
    text = body.content.decode()
    labels = re.findall(r'aria-label="Remove filter ([^"]+)"', text)
    # in the filter bar's order, each value by its name
    assert labels == ["Search: “500”", "Priority: Critical", "Tenant: Globex", "Tenant: Acme Corp", "Team: Tier 2"]
    removes = dict(re.findall(r'<a class="pill" href="/cases/\?([^"]*)"[^>]*aria-label="Remove filter ([^"]+)"', text))
    removes = {label: query.replace("&amp;", "&") for query, label in removes.items()}
    assert removes["Tenant: Globex"] == "q=500&priority=critical&tenant=acme&team=tier-2"
    assert removes["Priority: Critical"] == "q=500&tenant=globex&tenant=acme&team=tier-2"


def test_owner_pill_names_the_person(tenant_a, manager):
    UserFactory(username="ola", first_name="Ola", last_name="Nordmann")
    text = login(manager).get("/cases/?owner=ola", **HX).content.decode()
    assert 'aria-label="Remove filter Owner: Ola Nordmann"' in text


def test_saving_a_view_stores_the_clean_query_and_its_columns(tenant_a, agent):
    client = login(agent)
    response = client.post(
        "/cases/views/",
        {"name": "Crit, with requester", "query": "q=&priority=critical&owner=&cols=none&cols=requester&page=2"},
    )
    view = SavedView.objects.get(name="Crit, with requester")
    assert (view.query, view.columns) == ("priority=critical", ["requester"])
    assert response["Location"] == "/cases/?priority=critical&cols=requester"
    CaseFactory(tenant=tenant_a, priority=Priority.CRITICAL)
    page = client.get(response["Location"]).content.decode()
    heads = re.findall(r'<th class="c-(\w+)"', page)
    assert "requester" in heads and "updated" not in heads and "created" not in heads
    # the sidebar links to the view with its columns, and marks it as the current one
    counts = client.get("/cases/views/counts/?current=priority%3Dcritical%26cols%3Drequester").content.decode()
    assert re.search(r'<li class="current" data-view-query="priority=critical&amp;cols=requester">', counts)


def test_a_view_with_the_default_columns_stores_none(tenant_a, agent):
    login(agent).post("/cases/views/", {"name": "Plain", "query": "status=open&cols=none&cols=updated&cols=created"})
    assert SavedView.objects.get(name="Plain").columns == []


def test_density_is_remembered_on_the_profile(tenant_a, agent):
    CaseFactory(tenant=tenant_a)
    client = login(agent)
    assert 'class="results density-compact"' in client.get("/cases/").content.decode()
    response = client.post(
        "/cases/display/", {"density": "comfortable", "next": "/cases/?priority=medium"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'class="results density-comfortable"' in response.content.decode()
    assert Profile.objects.get(user=agent).density == "comfortable"
    assert 'class="results density-comfortable"' in client.get("/cases/").content.decode()
    assert client.post("/cases/display/", {"density": "huge"}).status_code == 400
    assert client.post("/cases/display/", {"density": "compact", "next": "/cases/?tenant=acme"})["Location"] == (
        "/cases/?tenant=acme"
    )


def test_rows_show_full_names_tier_badge_and_assignees_grouped_by_team(tenant_a, agent):
    agent.first_name, agent.last_name = "Kari", "Nordmann"
    agent.save()
    tier1 = TeamFactory(name="Tier 1", slug="tier-1")
    tier1.members.add(agent)
    UserFactory(username="zed", first_name="Zed", last_name="Ahmed")
    CaseFactory(tenant=tenant_a, owner=agent, subject="Webhooks are not retried")
    body = login(agent).get("/cases/").content.decode()
    assert '<span class="person" title="kari">Kari Nordmann</span>' in body
    assert re.search(r'<span class="tier tier-standard" title="Standard support">Std</span>', body)
    assert '<a href="/cases/CS-' in body and 'title="Webhooks are not retried"' in body  # one line, whole text on hover
    options = re.search(r'<select name="owner"[^>]*data-searchable[^>]*>(.*?)</select>', body, re.S).group(1)
    assert re.search(
        r'<optgroup label="Tier 1"><option value="kari" title="kari">Kari Nordmann</option></optgroup>', options
    )
    assert re.search(r'<optgroup label="No team">.*<option value="zed" title="zed">Zed Ahmed</option>', options)


def test_case_page_names_the_owner_and_groups_the_assign_dropdown(tenant_a, agent, other_agent):
    other_agent.first_name, other_agent.last_name = "Ana", "Silva"
    other_agent.save()
    TeamFactory(name="Tier 2", slug="tier-2").members.add(other_agent)
    outsider = UserFactory(username="outsider", first_name="Out", last_name="Sider", role="agent")  # no grant
    case = CaseFactory(tenant=tenant_a, owner=other_agent)
    body = login(agent).get(f"/cases/{case.key}/").content.decode()
    assert '<b data-owner><span class="person" title="ana">Ana Silva</span></b>' in body
    select = re.search(r'<select id="assign-owner"[^>]*data-searchable>(.*?)</select>', body, re.S).group(1)
    assert re.search(r'<optgroup label="Tier 2"><option value="ana" title="ana" selected>Ana Silva</option>', select)
    assert outsider.username not in select  # only people who may see the tenant


def test_bulk_in_place_flashes_and_asks_the_page_to_reload_results_and_counts(tenant_a, agent):
    cases = CaseFactory.create_batch(2, tenant=tenant_a, status=Status.NEW)
    response = login(agent).post(
        "/cases/bulk/",
        {"ids": ",".join(str(c.pk) for c in cases), "action": "tag", "tag": "vip", "confirm": "on", "next": "/cases/"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "cases-changed"
    assert (
        '<div hx-swap-oob="beforeend:#messages"><div class="flash flash-success" role="status">'
        in response.content.decode()
    )
    page = login(agent).get("/cases/").content.decode()
    assert 'hx-trigger="cases-changed from:body"' in page  # the results listen
    counts = login(agent).get("/cases/views/counts/").content.decode()
    assert 'hx-trigger="cases-changed from:body" hx-include="#view-query"' in counts  # and so do the counts


def test_help_lists_the_a_shortcut_and_the_page_links_a_favicon(agent):
    body = login(agent).get("/cases/").content.decode()
    assert "<dt>a</dt><dd>Assign the open case to me (take it)</dd>" in body
    assert re.search(r'<link rel="icon" href="/static/favicon\.svg" type="image/svg\+xml">', body)


# --- the tenant console's Cases panel ------------------------------------------------------------


def test_console_cases_panel_lists_the_open_cases_its_count_counts(tenant_a, manager):
    other = TenantFactory(name="Other", slug="other")
    CaseFactory.create_batch(3, tenant=tenant_a, status=Status.IN_PROGRESS)
    CaseFactory(tenant=tenant_a, status=Status.RESOLVED, subject="Already resolved")
    CaseFactory(tenant=tenant_a, status=Status.CLOSED, subject="Long closed")
    CaseFactory(tenant=other)
    client = login(manager)
    panel = client.get("/tenants/acme/panels/cases/", HTTP_HX_REQUEST="true").content.decode()
    assert "<b>3</b> open" in panel
    url = re.search(r'id="queue-results" class="results" hx-get="([^"]+)"', panel).group(1).replace("&amp;", "&")
    assert "status=all" not in url
    assert 'href="/cases/?tenant=acme&amp;status=all&amp;sort=newest"' in panel  # a link to all of them
    listing = client.get(
        url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-results", HTTP_HX_CURRENT_URL="http://x/tenants/acme/"
    )
    body = listing.content.decode()
    assert len(re.findall(r'<tr data-href="/cases/CS-', body)) == 3
    assert "<b>3</b> cases" in body  # the list's count agrees with the panel's
    assert "Already resolved" not in body and "Long closed" not in body
    assert 'class="c-tenant"' not in body and 'name="id"' not in body and "data-bulk-bar" not in body
    assert "HX-Push-Url" not in listing and "hx-swap-oob" not in body


def test_console_cases_panel_pages_fifteen_at_a_time(tenant_a, manager):
    CaseFactory.create_batch(17, tenant=tenant_a)
    body = (
        login(manager)
        .get(
            "/cases/?tenant=acme&sort=sla",
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="queue-results",
            HTTP_HX_CURRENT_URL="http://x/tenants/acme/",
        )
        .content.decode()
    )
    assert len(re.findall(r"<tr data-href=", body)) == 15 and "Page 1 of 2" in body
    assert 'hx-push-url="false"' in body


def test_the_severity_column_shows_each_cases_impact_and_filters_by_it(tenant_a, agent):
    """Issue 13 point 4: the case's impact severity (Sev-1..3) is a queue column, beside the filter."""
    sev1 = CaseFactory(tenant=tenant_a, subject="Checkout down for everyone", severity="sev1")
    unset = CaseFactory(tenant=tenant_a, subject="A question about exports")
    client = login(agent)
    html = client.get("/cases/?cols=severity").content.decode()
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr data-href="/cases/(CS-\d+)/".*?</tr>', html, re.S)}
    assert '<th class="c-severity">Severity</th>' in html
    assert 'class="badge severity severity-sev1"' in rows[sev1.key] and "Sev-1" in rows[sev1.key]
    assert 'class="severity"><span class="muted">—</span>' in rows[unset.key]
    # Not a default column; and the filter narrows to the Sev-1 case.
    assert 'class="c-severity"' not in client.get("/cases/").content.decode()
    filtered = client.get("/cases/?severity=sev1&cols=severity").content.decode()
    assert sev1.key in filtered and unset.key not in filtered
