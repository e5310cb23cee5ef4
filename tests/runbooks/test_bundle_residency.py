"""Trace bundles follow the tenant's data residency (issue 18 point 5 and issue 16 point 2): an EU
tenant's bundle is stored in the EU region's storage (under bundles/) and never in another; a region
without storage refuses the upload and stores nothing; move_residency moves the bundles with the
attachments, and the moved bundle still opens."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from companyos.settings import storage_regions
from demo import bundles
from runbooks.diagnostics import services
from runbooks.diagnostics.storage import bundle_storage
from runbooks.models import TraceBundle
from tenants import services as tenant_services
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def eu_case(tenant_a, settings):
    settings.STORAGE_REGIONS = storage_regions("EU,US")
    tenant_a.data_residency = "EU"
    tenant_a.save(update_fields=["data_residency"])
    senior = UserFactory(username="sven", role="senior agent", tenants=[tenant_a])
    tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="contract §4")
    return CaseFactory(tenant=tenant_a), senior


def _upload():
    return SimpleUploadedFile(bundles.NAME, bundles.bundle_bytes(), "application/zip")


def test_an_eu_tenants_bundle_is_stored_in_the_eu_region_only(eu_case, settings):
    case, senior = eu_case
    bundle = services.bundle_upload(case_id=case.pk, actor=senior, upload=_upload())
    assert bundle.region == "EU"
    regions = Path(settings.MEDIA_ROOT) / "regions"
    assert _files(regions / "eu") == [f"bundles/{bundle.storage_name}"]
    assert _files(regions / "us") == [] and _files(Path(settings.MEDIA_ROOT) / "bundles") == []
    with bundle_storage(case.tenant, bundle.region).open(bundle.storage_name) as handle:
        assert handle.read() == bundles.bundle_bytes()


def test_a_region_without_storage_refuses_the_bundle_and_stores_nothing(eu_case, settings):
    case, senior = eu_case
    case.tenant.data_residency = "JP"
    case.tenant.save(update_fields=["data_residency"])
    with pytest.raises(services.DiagnosticsError, match="No file storage is configured for the data region JP"):
        services.bundle_upload(case_id=case.pk, actor=senior, upload=_upload())
    assert not TraceBundle.objects.exists() and _files(Path(settings.MEDIA_ROOT)) == []


def test_move_residency_moves_the_bundles_and_they_still_open(eu_case, settings, django_capture_on_commit_callbacks):
    case, senior = eu_case
    bundle = services.bundle_upload(case_id=case.pk, actor=senior, upload=_upload())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("move_residency", "--tenant", case.tenant.slug, "--to", "US", stdout=open("/dev/null", "w"))
    bundle.refresh_from_db()
    regions = Path(settings.MEDIA_ROOT) / "regions"
    assert bundle.region == "US" and _files(regions / "us") == [f"bundles/{bundle.storage_name}"]
    assert _files(regions / "eu") == []
    with bundle_storage(case.tenant, bundle.region).open(bundle.storage_name) as handle:
        assert handle.read() == bundles.bundle_bytes()
