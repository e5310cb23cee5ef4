"""The notification outbox on the real stack: a Celery worker sends 200 e-mails to an SMTP server on
127.0.0.1 (aiosmtpd) and is SIGKILLed after the 20th. Each notification is claimed, sent and marked
on its own, so the next run sends the rest and re-sends at most the one that was in flight."""

import asyncio
import os
import signal
import socket
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from cases import services
from cases.choices import Priority
from cases.models import Notification
from cases.sla import sweep
from tests.companyos.test_celery import _output, send, wait_for, worker  # noqa: F401 — the worker fixture
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COUNT = 200


class Inbox:
    """An SMTP server's DATA handler: keeps the subject of every message it accepts."""

    def __init__(self):
        self.subjects: list[str] = []
        self.delay = 0.05  # slow enough that the kill lands mid-batch

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        text = envelope.content.decode(errors="replace")
        self.subjects.append(next(line[9:] for line in text.splitlines() if line.startswith("Subject: ")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _pending_notifications():
    tenant = TenantFactory(slug="acme")
    agent = UserFactory(username="kari", role="agent", tenants=[tenant])
    case = services.case_create(
        actor=agent, tenant=tenant, requester=RequesterFactory(tenant=tenant), subject="Down", priority=Priority.HIGH
    )
    Notification.objects.bulk_create(
        Notification(
            case=case,
            channel=Notification.Channel.EMAIL,
            recipient=f"agent{i}@example.com",
            subject=f"note-{i:03d}",
            body="breached",
            send_after=timezone.now() - timedelta(minutes=1),
        )
        for i in range(COUNT)
    )


def test_a_worker_killed_mid_batch_re_sends_at_most_the_one_in_flight(smtp, worker, settings):  # noqa: F811
    inbox, port = smtp
    _pending_notifications()
    process = worker(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port)
    )
    send("cases.tasks.send_notifications_task")
    assert wait_for(lambda: len(inbox.subjects) >= 20, timeout=60), _output(process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    received_before_restart = len(inbox.subjects)
    assert received_before_restart < COUNT, "the worker finished before it was killed: the test proves nothing"

    # What the kill left: everything delivered is marked sent, except at most the one in flight,
    # which is still leased ("sending"); nothing else was touched.
    marked = Notification.objects.filter(sent_at__isnull=False).count()
    leased = Notification.objects.filter(sent_at__isnull=True, lease_until__isnull=False).count()
    assert received_before_restart - 1 <= marked <= received_before_restart and leased <= 1
    assert Notification.objects.filter(sent_at__isnull=True, attempts=0).count() == COUNT - marked - leased

    # The next run, once the lease has run out, sends the rest.
    inbox.delay = 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    later = timezone.now() + sweep.OUTBOX_LEASE + timedelta(seconds=1)
    sweep.send_pending_notifications(now=later, limit=COUNT)

    copies = Counter(inbox.subjects)
    assert set(copies) == {f"note-{i:03d}" for i in range(COUNT)}  # none lost
    assert sum(copies.values()) - COUNT <= 1  # at most one re-sent
    assert Notification.objects.filter(sent_at__isnull=True).count() == 0


def test_a_leased_notification_is_left_to_its_sender_until_the_lease_runs_out(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _pending_notifications()
    now = timezone.now()
    claimed = sweep._claim_next(now)
    assert claimed.status == "sending" and claimed.attempts == 1
    # Another sender meanwhile takes every other one, but not the claimed one.
    assert sweep.send_pending_notifications(now=now, limit=COUNT) == COUNT - 1
    claimed.refresh_from_db()
    assert claimed.sent_at is None
    assert sweep.send_pending_notifications(now=now + sweep.OUTBOX_LEASE + timedelta(seconds=1)) == 1
    claimed.refresh_from_db()
    assert claimed.sent_at is not None and claimed.lease_until is None and claimed.attempts == 2
