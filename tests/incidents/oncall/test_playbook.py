"""The playbook's defaults: P2 pages after two hours without progress (once), P3 in the standup digest."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, Notification
from incidents.oncall import playbook
from incidents.oncall.models import Page, ProgressWatch
from tests.factories import CaseFactory, RequesterFactory


@pytest.mark.django_db(transaction=True)
def test_p2_notifies_at_intake_and_pages_after_two_hours_without_progress(chain, tenant_a, agent, people):
    requester = RequesterFactory(tenant=tenant_a)
    quiet = case_services.case_create(actor=agent, tenant=tenant_a, requester=requester, subject="Slow API", priority=2)
    busy = case_services.case_create(actor=agent, tenant=tenant_a, requester=requester, subject="Slow UI", priority=2)
    assert not Page.objects.exists()  # P2: not paged at intake
    assert Notification.objects.filter(subject__startswith=f"High-priority case {quiet.key}").count() == 1
    case_services.case_reply(case_id=busy.pk, actor=agent, body="Looking into it now.", public=True)
    now = timezone.now()
    assert playbook.progress_sweep(now=now + timedelta(minutes=119)) == {"paged": 0, "progressed": 0}
    assert playbook.progress_sweep(now=now + timedelta(minutes=121)) == {"paged": 1, "progressed": 1}
    assert playbook.progress_sweep(now=now + timedelta(minutes=200)) == {"paged": 0, "progressed": 0}  # once
    page = Page.objects.get()
    assert page.case_id == quiet.pk and page.source == Page.Source.PLAYBOOK
    assert ProgressWatch.objects.get(case=busy).outcome == "progress"


@pytest.mark.django_db
def test_p3_standup_digest_lists_open_medium_cases(tenant_a):
    CaseFactory(tenant=tenant_a, subject="Export is slow", priority=3)
    CaseFactory(tenant=tenant_a, subject="Outage", priority=1)
    assert playbook.standup_digest(recipients=["eng@example.com"]) == 1
    body = Notification.objects.get(recipient="eng@example.com").body
    assert "Export is slow" in body and "Outage" not in body


@pytest.mark.django_db
def test_the_agents_request_only_queues_the_intake_work(
    chain, tenant_a, agent, people, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 10, point 4: creating a high (P2) or critical (P1) case runs no chain, schedule or
    rotation lookups on the agent's request: after commit it queues one task, which a worker runs."""
    from celery.app.task import Task
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents import tasks
    from tests.conftest import login

    queued = []  # every task the request queues after commit (a worker would run them)
    monkeypatch.setattr(Task, "apply_async", lambda self, args=(), *a, **k: queued.append((self.name, *args)))
    requester = RequesterFactory(tenant=tenant_a)
    client = login(agent)
    client.get("/cases/")
    form = {"tenant": tenant_a.slug, "requester": requester.pk, "description": "since 10:00", "channel": "email"}
    form |= {"category": "integration", "issue_type": "bug", "environment": "production"}
    for subject, priority in (("Slow API", "high"), ("Outage", "critical")):
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            assert client.post("/cases/new/", {**form, "subject": subject, "priority": priority}).status_code == 302
        # (a content type read is Django's per-process cache warming up, not the request's work)
        sql = [q["sql"] for q in ctx.captured_queries if '"django_content_type"' not in q["sql"]]
        assert len(sql) <= 12 and not [s for s in sql if "incidents_" in s], "on-call lookups ran in the request"
    slow, outage = (Case.objects.get(subject=s) for s in ("Slow API", "Outage"))
    assert ("incidents.tasks.progress_watch_task", slow.pk) in queued
    assert ("incidents.tasks.intake_page_task", outage.pk, "critical case at intake") in queued
    assert not [q for q in queued if q[0] == "incidents.tasks.intake_page_task" and q[1] == slow.pk]
    assert not ProgressWatch.objects.exists() and not Page.objects.exists()
    tasks.progress_watch_task.run(slow.pk)  # what the worker does
    tasks.intake_page_task.run(outage.pk, "critical case at intake")
    assert ProgressWatch.objects.filter(case=slow).exists()
    assert Notification.objects.filter(subject__startswith=f"High-priority case {slow.key}").count() == 1
    assert Page.objects.get().case_id == outage.pk
