"""Encryption at rest: the stored file is always Fernet records, never the zip (the tests' settings
use the derived development key); the inspection (which seeks) and the download read it back; a
tampered record is refused. Keys rotate (the first encrypts, all decrypt) and `bundles_reencrypt`
rewrites old bundles under the current key, and encrypts bundles stored in clear before encryption
was required: idempotent, resumable, audited. The production start-up check is in
tests/companyos/test_settings.py."""

import io
import os

import pytest
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from demo import bundles
from runbooks.diagnostics import crypto, reencrypt, services
from runbooks.diagnostics.storage import bundle_storage
from runbooks.models import BundleStatus
from tenants import services as tenant_services
from tests.conftest import login
from tests.factories import UserFactory


def test_records_round_trip_and_seek(tmp_path):
    storage = crypto.EncryptedStorage(FileSystemStorage(location=tmp_path), Fernet.generate_key())
    data = os.urandom(crypto.CHUNK * 2 + 12345)
    name = storage.save("x.bin", ContentFile(data))
    raw = (tmp_path / name).read_bytes()
    assert data[:64] not in raw and raw.startswith(crypto.MAGIC)
    with storage.open(name) as handle:
        handle.seek(crypto.CHUNK * 2 + 100)
        assert handle.read(50) == data[crypto.CHUNK * 2 + 100 : crypto.CHUNK * 2 + 150]
        handle.seek(10)
        assert handle.read() == data[10:]
    assert storage.size(name) == len(data)
    tampered = bytearray(raw)
    tampered[crypto.HEADER + 40] ^= 1
    (tmp_path / name).write_bytes(bytes(tampered))
    with pytest.raises(OSError, match="fails its check"), storage.open(name) as handle:
        handle.read(10)


def test_an_encrypted_bundle_is_inspected_and_downloaded(
    case_a, agent, tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.BUNDLE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    senior = UserFactory(role="senior agent", tenants=[tenant_a])
    tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="CASE-1")
    upload = SimpleUploadedFile(bundles.NAME, bundles.bundle_bytes(), "application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        bundle = services.bundle_upload(case_id=case_a.pk, actor=agent, upload=upload)
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.OK and bundle.report["trace"]["failed"][0]["name"] == "gateway.outbound"
    stored = (settings.MEDIA_ROOT / "bundles" / bundle.storage_name).read_bytes()
    assert stored.startswith(crypto.MAGIC) and b"gateway.outbound" not in stored and b"PK\x03\x04" not in stored
    response = login(agent).get(f"/runbooks/bundles/{bundle.pk}/download/")
    assert b"".join(response.streaming_content) == bundles.bundle_bytes()
    assert io.BytesIO(bundles.bundle_bytes()).read(4) == b"PK\x03\x04"


def _upload(case, tenant, agent, capture):
    senior = UserFactory(role="senior agent", tenants=[tenant])
    tenant_services.tenant_record_telemetry_consent(tenant_id=tenant.pk, actor=senior, reference="CASE-1")
    upload = SimpleUploadedFile(bundles.NAME, bundles.bundle_bytes(), "application/zip")
    with capture(execute=True):
        bundle = services.bundle_upload(case_id=case.pk, actor=agent, upload=upload)
    bundle.refresh_from_db()
    return bundle


def _stored(settings, bundle) -> bytes:
    return (settings.MEDIA_ROOT / "bundles" / bundle.storage_name).read_bytes()


def _download(agent, bundle) -> bytes:
    return b"".join(login(agent).get(f"/runbooks/bundles/{bundle.pk}/download/").streaming_content)


def test_uploads_are_never_stored_in_clear(case_a, agent, tenant_a, settings, django_capture_on_commit_callbacks):
    """The tests run without BUNDLE_ENCRYPTION_KEYS in the environment: the derived development key
    encrypts all the same (production refuses to start without a key)."""
    assert len(settings.BUNDLE_ENCRYPTION_KEYS) == 1
    bundle = _upload(case_a, tenant_a, agent, django_capture_on_commit_callbacks)
    assert bundle.status == BundleStatus.OK
    stored = _stored(settings, bundle)
    assert stored.startswith(crypto.MAGIC) and b"PK\x03\x04" not in stored and b"snapshot.json" not in stored
    settings.BUNDLE_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="never stored in clear"):
        bundle_storage(tenant_a)


