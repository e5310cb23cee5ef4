"""Data residency (issue 18, point 5): a tenant's files go to its region's storage and nowhere else.
The regions are S3 buckets on a local S3-compatible server (moto in server mode, on 127.0.0.1);
a region without storage is refused; `move_residency` moves a tenant's files when its region changes."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from cases import services
from cases.models import Attachment, Case
from companyos import residency
from companyos.settings import storage_regions
from tests.companyos.conftest import bucket_spec, keys, s3_client
from tests.conftest import login
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory


@pytest.fixture
def buckets(settings, s3_endpoint):
    """EU and US are buckets of their own (fresh per test); no other region is configured."""
    suffix = uuid.uuid4().hex[:12]
    names = {"EU": f"eu-{suffix}", "US": f"us-{suffix}"}
    client = s3_client(s3_endpoint)
    for bucket in names.values():
        client.create_bucket(Bucket=bucket)
    settings.STORAGE_REGIONS = storage_regions(
        ",".join(bucket_spec(code, bucket, s3_endpoint) for code, bucket in names.items())
    )
    yield names
    for bucket in names.values():
        for key in keys(s3_endpoint, bucket):
            client.delete_object(Bucket=bucket, Key=key)
        client.delete_bucket(Bucket=bucket)


def _local_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_settings_read_local_folders_and_buckets():
    regions = storage_regions("eu, US=/srv/us ,NO=s3://no-bucket?region_name=eu-north-1&endpoint_url=http://x")
    assert regions["EU"] == {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {}}
    assert regions["US"]["OPTIONS"] == {"location": "/srv/us"}
    assert regions["NO"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert regions["NO"]["OPTIONS"] == {
        "bucket_name": "no-bucket",
        "region_name": "eu-north-1",
        "endpoint_url": "http://x",
        "file_overwrite": False,
    }


def test_by_default_each_region_is_a_folder_of_its_own(settings, db):
    settings.STORAGE_REGIONS = storage_regions("EU,US")
    eu = TenantFactory(data_residency="eu")  # the code is read case-insensitively
    agent = UserFactory(role="agent", tenants=[eu])
    case = CaseFactory(tenant=eu)
    attachment = services.case_attach(case_id=case.pk, actor=agent, upload=SimpleUploadedFile("a.txt", b"eu data"))
    assert attachment.region == "EU"
    assert (settings.MEDIA_ROOT / "regions" / "eu" / attachment.file.name).read_bytes() == b"eu data"
    assert not (settings.MEDIA_ROOT / "regions" / "us").exists()
    assert not (settings.MEDIA_ROOT / "attachments").exists()  # not in the default storage either


def test_files_of_an_eu_tenant_never_land_in_the_us_storage(settings, db, buckets, s3_endpoint):
    eu = TenantFactory(name="Fjord AS", slug="fjord", data_residency="EU")
    us = TenantFactory(name="Acme Inc", slug="acme-us", data_residency="US")
    agent = UserFactory(role="agent", tenants=[eu, us])
    stored = {}
    for tenant in (eu, us):
        case = services.case_create(
            actor=agent,
            tenant=tenant,
            requester=RequesterFactory(tenant=tenant),
            subject=f"Exports fail for {tenant.slug}",
            description="See the log",
            files=[SimpleUploadedFile(f"{tenant.slug}-opening.log", b"opening " + tenant.slug.encode())],
        )
        services.case_reply(
            case_id=case.pk,
            actor=agent,
            body="Thanks",
            public=True,
            files=[SimpleUploadedFile(f"{tenant.slug}-reply.txt", b"reply " + tenant.slug.encode())],
        )
        services.case_attach(
            case_id=case.pk, actor=agent, upload=SimpleUploadedFile(f"{tenant.slug}-har.json", b"{}" * 10)
        )
        stored[tenant.slug] = list(Attachment.objects.filter(case=case))

    eu_keys, us_keys = keys(s3_endpoint, buckets["EU"]), keys(s3_endpoint, buckets["US"])
    assert sorted(a.file.name for a in stored["fjord"]) == eu_keys and len(eu_keys) == 3
    assert sorted(a.file.name for a in stored["acme-us"]) == us_keys and len(us_keys) == 3
    assert not any("fjord" in key for key in us_keys) and not any("acme-us" in key for key in eu_keys)
    assert {a.region for a in stored["fjord"]} == {"EU"} and {a.region for a in stored["acme-us"]} == {"US"}
    assert _local_files(settings) == []  # nothing went to the local default storage

    # Read back through the console (permission-checked download) from the tenant's own bucket.
    reply = next(a for a in stored["fjord"] if a.filename == "fjord-reply.txt")
    response = login(agent).get(reverse("cases:attachment", kwargs={"pk": reply.pk}))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"reply fjord"


def test_a_region_without_storage_is_refused_and_nothing_is_stored(settings, db, buckets, s3_endpoint):
    norway = TenantFactory(name="Nordlys", slug="nordlys", data_residency="NO")
    agent = UserFactory(role="agent", tenants=[norway])
    case = CaseFactory(tenant=norway)
    version = case.version
    with pytest.raises(services.CaseError, match="No file storage is configured for the data region NO"):
        services.case_attach(case_id=case.pk, actor=agent, upload=SimpleUploadedFile("x.txt", b"secret"))
    with pytest.raises(services.CaseError, match="Nordlys keeps its data in NO"):
        services.case_create(
            actor=agent,
            tenant=norway,
            requester=RequesterFactory(tenant=norway),
            subject="New",
            description="d",
            files=[SimpleUploadedFile("y.txt", b"z")],
        )
    assert Attachment.objects.count() == 0 and Case.objects.filter(tenant=norway).count() == 1
    case.refresh_from_db()
    assert case.version == version  # the refused attach changed nothing
    assert keys(s3_endpoint, buckets["EU"]) == keys(s3_endpoint, buckets["US"]) == [] and _local_files(settings) == []

    # Through the page: a clear refusal, not a 500.
    response = login(agent).post(
        reverse("cases:attach", kwargs={"key": case.key}), {"file": SimpleUploadedFile("x.txt", b"secret")}
    )
    assert response.status_code == 422
    assert "No file storage is configured for the data region NO" in response.content.decode()
    assert Attachment.objects.count() == 0


def test_move_residency_moves_a_tenants_files_to_its_new_region(
    settings, db, buckets, s3_endpoint, django_capture_on_commit_callbacks
):
    tenant = TenantFactory(name="Fjord AS", slug="fjord", data_residency="EU")
    other = TenantFactory(name="Stays", slug="stays", data_residency="EU")
    agent = UserFactory(role="agent", tenants=[tenant, other])
    case = CaseFactory(tenant=tenant)
    for i in range(3):
        services.case_attach(case_id=case.pk, actor=agent, upload=SimpleUploadedFile(f"f{i}.txt", f"file {i}".encode()))
    kept = services.case_attach(
        case_id=CaseFactory(tenant=other).pk, actor=agent, upload=SimpleUploadedFile("k.txt", b"kept")
    )

    call_command("move_residency", "--tenant", "fjord", "--to", "US", "--dry-run", stdout=open("/dev/null", "w"))
    assert len(keys(s3_endpoint, buckets["EU"])) == 4 and keys(s3_endpoint, buckets["US"]) == []
    tenant.refresh_from_db()
    assert tenant.data_residency == "EU"  # a dry run changes nothing

    with pytest.raises(CommandError, match="No file storage is configured for the data region JP"):
        call_command("move_residency", "--tenant", "fjord", "--to", "JP", stdout=open("/dev/null", "w"))
    tenant.refresh_from_db()
    assert tenant.data_residency == "EU"

    with django_capture_on_commit_callbacks(execute=True):  # each original is deleted once its move commits
        call_command("move_residency", "--tenant", "fjord", "--to", "US", stdout=open("/dev/null", "w"))
    tenant.refresh_from_db()
    assert tenant.data_residency == "US"
    moved = list(Attachment.objects.filter(case=case).order_by("pk"))
    assert {a.region for a in moved} == {"US"}
    assert keys(s3_endpoint, buckets["US"]) == sorted(a.file.name for a in moved)
    assert keys(s3_endpoint, buckets["EU"]) == [kept.file.name]  # the originals are gone; the other tenant's stays
    assert [a.file.open("rb").read() for a in moved] == [b"file 0", b"file 1", b"file 2"]
    # Uploads from now on go to the new region; running it again moves nothing.
    later = services.case_attach(case_id=case.pk, actor=agent, upload=SimpleUploadedFile("n.txt", b"new"))
    assert later.region == "US" and later.file.name in keys(s3_endpoint, buckets["US"])
    out = []
    call_command("move_residency", "--tenant", "fjord", stdout=type("W", (), {"write": lambda s, m: out.append(m)})())
    assert "attachments: moved 0" in "".join(out)


def test_storage_for_is_what_other_apps_store_through(settings, db, buckets, s3_endpoint):
    """The one function other kinds of files (trace bundles) store through."""
    eu = TenantFactory(data_residency="EU")
    storage = residency.storage_for(eu)
    name = storage.save("bundles/trace.zip", SimpleUploadedFile("trace.zip", b"PK"))
    assert keys(s3_endpoint, buckets["EU"]) == [name] and keys(s3_endpoint, buckets["US"]) == []
    assert residency.storage_for(TenantFactory(data_residency="")) is residency.storage_for_region("")
    with pytest.raises(residency.ResidencyError, match="configured regions: EU, US"):
        residency.storage_for(TenantFactory(data_residency="JP"))
