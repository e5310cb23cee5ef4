"""The shift handoff report (issue 14 point 10): shift changes at local wall-clock time across DST;
the report's four sections scoped to the viewer; the e-mail at each change sent once per change and
per member (their own tenants only); the page."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cases.choices import Priority, Status
from incidents import services as incident_services
from incidents.escalations import shifts
from incidents.escalations.models import ShiftHandoff, SupportShift
from tests.conftest import login
from tests.factories import CaseFactory, TagFactory, TeamFactory

UTC = UTC


def _shift(**kw):
    return SupportShift(team_id=1, name="x", starts_at=time(8, 0), **kw)


def test_changes_keep_local_wall_clock_time_across_dst():
    shift = _shift(timezone="Europe/Oslo")
    # Oslo leaves summer time on 2026-10-25: 08:00 local is 06:00 UTC before, 07:00 UTC after.
    found = shifts.changes_between(shift, datetime(2026, 10, 24, 0, tzinfo=UTC), datetime(2026, 10, 26, 23, tzinfo=UTC))
    assert found == [
        datetime(2026, 10, 24, 6, tzinfo=UTC),
        datetime(2026, 10, 25, 7, tzinfo=UTC),
        datetime(2026, 10, 26, 7, tzinfo=UTC),
    ]


def test_weekdays_only_and_bounds():
    shift = _shift(timezone="America/New_York", weekdays=[0, 1, 2, 3, 4])
    week = shifts.changes_between(shift, datetime(2026, 11, 2, 0, tzinfo=UTC), datetime(2026, 11, 9, 0, tzinfo=UTC))
    assert len(week) == 5 and all(c.weekday() < 5 for c in week) and week[0] == datetime(2026, 11, 2, 13, tzinfo=UTC)
    # (start, end]: a change exactly at the start is the previous window's.
    assert shifts.changes_between(shift, week[0], week[0]) == []
    assert shifts.changes_between(shift, week[0] - timedelta(seconds=1), week[0]) == [week[0]]


@pytest.fixture
def team(agent):
    team = TeamFactory(name="Tier 1", slug="tier-1")
    team.members.add(agent)
    return team


def test_report_sections_are_scoped(agent, team, tenant_a, tenant_b):
    now = timezone.now()
    hot = CaseFactory(tenant=tenant_a, team=team, priority=Priority.CRITICAL, status=Status.IN_PROGRESS)
    CaseFactory(
        tenant=tenant_b, team=team, priority=Priority.CRITICAL, status=Status.IN_PROGRESS, subject="Globex secret"
    )
    CaseFactory(tenant=tenant_a, team=team, priority=Priority.LOW, status=Status.IN_PROGRESS)
    stale = CaseFactory(
        tenant=tenant_a, team=team, status=Status.WAITING_ON_CUSTOMER, status_changed_at=now - timedelta(hours=30)
    )
    CaseFactory(
        tenant=tenant_a, team=team, status=Status.WAITING_ON_CUSTOMER, status_changed_at=now - timedelta(hours=2)
    )
    tag = TagFactory(name="sso")
    for _ in range(3):
        CaseFactory(tenant=tenant_a, category="authentication").tags.add(tag)
    incident = incident_services.incident_declare(actor=agent, title="Login down", severity="SEV2", tenants=[tenant_a])
    report = shifts.handoff_report(agent, team=team, now=now)
    assert [c.pk for c in report["urgent"]] == [hot.pk]
    assert [c.pk for c in report["waiting"]] == [stale.pk]
    assert shifts.handoff_report(agent, now=now)["patterns"] == [
        {"what": "category authentication", "n": 3, "customers": 1},
        {"what": "tag sso", "n": 3, "customers": 1},
    ]
    assert [i.pk for i in report["incidents"]] == [incident.pk]
    text = shifts.report_text(report, title="Handoff")
    assert hot.key in text and "Globex secret" not in text and incident.key in text


def test_sweep_mails_each_change_once(agent, team, tenant_a, django_capture_on_commit_callbacks):
    CaseFactory(tenant=tenant_a, team=team, priority=Priority.HIGH, status=Status.TRIAGE, subject="Acme SSO broken")
    SupportShift.objects.create(team=team, name="Morning", starts_at=time(8, 0), timezone="Europe/Oslo")
    change = datetime(2026, 11, 2, 7, tzinfo=UTC)  # 08:00 in Oslo (winter time)
    with django_capture_on_commit_callbacks(execute=True):
        assert shifts.shift_handoff_sweep(now=change - timedelta(minutes=1)) == {"changes": 0, "mails": 0}
        assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=1)) == {"changes": 1, "mails": 1}
        assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=2)) == {"changes": 0, "mails": 0}
    assert ShiftHandoff.objects.get().change_at == change
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [agent.email]
    assert "Acme SSO broken" in mail.outbox[0].body and "Morning" in mail.outbox[0].subject


def test_handoff_page(agent, team, tenant_a, django_assert_max_num_queries):
    case = CaseFactory(tenant=tenant_a, team=team, priority=Priority.CRITICAL, status=Status.IN_PROGRESS)
    client = login(agent)
    client.get("/incidents/escalations/handoff/")
    with django_assert_max_num_queries(14):
        body = client.get("/incidents/escalations/handoff/?team=tier-1").content.decode()
    assert case.key in body and 'data-section="patterns"' in body
