"""The manager SLA dashboard (/sla/) and its CSV: who may see it, every filter, the numbers against a
direct recomputation from the clock rows (built through the real services on the default seed-003
policies and Oslo office hours, plus hand-made clock rows), the weekly trend, the breach list, the
HTMX fragment, the access audit entry, and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.choices import Priority, Status
from cases.models import Case, SLAClock
from companyos.models import Profile
from tenants.choices import Segment, SupportTier
from tests.conftest import login
from tests.factories import CaseFactory, RequesterFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
UTC = ZoneInfo("UTC")
Kind, State = SLAClock.Kind, SLAClock.State
FROM, TO = date(2026, 10, 5), date(2026, 11, 1)  # Monday of ISO week 41 to Sunday of week 44 (DST ends 25 Oct)
RANGE = f"from={FROM}&to={TO}"
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "sla-results"}


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@contextmanager
def at(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


# --- the world: cases through the real services, plus clock rows made by hand -------------------------


@pytest.fixture
def world(db, manager):
    Profile.objects.create(user=manager, timezone="Europe/Oslo")
    nordic = TenantFactory(name="Nordic Freight", slug="nordic", segment=Segment.SMB, support_tier=SupportTier.STANDARD)
    bank = TenantFactory(
        name="Big Bank", slug="bigbank", segment=Segment.ENTERPRISE, support_tier=SupportTier.ENTERPRISE
    )
    team = TeamFactory(name="Tier 2", slug="tier-2")
    actor = UserFactory(username="svc", role="admin")
    people = {nordic.pk: RequesterFactory(tenant=nordic), bank.pk: RequesterFactory(tenant=bank)}

    def open_case(tenant, priority, when, **kwargs):
        with at(when):
            return services.case_create(
                actor=actor,
                tenant=tenant,
                requester=people[tenant.pk],
                subject=f"{Priority(priority).label} case",
                priority=priority,
                **kwargs,
            )

    def move(case, when, *statuses):
        for to in statuses:
            with at(when):
                waiting = {"waiting_for": "logs"} if to == Status.WAITING_ON_CUSTOMER else {}
                if to == Status.RESOLVED:  # critical and high need a resolution record (issue 17)
                    waiting = {"resolution": {"summary": "fixed", "evidence": "graphs", "preventive_actions": "alert"}}
                services.case_transition(case_id=case.pk, to=to, actor=actor, **waiting)

    def reply(case, when):
        with at(when):
            services.case_reply(case_id=case.pk, actor=actor, body="On it", public=True)

    # A: Standard high. First response met (30 min); resolution 8 h 50 min business > 8 h: missed.
    a = open_case(nordic, Priority.HIGH, oslo(2026, 10, 5, 9, 0), team=team)
    move(a, oslo(2026, 10, 5, 9, 10), Status.TRIAGE)
    reply(a, oslo(2026, 10, 5, 9, 30))
    move(a, oslo(2026, 10, 5, 9, 40), Status.IN_PROGRESS)
    move(a, oslo(2026, 10, 6, 10, 0), Status.RESOLVED)
    # B: Enterprise critical opened 15:55: first reply next morning 08:20 = 25 business min > 15: missed.
    b = open_case(bank, Priority.CRITICAL, oslo(2026, 10, 13, 15, 55))
    reply(b, oslo(2026, 10, 14, 8, 20))
    move(b, oslo(2026, 10, 14, 8, 25), Status.TRIAGE)
    move(b, oslo(2026, 10, 14, 8, 30), Status.IN_PROGRESS)
    move(b, oslo(2026, 10, 14, 9, 0), Status.RESOLVED)
    # C: Standard medium; resolution paused 25 h while waiting on the customer: 1 h 55 min business, met.
    c = open_case(nordic, Priority.MEDIUM, oslo(2026, 10, 21, 10, 0), team=team)
    move(c, oslo(2026, 10, 21, 10, 5), Status.TRIAGE)
    reply(c, oslo(2026, 10, 21, 10, 30))
    move(c, oslo(2026, 10, 21, 10, 40), Status.IN_PROGRESS)
    move(c, oslo(2026, 10, 21, 11, 0), Status.WAITING_ON_CUSTOMER)
    move(c, oslo(2026, 10, 22, 12, 0), Status.IN_PROGRESS)
    move(c, oslo(2026, 10, 22, 13, 0), Status.RESOLVED)
    # D: Standard low, never answered: its first response was due 27 Oct; still open, breached now.
    d = open_case(nordic, Priority.LOW, oslo(2026, 10, 26, 10, 0))
    # E: the previous period (7 Sep – 4 Oct): first response met.
    e = open_case(nordic, Priority.HIGH, oslo(2026, 9, 28, 9, 0))
    reply(e, oslo(2026, 9, 28, 9, 20))
    # F: Enterprise medium, answered, now waiting on the customer: resolution paused, not yet due.
    f = open_case(bank, Priority.MEDIUM, oslo(2026, 10, 30, 15, 0))
    move(f, oslo(2026, 10, 30, 15, 5), Status.TRIAGE)
    reply(f, oslo(2026, 10, 30, 15, 10))
    move(f, oslo(2026, 10, 30, 15, 20), Status.IN_PROGRESS)
    move(f, oslo(2026, 10, 30, 15, 30), Status.WAITING_ON_CUSTOMER)

    # G and H: clock rows made by hand, for the outcomes the services reach only slowly.
    now = timezone.now()
    g = CaseFactory(
        tenant=nordic, requester=people[nordic.pk], priority=Priority.LOW, status=Status.WAITING_ON_CUSTOMER
    )
    SLAClock.objects.create(
        case=g,
        kind=Kind.FIRST_RESPONSE,
        state=State.RUNNING,
        business=True,
        target=timedelta(hours=8),
        started_at=oslo(2026, 10, 9, 9, 0),
        segment_started_at=now,
        due_at=now + timedelta(days=2),
    )  # pending
    SLAClock.objects.create(
        case=g,
        kind=Kind.RESOLUTION,
        window=1,
        state=State.PAUSED,
        business=True,
        target=timedelta(hours=40),
        started_at=oslo(2026, 10, 7, 9, 0),
        elapsed_before=timedelta(hours=50),
        paused_at=oslo(2026, 10, 20, 9, 0),
    )  # missed
    SLAClock.objects.create(
        case=g,
        kind=Kind.RESOLUTION,
        window=2,
        state=State.STOPPED,
        business=True,
        target=timedelta(hours=40),
        started_at=oslo(2026, 10, 8, 9, 0),
        stopped_at=oslo(2026, 10, 8, 10, 0),
        met=None,
    )  # no outcome
    h = CaseFactory(tenant=nordic, requester=people[nordic.pk], priority=Priority.HIGH, status=Status.CLOSED)
    # 00:30 in Oslo on the range's first day is 22:30 UTC the day before: in range only in Oslo.
    SLAClock.objects.create(
        case=h,
        kind=Kind.FIRST_RESPONSE,
        state=State.STOPPED,
        business=True,
        target=timedelta(hours=1),
        started_at=oslo(2026, 10, 5, 0, 30),
        stopped_at=oslo(2026, 10, 5, 1, 0),
        elapsed_before=timedelta(minutes=30),
        met=True,
    )

    # Breach list: at risk now, breached but resolved (not listed), and D (breached, open).
    risky = CaseFactory(
        tenant=bank,
        requester=people[bank.pk],
        priority=Priority.HIGH,
        status=Status.IN_PROGRESS,
        subject="Risky one",
        sla_risk_at=now - timedelta(minutes=10),
        sla_due_at=now + timedelta(minutes=50),
        sla_clock=Kind.RESOLUTION,
    )
    CaseFactory(
        tenant=bank,
        requester=people[bank.pk],
        status=Status.RESOLVED,
        subject="Late but done",
        sla_due_at=now - timedelta(days=1),
    )
    return {
        "nordic": nordic,
        "bank": bank,
        "team": team,
        "actor": actor,
        "cases": {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h, "risky": risky},
    }


@pytest.fixture
def manager_client(world, manager):
    return login(manager)


# --- an independent recomputation from the rows ---------------------------------------------------------


def outcome(clock: SLAClock, now: datetime) -> str | None:
    if clock.state == State.STOPPED:
        return {True: "met", False: "missed", None: None}[clock.met]
    if (
        clock.breached_at
        or (clock.due_at and clock.due_at <= now)
        or (clock.state == State.PAUSED and clock.elapsed_before > clock.target)
    ):
        return "missed"
    return "pending"


def pct(met: int, missed: int) -> str:
    if not met + missed:
        return ""
    return str((Decimal(met) * 100 / (met + missed)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def mins(total: timedelta, n: int) -> str:
    if not n:
        return ""
    mean = total / n
    return str(
        (Decimal(mean // timedelta(microseconds=1)) / 60_000_000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    )


def recompute(start: date, end: date, tz, *, keep=lambda case: True, now=None):
    """{(dimension, key): {"fr": [met, missed, pending], "res": [...]}} and MTTA/MTTR sums, straight
    from the clock rows, in Python."""
    now = now or timezone.now()
    lo, hi = (
        datetime.combine(start, datetime.min.time(), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    )
    out = defaultdict(lambda: {"fr": [0, 0, 0], "res": [0, 0, 0]})
    times = defaultdict(lambda: {"mtta": [0, timedelta(0), timedelta(0)], "mttr": [0, timedelta(0), timedelta(0)]})
    for clock in SLAClock.objects.select_related("case__tenant", "case__team").filter(
        kind__in=[Kind.FIRST_RESPONSE, Kind.RESOLUTION]
    ):
        if not (lo <= clock.started_at < hi) or not keep(clock.case):
            continue
        result = outcome(clock, now)
        if result is None:
            continue
        short = "fr" if clock.kind == Kind.FIRST_RESPONSE else "res"
        case = clock.case
        year, week, _ = clock.started_at.astimezone(tz).isocalendar()
        keys = [
            ("overall", "current"),
            ("priority", Priority(case.priority).slug),
            ("segment", case.tenant.segment),
            ("tenant", case.tenant.slug),
            ("team", case.team.slug if case.team_id else ""),
            ("week", f"{year}-W{week:02d}"),
            ("priority_segment", f"{Priority(case.priority).slug}/{case.tenant.segment}"),
        ]
        for key in keys:
            out[key][short][["met", "missed", "pending"].index(result)] += 1
        if clock.state == State.STOPPED:
            name = "mtta" if short == "fr" else "mttr"
            for key in ("all", Priority(case.priority).slug):
                row = times[key][name]
                row[0] += 1
                row[1] += clock.stopped_at - clock.started_at
                row[2] += clock.elapsed_before
    return out, times


def get_csv(client, query: str) -> tuple[dict, object]:
    response = client.get(f"/sla/export.csv?{query}")
    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    return {(r["dimension"], r["key"]): r for r in rows}, response


def assert_matches(table: dict, expected, times=None):
    """Every attainment row of the CSV equals the recomputation, and every recomputed key is there."""
    attainment = {
        k: v for k, v in table.items() if k[0] not in ("mtta", "mttr", "overall") or k == ("overall", "current")
    }
    for key, row in attainment.items():
        want = expected.get(key, {"fr": [0, 0, 0], "res": [0, 0, 0]})
        for short, name in (("fr", "first_response"), ("res", "resolution")):
            met, missed, pending = want[short]
            got = (
                int(row[f"{name}_met"]),
                int(row[f"{name}_missed"]),
                int(row[f"{name}_pending"]),
                row[f"{name}_attainment_pct"],
            )
            assert got == (met, missed, pending, pct(met, missed)), (key, short)
    for key in expected:
        assert key in table, key
    for name in ("mtta", "mttr"):
        for key, values in (times or {}).items():
            n, calendar, policy = values[name]
            row = table[(name, key)]
            assert (int(row["clocks"]), row["calendar_mean_minutes"], row["policy_mean_minutes"]) == (
                n,
                mins(calendar, n),
                mins(policy, n),
            ), (name, key)


# --- access ----------------------------------------------------------------------------------------------


def test_agent_gets_403_and_the_denial_is_audited(world, agent_client):
    response = agent_client.get("/sla/")
    assert response.status_code == 403
    assert "for managers and admins" in response.content.decode()
    assert agent_client.get("/sla/export.csv").status_code == 403
    assert LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, additional_data__denied=True, additional_data__path="/sla/"
    ).exists()


def test_manager_and_admin_see_the_dashboard(world, manager, admin_user):
    for user in (manager, admin_user, UserFactory(username="plain-admin", role="admin")):
        response = login(user).get(f"/sla/?{RANGE}")
        assert response.status_code == 200
        assert "SLA dashboard" in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get("/sla/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_engineer_and_sre_get_403(world):
    for role in ("engineer", "SRE", "senior agent"):
        assert login(UserFactory(role=role)).get("/sla/").status_code == 403


# --- the numbers ------------------------------------------------------------------------------------------


def test_csv_matches_a_recomputation_from_the_clock_rows(manager_client):
    table, response = get_csv(manager_client, RANGE)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="sla-{FROM}-to-{TO}.csv"'
    expected, times = recompute(FROM, TO, OSLO)
    assert_matches(table, expected, times)
    # The numbers worked out by hand (see the world fixture).
    overall = table[("overall", "current")]
    assert (overall["first_response_met"], overall["first_response_missed"], overall["first_response_pending"]) == (
        "4",
        "2",
        "1",
    )
    assert overall["first_response_attainment_pct"] == "66.7"
    assert (overall["resolution_met"], overall["resolution_missed"], overall["resolution_pending"]) == ("2", "2", "1")
    assert overall["resolution_attainment_pct"] == "50.0"
    previous = table[("overall", "previous")]
    assert (
        previous["first_response_met"],
        previous["first_response_missed"],
        previous["first_response_attainment_pct"],
    ) == ("1", "0", "100.0")


def test_mtta_and_mttr_in_business_and_calendar_time(manager_client):
    table, _ = get_csv(manager_client, RANGE)
    # MTTA over A 30 min, B 25 business min (16 h 25 min calendar), C 30, F 10, H 30 (calendar 30).
    assert table[("mtta", "all")]["clocks"] == "5"
    assert table[("mtta", "all")]["policy_mean_minutes"] == "25.0"
    assert table[("mtta", "all")]["calendar_mean_minutes"] == "217.0"  # (30 + 985 + 30 + 10 + 30) / 5
    assert (
        table[("mtta", "critical")]["policy_mean_minutes"] == "25.0"
        and table[("mtta", "critical")]["calendar_mean_minutes"] == "985.0"
    )
    # MTTR over A (8 h 50 min business, 24 h 50 min calendar), B (35 min, 35 min), C (1 h 55 min business,
    # 26 h 55 min calendar: the 25 h waiting on the customer counts only on the calendar).
    assert table[("mttr", "all")]["clocks"] == "3"
    assert table[("mttr", "all")]["policy_mean_minutes"] == "226.7"  # (530 + 35 + 115) / 3
    assert table[("mttr", "all")]["calendar_mean_minutes"] == "1046.7"  # (1490 + 35 + 1615) / 3
    assert (
        table[("mttr", "medium")]["policy_mean_minutes"] == "115.0"
        and table[("mttr", "medium")]["calendar_mean_minutes"] == "1615.0"
    )
    assert table[("mttr", "low")]["clocks"] == "0" and table[("mttr", "low")]["policy_mean_minutes"] == ""


def test_update_cadence_clocks_are_not_counted(world, manager_client):
    assert SLAClock.objects.filter(kind=Kind.UPDATE).exists()
    table, _ = get_csv(manager_client, RANGE)
    total = sum(
        int(table[("overall", "current")][f"{k}_{o}"])
        for k in ("first_response", "resolution")
        for o in ("met", "missed", "pending")
    )
    assert total == 7 + 5


def test_page_shows_the_same_numbers_as_the_csv(manager_client):
    table, _ = get_csv(manager_client, RANGE)
    html = manager_client.get(f"/sla/?{RANGE}").content.decode()
    overall = table[("overall", "current")]
    assert f"{overall['first_response_attainment_pct']}%" in html and f"{overall['resolution_attainment_pct']}%" in html
    assert "4 met · 2 missed · 1 pending" in re.sub(r"<[^>]+>", "", html)  # "2 missed" links to the queue
    # MTTA tile: 25.0 minutes on the policy clock, 217 min = 3 h 37 min calendar.
    assert 'title="25.0 minutes on the policy clock">25 min<' in html
    assert "3 h 37 min calendar" in html
    # The trend against the previous 28 days: 66.7 % vs 100.0 %.
    assert "−33.3 pp (worse)" in html and "vs 100.0% before" in html
    for (dimension, _), row in table.items():
        if dimension == "tenant":
            assert row["label"] in html


def test_viewer_timezone_decides_the_range(world, manager, manager_client):
    oslo_table, _ = get_csv(manager_client, RANGE)
    manager.profile.timezone = "UTC"
    manager.profile.save()
    utc_table, _ = get_csv(login(manager), RANGE)
    expected, times = recompute(FROM, TO, UTC)
    assert_matches(utc_table, expected, times)
    # H's clock started at 00:30 Oslo time on 5 Oct = 22:30 UTC on 4 Oct.
    assert (
        int(oslo_table[("overall", "current")]["first_response_met"])
        == int(utc_table[("overall", "current")]["first_response_met"]) + 1
    )
    assert utc_table[("overall", "previous")]["first_response_met"] == "2"


def test_default_range_is_the_last_28_days(world, manager_client):
    today = timezone.localdate(timezone=OSLO)
    response = manager_client.get("/sla/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{today - timedelta(days=27)}"' in html and f'value="{today}"' in html
    table, _ = get_csv(manager_client, "")
    expected, _ = recompute(today - timedelta(days=27), today, OSLO)
    assert_matches(table, expected)


# --- filters -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, keep",
    [
        ("segment=enterprise", lambda case: case.tenant.segment == Segment.ENTERPRISE),
        ("segment=smb", lambda case: case.tenant.segment == Segment.SMB),
        ("tier=enterprise", lambda case: case.tenant.support_tier == SupportTier.ENTERPRISE),
        ("tier=standard", lambda case: case.tenant.support_tier == SupportTier.STANDARD),
        ("tenant=nordic", lambda case: case.tenant.slug == "nordic"),
        ("tenant=bigbank", lambda case: case.tenant.slug == "bigbank"),
        ("team=tier-2", lambda case: case.team_id is not None and case.team.slug == "tier-2"),
        ("priority=critical", lambda case: case.priority == Priority.CRITICAL),
        ("priority=medium", lambda case: case.priority == Priority.MEDIUM),
        (
            "segment=smb&priority=high&team=tier-2",
            lambda case: (
                case.tenant.segment == Segment.SMB and case.priority == Priority.HIGH and case.team_id is not None
            ),
        ),
    ],
)
def test_each_filter_narrows_the_numbers(manager_client, query, keep):
    everything, _ = get_csv(manager_client, RANGE)
    table, _ = get_csv(manager_client, f"{RANGE}&{query}")
    expected, times = recompute(FROM, TO, OSLO, keep=keep)
    assert_matches(table, expected, times)

    def total(t):
        return sum(
            int(t[("overall", "current")][f"{k}_{o}"])
            for k in ("first_response", "resolution")
            for o in ("met", "missed", "pending")
        )

    assert 0 < total(table) < total(everything)
    assert manager_client.get(f"/sla/?{RANGE}&{query}").status_code == 200


def test_the_breach_list_follows_the_dimension_filters(manager_client):
    html = manager_client.get(f"/sla/?{RANGE}&segment=enterprise").content.decode()
    assert "Risky one" in html and "Low case" not in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=yesterday", "From: Enter a valid date."),
        ("from=2026-11-01&to=2026-10-01", "The end date must be on or after the start date."),
        ("from=2024-01-01&to=2026-01-01", "Choose at most 366 days (this range has 732)."),
        ("from=0001-01-01&to=0001-01-02", "Choose a date between 2000 and 2100."),
        ("to=9999-12-31", "Choose a date between 2000 and 2100."),
        ("segment=galactic", "Segment: Select a valid choice."),
        ("tier=gold", "Support tier: Select a valid choice."),
        ("priority=urgent", "Priority: Select a valid choice."),
        ("tenant=nobody-here", "Tenant: There is no tenant with that slug that you can see."),
        ("team=ghosts", "Team: There is no team with that slug."),
    ],
)
def test_invalid_filters_get_a_clear_message_never_a_500(manager_client, query, message):
    response = manager_client.get(f"/sla/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "These filters cannot be used" in html and message in html.replace("&#x27;", "'")
    assert "Download CSV" not in html  # no numbers for filters nobody asked for
    fragment = manager_client.get(f"/sla/?{query}", **HX)
    assert fragment.status_code == 200 and message in fragment.content.decode().replace("&#x27;", "'")
    export = manager_client.get(f"/sla/export.csv?{query}")
    assert export.status_code == 400 and message in export.content.decode()


def test_a_blank_date_means_the_default(manager_client):
    assert manager_client.get("/sla/?from=&to=&segment=").status_code == 200
    assert "These filters cannot be used" not in manager_client.get("/sla/?from=&to=").content.decode()


# --- weekly trend ---------------------------------------------------------------------------------------------


def test_weekly_trend_numbers_and_chart(manager_client):
    table, _ = get_csv(manager_client, RANGE)
    expected, _ = recompute(FROM, TO, OSLO)
    weeks = [key for (dimension, key) in table if dimension == "week"]
    assert weeks == ["2026-W41", "2026-W42", "2026-W43", "2026-W44"]
    for week in weeks:
        want = expected.get(("week", week), {"fr": [0, 0, 0], "res": [0, 0, 0]})
        row = table[("week", week)]
        assert row["first_response_attainment_pct"] == pct(*want["fr"][:2]) and row["resolution_attainment_pct"] == pct(
            *want["res"][:2]
        )
    # W41: A met, H met; B is W42; C W43; D missed, F met in W44 (D opened the day after DST ended).
    assert table[("week", "2026-W41")]["first_response_attainment_pct"] == "100.0"
    assert table[("week", "2026-W44")]["first_response_attainment_pct"] == "50.0"
    html = manager_client.get(f"/sla/?{RANGE}").content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert (
        'role="img"' in svg
        and '<title id="chart-title">Weekly SLA attainment' in svg
        and '<desc id="chart-desc">' in svg
    )
    # One marker per week with an outcome, and each marker's tooltip says its number.
    fr_points = [w for w in weeks if table[("week", w)]["first_response_attainment_pct"]]
    assert svg.count("<circle") == len(fr_points)
    assert "First response, week 2026-W44: 50.0% (1 met, 1 missed)" in svg
    # The same numbers in the table next to the chart.
    for week in weeks:
        assert f">{week}</span>" in html


def test_weeks_clipped_by_the_range_are_marked_partial(manager_client):
    table, _ = get_csv(manager_client, "from=2026-10-07&to=2026-10-20")
    assert [k for (d, k) in table if d == "week"] == ["2026-W41", "2026-W42", "2026-W43"]
    assert table[("week", "2026-W41")]["label"].endswith("(partial)") and not table[("week", "2026-W42")][
        "label"
    ].endswith("(partial)")


# --- breaches and at risk ------------------------------------------------------------------------------------------


def test_breaches_and_at_risk_list(world, manager_client):
    html = manager_client.get(f"/sla/?{RANGE}").content.decode()
    section = html[html.index('id="sla-breaches"') :]
    d, risky = world["cases"]["d"], world["cases"]["risky"]
    assert f'href="/cases/{d.key}/"' in section and f'href="/cases/{risky.key}/"' in section
    assert "Late but done" not in section  # resolved: not open
    assert section.index(d.key) < section.index(risky.key)  # soonest due first
    # E (previous period) is open too: its customer-update clock is overdue since its reply.
    assert "2 breached, 1 at risk" in re.sub(r"<[^>]+>", "", section)  # each count links to the queue
    row_d = section[section.index(d.key) : section.index(risky.key)]
    assert "Breached" in row_d and "First response" in row_d
    assert "At risk" in section[section.index(risky.key) :]


def test_breach_list_is_paged_with_a_count(world, manager_client):
    now = timezone.now()
    for i in range(55):
        CaseFactory(
            tenant=world["bank"],
            status=Status.NEW,
            sla_due_at=now - timedelta(minutes=i + 1),
            sla_clock=Kind.FIRST_RESPONSE,
        )
    html = manager_client.get(f"/sla/?{RANGE}").content.decode()
    section = html[html.index('id="sla-breaches"') :]
    text = re.sub(r"<[^>]+>", "", section)
    assert "57 breached, 1 at risk; 1–50 of 58 shown, soonest due first" in text
    assert len(re.findall(r'<td class="key"><a href="/cases/CS-\d+/">', section)) == 50


# --- HTMX, empty state, scope, audit --------------------------------------------------------------------------------


def test_htmx_gets_the_results_fragment_and_a_plain_request_the_page(manager_client):
    page = manager_client.get(f"/sla/?{RANGE}")
    fragment = manager_client.get(f"/sla/?{RANGE}", **HX)
    assert "<html" in page.content.decode() and 'id="sla-filters"' in page.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body and 'id="sla-filters"' not in body
    assert body.lstrip().startswith('<div id="sla-results"') and "66.7%" in body
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]
    # The filter form drives the fragment and still works as a plain GET form without JS.
    form = re.search(r'<form id="sla-filters".*?>', page.content.decode(), re.S).group(0)
    assert (
        'method="get"' in form
        and 'hx-get="/sla/"' in form
        and 'hx-target="#sla-results"' in form
        and 'hx-push-url="true"' in form
    )
    assert 'type="submit"' in page.content.decode()


def test_back_button_history_restore_gets_the_whole_page(manager_client):
    """htmx 2 restores history with HX-Request set: answering with the fragment would blank the page."""
    response = manager_client.get(f"/sla/?{RANGE}", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode() and 'id="sla-filters"' in response.content.decode()


def test_empty_state(manager_client):
    html = manager_client.get("/sla/?from=2020-01-01&to=2020-01-31").content.decode()
    assert "No SLA clocks started in this range" in html
    assert "Breached and at risk now" in html  # the current state is shown anyway
    table, _ = get_csv(manager_client, "from=2020-01-01&to=2020-01-31")
    assert table[("overall", "current")]["first_response_attainment_pct"] == ""


def test_an_empty_database_renders(db, manager):
    assert login(manager).get("/sla/").status_code == 200


def test_scope_comes_from_visible_tenants(world, manager):
    """A manager or admin sees every tenant; the numbers go through visible_tenant_ids all the same."""
    client = login(manager)
    with mock.patch("cases.sla.reports.filters.visible_tenant_ids", return_value=[world["bank"].pk]):
        table, _ = get_csv(client, RANGE)
        html = client.get(f"/sla/?{RANGE}").content.decode()
    expected, times = recompute(FROM, TO, OSLO, keep=lambda case: case.tenant_id == world["bank"].pk)
    assert_matches(table, expected, times)
    assert ("tenant", "nordic") not in table
    assert world["cases"]["d"].key not in html  # nordic's breach is not shown either


def test_the_view_is_audited_with_the_tenants_shown(world, manager_client):
    before = LogEntry.objects.count()
    manager_client.get(f"/sla/?{RANGE}&priority=critical")
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__view="sla dashboard").latest("pk")
    assert LogEntry.objects.count() == before + 1
    assert entry.additional_data["ids"] == [world["bank"].pk]
    assert entry.additional_data["query"] == f"from={FROM}&to={TO}&priority=critical"
    assert entry.actor.username == "mona"
    manager_client.get(f"/sla/export.csv?{RANGE}")
    export = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__view="sla dashboard").latest("pk")
    assert export.additional_data["query"].startswith("export.csv?") and sorted(
        export.additional_data["ids"]
    ) == sorted([world["bank"].pk, world["nordic"].pk])


def test_csv_neutralises_formulas_in_names(world, manager_client):
    world["nordic"].name = '=HYPERLINK("http://evil")'
    world["nordic"].save()
    table, _ = get_csv(manager_client, RANGE)
    assert table[("tenant", "nordic")]["label"].startswith("'=")


# --- query counts -----------------------------------------------------------------------------------------------------


def _bulk_world(n: int):
    tenants = [
        TenantFactory(segment=list(Segment)[i % 4], support_tier=list(SupportTier)[i % 3]) for i in range(min(n, 8))
    ]
    teams = [TeamFactory() for _ in range(3)]
    now = timezone.now()
    start = datetime.combine(FROM, datetime.min.time(), tzinfo=OSLO)
    for i in range(n):
        case = CaseFactory(
            tenant=tenants[i % len(tenants)],
            team=teams[i % 3] if i % 4 else None,
            priority=1 + i % 4,
            status=Status.IN_PROGRESS,
            sla_due_at=now - timedelta(minutes=i) if i % 3 == 0 else None,
        )
        began = start + timedelta(hours=7 * i)
        SLAClock.objects.bulk_create(
            [
                SLAClock(
                    case=case,
                    kind=Kind.FIRST_RESPONSE,
                    state=State.STOPPED,
                    target=timedelta(hours=1),
                    started_at=began,
                    stopped_at=began + timedelta(minutes=20 + i),
                    elapsed_before=timedelta(minutes=20 + i),
                    met=i % 5 != 0,
                ),
                SLAClock(
                    case=case,
                    kind=Kind.RESOLUTION,
                    state=State.RUNNING if i % 2 else State.STOPPED,
                    target=timedelta(hours=8),
                    started_at=began,
                    due_at=began + timedelta(hours=8) if i % 2 else None,
                    stopped_at=None if i % 2 else began + timedelta(hours=3),
                    elapsed_before=timedelta(hours=3),
                    met=None if i % 2 else True,
                ),
            ]
        )


@pytest.mark.parametrize("n", [5, 100])
def test_query_count_does_not_grow_with_cases(db, manager, django_assert_max_num_queries, n):
    _bulk_world(n)
    client = login(manager)
    client.get("/sla/")  # warm caches (content types, sessions)
    with django_assert_max_num_queries(18):
        assert client.get(f"/sla/?{RANGE}").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/sla/export.csv?{RANGE}").status_code == 200


def test_query_count_is_the_same_for_5_and_100_cases(db, manager):
    counts = []
    client = login(manager)
    for n in (5, 95):
        _bulk_world(n)
        client.get("/sla/")
        with CaptureQueriesContext(connection) as page:
            client.get(f"/sla/?{RANGE}")
        with CaptureQueriesContext(connection) as export:
            client.get(f"/sla/export.csv?{RANGE}")
        counts.append((len(page), len(export)))
    assert counts[0] == counts[1], counts
    assert Case.objects.count() == 100
