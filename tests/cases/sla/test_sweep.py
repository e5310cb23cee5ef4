"""The SLA sweep and the notification outbox: idempotent, safe under concurrency, nothing lost when
a worker dies half way, notifications over the real wire formats (SMTP via Django's mail backend,
Slack's incoming-webhook JSON against a local server)."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection

from cases import services
from cases.choices import Priority
from cases.models import Interaction, Notification, SLAClock, SLAEscalation, SLAPolicy
from cases.sla import sweep as escalation
from companyos import roles
from tests.factories import RequesterFactory, TeamFactory, TenantFactory, UserFactory

OSLO = ZoneInfo("Europe/Oslo")
MON_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=OSLO)


@pytest.fixture
def setup(db):
    tenant = TenantFactory(slug="acme")
    boss = UserFactory(username="boss", role="manager", email="boss@example.com")
    team = TeamFactory(name="Tier 1", slug="tier-1", manager=boss)
    agent = UserFactory(username="kari", role="agent", tenants=[tenant], email="kari@example.com")
    UserFactory(username="oncall", role="SRE", email="oncall@example.com")
    return {"tenant": tenant, "agent": agent, "team": team, "requester": RequesterFactory(tenant=tenant)}


def make_case(setup, priority=Priority.CRITICAL, when=MON_0900):
    with mock.patch("django.utils.timezone.now", return_value=when):
        case = services.case_create(
            actor=setup["agent"],
            tenant=setup["tenant"],
            requester=setup["requester"],
            subject="Payment processing is down",
            priority=priority,
            owner=setup["agent"],
            team=setup["team"],
        )
    return case


def sweep(when):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return escalation.sla_sweep(now=when)


@pytest.mark.django_db
def test_breach_escalates_once_with_notifications_and_a_timeline_entry(setup):
    case = make_case(setup)  # first response due 09:15
    result = sweep(MON_0900 + timedelta(minutes=16))
    # A clock found already past due escalates as breached only (the at-risk level is moot).
    assert (result.breached, result.at_risk, result.escalations) == (1, 0, 1)
    clock = SLAClock.objects.get(case=case, kind="first_response")
    assert clock.breached_at == MON_0900 + timedelta(minutes=15)
    assert list(clock.escalations.values_list("level", flat=True)) == ["breached"]
    entry = case.interactions.get(kind=Interaction.Kind.AUTOMATION)
    assert "first response SLA breached" in entry.body and roles.is_system(entry.actor)


@pytest.mark.django_db
def test_sweep_is_idempotent(setup):
    case = make_case(setup)
    first = sweep(MON_0900 + timedelta(minutes=16))
    second = sweep(MON_0900 + timedelta(minutes=17))
    assert first.breached == 1 and second.breached == 0 and second.escalations == 0
    assert SLAEscalation.objects.filter(clock__case=case, level="breached").count() == 1
    entries = case.interactions.filter(kind=Interaction.Kind.AUTOMATION, data__escalation="breached")
    assert entries.count() == 1
    recipients = set(
        Notification.objects.filter(case=case, escalation__level="breached").values_list("recipient", flat=True)
    )
    assert recipients == {
        "kari@example.com",
        "boss@example.com",
        "oncall@example.com",
    }  # owner, their manager, on-call page
    assert "paged on-call (1)" in entries.get().data["actions"]


@pytest.mark.django_db
def test_at_risk_then_breached_each_once(setup):
    case = make_case(setup)  # 80% of 15 min → at risk from 09:12
    assert sweep(MON_0900 + timedelta(minutes=11)).escalations == 0
    risk = sweep(MON_0900 + timedelta(minutes=13))
    assert (risk.at_risk, risk.breached) == (1, 0)
    assert sweep(MON_0900 + timedelta(minutes=14)).escalations == 0
    breach = sweep(MON_0900 + timedelta(minutes=20))
    assert (breach.breached, breach.escalations) == (1, 1)
    assert sorted(SLAEscalation.objects.filter(clock__case=case).values_list("level", flat=True)) == [
        "at_risk",
        "breached",
    ]


@pytest.mark.django_db
def test_stopped_and_paused_clocks_are_not_escalated(setup):
    case = make_case(setup)
    with mock.patch("django.utils.timezone.now", return_value=MON_0900 + timedelta(minutes=5)):
        services.case_reply(case_id=case.pk, actor=setup["agent"], body="On it", public=True)
    result = sweep(MON_0900 + timedelta(days=3))
    # First response was met; the update cadence clock (4 business hours) is past due and escalates.
    assert not SLAEscalation.objects.filter(clock__kind="first_response").exists()
    assert SLAEscalation.objects.filter(clock__kind="update", level="breached").count() == 1
    assert result.breached == 1


@pytest.mark.django_db
def test_a_worker_killed_mid_sweep_loses_nothing(setup):
    cases = [make_case(setup) for _ in range(5)]
    with mock.patch.object(escalation, "_escalate", side_effect=SystemExit("worker killed")):
        with pytest.raises(SystemExit):
            sweep(MON_0900 + timedelta(minutes=16))
    assert not SLAEscalation.objects.exists()
    assert not SLAClock.objects.filter(breached_at__isnull=False).exists()  # the batch rolled back
    result = sweep(MON_0900 + timedelta(minutes=17))
    assert result.breached == 5
    assert SLAEscalation.objects.filter(level="breached").count() == 5
    assert (
        Interaction.objects.filter(
            case__in=cases, kind=Interaction.Kind.AUTOMATION, data__escalation="breached"
        ).count()
        == 5
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_escalate_each_clock_once(setup):
    for _ in range(40):
        make_case(setup)
    when = MON_0900 + timedelta(minutes=16)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(escalation.sla_sweep(now=when, batch=7))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.breached for r in results) == 40
    assert SLAEscalation.objects.filter(level="breached").count() == 40
    assert Interaction.objects.filter(kind=Interaction.Kind.AUTOMATION, data__escalation="breached").count() == 40


@pytest.mark.django_db
def test_unique_constraint_guards_a_second_escalation_even_without_locks(setup):
    case = make_case(setup)
    clock = SLAClock.objects.get(case=case, kind="first_response")
    assert escalation._insert_escalations([clock.pk], "breached", MON_0900) == {clock.pk}
    assert escalation._insert_escalations([clock.pk], "breached", MON_0900) == set()


@pytest.mark.django_db
def test_at_risk_notifications_wait_for_business_hours_when_the_policy_says_so(setup):
    SLAPolicy.objects.filter(name="Standard").update(notify_business_hours_only=True)
    friday = datetime(2026, 11, 27, 15, 50, tzinfo=OSLO)
    case = make_case(setup, priority=Priority.CRITICAL, when=friday)  # 15 min: 10 by Friday's close, 5 on Monday
    clock = SLAClock.objects.get(case=case, kind="first_response")
    assert clock.due_at == datetime(2026, 11, 30, 8, 5, tzinfo=OSLO)
    assert clock.at_risk_at == datetime(2026, 11, 30, 8, 2, tzinfo=OSLO)  # 80% = 12 business minutes
    sweep(datetime(2026, 11, 28, 10, 0, tzinfo=OSLO))  # Saturday: not at risk yet
    assert not SLAEscalation.objects.exists()
    sweep(datetime(2026, 11, 30, 8, 3, tzinfo=OSLO))
    note = Notification.objects.get(case=case, recipient="kari@example.com")
    assert note.send_after == datetime(2026, 11, 30, 8, 3, tzinfo=OSLO)  # inside hours: at once


@pytest.mark.django_db
def test_at_risk_outside_hours_is_held_until_the_next_open(setup):
    SLAPolicy.objects.filter(name="Standard").update(notify_business_hours_only=True, at_risk_percent=50)
    case = make_case(
        setup, priority=Priority.HIGH, when=datetime(2026, 11, 27, 15, 20, tzinfo=OSLO)
    )  # 60 min, 40 by close
    sweep(datetime(2026, 11, 27, 18, 0, tzinfo=OSLO))  # at risk since 15:50, swept after hours
    note = Notification.objects.get(case=case, recipient="kari@example.com")
    assert note.send_after == datetime(2026, 11, 30, 8, 0, tzinfo=OSLO)
    assert escalation.send_pending_notifications(now=datetime(2026, 11, 28, 9, 0, tzinfo=OSLO)) == 0
    assert escalation.send_pending_notifications(now=datetime(2026, 11, 30, 8, 0, tzinfo=OSLO)) == 2


@pytest.mark.django_db
def test_raise_priority_policy_action(setup):
    SLAPolicy.objects.filter(name="Standard").update(escalation=SLAPolicy.Escalation.RAISE_PRIORITY)
    case = make_case(setup, priority=Priority.HIGH)  # first response 60 min
    sweep(MON_0900 + timedelta(minutes=61))
    case.refresh_from_db()
    assert case.priority == Priority.CRITICAL
    change = case.interactions.get(kind=Interaction.Kind.FIELDS)
    assert roles.is_system(change.actor) and change.data["changes"]["priority"] == ["High", "Critical"]


@pytest.mark.django_db
def test_reassign_policy_action(setup):
    escalation_team = TeamFactory(name="Tier 2", slug="tier-2")
    SLAPolicy.objects.filter(name="Standard").update(
        escalation=SLAPolicy.Escalation.REASSIGN, escalation_team=escalation_team
    )
    case = make_case(setup, priority=Priority.HIGH)
    sweep(MON_0900 + timedelta(minutes=61))
    case.refresh_from_db()
    assert case.team == escalation_team


# --- the outbox over real wire formats -----------------------------------------------------------


class SlackHook(BaseHTTPRequestHandler):
    received: list = []
    answer = (200, b"ok")

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        SlackHook.received.append((self.headers["Content-Type"], json.loads(self.rfile.read(length))))
        status, body = SlackHook.answer
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slack(settings):
    server = HTTPServer(("127.0.0.1", 0), SlackHook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SlackHook.received = []
    SlackHook.answer = (200, b"ok")
    settings.SLACK_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    yield SlackHook
    server.shutdown()


@pytest.mark.django_db
def test_notifications_are_sent_by_mail_and_slack_exactly_once(setup, slack, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = make_case(setup)
    sweep(MON_0900 + timedelta(minutes=16))
    sent = escalation.send_pending_notifications(now=MON_0900 + timedelta(minutes=16))
    assert sent == Notification.objects.filter(sent_at__isnull=False).count() >= 4
    assert {m.to[0] for m in mail.outbox} == {"kari@example.com", "boss@example.com", "oncall@example.com"}
    assert any(case.key in m.subject for m in mail.outbox)
    # Slack (issue 11): the new critical case, the breach and the page, each once, as JSON with blocks.
    assert [p["text"].split("\n")[0] for _, p in slack.received] == [
        f"*New critical case {case.key}: Payment processing is down*",
        f"*{case.key}: first response SLA breached — due 2026-11-23 08:15 UTC*",
        f"*PAGE: {case.key}: first response SLA breached — due 2026-11-23 08:15 UTC*",
    ]
    content_type, payload = slack.received[1]
    assert content_type.startswith("application/json") and payload["blocks"][0]["type"] == "section"
    assert escalation.send_pending_notifications(now=MON_0900 + timedelta(minutes=30)) == 0
    assert len(mail.outbox) == 3 + 0 and len(slack.received) == 3


@pytest.mark.django_db
def test_a_failing_slack_webhook_is_retried_not_lost(setup, slack, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    slack.answer = (500, b"invalid_payload")
    make_case(setup)
    sweep(MON_0900 + timedelta(minutes=16))
    escalation.send_pending_notifications(now=MON_0900 + timedelta(minutes=16))
    failed = Notification.objects.filter(channel="slack", escalation__isnull=False).order_by("id").first()  # the breach
    assert failed.sent_at is None and failed.attempts == 1 and "500" in failed.last_error
    slack.answer = (200, b"ok")
    escalation.send_pending_notifications(now=MON_0900 + timedelta(minutes=17))
    failed.refresh_from_db()
    assert failed.sent_at is not None and failed.attempts == 2
