"""Retention: bundles past the tenant's window are purged by the beat task (bytes and extracted data
gone, the row kept as the case's tombstone, audited, on the timeline); the dry run lists and changes
nothing; a second purge finds nothing."""

import io
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from cases.models import Interaction
from demo import bundles
from runbooks import tasks
from runbooks.diagnostics import services
from runbooks.models import Evidence, TraceBundle
from tenants import services as tenant_services
from tests.factories import UserFactory


@pytest.fixture
def two_bundles(case_a, agent, tenant_a, settings, django_capture_on_commit_callbacks):
    senior = UserFactory(role="senior agent", tenants=[tenant_a])
    tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="CASE-1")
    made = []
    for _ in range(2):
        upload = SimpleUploadedFile(bundles.NAME, bundles.bundle_bytes(), "application/zip")
        with django_capture_on_commit_callbacks(execute=True):
            made.append(services.bundle_upload(case_id=case_a.pk, actor=agent, upload=upload))
    old, new = made
    TraceBundle.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - timedelta(days=45))
    settings.BUNDLE_RETENTION_DAYS = 30
    return TraceBundle.objects.get(pk=old.pk), TraceBundle.objects.get(pk=new.pk)


def _stored(settings, bundle):
    return settings.MEDIA_ROOT / "bundles" / bundle.storage_name


def test_the_dry_run_lists_and_changes_nothing(two_bundles, settings):
    old, new = two_bundles
    out = io.StringIO()
    call_command("bundles_purge", "--dry-run", stdout=out)
    assert (
        f"would purge: {old.case.key} {old.name}" in out.getvalue() and "1 bundle(s) would be purged" in out.getvalue()
    )
    old.refresh_from_db()
    assert old.purged_at is None and _stored(settings, old).is_file()


def test_the_purge_leaves_a_tombstone_and_audit_rows(two_bundles, settings, django_capture_on_commit_callbacks):
    old, new = two_bundles
    old_file, new_file = _stored(settings, old), _stored(settings, new)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.bundle_retention_task.delay()
    old.refresh_from_db()
    assert not old_file.exists() and new_file.is_file()
    assert old.storage_name == "" and old.report is None
    assert (old.name, old.size, old.sha256) == (new.name, new.size, new.sha256)  # the tombstone keeps them
    assert old.purged_at and old.purge_rule == "retention: 30 days (default)"
    entry = (
        LogEntry.objects.get_for_object(old).filter(changes__has_key="purged_at", action=LogEntry.Action.UPDATE).get()
    )
    assert entry.actor.username == "system"
    assert Evidence.objects.get(bundle=old).data == {"purged": True, "rule": old.purge_rule}
    assert Interaction.objects.filter(case=old.case, body__contains="purged (retention: 30 days").exists()
    assert services.bundles_purge() == []  # exactly once
    page = old.case  # the case page's card still names it, as purged
    from tests.conftest import login

    html = login(old.uploaded_by).get(f"/runbooks/case/{page.key}/diagnostics/").content.decode()
    assert "Purged" in html and old.purge_rule in html


def test_the_tenant_window_overrides_the_default(two_bundles, tenant_a):
    old, new = two_bundles
    tenant_a.telemetry_retention_days = 60
    tenant_a.save(update_fields=["telemetry_retention_days"])
    assert services.bundles_purge() == []
    tenant_a.telemetry_retention_days = 10
    tenant_a.save(update_fields=["telemetry_retention_days"])
    purged = services.bundles_purge(now=timezone.now() + timedelta(days=11))
    assert {row["id"] for row in purged} == {old.pk, new.pk}
    assert {row["rule"] for row in purged} == {"retention: 10 days (tenant)"}
