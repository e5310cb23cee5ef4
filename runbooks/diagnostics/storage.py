"""The one place a trace bundle's bytes are kept: `bundle_storage(tenant)`.

Local disk by default (`MEDIA_ROOT/bundles/`, never a served path: MEDIA_URL is not routed and
downloads go through the permission-checked, audited view); `BUNDLE_STORAGE` in the settings names
another Django storage (e.g. django-storages' S3 backend) by its STORAGES alias. Every bundle is
encrypted at rest (`crypto.EncryptedStorage`) under `BUNDLE_ENCRYPTION_KEYS` (the first encrypts, all
decrypt; settings refuse to start production without one): never stored in clear.
A tenant with a data residency keeps its bundles in its region's storage
(`companyos/residency.py`, under `bundles/`); the region is recorded on the bundle
(`TraceBundle.region`), and `manage.py move_residency` moves them with the attachments."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages

from companyos import residency

from .crypto import EncryptedStorage

REGION_PREFIX = "bundles/"  # inside a region's storage, beside the attachments


def bundle_storage(tenant, region: str | None = None) -> Storage:
    """The storage of a tenant's bundles. A tenant with a data residency keeps them in its region's
    storage (`companyos.residency`; a region without storage raises ResidencyError: never another
    region's); `region` names the one a stored bundle is in (TraceBundle.region). Without a residency:
    `BUNDLE_STORAGE` (a STORAGES alias) or local disk under MEDIA_ROOT/bundles/."""
    code = residency.region_of(tenant) if region is None else residency.region_code(region)
    if code != residency.DEFAULT:
        storage = _Prefixed(residency.storage_for_region(code), REGION_PREFIX)
    else:
        alias = getattr(settings, "BUNDLE_STORAGE", "")
        storage = storages[alias] if alias else FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "bundles")
    return EncryptedStorage(storage, encryption_keys())


def encryption_keys() -> list[str]:
    keys = list(getattr(settings, "BUNDLE_ENCRYPTION_KEYS", []) or [])
    if not keys:  # settings always set one (a derived development key outside production)
        raise ImproperlyConfigured("BUNDLE_ENCRYPTION_KEYS is empty: trace bundles are never stored in clear.")
    return keys


def raw_storage(region: str) -> Storage:
    """A region's bundle storage without the encryption layer (moving files copies the stored bytes)."""
    code = residency.region_code(region)
    if code == residency.DEFAULT:
        alias = getattr(settings, "BUNDLE_STORAGE", "")
        return storages[alias] if alias else FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "bundles")
    return _Prefixed(residency.storage_for_region(code), REGION_PREFIX)


class _Prefixed(Storage):
    """Another storage's files under a folder: names in and out are relative to `prefix`."""

    def __init__(self, inner: Storage, prefix: str):
        self.inner, self.prefix = inner, prefix

    def _open(self, name, mode="rb"):
        return self.inner.open(self.prefix + name, mode)

    def save(self, name, content, max_length=None):
        return self.inner.save(self.prefix + name, content, max_length=max_length).removeprefix(self.prefix)

    def delete(self, name):
        self.inner.delete(self.prefix + name)

    def exists(self, name):
        return self.inner.exists(self.prefix + name)

    def size(self, name):
        return self.inner.size(self.prefix + name)

    def path(self, name):
        return self.inner.path(self.prefix + name)

    def url(self, name):
        raise NotImplementedError("bundles are downloaded through the audited view only")


def bundle_path(tenant, case_key: str, sha256: str, name: str) -> str:
    """Where a bundle goes in its storage: per tenant and case, named by its hash (never by anything
    the uploader chose beyond the checked file name)."""
    return f"{tenant.slug}/{case_key}/{sha256[:16]}-{name}"
