"""Escalation chains: a page runs its chain until acknowledged; each step fires once, on time."""

import threading
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Notification
from incidents.oncall import links, services
from incidents.oncall.models import Page, PageEntry, PageNotice, PageStep
from incidents.oncall.sweep import page_sweep


def _t0():
    from datetime import UTC

    return datetime(2026, 3, 4, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Oslo


def recipients(page):
    return list(
        Notification.objects.filter(pk__in=PageNotice.objects.filter(page=page).values("notification_id"))
        .order_by("id")
        .values_list("recipient", flat=True)
    )


def open_page(chain, people, at):
    with mock.patch("django.utils.timezone.now", return_value=at):
        return services.page_open(actor=people[0], title="Disk full", chain=chain, now=at)


@pytest.mark.django_db
def test_first_step_notifies_the_on_call_person_at_once(chain, people):
    t0 = _t0()
    page = open_page(chain, people, t0)
    on_call = people[(t0 - datetime(2020, 1, 6, 8, tzinfo=t0.tzinfo)).days // 7 % 3]
    assert recipients(page) == [on_call.email]
    page.refresh_from_db()
    assert page.next_due_at == t0 + timedelta(minutes=5)
    body = Notification.objects.get(recipient=on_call.email).body
    assert "/oncall/link/ack/" in body


@pytest.mark.django_db
def test_acknowledged_at_step_one_stops_the_chain(chain, people):
    t0 = _t0()
    page = open_page(chain, people, t0)
    services.page_acknowledge(page_id=page.pk, actor=people[1])
    for minutes in (5, 15, 20, 30, 60, 600):
        page_sweep(now=t0 + timedelta(minutes=minutes))
    assert PageStep.objects.filter(page=page).count() == 1
    assert len(recipients(page)) == 1
    page.refresh_from_db()
    assert page.status == Page.Status.ACKNOWLEDGED and page.next_due_at is None
    assert PageEntry.objects.filter(page=page, kind=PageEntry.Kind.ACK).exists()


@pytest.mark.django_db
def test_no_ack_walks_every_step_on_time(chain, people):
    t0 = _t0()
    page = open_page(chain, people, t0)
    first = recipients(page)[0]
    # step 1 at t0 (wait 5), step 2 at +5 (wait 10), round 2: step 1 at +15, step 2 at +20, fallback at +30
    expected = {
        4: [first],
        5: [first, "dee@example.com"],
        14: [first, "dee@example.com"],
        15: [first, "dee@example.com", first],
        20: [first, "dee@example.com", first, "dee@example.com"],
        29: [first, "dee@example.com", first, "dee@example.com"],
        30: [first, "dee@example.com", first, "dee@example.com", "boss@example.com"],
        300: [first, "dee@example.com", first, "dee@example.com", "boss@example.com"],
    }
    for minutes, who in expected.items():
        page_sweep(now=t0 + timedelta(minutes=minutes))
        assert recipients(page) == who, minutes
    steps = list(
        PageStep.objects.filter(page=page).order_by("fired_at", "id").values_list("round", "position", "due_at")
    )
    assert steps == [
        (0, 0, t0),
        (0, 1, t0 + timedelta(minutes=5)),
        (1, 0, t0 + timedelta(minutes=15)),
        (1, 1, t0 + timedelta(minutes=20)),
        (1, -1, t0 + timedelta(minutes=30)),
    ]
    kinds = list(PageEntry.objects.filter(page=page).values_list("kind", flat=True))
    assert kinds.count(PageEntry.Kind.TIMEOUT) == 4 and PageEntry.Kind.FALLBACK in kinds
    page.refresh_from_db()
    assert page.status == Page.Status.TRIGGERED and page.next_due_at is None


@pytest.mark.django_db
def test_a_step_fires_once_even_if_the_timer_is_replayed(chain, people):
    t0 = _t0()
    page = open_page(chain, people, t0)
    # a lost claim: the page's pointer is put back on a step that already fired
    page_sweep(now=t0 + timedelta(minutes=5))
    Page.objects.filter(pk=page.pk).update(next_round=0, next_position=1, next_due_at=t0 + timedelta(minutes=5))
    page_sweep(now=t0 + timedelta(minutes=6))
    assert recipients(page).count("dee@example.com") == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_notify_once(chain, people):
    t0 = _t0()
    pages = [open_page(chain, people, t0) for _ in range(6)]
    before = Notification.objects.count()
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(page_sweep(now=t0 + timedelta(minutes=5), batch=2))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.fired for r in results) == 6
    assert Notification.objects.count() - before == 6
    assert PageStep.objects.filter(page__in=pages, position=1).count() == 6


@pytest.mark.django_db
def test_the_link_acknowledges_once_without_login(client, chain, people):
    t0 = timezone.now()
    page = services.page_open(actor=people[0], title="Disk full", chain=chain, now=t0)
    notice = PageNotice.objects.get(page=page)
    url = links.ack_url(notice.nonce).split("localhost:8000", 1)[-1]
    assert client.get(url).status_code == 200  # shows the button; a mail scanner's GET does nothing
    page.refresh_from_db()
    assert page.status == Page.Status.TRIGGERED
    response = client.post(url)
    assert response.status_code == 200 and b"Acknowledged" in response.content
    page.refresh_from_db()
    assert page.status == Page.Status.ACKNOWLEDGED and page.acknowledged_by == notice.user
    assert client.post(url).status_code == 409  # once
    assert client.get(url[:-3] + "xx/").status_code == 404  # tampered


@pytest.mark.django_db
def test_an_expired_link_is_refused(client, chain, people, settings):
    page = services.page_open(actor=people[0], title="Disk full", chain=chain)
    notice = PageNotice.objects.get(page=page)
    url = links.ack_url(notice.nonce).split("localhost:8000", 1)[-1]
    with mock.patch("django.core.signing.time.time", return_value=__import__("time").time() + 25 * 3600):
        assert client.post(url).status_code == 410
    page.refresh_from_db()
    assert page.status == Page.Status.TRIGGERED


@pytest.mark.django_db
def test_a_case_is_paged_once_and_resolving_the_case_stops_the_chain(chain, people, case_a):
    t0 = timezone.now()
    page = services.page_from_case(case=case_a, actor=people[0])
    again = services.page_from_case(case=case_a, actor=people[1])
    assert again.pk == page.pk
    assert "Paged on-call" in case_a.interactions.filter(kind="automation").first().body
    type(case_a).objects.filter(pk=case_a.pk).update(status="closed")  # (the case's own path is not under test)
    page_sweep(now=t0 + timedelta(minutes=6))
    page.refresh_from_db()
    assert page.status == Page.Status.RESOLVED
    assert PageStep.objects.filter(page=page).count() == 1


KILLED_WORKER = """
import os, signal, sys
from datetime import datetime
import django
django.setup()
from incidents.oncall import models
from incidents.oncall.sweep import page_sweep

def die(*args, **kwargs):  # the worker is SIGKILLed in the middle of its first step
    os.kill(os.getpid(), signal.SIGKILL)

models.PageNotice.objects.bulk_create = die
page_sweep(now=datetime.fromisoformat(sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_sigkilled_worker_loses_no_step(chain, people):
    import os
    import subprocess
    import sys

    t0 = _t0()
    pages = [open_page(chain, people, t0) for _ in range(3)]
    due = t0 + timedelta(minutes=5)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    worker = subprocess.run([sys.executable, "-c", KILLED_WORKER, due.isoformat()], env=env, timeout=120)
    assert worker.returncode == -9
    assert not PageStep.objects.filter(position=1).exists()  # its transaction rolled back
    assert page_sweep(now=due).fired == 3  # the next sweep does the step
    for page in pages:
        assert recipients(page).count("dee@example.com") == 1
