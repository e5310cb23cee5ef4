"""The report metrics against a small world computed by hand, the drill-down (every number's queue
link selects exactly the cases counted), the page, the CSV and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.choices import Category, Priority, Status
from cases.closure.models import AutoClose, Closure
from cases.reports import metrics, rollup
from cases.reports.filters import Filters
from cases.reports.models import ReportDirtyDay
from tenants.choices import Segment
from tests.conftest import login
from tests.factories import CaseFactory, TagFactory, TeamFactory, TenantFactory, UserFactory

FROM, TO = date(2026, 11, 2), date(2026, 11, 15)  # ISO weeks 45 and 46


def t(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


@pytest.fixture(params=["plain rows", "rollups"])
def world(request, db, tenant_a):
    """Every test runs twice: with the days still marked dirty (the report reads plain rows) and
    after the rollup sweep (it reads the daily rollups). Six cases in the range (one outside it,
    one before it for the growth), by hand:

    c1 acme critical email  2 Nov 09:00, responded +1 h, resolved +10 h, closed confirmed,
                            CSAT 5 NPS 10, tag sso
    c2 acme high     slack  3 Nov, responded +3 h, resolved, reopened 2 days later, resolved again
                            (resolved_at +80 h), closed auto, CSAT 2 NPS 4, tag sso
    c3 acme medium   email  9 Nov, responded +2 h, resolved, reopened 10 days later (past 7), in progress
    c4 ent  medium   web    10 Nov, no response, open (new)
    c5 ent  low      email  11 Nov, responded +6 h, resolved +20 h, closed unconfirmed, survey sent and
                            not answered, documentation, tag docs
    c6 ent   low      api    created 15 Nov 23:00, open
    x1 ent   created 16 Nov (after the range); p1 acme created 30 Oct, tag sso (previous period)
    """
    ent = TenantFactory(name="Initech", slug="initech", segment=Segment.ENTERPRISE)
    team = TeamFactory(name="Tier 1", slug="tier-1")
    kari = UserFactory(username="kari2", role="agent", first_name="Kari", last_name="N")
    sso, docs = TagFactory(name="sso"), TagFactory(name="docs")

    def case(tenant, day, priority, channel, *, hour=9, fr=None, res=None, status=Status.NEW, **kw):
        created = t(day, hour) if isinstance(day, int) else day
        c = CaseFactory(
            tenant=tenant,
            priority=priority,
            channel=channel,
            status=status,
            created_at=created,
            first_response_at=created + timedelta(hours=fr) if fr is not None else None,
            resolved_at=created + timedelta(hours=res) if res is not None else None,
            team=team,
            owner=kari,
            **kw,
        )
        return c

    c1 = case(tenant_a, 2, Priority.CRITICAL, "email", fr=1, res=10, status=Status.CLOSED, tags=[sso])
    c2 = case(tenant_a, 3, Priority.HIGH, "slack", fr=3, res=80, status=Status.CLOSED, tags=[sso])
    c3 = case(tenant_a, 9, Priority.MEDIUM, "email", fr=2, status=Status.IN_PROGRESS)
    c4 = case(ent, 10, Priority.MEDIUM, "web")
    c5 = case(
        ent, 11, Priority.LOW, "email", fr=6, res=20, status=Status.CLOSED, category=Category.DOCUMENTATION, tags=[docs]
    )
    c6 = case(ent, 15, Priority.LOW, "api", hour=23, status=Status.NEW)
    case(ent, 16, Priority.LOW, "email")
    case(tenant_a, datetime(2026, 10, 30, 9, tzinfo=UTC), Priority.LOW, "email", tags=[sso])

    # Resolutions (one AutoClose per resolution) and reopenings.
    AutoClose.objects.create(case=c1, resolved_at=t(2, 19), due_at=t(9, 19), state="closed")
    AutoClose.objects.create(case=c2, resolved_at=t(4, 15), due_at=t(11, 15), state="cancelled", reopened_at=t(6, 15))
    AutoClose.objects.create(case=c2, resolved_at=t(6, 17), due_at=t(13, 17), state="closed")
    AutoClose.objects.create(case=c3, resolved_at=t(9, 14), due_at=t(16, 14), state="cancelled", reopened_at=t(19, 14))
    AutoClose.objects.create(case=c5, resolved_at=t(12, 5), due_at=t(19, 5), state="closed")
    # Closings and surveys.
    sent = t(20)
    Closure.objects.create(
        case=c1,
        tenant=tenant_a,
        closed_at=t(3),
        how="confirmed",
        survey_sent_at=sent,
        csat=5,
        nps=10,
        first_answered_at=sent,
        answered_at=sent,
    )
    Closure.objects.create(
        case=c2,
        tenant=tenant_a,
        closed_at=t(13, 18),
        how="auto",
        survey_sent_at=sent,
        csat=2,
        nps=4,
        first_answered_at=sent,
        answered_at=sent,
    )
    Closure.objects.create(case=c5, tenant=ent, closed_at=t(12, 6), how="unconfirmed", survey_sent_at=sent)
    if request.param == "rollups":
        assert rollup.rollup_sweep().days == 8  # the eight days with cases, marked by the factory
        assert not ReportDirtyDay.objects.exists()
    return {"c": [c1, c2, c3, c4, c5, c6], "ent": ent, "team": team, "kari": kari}


def filters(**kw) -> Filters:
    return Filters(date_from=FROM, date_to=TO, tz=UTC, **kw)


def values(table, label):
    return next(r.values for r in table.rows if r.label == label)


@pytest.mark.django_db
def test_volume(world, manager):
    report = metrics.report(manager, filters())
    assert report.tiles["created"] == 6
    prio = report.table("volume_priority")
    assert [(r.label, r.values[0]) for r in prio.rows] == [
        ("P1 Critical", 1),
        ("P2 High", 1),
        ("P3 Medium", 2),
        ("P4 Low", 2),
    ]
    assert values(prio, "P3 Medium") == [2, Decimal("33.3")]
    assert {r.label: r.values[0] for r in report.table("volume_segment").rows} == {"SMB": 3, "Enterprise": 3}
    assert {r.label: r.values[0] for r in report.table("volume_channel").rows} == {
        "Email": 3,
        "Slack": 1,
        "Web": 1,
        "API": 1,
    }
    assert {r.label: r.values[0] for r in report.table("volume_tenant").rows} == {"Acme Corp": 3, "Initech": 3}
    weekly = report.table("volume_weekly")
    assert [(r.label, r.values) for r in weekly.rows] == [
        ("W45 (02 Nov)", [2, 1, 1, 0, 0]),
        ("W46 (09 Nov)", [4, 0, 0, 2, 2]),
    ]
    assert report.tiles["docs"] == 1


@pytest.mark.django_db
def test_times(world, manager):
    report = metrics.report(manager, filters())
    # First responses: 1, 3, 2, 6 h → mean 3.0, p50 2.5, p90 = 3 + 0.7 × 3 = 5.1.
    # Resolutions: 10, 80, 20 h → mean 36.7, p50 20, p90 = 20 + 0.8 × 60 = 68.
    assert report.tiles["mtta_h"] == Decimal("3.0") and report.tiles["mttr_h"] == Decimal("36.7")
    # The percentiles come from 5 % buckets: within 2.5 % of the exact value (cases.reports.cells).
    row = values(report.table("times_team"), "Tier 1")
    assert row[:3] == [6, 4, Decimal("3.0")] and row[5:7] == [3, Decimal("36.7")]
    for got, exact in zip(row[3:5] + row[7:9], (2.5, 5.1, 20.0, 68.0), strict=True):
        assert abs(float(got) - exact) <= exact * 0.025 + 0.05, (got, exact)
    assert values(report.table("times_agent"), "Kari N")[0] == 6
    dist = {r.label: r.values for r in report.table("times_distribution").rows}
    assert dist["< 1 h"][0] == 0 and dist["1–4 h"][0] == 3 and dist["4–24 h"][0] == 1
    assert dist["4–24 h"][2] == 2 and dist["1–3 days"][2] == 0 and dist["3–7 days"][2] == 1
    assert dist["1–4 h"][1] == Decimal("75.0")


@pytest.mark.django_db
def test_reopen_and_closings(world, manager):
    report = metrics.report(manager, filters())
    # 5 resolutions; 2 reopened (c2 after 2 days, c3 after 10): reopen 40 %, within 7 days 1 of 5 = 20 %.
    assert values(report.table("reopen"), "All") == [5, 2, Decimal("40.0"), 1, Decimal("20.0")]
    assert values(report.table("reopen"), "P2 High") == [2, 1, Decimal("50.0"), 1, Decimal("50.0")]
    assert report.tiles["reopen"]["within_rate"] == Decimal("20.0") and report.tiles["reopen"]["target_met"] is False
    closings = {r.label: r.values[0] for r in report.table("closures").rows}
    assert closings == {
        "confirmed by the customer": 1,
        "closed automatically": 1,
        "closed without the customer's confirmation": 1,
    }
    assert report.tiles["closing"] == {"closings": 3, "unconfirmed": 1}


@pytest.mark.django_db
def test_satisfaction(world, manager):
    report = metrics.report(manager, filters())
    # Sent 3, answered 2 (66.7 %), CSAT (5 + 2) / 2 = 3.50, satisfied 1 of 2 = 50 %,
    # NPS: 1 promoter and 1 detractor of 2 answers → 0.
    assert values(report.table("satisfaction"), "All") == [
        3,
        2,
        Decimal("66.7"),
        Decimal("3.50"),
        Decimal("50.0"),
        2,
        0,
    ]
    assert values(report.table("satisfaction"), "W46 (09 Nov)") == [1, 0, Decimal("0.0"), None, None, 0, None]
    assert report.tiles["satisfaction"]["low"] == 1


@pytest.mark.django_db
def test_themes_with_growth(world, manager):
    themes = metrics.report(manager, filters()).table("themes")
    assert values(themes, "#sso") == ["tag", 2, 1, Decimal("100.0")]
    assert values(themes, "#docs") == ["tag", 1, 0, None]
    assert values(themes, "Documentation") == ["category", 1, 0, None]
    assert values(themes, "Other") == ["category", 5, 1, Decimal("400.0")]


@pytest.mark.django_db
def test_backlog_age(manager):
    """Open cases now by age, whatever the date range; resolved and closed ones never count."""
    fresh = TenantFactory(name="Umbrella", slug="umbrella")
    now = timezone.now()
    for hours, status in (
        (2, Status.NEW),
        (30, Status.TRIAGE),
        (50, Status.WAITING_ON_CUSTOMER),
        (24 * 40, Status.IN_PROGRESS),
        (5, Status.RESOLVED),
        (24 * 50, Status.CLOSED),
    ):
        CaseFactory(tenant=fresh, status=status, created_at=now - timedelta(hours=hours))
    backlog = metrics.report(manager, filters(tenant_id=fresh.pk, tenant_slug=fresh.slug)).table("backlog_age")
    assert {r.label: r.values[0] for r in backlog.rows} == {
        "< 1 day": 1,
        "1–3 days": 2,
        "3–7 days": 0,
        "7–30 days": 0,
        "> 30 days": 1,
    }
    client = login(manager)
    assert _queue_keys(client, backlog.rows[0].url) and len(_queue_keys(client, backlog.rows[4].url)) == 1


@pytest.mark.django_db
def test_filters_narrow_every_number(world, manager):
    report = metrics.report(manager, filters(segment=Segment.ENTERPRISE))
    assert report.tiles["created"] == 3
    assert values(report.table("reopen"), "All") == [1, 0, Decimal("0.0"), 0, Decimal("0.0")]
    assert report.tiles["closing"] == {"closings": 1, "unconfirmed": 1}
    report = metrics.report(manager, filters(priority=Priority.HIGH, channel="slack"))
    assert report.tiles["created"] == 1


@pytest.mark.django_db
def test_an_agent_counts_only_the_tenants_granted(world, agent):
    report = metrics.report(agent, filters())
    assert report.tiles["created"] == 3  # tenant A only


def _queue_keys(client, url) -> set[str]:
    """The case keys the queue lists for `url` (one page of 50 is plenty here)."""
    response = client.get(url)
    assert response.status_code == 200
    return set(re.findall(r'<td class="key"><a href="[^"]*">([A-Za-z]+-\d+)</a>', response.content.decode()))


@pytest.mark.django_db
def test_every_number_drills_down_to_its_cases(world, manager):
    client = login(manager)
    report = metrics.report(manager, filters())
    c1, c2, c3, c4, c5, c6 = world["c"]
    key = lambda *cs: {c.key for c in cs}  # noqa: E731
    assert _queue_keys(client, report.tiles["created_url"]) == key(c1, c2, c3, c4, c5, c6)
    prio = report.table("volume_priority")
    assert _queue_keys(client, next(r.url for r in prio.rows if r.label == "P3 Medium")) == key(c3, c4)
    assert _queue_keys(
        client, next(r.url for r in report.table("volume_segment").rows if r.label == "Enterprise")
    ) == key(c4, c5, c6)
    assert _queue_keys(client, next(r.url for r in report.table("reopen").rows if r.label == "All")) == key(c2, c3)
    closings = {r.label: r.url for r in report.table("closures").rows}
    assert _queue_keys(client, closings["closed automatically"]) == key(c2)
    assert _queue_keys(client, next(r.url for r in report.table("satisfaction").rows if r.label == "All")) == key(
        c1, c2
    )
    assert _queue_keys(client, next(r.url for r in report.table("themes").rows if r.label == "#sso")) == key(c1, c2)
    weekly = report.table("volume_weekly")
    assert _queue_keys(client, weekly.rows[1].url) == key(c3, c4, c5, c6)


@pytest.mark.django_db
def test_page_csv_and_access(world, manager, agent):
    client = login(manager)
    page = client.get(f"/reports/?from={FROM}&to={TO}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Volume by priority" in text and "Reopen rate" in text and "CSAT and NPS" in text and "<svg" in text
    partial = client.get(f"/reports/?from={FROM}&to={TO}&segment=enterprise", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    export = client.get(f"/reports/export.csv?from={FROM}&to={TO}&table=volume_priority")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:3] == ["", "Cases", "Share %"] and rows[1][:2] == ["P1 Critical", "1"] and "/cases/?" in rows[1][3]
    assert client.get(f"/reports/export.csv?from={FROM}&to={TO}&table=nope").status_code == 400
    assert client.get("/reports/?from=2026-13-01").status_code == 200  # the form says what is wrong
    assert client.get("/reports/export.csv?from=bad").status_code == 400
    assert login(agent).get("/reports/").status_code == 403
    assert login(agent).get("/reports/export.csv").status_code == 403


@pytest.mark.django_db
def test_weekly_operations_report_page_csv_json(world, manager, agent):
    client = login(manager)
    page = client.get("/reports/weekly/?week=2026-W46")
    assert page.status_code == 200 and "Weekly operations report 2026-W46" in page.content.decode()
    rows = list(csv.reader(io.StringIO(client.get("/reports/weekly/?week=2026-W46&format=csv").content.decode())))
    assert rows[0] == ["week", "section", "metric", "value"]
    assert ["2026-W46", "volume", "cases created", "4"] in rows
    assert ["2026-W46", "closing", "closed without confirmation", "1"] in rows
    data = client.get("/reports/weekly/?week=2026-W45&format=json").json()
    assert data["week"] == "2026-W45" and data["from"] == "2026-11-02" and data["to"] == "2026-11-08"
    metrics_by_name = {m["metric"]: m["value"] for m in data["metrics"]}
    assert metrics_by_name["cases created"] == 2 and metrics_by_name["CSAT"] == "3.50"
    assert client.get("/reports/weekly/").status_code == 200  # the last complete week
    assert client.get("/reports/weekly/?week=nope").status_code == 400
    assert client.get("/reports/weekly/?week=1800-W01").status_code == 400
    assert login(agent).get("/reports/weekly/").status_code == 403


# The statements a report reads, pinned: a fixed number whatever the number of cases (issue 17
# point 8). From the rollups (a UTC viewer, whole UTC days: no cube), a priority filter alone like
# none: the dirty days, the tenants, two for the slices (day and week slices and the priority pairs in
# one, the team/owner histograms), the backlog, the names, the tags, the sections. With every day
# dirty (its cases' hours marked) the same twelve once warm: each day from its slices plus its marked
# hours' change against the cube (fresh cells less stored ones), which the warm-up report computed
# (four statements for the plain rows, one for the stored cells) and cached under each hour's marker
# version (rollup._hour_rows).
REPORT_STATEMENTS = {"rollups": 12, "plain rows": 12}


@pytest.mark.django_db
@pytest.mark.parametrize("dimension", ["", "priority"])
def test_the_report_reads_a_pinned_number_of_statements(request, world, manager, dimension):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f = filters(priority=Priority.HIGH) if dimension else filters()
    metrics.report(manager, f)  # the content types and other per-process caches warmed
    with CaptureQueriesContext(connection) as captured:
        report = metrics.report(manager, f)
    mode = request.node.callspec.params["world"]
    if mode == "rollups" and not dimension:
        assert report.sums.rollup_weeks == 2 and report.sums.live_cases == 0  # 2–15 Nov: two whole UTC weeks
    assert len(captured) == REPORT_STATEMENTS[mode], [q["sql"][:80] for q in captured]
