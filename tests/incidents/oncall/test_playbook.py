"""The playbook's defaults: P2 pages after two hours without progress (once), P3 in the standup digest."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import Notification
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
