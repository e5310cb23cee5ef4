"""The shift handoff e-mail and a burn-rate SRE escalation without a case go through the retrying
notification outbox (cases.Notification), not a mail sent after commit: written in the transaction
that decides them, then sent by the relay (cases.sla.sweep.send_pending_notifications) to a real SMTP
server on 127.0.0.1 (aiosmtpd). The server refuses the first delivery with a temporary error: the
relay records it, retries after the backoff, and every recipient gets exactly one message."""

import socket
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from cases.choices import Priority, Status
from cases.models import Notification
from cases.sla.sweep import send_pending_notifications
from incidents.escalations import shifts, sre
from incidents.escalations.models import SupportShift
from tenants.telemetry import SLI, Integration
from tests.factories import CaseFactory, TeamFactory, UserFactory


class FlakyInbox:
    """Answers the first `refuse` messages with 451 (try again later), then accepts and keeps each."""

    def __init__(self, refuse: int = 1):
        self.refuse = refuse
        self.received: list[tuple[str, str, str]] = []  # (recipient, subject, body)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(message["Subject"])))
        body = message.get_payload(decode=True).decode()
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, subject, body))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = FlakyInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    yield inbox
    controller.stop()


def _relay_until_quiet(start: datetime) -> datetime:
    """Run the relay as beat would, a minute apart, for ten minutes (enough for two backoffs)."""
    moment = start
    for _ in range(10):
        send_pending_notifications(now=moment)
        moment += timedelta(minutes=1)
    return moment


def test_the_handoff_mail_is_relayed_with_a_retry_exactly_once(smtp, agent, tenant_a):
    team = TeamFactory(name="Tier 1", slug="tier-1")
    second = UserFactory(username="sol", role="agent", tenants=[tenant_a])
    team.members.add(agent, second)
    CaseFactory(tenant=tenant_a, team=team, priority=Priority.CRITICAL, status=Status.IN_PROGRESS, subject="Acme down")
    SupportShift.objects.create(team=team, name="Morning", starts_at=time(8, 0), timezone="UTC")
    change = datetime(2026, 11, 2, 8, tzinfo=UTC)
    assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=1)) == {"changes": 1, "mails": 2}
    assert shifts.shift_handoff_sweep(now=change + timedelta(minutes=2)) == {"changes": 0, "mails": 0}
    assert Notification.objects.filter(case__isnull=True).count() == 2

    send_pending_notifications(now=change + timedelta(minutes=2))
    failed = Notification.objects.filter(sent_at__isnull=True).get()  # the refused one waits for its retry
    assert failed.attempts == 1 and "451" in failed.last_error
    _relay_until_quiet(change + timedelta(minutes=3))

    copies = Counter(rcpt for rcpt, _, _ in smtp.received)
    assert copies == {agent.email: 1, second.email: 1}
    subject, body = next((s, b) for r, s, b in smtp.received if r == agent.email)
    assert subject.startswith("Shift handoff: Tier 1 · Morning") and "Acme down" in body
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_a_burn_rate_escalation_without_a_case_goes_through_the_outbox(smtp, tenant_a):
    sre_user = UserFactory(username="sam", role="SRE", email="sam@companyos.example")
    integration = Integration.objects.create(name="prom", token_prefix="x", token_hash="h")
    now = timezone.now()
    SLI.objects.bulk_create(
        SLI(
            tenant=tenant_a,
            integration=integration,
            source_id=f"a{i}",
            name="ingest availability",
            objective=99.9,
            value=97.0,
            error_budget_remaining=10,
            observed_at=now - timedelta(minutes=m),
        )
        for i, m in enumerate(range(0, 60, 5))
    )
    # No escalation chain configured: every SRE is told — on the outbox, about no case.
    assert sre.burn_rate_sweep(now=now) == {"tenants": 1, "escalated": 1}
    assert sre.burn_rate_sweep(now=now + timedelta(seconds=30)) == {"tenants": 1, "escalated": 0}
    note = Notification.objects.get(channel="email")
    assert note.case_id is None and note.recipient == sre_user.email and note.sent_at is None
    assert smtp.received == []  # nothing sent by the escalation itself
    _relay_until_quiet(timezone.now() + timedelta(seconds=1))
    assert [(r, s.startswith("PAGE: SRE escalation on Acme Corp")) for r, s, _ in smtp.received] == [
        (sre_user.email, True)
    ]
    note.refresh_from_db()
    assert note.sent_at is not None and note.attempts == 2
