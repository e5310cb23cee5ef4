"""The timers on the real stack: a Celery worker process consuming from Redis runs the SLA sweep
against the test database. Killing the worker (SIGKILL) or losing the broker's messages (a Redis
restart that forgets the queue) loses no escalation and duplicates none, because the sweep
re-derives everything from PostgreSQL.

Each run has its own queue (`test-<uuid>`, the worker's -Q and every send_task), its own Redis
database number and its own key namespace in it (kombu's `global_keyprefix`, for the worker and
the sender alike), so test runs side by side on one machine (xdist workers, other checkouts) never
take each other's messages; the test deletes only its own keys and never flushes a database."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from cases import services
from cases.choices import Priority
from cases.models import SLAClock, SLAEscalation
from companyos.celery import app
from tests.factories import RequesterFactory, TenantFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
RUN = f"test-{uuid.uuid4().hex}"
# A database number of its own per run too (1-15; the console itself uses 0), on top of the key
# namespace that keeps two runs that happen to draw the same number apart.
REDIS_URL = os.environ.get("TEST_CELERY_REDIS_URL", f"redis://127.0.0.1:6379/{1 + uuid.UUID(RUN[5:]).int % 15}")
QUEUE = RUN
KEY_PREFIX = f"{RUN}:"  # every key kombu writes for this run (queue, bindings, unacked messages)
pytestmark = pytest.mark.django_db(transaction=True)

# The worker: the project's Celery app with this run's key prefix added to its transport options.
WORKER = """
import sys
from companyos.celery import app
app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": sys.argv[1]}
app.worker_main(sys.argv[2:])
"""


def _transport_options() -> dict:
    return {**app.conf.broker_transport_options, "global_keyprefix": KEY_PREFIX}


def _redis():
    return redis.Redis.from_url(REDIS_URL)


def _queued() -> int:
    return _redis().llen(KEY_PREFIX + QUEUE)


def _forget_this_runs_messages() -> None:
    """What a Redis restart does to the queue, for this run's keys only."""
    client = _redis()
    for key in client.scan_iter(match=KEY_PREFIX + "*", count=1000):
        client.delete(key)


def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def worker():
    if not _redis_up():
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL}: the test suite runs against the real broker (see .ci/test)"
        )
    settings_db = connection.settings_dict
    db_url = (
        f"postgres://{settings_db['USER'] or 'postgres'}@{settings_db['HOST'] or '127.0.0.1'}:"
        f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "TESTING": "true",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "companyos.settings",
    }
    env.pop("DEBUG", None)
    processes = []

    def start(**extra_env):
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                KEY_PREFIX,
                "worker",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel=WARNING",
                "-Q",
                QUEUE,
                "-n",
                f"{RUN}@%h",
            ],
            cwd=ROOT,
            env={**env, **extra_env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    _forget_this_runs_messages()
    # A killed worker's PostgreSQL session ends a moment after the process: wait for it, or the
    # test database (the last test of an xdist worker's share) cannot be dropped at teardown.
    wait_for(_no_other_sessions, timeout=10)


def _no_other_sessions() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] == 0


def send(task_name: str, *args):
    with app.connection_for_write(REDIS_URL, transport_options=_transport_options()) as conn:
        app.send_task(task_name, args=args, connection=conn, queue=QUEUE)


def _output(process) -> str:
    """What the worker printed (it is stopped first), for the failure message."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    return "worker did not sweep; its output:\n" + process.stdout.read().decode(errors="replace")[-4000:]


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def _overdue_case():
    tenant = TenantFactory(slug="acme")
    agent = UserFactory(username="kari", role="agent", tenants=[tenant], email="kari@example.com")
    case = services.case_create(
        actor=agent,
        tenant=tenant,
        requester=RequesterFactory(tenant=tenant),
        subject="Down",
        priority=Priority.CRITICAL,
    )
    SLAClock.objects.filter(case=case).update(
        due_at=timezone.now() - timedelta(minutes=1), at_risk_at=timezone.now() - timedelta(minutes=5)
    )
    return case


def test_a_worker_runs_the_sweep_from_redis_and_a_killed_worker_or_lost_messages_change_nothing(worker):
    case = _overdue_case()
    first = worker()
    send("cases.tasks.sla_sweep_task")
    assert wait_for(lambda: SLAEscalation.objects.filter(clock__case=case, level="breached").exists()), _output(first)

    # Kill the worker outright and start another; sweeping again changes nothing.
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    second = worker()
    send("cases.tasks.sla_sweep_task")
    send("cases.tasks.sla_sweep_task")
    send("cases.tasks.send_notifications_task")
    assert wait_for(lambda: not _queued()), "queue not drained"
    time.sleep(1.0)
    assert SLAEscalation.objects.filter(clock__case=case).count() == 1

    # A Redis restart that forgets queued messages: a new overdue clock still escalates on the next tick.
    second_case = _overdue_case_for(case)
    _forget_this_runs_messages()  # whatever was queued is gone
    send("cases.tasks.sla_sweep_task")  # the next beat tick
    assert wait_for(lambda: SLAEscalation.objects.filter(clock__case=second_case, level="breached").exists())
    assert SLAEscalation.objects.filter(clock__case=case).count() == 1
    assert second.poll() is None  # the worker stayed up throughout


def _overdue_case_for(case):
    agent = case.owner or UserFactory(username="ola", role="agent", tenants=[case.tenant])
    new = services.case_create(
        actor=agent if agent.is_active else None,
        tenant=case.tenant,
        requester=case.requester,
        subject="Also down",
        priority=Priority.CRITICAL,
    )
    SLAClock.objects.filter(case=new).update(
        due_at=timezone.now() - timedelta(minutes=1), at_risk_at=timezone.now() - timedelta(minutes=5)
    )
    return new
