"""Retention (issue 18, point 3): the rules, their dry runs and purges, each recorded and audited;
the admins' page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from cases import services
from cases.choices import Status
from cases.models import Attachment, Case, Notification
from companyos import retention
from companyos.models import PurgeRecord
from tests.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_every_app_registers_its_rules():
    assert {r.name for r in retention.rules()} >= {
        "audit-partitions",
        "telemetry",
        "notifications",
        "email-originals",
        "closed-case-attachments",
    }


def test_old_sent_notifications_are_counted_then_purged_and_both_recorded(case_a, admin_user):
    old = timezone.now() - timedelta(days=120)
    Notification.objects.create(case=case_a, channel="email", recipient="a@x.io", subject="s", body="b", sent_at=old)
    Notification.objects.create(case=case_a, channel="email", recipient="a@x.io", subject="s", body="b", sent_at=None)
    fresh = timezone.now() - timedelta(days=3)
    Notification.objects.create(case=case_a, channel="email", recipient="a@x.io", subject="s", body="b", sent_at=fresh)
    (dry,) = retention.run(dry_run=True, actor=admin_user, only="notifications")
    assert dry.count == 1 and Notification.objects.count() == 3  # a dry run removes nothing
    (purge,) = retention.run(dry_run=False, actor=admin_user, only="notifications")
    assert purge.count == 1 and Notification.objects.count() == 2  # the unsent and the fresh one stay
    assert LogEntry.objects.filter(content_type__model="purgerecord", object_pk=str(purge.pk)).exists()


def test_closed_cases_attachments_follow_the_tenants_own_rule(tenant_a, tenant_b, agent, settings, admin_user):
    settings.ATTACHMENT_RETENTION_DAYS = 0  # kept forever by default …
    settings.ATTACHMENT_RETENTION_DAYS_BY_TENANT = {tenant_a.slug: 30}  # … but 30 days for this tenant
    long_ago = timezone.now() - timedelta(days=45)
    mine = CaseFactory(tenant=tenant_a, status=Status.CLOSED, closed_at=long_ago)
    other = CaseFactory(tenant=tenant_b, status=Status.CLOSED, closed_at=long_ago)
    recent = CaseFactory(tenant=tenant_a, status=Status.CLOSED, closed_at=timezone.now() - timedelta(days=2))
    from companyos.roles import system_user

    for case in (mine, other, recent):
        services.case_attach(case_id=case.pk, actor=system_user(), upload=SimpleUploadedFile("log.txt", b"x"))
    path = Attachment.objects.get(case=mine).file.path
    (dry,) = retention.run(dry_run=True, actor=admin_user, only="closed-case-attachments")
    assert dry.count == 1
    retention.run(dry_run=False, actor=admin_user, only="closed-case-attachments")
    assert not Attachment.objects.filter(case=mine).exists()
    assert Attachment.objects.filter(case=other).exists() and Attachment.objects.filter(case=recent).exists()
    import os

    assert not os.path.exists(path)
    assert Case.objects.get(pk=mine.pk).interactions.filter(body__contains="attachment(s) deleted").exists()


def test_a_failing_rule_is_recorded_and_does_not_stop_the_others(monkeypatch, admin_user):
    rule = retention._rules["notifications"]
    monkeypatch.setitem(retention._rules, "notifications", retention.Rule(**{**rule.__dict__, "count": lambda: 1 / 0}))
    records = {r.rule: r for r in retention.run(dry_run=True, actor=admin_user)}
    assert "ZeroDivisionError" in records["notifications"].error and records["telemetry"].error == ""


def test_the_page_is_for_admins_and_runs_a_dry_run(admin_user, agent):
    assert login(agent).get("/retention/").status_code == 403
    page = login(admin_user).get("/retention/").content.decode()
    assert "closed-case-attachments" in page and "ATTACHMENT_RETENTION_DAYS_BY_TENANT" in page
    response = login(admin_user).post("/retention/")
    assert response.status_code == 200 and "Would remove now" in response.content.decode()
    assert PurgeRecord.objects.filter(dry_run=True, actor=admin_user).count() == len(retention.rules())


def test_the_command(capsys):
    call_command("retention", "--dry-run")
    assert "would remove" in capsys.readouterr().out
