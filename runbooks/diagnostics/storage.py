"""The one place a trace bundle's bytes are kept: `bundle_storage(tenant)`.

Local disk by default (`MEDIA_ROOT/bundles/`, never a served path: MEDIA_URL is not routed and
downloads go through the permission-checked, audited view); `BUNDLE_STORAGE` in the settings names
another Django storage (e.g. django-storages' S3 backend) by its STORAGES alias. With
`BUNDLE_ENCRYPTION_KEY` (a Fernet key) every bundle is encrypted at rest (`crypto.EncryptedStorage`).
The operations issue points this function at the tenant's data-residency storage
(`companyos/residency.py`)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages


def bundle_storage(tenant) -> Storage:
    alias = getattr(settings, "BUNDLE_STORAGE", "")
    storage = storages[alias] if alias else FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "bundles")
    key = getattr(settings, "BUNDLE_ENCRYPTION_KEY", "")
    if key:
        from .crypto import EncryptedStorage

        return EncryptedStorage(storage, key)
    return storage


def bundle_path(tenant, case_key: str, sha256: str, name: str) -> str:
    """Where a bundle goes in its storage: per tenant and case, named by its hash (never by anything
    the uploader chose beyond the checked file name)."""
    return f"{tenant.slug}/{case_key}/{sha256[:16]}-{name}"
