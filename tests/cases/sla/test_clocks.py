"""SLA clocks at the lifecycle level: every rule of seed 003 through the real services, on the
default policies (seed 003 Standard / Premium-Enterprise, Oslo office hours 08–16, Norwegian
holidays), with time under the test's control."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from cases import services
from cases.choices import Priority, Status
from cases.models import Interaction, SLAClock, SLAPolicy
from cases.sla import clocks, selectors
from cases.sla import services as sla_services
from tenants.choices import SupportTier
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
Kind, State = SLAClock.Kind, SLAClock.State


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@contextmanager
def at(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def world(db):
    tenant = TenantFactory(name="Nordic Freight", slug="nordic", support_tier=SupportTier.STANDARD)
    premium = TenantFactory(name="Acme", slug="acme", support_tier=SupportTier.ENTERPRISE)
    agent = UserFactory(username="kari", role="agent", tenants=[tenant, premium], email="kari@example.com")
    return {
        "tenant": tenant,
        "premium": premium,
        "agent": agent,
        "requester": RequesterFactory(tenant=tenant),
        "premium_requester": RequesterFactory(tenant=premium),
    }


def open_case(world, when, priority=Priority.CRITICAL, premium=False):
    with at(when):
        return services.case_create(
            actor=world["agent"],
            tenant=world["premium" if premium else "tenant"],
            requester=world["premium_requester" if premium else "requester"],
            subject="All API calls fail",
            priority=priority,
        )


def move(world, case, to, when):
    with at(when):
        waiting = {"waiting_for": "logs"} if to == Status.WAITING_ON_CUSTOMER else {}
        if to == Status.RESOLVED:  # critical and high cases need the resolution record (cases.closure)
            waiting = {"resolution": {"summary": "fixed", "evidence": "graphs", "preventive_actions": "alert"}}
        return services.case_transition(case_id=case.pk, to=to, actor=world["agent"], **waiting)


def reply(world, case, when, public=True):
    with at(when):
        return services.case_reply(case_id=case.pk, actor=world["agent"], body="Looking into it", public=public)


def clock(case, kind, window=1) -> SLAClock:
    return SLAClock.objects.get(case=case, kind=kind, window=window)


# --- policy and snapshot ----------------------------------------------------------------------------


def test_policy_follows_the_tier_and_a_tenant_override_wins(world):
    standard = open_case(world, oslo(2026, 11, 23, 9, 0))
    premium = open_case(world, oslo(2026, 11, 23, 9, 0), premium=True)
    assert standard.sla_policy.name == "Standard" and premium.sla_policy.name == "Premium/Enterprise"
    override = SLAPolicy.objects.create(
        name="Custom",
        targets=SLAPolicy.objects.get(name="Standard").targets,
        calendar=SLAPolicy.objects.get(name="Standard").calendar,
    )
    world["tenant"].sla_policy = override
    world["tenant"].save()
    assert open_case(world, oslo(2026, 11, 23, 9, 0)).sla_policy == override


# --- first response -----------------------------------------------------------------------------------


def test_first_response_starts_at_creation_on_business_time(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))  # Monday
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.state == State.RUNNING and fr.business and fr.target == timedelta(minutes=15)
    assert fr.due_at == oslo(2026, 11, 23, 9, 15)
    case.refresh_from_db()
    assert case.sla_due_at == fr.due_at and case.sla_clock == Kind.FIRST_RESPONSE
    assert "first response clock started" in case.interactions.get().data["sla"][0]


def test_first_response_opened_after_hours_counts_from_next_open(world):
    case = open_case(world, oslo(2026, 11, 27, 15, 30), priority=Priority.HIGH)  # Friday 15:30, 60 min
    assert clock(case, Kind.FIRST_RESPONSE).due_at == oslo(2026, 11, 30, 8, 30)  # Monday 08:30


def test_easter_is_skipped(world):
    # Norway: Maundy Thursday 2 Apr, Good Friday 3 Apr, Easter Monday 6 Apr 2026 are closed.
    case = open_case(world, oslo(2026, 4, 1, 15, 30), priority=Priority.HIGH)
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.due_at == oslo(2026, 4, 7, 8, 30)
    assert "Easter Monday" in selectors.explain(case, fr)


def test_internal_note_does_not_stop_first_response_a_public_reply_does(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    reply(world, case, oslo(2026, 11, 23, 9, 5), public=False)
    assert clock(case, Kind.FIRST_RESPONSE).state == State.RUNNING
    reply(world, case, oslo(2026, 11, 23, 9, 10))
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.state == State.STOPPED and fr.met is True and fr.stopped_at == oslo(2026, 11, 23, 9, 10)
    assert fr.elapsed_before == timedelta(minutes=10)
    case.refresh_from_db()
    assert case.first_response_at == oslo(2026, 11, 23, 9, 10)


def test_late_first_response_is_breached(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    reply(world, case, oslo(2026, 11, 23, 9, 16))
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.met is False and fr.breached_at == oslo(2026, 11, 23, 9, 15)


def test_reply_exactly_at_due_is_met(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    reply(world, case, oslo(2026, 11, 23, 9, 15))
    assert clock(case, Kind.FIRST_RESPONSE).met is True


def test_first_response_is_never_paused(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0), priority=Priority.MEDIUM)  # 4 h
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 1))
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 23, 9, 2))
    move(world, case, Status.WAITING_ON_CUSTOMER, oslo(2026, 11, 23, 9, 3))
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.state == State.RUNNING and fr.due_at == oslo(2026, 11, 23, 13, 0) and fr.paused_total == timedelta(0)


# --- resolution -------------------------------------------------------------------------------------


def test_resolution_starts_at_triage_pauses_while_waiting_and_stops_at_resolved(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))  # critical: resolution 4 business hours
    assert not SLAClock.objects.filter(case=case, kind=Kind.RESOLUTION).exists()
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 10, 0))
    res = clock(case, Kind.RESOLUTION)
    assert res.started_at == oslo(2026, 11, 23, 10, 0) and res.due_at == oslo(2026, 11, 23, 14, 0)
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 23, 10, 30))
    move(world, case, Status.WAITING_ON_CUSTOMER, oslo(2026, 11, 23, 11, 0))
    res = clock(case, Kind.RESOLUTION)
    assert res.state == State.PAUSED and res.due_at is None and res.elapsed_before == timedelta(hours=1)
    case.refresh_from_db()
    assert case.sla_paused is False  # first response still runs
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 24, 9, 0))  # Tuesday 09:00: 3 h left
    res = clock(case, Kind.RESOLUTION)
    assert res.state == State.RUNNING and res.due_at == oslo(2026, 11, 24, 12, 0)
    assert res.paused_total == timedelta(hours=22)
    assert "paused 22 h while waiting on customer" in selectors.explain(case, res)
    move(world, case, Status.RESOLVED, oslo(2026, 11, 24, 11, 0))
    res = clock(case, Kind.RESOLUTION)
    assert res.state == State.STOPPED and res.met is True and res.elapsed_before == timedelta(hours=3)
    status = case.interactions.filter(kind=Interaction.Kind.STATUS).order_by("created_at", "id")
    impacts = [entry.data["sla"] for entry in status]
    assert any("resolution clock started" in note for note in impacts[0])
    assert any("resolution clock paused" in note for note in impacts[2])
    assert any("resolution clock resumed" in note for note in impacts[3])
    assert any("resolution clock stopped: met" in note for note in impacts[4])


def test_resolution_breached_when_resolved_late(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 23, 9, 5))
    move(world, case, Status.RESOLVED, oslo(2026, 11, 23, 13, 30))  # due 13:00
    res = clock(case, Kind.RESOLUTION)
    assert res.met is False and res.breached_at == oslo(2026, 11, 23, 13, 0)


def test_resolved_while_paused_keeps_its_outcome(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.WAITING_ON_CUSTOMER, oslo(2026, 11, 23, 10, 0))
    move(world, case, Status.RESOLVED, oslo(2026, 11, 30, 10, 0))  # a week later, paused all along
    res = clock(case, Kind.RESOLUTION)
    assert res.met is True and res.elapsed_before == timedelta(hours=1) and res.paused_total == timedelta(days=7)


def test_reopen_starts_a_new_window_with_the_full_target_and_keeps_history(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.RESOLVED, oslo(2026, 11, 23, 14, 0))  # due 13:00: missed
    move(world, case, Status.CLOSED, oslo(2026, 11, 23, 15, 0))
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 25, 10, 0))  # reopen
    first, second = clock(case, Kind.RESOLUTION, 1), clock(case, Kind.RESOLUTION, 2)
    assert first.state == State.STOPPED and first.met is False
    assert second.state == State.RUNNING and second.started_at == oslo(2026, 11, 25, 10, 0)
    assert second.target == timedelta(hours=4) and second.due_at == oslo(2026, 11, 25, 14, 0)
    reopen = case.interactions.filter(kind=Interaction.Kind.STATUS).order_by("-created_at", "-id").first()
    assert any("resolution window 2 started (reopen)" in note for note in reopen.data["sla"])
    move(world, case, Status.RESOLVED, oslo(2026, 11, 25, 11, 0))
    assert clock(case, Kind.RESOLUTION, 2).met is True and clock(case, Kind.RESOLUTION, 1).met is False


# --- update cadence ---------------------------------------------------------------------------------


def test_update_cadence_runs_from_each_public_reply_and_pauses_while_waiting(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))  # critical: update every 4 business hours
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 23, 9, 1))
    assert not SLAClock.objects.filter(case=case, kind=Kind.UPDATE).exists()
    reply(world, case, oslo(2026, 11, 23, 9, 10))
    assert clock(case, Kind.UPDATE, 1).due_at == oslo(2026, 11, 23, 13, 10)
    reply(world, case, oslo(2026, 11, 23, 12, 0))
    one, two = clock(case, Kind.UPDATE, 1), clock(case, Kind.UPDATE, 2)
    assert one.state == State.STOPPED and one.met is True
    assert two.due_at == oslo(2026, 11, 23, 16, 0)  # 12:00 + 4 business hours: due at the close, the earliest instant
    move(world, case, Status.WAITING_ON_CUSTOMER, oslo(2026, 11, 23, 13, 0))  # 1 h elapsed
    assert clock(case, Kind.UPDATE, 2).state == State.PAUSED
    move(world, case, Status.IN_PROGRESS, oslo(2026, 11, 24, 10, 0))
    assert clock(case, Kind.UPDATE, 2).due_at == oslo(2026, 11, 24, 13, 0)
    move(world, case, Status.RESOLVED, oslo(2026, 11, 24, 11, 0))
    assert not SLAClock.objects.filter(case=case).exclude(state=State.STOPPED).exists()


def test_reply_while_waiting_starts_the_cadence_paused(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    for status in (Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
        move(world, case, status, oslo(2026, 11, 23, 9, 1))
    reply(world, case, oslo(2026, 11, 23, 9, 5))
    assert clock(case, Kind.UPDATE).state == State.PAUSED


def test_medium_priority_has_no_cadence(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0), priority=Priority.MEDIUM)
    reply(world, case, oslo(2026, 11, 23, 9, 10))
    assert not SLAClock.objects.filter(case=case, kind=Kind.UPDATE).exists()


# --- priority change and policy edits -------------------------------------------------------------


def _classify(world, case, priority, when):
    case.refresh_from_db()
    with at(when):
        return services.case_classify(
            case_id=case.pk,
            actor=world["agent"],
            priority=priority,
            category=case.category,
            issue_type=case.issue_type,
            environment=case.environment,
        )


def test_priority_change_keeps_elapsed_time_and_retargets(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0), priority=Priority.HIGH)
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 0))  # resolution 8 h → Tuesday 09:00
    assert clock(case, Kind.RESOLUTION).due_at == oslo(2026, 11, 24, 9, 0)
    _classify(world, case, Priority.CRITICAL, oslo(2026, 11, 23, 11, 0))  # 2 h elapsed of a new 4 h target
    res = clock(case, Kind.RESOLUTION)
    assert res.target == timedelta(hours=4) and res.due_at == oslo(2026, 11, 23, 13, 0)
    assert res.elapsed_at(oslo(2026, 11, 23, 11, 0), clocks.case_calendar(case)) == timedelta(hours=2)
    fields = case.interactions.filter(kind=Interaction.Kind.FIELDS).get()
    assert any("resolution clock re-targeted" in note for note in fields.data["sla"])


def test_priority_change_below_elapsed_is_breached_at_once_and_escalated(world, django_capture_on_commit_callbacks):
    case = open_case(world, oslo(2026, 11, 23, 9, 0), priority=Priority.LOW)  # first response 1 business day
    with at(oslo(2026, 11, 23, 10, 0)), django_capture_on_commit_callbacks(execute=True):
        case.refresh_from_db()
        services.case_classify(
            case_id=case.pk, actor=world["agent"], priority=Priority.CRITICAL
        )  # 60 min elapsed > 15 min
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.due_at == oslo(2026, 11, 23, 9, 15)
    assert fr.breached_at == oslo(2026, 11, 23, 9, 15)  # escalated on commit, no sweep needed
    assert fr.escalations.filter(level="breached").count() == 1


def test_policy_edits_do_not_move_running_clocks_until_reapplied(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    policy = SLAPolicy.objects.get(name="Standard")
    policy.targets["critical"]["first_response"] = {"minutes": 30, "business": True}
    policy.version += 1
    policy.save()
    assert clock(case, Kind.FIRST_RESPONSE).due_at == oslo(2026, 11, 23, 9, 15)
    assert selectors.clocks_moved_by(policy) == 1
    with at(oslo(2026, 11, 23, 9, 5)):
        assert sla_services.reapply_to_open_cases(policy, actor=world["agent"]) == 1
    fr = clock(case, Kind.FIRST_RESPONSE)
    assert fr.target == timedelta(minutes=30) and fr.due_at == oslo(2026, 11, 23, 9, 30)
    entry = case.interactions.filter(kind=Interaction.Kind.AUTOMATION).get()
    assert entry.actor == world["agent"] and "re-applied" in entry.data["sla"][0]
    assert selectors.clocks_moved_by(policy) == 0


def test_clock_rows_for_the_case_page(world):
    case = open_case(world, oslo(2026, 11, 23, 9, 0))
    move(world, case, Status.TRIAGE, oslo(2026, 11, 23, 9, 0))
    rows = selectors.clock_rows(case, oslo(2026, 11, 23, 9, 12))
    assert [r["clock"].kind for r in rows] == [Kind.FIRST_RESPONSE, Kind.RESOLUTION]
    assert rows[0]["status"] == "at_risk" and rows[0]["left"] == timedelta(minutes=3)
    assert rows[1]["status"] == "running"
    assert "15 min business time on Office hours (Oslo) hours" in rows[0]["why"]
    assert selectors.clock_rows(case, oslo(2026, 11, 23, 9, 16))[0]["status"] == "breached"


def test_preview_without_saving(world):
    policy = SLAPolicy.objects.get(name="Standard")
    out = selectors.preview(
        policy, tenant=world["tenant"], priority=Priority.HIGH, opened_at=oslo(2026, 11, 27, 15, 30)
    )
    assert out[Kind.FIRST_RESPONSE]["due"] == oslo(2026, 11, 30, 8, 30)
    assert out[Kind.RESOLUTION]["due"] == oslo(2026, 11, 30, 15, 30)


@pytest.mark.django_db
def test_a_calendars_snapshot_is_resolved_once_per_content_and_follows_every_change():
    """A new case's snapshot resolves five years of holidays; that is kept per process for the
    calendar's exact content and year — never a stale copy when the calendar changes, even by an
    update that leaves updated_at alone."""
    from unittest import mock

    from cases.models import BusinessCalendar
    from cases.sla import calendar as sla_calendar
    from cases.sla import models as sla_models

    cal = BusinessCalendar.objects.create(
        name="Oslo office",
        timezone="Europe/Oslo",
        weekly_hours={str(d): [["08:00", "16:00"]] for d in range(5)},
        holiday_country="NO",
    )
    around = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    expected = cal.to_calendar(years=range(2025, 2030)).as_dict()
    sla_models._RESOLVED.clear()  # (kept per process: an earlier test may have resolved the same content)
    with mock.patch.object(sla_calendar, "holiday_dates", wraps=sla_calendar.holiday_dates) as resolve:
        first, second = cal.snapshot(around), cal.snapshot(around)
        assert first["calendar"] == second["calendar"] == expected and "2026-12-25" in expected["closed"]
        assert resolve.call_count == 1
        first["calendar"]["closed"].clear()  # a caller's copy is its own
        assert cal.snapshot(around)["calendar"] == expected
        BusinessCalendar.objects.filter(pk=cal.pk).update(closures=[{"date": "2026-12-07", "name": "Inventory"}])
        cal.refresh_from_db()
        changed = cal.snapshot(around)
        assert "2026-12-07" in changed["calendar"]["closed"] and resolve.call_count == 2
