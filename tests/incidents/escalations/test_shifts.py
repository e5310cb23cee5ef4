"""The shift handoff report (issue 14 point 10): shift changes at local wall-clock time across DST;
the report's four sections scoped to the viewer; the e-mail at each change sent once per change and
per member (their own tenants only); the page."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cases.choices import Priority, Status
from cases.models import Notification
from cases.sla.sweep import send_pending_notifications
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


def test_sweep_mails_each_change_once_through_the_outbox(agent, team, tenant_a):
    CaseFactory(tenant=tenant_a, team=team, priority=Priority.HIGH, status=Status.TRIAGE, subject="Acme SSO broken")
    SupportShift.objects.create(team=team, name="Morning", starts_at=time(8, 0), timezone="Europe/Oslo")
    change = datetime(2026, 11, 2, 7, tzinfo=UTC)  # 08:00 in Oslo (winter time)
    assert shifts.shift_handoff_sweep(now=change - timedelta(minutes=1)) == {"changes": 0, "mails": 0}
    assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=1)) == {"changes": 1, "mails": 1}
    assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=2)) == {"changes": 0, "mails": 0}
    assert ShiftHandoff.objects.get().change_at == change
    # Written on the outbox in the sweep's transaction (no case: a report about many), nothing sent yet.
    note = Notification.objects.get()
    assert note.case_id is None and note.recipient == agent.email and note.sent_at is None
    assert len(mail.outbox) == 0
    # The relay sends it, once.
    assert send_pending_notifications(now=change + timedelta(minutes=3)) == 1
    assert send_pending_notifications(now=change + timedelta(minutes=4)) == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [agent.email]
    assert "Acme SSO broken" in mail.outbox[0].body and "Morning" in mail.outbox[0].subject


def test_a_sweep_failing_before_its_commit_leaves_no_row_and_no_mail(agent, team, tenant_a, monkeypatch):
    SupportShift.objects.create(team=team, name="Morning", starts_at=time(8, 0), timezone="Europe/Oslo")
    change = datetime(2026, 11, 2, 7, tzinfo=UTC)

    def broken(*args, **kwargs):
        raise RuntimeError("report failed")

    monkeypatch.setattr(ShiftHandoff.objects, "filter", broken)  # after the mails are written, before commit
    with pytest.raises(RuntimeError):
        shifts.shift_handoff_sweep(now=change + timedelta(minutes=1))
    monkeypatch.undo()
    assert not ShiftHandoff.objects.exists() and not Notification.objects.exists()
    # The next sweep (within the hour) sends it.
    assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=2)) == {"changes": 1, "mails": 1}


def test_the_report_shows_the_open_known_issues_runbooks_registers(agent, team, tenant_a):
    from runbooks.models import KnownIssue, KnownIssueCase

    case = CaseFactory(tenant=tenant_a, team=team, priority=Priority.HIGH, status=Status.IN_PROGRESS)
    other = CaseFactory(tenant=tenant_a, priority=Priority.HIGH, status=Status.IN_PROGRESS)  # another team's
    hot = KnownIssue.objects.create(
        title="Batch upload 503 under load", component="ingest API", workaround="Retry with backoff"
    )
    KnownIssueCase.objects.create(known_issue=hot, case=case)
    KnownIssueCase.objects.create(known_issue=KnownIssue.objects.create(title="CSV export slow"), case=other)
    KnownIssue.objects.create(title="Old bug", status="fixed")
    report = shifts.handoff_report(agent, team=team)
    known = next(s for s in report["sections"] if s.key == "known_issues")
    assert [i.text for i in known.items] == ["Batch upload 503 under load", "CSV export slow"]  # open only
    assert known.items[0].detail == "1 open case · ingest API · workaround: Retry with backoff"
    assert known.items[1].detail.startswith("0 open cases")  # the other team's case is not this team's
    text = shifts.report_text(report, title="Handoff")
    assert "Known issues (2):" in text and f"/runbooks/known-issues/{hot.pk}/" in text and "Old bug" not in text
    body = login(agent).get("/incidents/escalations/handoff/?team=tier-1").content.decode()
    assert 'data-section="known_issues"' in body and "Batch upload 503 under load" in body


def test_incidents_alone_reports_without_known_issues(agent, team, tenant_a, monkeypatch):
    """No section registered (runbooks not installed): the report keeps its own four, page and mail."""
    from incidents.escalations import handoff_sections

    monkeypatch.setattr(handoff_sections, "_sections", {})
    CaseFactory(tenant=tenant_a, team=team, priority=Priority.CRITICAL, status=Status.IN_PROGRESS)
    report = shifts.handoff_report(agent, team=team)
    assert report["sections"] == [] and len(report["urgent"]) == 1
    assert "Known issues" not in shifts.report_text(report, title="Handoff")
    response = login(agent).get("/incidents/escalations/handoff/?team=tier-1")
    assert response.status_code == 200 and 'data-section="known_issues"' not in response.content.decode()
    SupportShift.objects.create(team=team, name="Morning", starts_at=time(8, 0), timezone="UTC")
    assert shifts.shift_handoff_sweep(now=datetime(2026, 11, 2, 8, 1, tzinfo=UTC))["mails"] == 1


def test_handoff_page(agent, team, tenant_a, django_assert_max_num_queries):
    case = CaseFactory(tenant=tenant_a, team=team, priority=Priority.CRITICAL, status=Status.IN_PROGRESS)
    client = login(agent)
    client.get("/incidents/escalations/handoff/")
    with django_assert_max_num_queries(14):
        body = client.get("/incidents/escalations/handoff/?team=tier-1").content.decode()
    assert case.key in body and 'data-section="patterns"' in body
