"""Encryption at rest: with BUNDLE_ENCRYPTION_KEY the stored file is Fernet records, not the zip; the
inspection (which seeks) and the download read it back; a tampered record is refused."""

import io
import os

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from demo import bundles
from runbooks.diagnostics import crypto, services
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
    settings.BUNDLE_ENCRYPTION_KEY = Fernet.generate_key().decode()
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
