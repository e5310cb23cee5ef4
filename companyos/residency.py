"""Data residency (issue 18, point 5): a storage per region, so a tenant's files stay where its
contract says.

`settings.STORAGE_REGIONS` maps a region code (upper case: "EU", "US", "NO", …) to a storage, given
like an entry of Django's `STORAGES` (`{"BACKEND": …, "OPTIONS": {…}}`). By default every region of the
environment variable `STORAGE_REGIONS` (default `EU,US,NO,JP`) is a local folder,
`MEDIA_ROOT/regions/<code>`; in production each is an S3-compatible bucket through django-storages
(`EU=s3://companyos-eu?region_name=eu-central-1,US=s3://companyos-us?region_name=us-east-1`, see
`companyos.settings.storage_regions`).

A tenant's `data_residency` names its region; a tenant without one uses the default storage
(`STORAGES["default"]`, `MEDIA_ROOT`). A region that is named but has no storage configured is
refused (`ResidencyError`, a message fit to show): the console never falls back to another region's
storage. A stored file records its region (`RegionalFileField(region_field=…)` reads it from the row),
so a file is always read, deleted and backed up through the storage it was written to.

The functions other apps call: `region_code(value)`, `storage_for_region(code)`,
`storage_for(tenant)` (anything with a `data_residency`), `configured_regions()`, `all_storages()`.
Plumbing: imports no app.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.core.signals import setting_changed
from django.db import models
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.utils.module_loading import import_string

DEFAULT = ""  # the region of a tenant without a data residency: the default storage


class ResidencyError(Exception):
    """A file that may not be stored: its tenant's region has no storage configured."""


_storages: dict[str, Storage] = {}


@receiver(setting_changed)
def _reset(*, setting, **kwargs):
    if setting in {"STORAGE_REGIONS", "MEDIA_ROOT", "STORAGES"}:
        _storages.clear()


def region_code(value: str | None) -> str:
    """The region a `data_residency` value names: trimmed, upper case ("eu " → "EU"); "" for none."""
    return " ".join((value or "").split()).upper()


def configured_regions() -> list[str]:
    return sorted(region_code(code) for code in (getattr(settings, "STORAGE_REGIONS", None) or {}))


def _config(code: str) -> dict | None:
    for name, config in (getattr(settings, "STORAGE_REGIONS", None) or {}).items():
        if region_code(name) == code:
            return config
    return None


def local_root(code: str) -> Path:
    """Where a region without a configured location keeps its files locally."""
    return Path(settings.MEDIA_ROOT) / "regions" / code.lower()


def storage_for_region(code: str | None) -> Storage:
    """The storage of region `code` ("" → the default storage). Raises ResidencyError when the region
    has no storage configured: never another region's storage instead."""
    code = region_code(code)
    if code == DEFAULT:
        return default_storage
    if code in _storages:
        return _storages[code]
    config = _config(code)
    if config is None:
        configured = ", ".join(configured_regions()) or "none"
        raise ResidencyError(
            f"No file storage is configured for the data region {code}, so the file was not stored "
            f"(configured regions: {configured}). An administrator adds it to STORAGE_REGIONS."
        )
    options = dict(config.get("OPTIONS") or {})
    backend = config.get("BACKEND") or "django.core.files.storage.FileSystemStorage"
    cls = import_string(backend)
    if issubclass(cls, FileSystemStorage) and not options.get("location"):
        options["location"] = str(local_root(code))
    storage = cls(**options)
    _storages[code] = storage
    return storage


def region_of(tenant) -> str:
    return region_code(getattr(tenant, "data_residency", ""))


def storage_for(tenant) -> Storage:
    """The storage for a tenant's files (attachments, trace bundles): its residency's."""
    return storage_for_region(region_of(tenant))


def check(tenant) -> str:
    """The tenant's region, once its storage is known to exist (ResidencyError otherwise)."""
    code = region_of(tenant)
    storage_for_region(code)
    return code


def all_storages() -> dict[str, Storage]:
    """Every storage files may live in: the default one ("") and each configured region's."""
    found = {DEFAULT: default_storage}
    for code in configured_regions():
        found[code] = storage_for_region(code)
    return found


def nested_roots(code: str, storages: dict[str, Storage]) -> list[str]:
    """The folders of other local regions inside region `code`'s folder, relative to it (the default
    regional folders sit under MEDIA_ROOT): a listing of `code` skips them, they are listed as theirs."""
    outer = storages[code]
    if not isinstance(outer, FileSystemStorage):
        return []
    base = Path(outer.location).resolve()
    inner = []
    for other, storage in storages.items():
        if other == code or not isinstance(storage, FileSystemStorage):
            continue
        path = Path(storage.location).resolve()
        if path != base and base in path.parents:
            inner.append(str(path.relative_to(base)))
    return inner


# --- moving a tenant's files when its residency changes (manage.py move_residency) ------------------------

_movers: dict[str, object] = {}


def register_mover(label: str, mover) -> None:
    """Register `mover(tenant, *, to: str, actor, dry_run: bool) -> int` (how many files it moved, or
    would move), called by `move_residency` for every kind of file an app stores per tenant: the
    attachments (cases), the trace bundles (diagnostics)."""
    _movers[label] = mover


def movers() -> dict[str, object]:
    return dict(_movers)


def copy_file(name: str, *, source: Storage, target: Storage) -> str:
    """Copy `name` from `source` into `target` under the same name, read back and compared byte for
    byte (SHA-256); returns the name it got in `target`. The source is left alone: delete it once the
    row points at the copy."""
    import hashlib

    with source.open(name, "rb") as handle:
        data = handle.read()
    from django.core.files.base import ContentFile

    saved = name if target.exists(name) and _digest(target, name) == hashlib.sha256(data).hexdigest() else None
    if saved is None:  # (a copy left by an interrupted earlier move is taken as it is, once verified)
        saved = target.save(name, ContentFile(data))
    if _digest(target, saved) != hashlib.sha256(data).hexdigest():
        raise ResidencyError(f"The copy of {name} in the new region does not match the original: not moved.")
    return saved


def _digest(storage: Storage, name: str) -> str:
    import hashlib

    with storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# --- the model field ------------------------------------------------------------------------------------


class RegionalFieldFile(FieldFile):
    """A stored file whose storage is its row's region's, looked up whenever it is used."""

    @property
    def storage(self) -> Storage:
        return storage_for_region(getattr(self.instance, self.field.region_field, DEFAULT))

    @storage.setter
    def storage(self, value) -> None:  # FieldFile's __init__ and unpickling assign the field's; ignored
        pass


class RegionalFileField(models.FileField):
    """A FileField stored in the storage of the region its row names (`region_field`, a CharField of
    region codes). Set the region before the file is saved; change it only by moving the file
    (`manage.py move_residency`)."""

    attr_class = RegionalFieldFile

    def __init__(self, *args, region_field: str = "region", **kwargs):
        self.region_field = region_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.region_field != "region":
            kwargs["region_field"] = self.region_field
        return name, path, args, kwargs

    def generate_filename(self, instance, filename):
        # FileField's, through the row's storage rather than the field's.
        name = super().generate_filename(instance, filename)
        return storage_for_region(getattr(instance, self.region_field, DEFAULT)).generate_filename(name)
