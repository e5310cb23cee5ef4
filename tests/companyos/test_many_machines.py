"""Nothing depends on one process (issue 18, point 7): two gunicorn instances behind one session, and
two Celery workers sweeping the same due clocks at once, against the same PostgreSQL and Redis —
no lost session, no duplicate escalation or notification."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from cases import services
from cases.choices import Priority
from cases.models import Notification, SLAClock, SLAEscalation
from tests.companyos.test_celery import REDIS_URL, ROOT, RUN, _queued, send, wait_for, worker  # noqa: F401
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_instances():
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"{RUN}-cache",  # one namespace for both instances, as in production
        "SECRET_KEY": settings.SECRET_KEY,  # the same key everywhere (sessions are signed with it)
        "TESTING": "true",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DJANGO_SETTINGS_MODULE": "companyos.settings",
    }
    env.pop("DEBUG", None)
    ports, processes = [_free_port(), _free_port()], []
    for port in ports:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "companyos.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def up(port):
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    assert all(wait_for(lambda p=p: up(p), timeout=30) for p in ports), "gunicorn did not start"
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def test_one_session_across_two_instances(two_instances, tenant_a):
    agent = UserFactory(username="mia", role="agent", tenants=[tenant_a])
    client = Client()
    client.force_login(agent)  # the session row, as the sign-in page writes it
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    statuses = []
    for i in range(10):
        base = two_instances[i % 2]
        response = httpx.get(f"{base}/cases/", cookies={settings.SESSION_COOKIE_NAME: cookie}, timeout=15)
        statuses.append(response.status_code)
    assert statuses == [200] * 10  # never sent back to sign in by the other instance


def test_two_workers_sweeping_at_once_escalate_and_notify_exactly_once(worker):  # noqa: F811
    tenant = TenantFactory(slug="acme")
    agent = UserFactory(username="kari", role="agent", tenants=[tenant], email="kari@example.com")
    requester = RequesterFactory(tenant=tenant)
    cases = [
        services.case_create(
            actor=agent, tenant=tenant, requester=requester, subject=f"Down {i}", priority=Priority.CRITICAL
        )
        for i in range(12)
    ]
    SLAClock.objects.filter(case__in=cases).update(
        due_at=timezone.now() - timedelta(minutes=1), at_risk_at=timezone.now() - timedelta(minutes=5)
    )
    first, second = worker(), worker()
    for _ in range(4):  # two beats' worth of sweeps, taken by whichever worker is free, at once
        send("cases.tasks.sla_sweep_task")
        send("cases.tasks.send_notifications_task")
    assert wait_for(lambda: SLAEscalation.objects.filter(level="breached").count() >= 12, timeout=90)
    assert wait_for(lambda: not _queued(), timeout=60)
    time.sleep(1.0)
    for case in cases:
        assert SLAEscalation.objects.filter(clock__case=case, level="breached").count() == 1
    per_case = Notification.objects.filter(case__in=cases).values_list("case_id", "recipient", "subject")
    assert len(per_case) == len(set(per_case))  # no notification written twice
    assert first.poll() is None and second.poll() is None
