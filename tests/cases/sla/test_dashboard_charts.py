"""The SLA dashboard's charts and links (issue 9, finding 22): bar charts beside their tables, the
priority × segment matrix as a colour-scaled heat map with the numbers inside, every breach or
missed count linking to the queue filtered to exactly those cases, and the breach list paged.
Builds on the world of test_dashboard.py (cases through the real services on the default policies)."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import Status
from cases.models import SLAClock
from cases.sla.reports import Attainment, Row, bar_chart, heat_step
from tests.cases.sla.test_dashboard import HX, RANGE, world  # noqa: F401  (the fixture)
from tests.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
Kind = SLAClock.Kind


@pytest.fixture
def manager_client(world, manager):  # noqa: F811
    return login(manager)


def page(client, query: str = RANGE) -> str:
    response = client.get(f"/sla/?{query}")
    assert response.status_code == 200
    return response.content.decode()


def queue_keys(client, url: str) -> set[str]:
    response = client.get(htmllib.unescape(url))
    assert response.status_code == 200, url
    return set(re.findall(r'href="/cases/(CS-\d+)/"', response.content.decode()))


def links(html: str, kind: str) -> list[str]:
    return re.findall(rf'<a[^>]*href="(/cases/\?[^"]+)"[^>]*data-queue-link="{kind}"', html) + re.findall(
        rf'<a[^>]*data-queue-link="{kind}"[^>]*href="(/cases/\?[^"]+)"', html
    )


# --- pure: the geometry and the colour steps ------------------------------------------------------------------


def test_heat_steps_cover_every_percent():
    assert [heat_step(Decimal(v)) for v in ("0", "49.9", "50", "69.9", "70", "80", "90", "94.9", "95", "100")] == [
        0,
        0,
        1,
        1,
        2,
        3,
        4,
        4,
        5,
        5,
    ]
    assert heat_step(None) is None
    assert Attainment(6, 1).heat == 3 and Attainment().heat is None  # 85.7 % → 80–90


def test_bar_lengths_are_proportional_to_attainment():
    rows = [
        Row("a", "Alpha", first_response=Attainment(1, 1), resolution=Attainment(3, 0)),
        Row("b", "A tenant with a very long name indeed", first_response=Attainment(0, 0), resolution=Attainment(0, 2)),
    ]
    chart = bar_chart(rows, title="By tenant", width=460, label_width=150)
    plot = 460 - 150 - 44
    (fr_a, res_a), (fr_b, res_b) = (r["bars"] for r in chart["rows"])
    assert (fr_a["w"], res_a["w"]) == (round(plot * 0.5, 1), plot)
    assert fr_b["w"] == 0 and fr_b["text"] == "no data" and res_b["w"] == 0 and res_b["text"] == "0.0%"
    assert chart["rows"][1]["label"].endswith("…") and chart["rows"][1]["full"] == rows[1].label
    assert "Alpha, first response: 50.0% (1 met, 1 missed)" in chart["desc"]


# --- the page ------------------------------------------------------------------------------------------------


def test_bar_chart_beside_each_table_and_no_inline_style(manager_client):
    html = page(manager_client)
    for title in ("Attainment by priority", "Attainment by segment", "Attainment by tenant", "Attainment by team"):
        assert f'role="img" aria-label="{title}' in html, title
    assert html.count('class="bar bar-fr"') >= 4 + 2 + 2 + 2  # a bar per row of each chart
    assert re.search(r"<title>SMB, first response: [\d.]+% \(\d+ met, \d+ missed\)</title>", html)
    assert 'style="' not in html and "style='" not in html  # CSP: no inline style (colours are classes)


def test_matrix_is_a_heat_map_with_the_numbers_inside(manager_client):
    html = page(manager_client)
    grids = re.findall(r'<table class="sla-heat" data-kind="(\w+)">(.*?)</table>', html, re.S)
    assert [kind for kind, _ in grids] == ["first_response", "resolution"]
    fr = grids[0][1]
    # B: Enterprise critical, first response missed: 0 of 1 met, in the lowest colour step.
    title = "Critical · Enterprise, first response: 0 of 1 met"
    cell = re.search(rf'<td class="heat heat-(\d)" title="{title}">(.*?)</td>', fr, re.S)
    assert cell and cell.group(1) == "0" and "<b>0.0%</b>" in cell.group(2) and "1 missed" in cell.group(2)
    assert 'class="heat heat-none"' in fr  # a priority × segment without clocks
    assert "95% and over" in html and "below 50%" in html  # the legend of the colour scale


def test_missed_counts_link_to_exactly_those_cases(world, manager_client):  # noqa: F811
    c = world["cases"]
    html = page(manager_client)
    urls = {htmllib.unescape(u) for u in links(html, "missed")}
    assert urls, "no missed count links to the queue"
    for url in urls:
        assert url.startswith("/cases/?sla_missed=") and "status=all" in url
        assert "sla_from=2026-10-05" in url and "sla_to=2026-11-01" in url
    overall_fr = "/cases/?sla_missed=first_response&sla_from=2026-10-05&sla_to=2026-11-01&status=all"
    overall_res = overall_fr.replace("first_response", "resolution")
    assert overall_fr in urls and overall_res in urls
    # First response missed in the range: B (answered late) and D (never answered, past due now).
    assert queue_keys(manager_client, overall_fr) == {c["b"].key, c["d"].key}
    # Resolution missed: A (late, resolved) and G (paused past its target).
    assert queue_keys(manager_client, overall_res) == {c["a"].key, c["g"].key}
    # A row's own dimension narrows the link: critical → B only; Tier 2 → A; no team → B and D
    # (first response) and G (resolution).
    by_dim = {
        "priority=critical": {c["b"].key},
        "team=tier-2": {c["a"].key},
        "team=none": {c["b"].key, c["d"].key, c["g"].key},
        "tenant=bigbank": {c["b"].key},
        "segment=smb": None,
    }
    for dim, expected in by_dim.items():
        matching = [u for u in urls if u.endswith(dim) or f"{dim}&" in u]
        assert matching, f"no missed link for {dim}"
        if expected is not None:
            found = set().union(*(queue_keys(manager_client, u) for u in matching))
            assert found == expected, (dim, found)


def test_breached_count_links_to_the_queue_with_the_same_count(world, manager_client):  # noqa: F811
    html = page(manager_client, f"{RANGE}&segment=smb")
    breached = [htmllib.unescape(u) for u in links(html, "breached")]
    assert breached and breached[0] == "/cases/?sla=breached&segment=smb"
    tile = re.search(r'data-queue-link="breached"[^>]*>.*?<b class="sla-mid">(\d+)</b>', html, re.S).group(1)
    # D (never answered) and E (its customer update overdue since its reply), both Nordic (SMB).
    assert queue_keys(manager_client, breached[0]) == {world["cases"]["d"].key, world["cases"]["e"].key}
    assert tile == "2"
    at_risk = [htmllib.unescape(u) for u in links(html, "at_risk")][0]
    assert at_risk == "/cases/?sla=at_risk&segment=smb"


def test_the_queue_filters_missed_clocks_by_day_in_the_viewers_timezone(world, manager_client):  # noqa: F811
    # H's first response started 00:30 Oslo time on 5 Oct (22:30 UTC on the 4th) and was met; B's,
    # on 13 Oct, was missed. The range's first day alone holds neither missed clock.
    one_day = "/cases/?sla_missed=first_response&sla_from=2026-10-05&sla_to=2026-10-05&status=all"
    assert queue_keys(manager_client, one_day) == set()
    thirteenth = one_day.replace("10-05", "10-13")
    assert queue_keys(manager_client, thirteenth) == {world["cases"]["b"].key}
    # An absurd date is clamped, not a 500.
    assert manager_client.get(one_day.replace("sla_to=2026-10-05", "sla_to=9999-12-31")).status_code == 200


def test_breach_list_shows_every_breach_paged(world, manager_client, django_assert_max_num_queries):  # noqa: F811
    now = timezone.now()
    for i in range(55):
        CaseFactory(
            tenant=world["bank"],
            status=Status.NEW,
            sla_due_at=now - timedelta(minutes=i + 1),
            sla_clock=Kind.FIRST_RESPONSE,
        )
    html = page(manager_client)
    section = html[html.index('id="sla-breaches"') :]
    assert "1–50 of 58 shown" in section and "Page 1 of 2" in section
    assert len(re.findall(r'<td class="key"><a href="/cases/CS-\d+/">', section)) == 50
    first_page = set(re.findall(r'<td class="key"><a href="/cases/(CS-\d+)/">', section))
    assert 'rel="next"' in section and 'rel="prev"' not in section

    # The next page, as htmx asks for it: only the breach list, in two queries more than sign-in's.
    manager_client.get(f"/sla/?{RANGE}&page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sla-breaches")
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(f"/sla/?{RANGE}&page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sla-breaches")
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="panel sla-section" id="sla-breaches"')
    assert "51–58 of 58 shown" in body and "Page 2 of 2" in body and 'rel="prev"' in body
    second_page = set(re.findall(r'<td class="key"><a href="/cases/(CS-\d+)/">', body))
    assert len(second_page) == 8 and not first_page & second_page
    assert world["cases"]["risky"].key in second_page  # at risk: due last
    assert len(queries) <= 12, [q["sql"] for q in queries]

    # A full page load of page 2 (no JavaScript) shows it too; a page past the end shows the last.
    assert "51–58 of 58 shown" in page(manager_client, f"{RANGE}&page=2")
    assert "51–58 of 58 shown" in page(manager_client, f"{RANGE}&page=99")
    assert "1–50 of 58 shown" in page(manager_client, f"{RANGE}&page=abc")


@pytest.mark.parametrize("n", [3, 60])
def test_query_count_is_flat_with_many_breaches(world, manager_client, django_assert_max_num_queries, n):  # noqa: F811
    now = timezone.now()
    for i in range(n):
        CaseFactory(tenant=world["nordic"], status=Status.NEW, sla_due_at=now - timedelta(minutes=i + 1))
    page(manager_client)
    with django_assert_max_num_queries(18):
        page(manager_client)
    with django_assert_max_num_queries(18):
        page(manager_client, f"{RANGE}&page=2")