def test_rotation_reads_old_bundles_and_the_command_rewrites_them_under_the_new_key(
    case_a, agent, tenant_a, settings, django_capture_on_commit_callbacks
):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BUNDLE_ENCRYPTION_KEYS = [old]
    bundle = _upload(case_a, tenant_a, agent, django_capture_on_commit_callbacks)
    under_old = _stored(settings, bundle)

    settings.BUNDLE_ENCRYPTION_KEYS = [new, old]  # rotated: the new key encrypts, the old one still decrypts
    assert _download(agent, bundle) == bundles.bundle_bytes()
    assert crypto.stored_state(io.BytesIO(under_old), Fernet(new)) == crypto.OLDER_KEY
    assert crypto.stored_state(io.BytesIO(under_old), Fernet(old)) == crypto.CURRENT

    with django_capture_on_commit_callbacks(execute=True):
        call_command("bundles_reencrypt", stdout=(out := io.StringIO()))
    assert "1 re-encrypted" in out.getvalue() and "0 failed" in out.getvalue()
    old_name, bundle.storage_name = bundle.storage_name, type(bundle).objects.get(pk=bundle.pk).storage_name
    assert bundle.storage_name == f"{old_name}~{crypto.key_fingerprint(new)}"
    assert not (settings.MEDIA_ROOT / "bundles" / old_name).exists()  # the original is gone once committed
    with (settings.MEDIA_ROOT / "bundles" / bundle.storage_name).open("rb") as handle:
        assert crypto.stored_state(handle, Fernet(new)) == crypto.CURRENT
    assert LogEntry.objects.filter(object_pk=str(bundle.pk), additional_data__view="re-encrypted at rest").exists()

    settings.BUNDLE_ENCRYPTION_KEYS = [new]  # the old key retired: everything still reads
    assert _download(agent, bundle) == bundles.bundle_bytes()

    with django_capture_on_commit_callbacks(execute=True):  # idempotent: nothing left to do
        call_command("bundles_reencrypt", stdout=(again := io.StringIO()))
    assert "1 already current, 0 re-encrypted, 0 encrypted" in again.getvalue()
    assert type(bundle).objects.get(pk=bundle.pk).storage_name == bundle.storage_name


def test_bundles_stored_in_clear_are_encrypted_and_a_mismatching_one_is_left_and_reported(
    case_a, agent, tenant_a, settings, django_capture_on_commit_callbacks
):
    good = _upload(case_a, tenant_a, agent, django_capture_on_commit_callbacks)
    path = settings.MEDIA_ROOT / "bundles" / good.storage_name
    path.write_bytes(bundles.bundle_bytes())  # as a bundle uploaded before encryption was required
    refused = login(agent).get(f"/runbooks/bundles/{good.pk}/download/", follow=True)
    assert refused.status_code == 200 and b"bundles_reencrypt" in refused.content  # the report page says why

    bad = _upload(case_a, tenant_a, agent, django_capture_on_commit_callbacks)
    bad_path = settings.MEDIA_ROOT / "bundles" / bad.storage_name
    bad_path.write_bytes(bundles.bundle_bytes(pii=True))  # in clear, but not the bytes recorded at upload

    dry = io.StringIO()
    call_command("bundles_reencrypt", "--dry-run", stdout=dry)
    assert f"would encrypt: #{good.pk}" in dry.getvalue() and path.read_bytes() == bundles.bundle_bytes()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SystemExit) as exit_:
        call_command("bundles_reencrypt", stdout=(out := io.StringIO()), stderr=(err := io.StringIO()))
    assert exit_.value.code == 1
    assert "1 encrypted (were in clear), 1 failed" in out.getvalue()
    assert f"failed: #{bad.pk} its bytes do not match the SHA-256 recorded at upload" in err.getvalue()
    good.refresh_from_db()
    assert _stored(settings, good).startswith(crypto.MAGIC) and not path.exists()
    assert _download(agent, good) == bundles.bundle_bytes()
    assert bad_path.read_bytes() == bundles.bundle_bytes(pii=True)  # left as it was, still its row's file
    assert type(bad).objects.get(pk=bad.pk).storage_name == bad.storage_name


def test_an_interrupted_run_is_resumed(case_a, agent, tenant_a, settings, django_capture_on_commit_callbacks):
    """A copy left half-written by a run that died is replaced, not taken for the re-encrypted file."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BUNDLE_ENCRYPTION_KEYS = [old]
    bundle = _upload(case_a, tenant_a, agent, django_capture_on_commit_callbacks)
    settings.BUNDLE_ENCRYPTION_KEYS = [new, old]
    leftover = settings.MEDIA_ROOT / "bundles" / reencrypt.target_name(bundle.storage_name, crypto.key_fingerprint(new))
    leftover.write_bytes(crypto.MAGIC + b"half a file")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("bundles_reencrypt", stdout=io.StringIO())
    bundle.refresh_from_db()
    assert (settings.MEDIA_ROOT / "bundles" / bundle.storage_name) == leftover
    assert _download(agent, bundle) == bundles.bundle_bytes()
