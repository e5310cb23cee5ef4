"""Backups that restore (issue 18, points 1-2): fill a database with every kind of row, back it
up, restore it into a fresh database and storage, and compare row for row and file for file; a
backup that dies half-way is never taken for a good one; restore refuses what it cannot do safely."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from cases import services
from companyos import backup
from companyos.db import owner_settings
from tests.factories import RequesterFactory, ResourceFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="backups are of PostgreSQL databases"),
    pytest.mark.django_db(transaction=True),  # pg_dump reads what is committed
]


def _connect(name: str):
    db = owner_settings() or dict(connection.settings_dict)
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432, user=db["USER"], dbname=name, autocommit=True
    )


def _checksums(name: str) -> dict[str, str]:
    """A checksum per table over every column of every row (order-independent)."""
    with _connect(name) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
            ).fetchone()[0]
            for table in tables
        }


def _fill(tenant, agent):
    """Cases with timelines, clocks, tags, resources and attachments; audit entries come with them."""
    requester = RequesterFactory(tenant=tenant)
    resource = ResourceFactory(tenant=tenant)
    for i in range(3):
        case = services.case_create(
            actor=agent,
            tenant=tenant,
            requester=requester,
            subject=f"Webhooks failing {i}",
            description="Deliveries time out",
            tags=["webhooks"],
            affected_resources=[resource],
        )
        services.case_reply(case_id=case.pk, actor=agent, body=f"Looking into it {i}", public=True)
        services.case_reply(case_id=case.pk, actor=agent, body="internal", public=False)
        services.case_attach(case_id=case.pk, actor=agent, upload=SimpleUploadedFile(f"log-{i}.txt", b"x" * (100 + i)))


@pytest.fixture
def restored_db(settings, tmp_path):
    """An empty database (and an empty storage) the default connection points at for the block."""
    name = f"test_restore_{uuid.uuid4().hex[:10]}"
    source = connection.settings_dict["NAME"]
    with _connect(source) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connection.settings_dict["NAME"] = name
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    try:
        yield name, source
    finally:
        connection.close()
        connection.settings_dict["NAME"] = source
        with _connect(source) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_row_for_row_and_file_for_file(tenant_a, agent, tmp_path, settings, restored_db):
    name, source = restored_db
    connection.close()
    connection.settings_dict["NAME"] = source  # fill and back up the test database first
    settings.MEDIA_ROOT = tmp_path / "media"
    _fill(tenant_a, agent)
    taken = backup.backup(tmp_path / "backups", out=lambda *_: None)
    manifest = json.loads((taken / "manifest.json").read_text())
    assert manifest["tables"]["cases_case"] == 3 and manifest["tables"]["auditlog_logentry"] > 10
    assert len(manifest["files"]) == 3 and all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    before = _checksums(source)
    files_before = {p.name: p.read_bytes() for p in (tmp_path / "media").rglob("*") if p.is_file()}

    connection.close()
    connection.settings_dict["NAME"] = name
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    call_command("restore", str(taken), stdout=open("/dev/null", "w"))
    assert _checksums(name) == before
    files_after = {p.name: p.read_bytes() for p in (tmp_path / "restored-media").rglob("*") if p.is_file()}
    assert files_after == files_before
    # The restored audit chain still verifies (its rows kept their timestamps and hashes) and the app
    # role works on the restored database.
    call_command("audit_verify", stdout=open("/dev/null", "w"))
    from cases.models import Case

    assert Case.objects.count() == 3 and Case.objects.filter(subject__startswith="Webhooks").exists()


def test_restore_refuses_a_database_that_is_not_empty(tenant_a, agent, tmp_path):
    _fill(tenant_a, agent)
    taken = backup.backup(tmp_path / "backups", out=lambda *_: None)
    with pytest.raises(backup.BackupError, match="is not empty"):
        backup.restore(taken, out=lambda *_: None)


def test_restore_refuses_another_schema_version(tenant_a, agent, tmp_path, restored_db):
    name, source = restored_db
    connection.close()
    connection.settings_dict["NAME"] = source
    taken = backup.backup(tmp_path / "backups", out=lambda *_: None)
    manifest = json.loads((taken / "manifest.json").read_text())
    manifest["migrations"]["cases"] = "0001_initial"
    (taken / "manifest.json").write_text(json.dumps(manifest))
    connection.close()
    connection.settings_dict["NAME"] = name
    with pytest.raises(backup.BackupError, match="not this code's: cases 0001_initial"):
        backup.restore(taken, out=lambda *_: None)


def test_a_backup_that_dies_half_way_is_never_taken_for_a_good_one(tenant_a, agent, tmp_path, monkeypatch):
    _fill(tenant_a, agent)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(backup.shutil, "copyfileobj", crash)  # dies copying the first file
    with pytest.raises(OSError):
        backup.backup(tmp_path / "backups", out=lambda *_: None)
    made = list((tmp_path / "backups").iterdir())
    assert len(made) == 1 and made[0].name.endswith(".partial") and not (made[0] / "manifest.json").exists()
    with pytest.raises(backup.BackupError, match="half-written"):
        backup.restore(made[0], out=lambda *_: None)
    # A directory without a manifest (a copy cut short) is refused too, and a tampered dump.
    fake = tmp_path / "backups" / "companyos-20260101T000000Z"
    fake.mkdir()
    with pytest.raises(backup.BackupError, match="no manifest.json"):
        backup.restore(fake, out=lambda *_: None)
    assert backup.prune(tmp_path / "backups", keep=5) == [made[0]]


def test_a_tampered_dump_is_refused(tenant_a, agent, tmp_path):
    taken = backup.backup(tmp_path / "backups", out=lambda *_: None)
    with open(taken / "db.dump", "ab") as dump:
        dump.write(b"tampered")
    with pytest.raises(backup.BackupError, match="does not match the manifest"):
        backup.restore(Path(taken), out=lambda *_: None)


def test_the_nightly_backup_alerts_the_admins_on_failure_until_one_succeeds(admin_user, agent, tmp_path, settings):
    from django.core import mail
    from django.core.cache import cache

    from companyos.tasks import nightly_backup_task
    from tests.conftest import login

    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.BACKUP_DIR = str(tmp_path / "file-not-dir")
    (tmp_path / "file-not-dir").write_text("a file where the backups should go")
    try:
        assert nightly_backup_task() is False
        assert mail.outbox and "Nightly backup failed" in mail.outbox[-1].subject
        assert "The nightly backup failed" in login(admin_user).get("/cases/").content.decode()
        assert "The nightly backup failed" not in login(agent).get("/cases/").content.decode()  # admins only
        settings.BACKUP_DIR, settings.BACKUP_KEEP = str(tmp_path / "backups"), 2
        for _ in range(3):
            assert nightly_backup_task() is True
            (tmp_path / "backups").joinpath("marker").touch()
        assert "The nightly backup failed" not in login(admin_user).get("/cases/").content.decode()
        kept = [p for p in (tmp_path / "backups").iterdir() if p.is_dir()]
        assert len(kept) <= 2
    finally:
        cache.delete(backup.FAILED_KEY)


def test_a_backup_restores_the_files_of_every_data_region(db, tmp_path, settings, restored_db, s3_endpoint):
    """Issue 18, point 5: files live in a storage per region (here EU a local folder, US a bucket on a
    local S3-compatible server, tenants without a residency the default storage); a backup takes them
    all and a restore puts each back into its own region's (empty) storage."""
    from cases.models import Attachment
    from companyos.settings import storage_regions
    from tests.companyos.conftest import bucket_spec, keys, s3_client
    from tests.factories import TenantFactory, UserFactory

    name, source = restored_db
    client = s3_client(s3_endpoint)
    first, second = f"us-{uuid.uuid4().hex[:10]}", f"us-restored-{uuid.uuid4().hex[:10]}"
    for bucket in (first, second):
        client.create_bucket(Bucket=bucket)
    connection.close()
    connection.settings_dict["NAME"] = source
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGE_REGIONS = storage_regions(f"EU,{bucket_spec('US', first, s3_endpoint)}")
    tenants = [TenantFactory(slug="fjord", data_residency="EU"), TenantFactory(slug="acme-us", data_residency="US")]
    tenants.append(TenantFactory(slug="plain"))  # no residency: the default storage
    agent = UserFactory(role="agent", tenants=tenants)
    for tenant in tenants:
        _fill(tenant, agent)
    taken = backup.backup(tmp_path / "backups", out=lambda *_: None)
    manifest = json.loads((taken / "manifest.json").read_text())
    assert manifest["format"] == 2
    assert sorted(manifest["regions"]) == ["EU", "US"]
    assert len(manifest["regions"]["EU"]) == len(manifest["regions"]["US"]) == 3
    # The default storage's 3 (the EU folder inside MEDIA_ROOT is counted once, as EU's).
    assert len(manifest["files"]) == 3 and all(name.startswith("attachments/") for name in manifest["files"])
    us_before = {key: client.get_object(Bucket=first, Key=key)["Body"].read() for key in keys(s3_endpoint, first)}
    eu_root = tmp_path / "media" / "regions" / "eu"
    eu_before = {str(p.relative_to(eu_root)): p.read_bytes() for p in eu_root.rglob("*") if p.is_file()}
    every_local = {
        str(p.relative_to(tmp_path / "media")): p.read_bytes() for p in (tmp_path / "media").rglob("*") if p.is_file()
    }
    checksums = _checksums(source)

    # A configuration without the US region cannot take the backup's US files: refused, with why.
    connection.close()
    connection.settings_dict["NAME"] = name
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    settings.STORAGE_REGIONS = storage_regions("EU")
    with pytest.raises(backup.BackupError, match="files of the data region US, which has no storage configured"):
        backup.restore(taken, out=lambda *_: None)
    # A US bucket that is not empty is refused too.
    settings.STORAGE_REGIONS = storage_regions(f"EU,{bucket_spec('US', first, s3_endpoint)}")
    with pytest.raises(backup.BackupError, match="storage of region US"):
        backup.restore(taken, out=lambda *_: None)

    settings.STORAGE_REGIONS = storage_regions(f"EU,{bucket_spec('US', second, s3_endpoint)}")
    backup.restore(taken, out=lambda *_: None)
    assert _checksums(name) == checksums
    assert {k: client.get_object(Bucket=second, Key=k)["Body"].read() for k in keys(s3_endpoint, second)} == us_before
    eu_root = tmp_path / "restored-media" / "regions" / "eu"
    assert {str(p.relative_to(eu_root)): p.read_bytes() for p in eu_root.rglob("*") if p.is_file()} == eu_before
    root = tmp_path / "restored-media"
    assert {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()} == every_local
    restored = Attachment.objects.get(case__tenant__slug="acme-us", filename="log-0.txt")
    assert restored.region == "US" and restored.file.open("rb").read() == b"x" * 100
