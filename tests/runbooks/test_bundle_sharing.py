"""Sharing a report outside: only by an expiring signed link, audited when made and when opened; an
altered, expired or purged link shows nothing."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from demo import bundles
from runbooks.diagnostics import services, sharing
from runbooks.models import TraceBundle
from tenants import services as tenant_services
from tests.conftest import login
from tests.factories import UserFactory


@pytest.fixture
def bundle(case_a, agent, tenant_a, django_capture_on_commit_callbacks):
    senior = UserFactory(role="senior agent", tenants=[tenant_a])
    tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="CASE-1")
    upload = SimpleUploadedFile(bundles.NAME, bundles.bundle_bytes(), "application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        made = services.bundle_upload(case_id=case_a.pk, actor=agent, upload=upload)
    return TraceBundle.objects.get(pk=made.pk)


def test_a_signed_link_shows_the_report_without_the_case_and_is_audited(bundle, agent):
    response = login(agent).post(f"/runbooks/bundles/{bundle.pk}/share/", {"days": "3"}, follow=True)
    text = response.content.decode()
    assert "Shared link, valid until" in text
    link = text.split("/shared/bundles/")[1].split("/")[0]
    assert LogEntry.objects.filter(
        object_pk=str(bundle.pk), additional_data__view="trace bundle report shared"
    ).exists()
    public = Client().get(f"/shared/bundles/{link}/")
    html = public.content.decode()
    assert public.status_code == 200 and "gateway.outbound" in html and "data-shared" in html
    assert bundle.case.subject not in html and "/download/" not in html
    opened = LogEntry.objects.filter(
        object_pk=str(bundle.pk), additional_data__view="trace bundle report via shared link"
    )
    assert opened.count() == 1
    assert Client().get(f"/shared/bundles/{link[:-2]}xx/").status_code == 404  # altered


def test_an_expired_or_purged_link_is_refused(bundle, agent, monkeypatch):
    token, _ = sharing.share_link_create(bundle_id=bundle.pk, actor=agent, days=1)
    assert sharing.share_link_read(token) == bundle
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(sharing.timezone, "now", lambda: later)
    assert sharing.share_link_read(token) is None
    monkeypatch.undo()
    TraceBundle.objects.filter(pk=bundle.pk).update(purged_at=timezone.now())
    assert Client().get(f"/shared/bundles/{token}/").status_code == 404
    with pytest.raises(sharing.ShareRefused):
        sharing.share_link_create(bundle_id=bundle.pk, actor=agent, days=90)
