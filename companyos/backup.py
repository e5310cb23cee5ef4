"""Backups that restore (issue 18, points 1–2): one consistent backup of the database and the stored
files, and a restore that refuses what it cannot do safely and ends by verifying.

A backup is a directory `<to>/companyos-<UTC time>/` holding

- `db.dump`: `pg_dump --format=custom` of the whole database, taken in ONE snapshot — the same
  exported snapshot (`pg_export_snapshot`) the row counts are read in, so counts and dump agree;
- `files/…`: every file of the default storage (attachments of tenants without a data residency,
  e-mail originals waiting in the unmatched queue), copied through the storage API;
- `regions/<CODE>/…`: every file of each data region's storage (`companyos.residency`: a local
  folder or a bucket per region), likewise;
- `manifest.json`: the schema version (each app's latest applied migration), the row count of every
  table, the SHA-256 and size of `db.dump` and of every file (`files` for the default storage,
  `regions` → code → files for the others), and when it was taken.

It is written as `<name>.partial` and renamed into place only once the manifest is written, so a
backup killed half-way is never taken for a good one (`restore` refuses a `.partial` or a directory
without a manifest, and every file is checked against it).

`restore` needs an EMPTY database (no tables) and empty storages — a storage for every region the
backup holds files of —, and the same migrations as the code; it restores as the owner role
(objects owned by it, the application role's grants re-made) in one transaction — the triggers come
after the rows, so the audit entries keep their recorded timestamps and hashes and `audit_verify`
still verifies —, copies the files back and checks every row count and every file's hash against
the manifest.

Plumbing: imports no app (tables and migrations are read from the database and the loader).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from . import residency
from .db import owner_settings

MANIFEST = "manifest.json"
DUMP = "db.dump"
FILES = "files"
REGIONS = "regions"
FORMAT = 2  # 2: files per data region (`regions`); a format-1 backup (default storage only) still restores
FAILED_KEY = "companyos:backup:failed"  # the last nightly backup's failure, for the admins' red banner


class BackupError(Exception):
    """A backup or restore that cannot go on: the message says why, fit to show an operator."""


# --- helpers -------------------------------------------------------------------------------------------


def _libpq_env(db: dict) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(db.get("HOST") or "127.0.0.1"),
            "PGPORT": str(db.get("PORT") or "5432"),
            "PGUSER": str(db.get("USER") or ""),
            "PGDATABASE": str(db["NAME"]),
        }
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _owner_db() -> dict:
    if connection.vendor != "postgresql":
        raise BackupError("Backups are of PostgreSQL databases (the embedded SQLite default is a file: copy it).")
    return owner_settings() or dict(connection.settings_dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _storage_files(storage=default_storage, prefix: str = "", skip: tuple[str, ...] = ()) -> list[str]:
    """Every file name in `storage` (below `prefix`), but not in the folders `skip` (other regions'
    local folders nested in this one)."""
    try:
        dirs, files = storage.listdir(prefix or ".")
    except FileNotFoundError:
        return []
    names = [f"{prefix}{name}" for name in files]
    for sub in dirs:
        if f"{prefix}{sub}" not in skip:
            names += _storage_files(storage, f"{prefix}{sub}/", skip)
    return sorted(names)


def _region_files(storages: dict) -> dict[str, list[str]]:
    """Each storage's files, a nested local region's counted once (as its own)."""
    return {
        code: _storage_files(storage, skip=tuple(residency.nested_roots(code, storages)))
        for code, storage in storages.items()
    }


def _copy_out(storage, name: str, target: Path) -> dict:
    target.parent.mkdir(parents=True, exist_ok=True)
    with storage.open(name, "rb") as source, open(target, "wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
    return {"sha256": _sha256(target), "size": target.stat().st_size}


def _tables(cursor) -> list[str]:
    """The ordinary and partitioned tables of the public schema (partitions are counted through
    their parent)."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname
        """
    )
    return [row[0] for row in cursor.fetchall()]


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    from psycopg import sql

    counts = {}
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def _migrations(cursor) -> dict[str, str]:
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(cursor.fetchall())


def code_migrations() -> dict[str, str]:
    """Each app's latest migration in the code (what a restored database must have applied)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    latest: dict[str, str] = {}
    for app, name in loader.graph.leaf_nodes():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


# --- backup ----------------------------------------------------------------------------------------------


def backup(to: str | Path, *, now: datetime | None = None, out=print) -> Path:
    """Write one consistent backup under `to` and return its directory."""
    import psycopg

    db = _owner_db()
    now = now or datetime.now(UTC)
    root = Path(to)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"companyos-{now:%Y%m%dT%H%M%SZ}"
    for n in range(2, 100):  # two backups in one second (a manual one beside the nightly one)
        if not final.exists():
            break
        final = root / f"companyos-{now:%Y%m%dT%H%M%SZ}-{n}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / FILES).mkdir(parents=True)
    env = _libpq_env(db)
    params = {"host": env["PGHOST"], "port": env["PGPORT"], "user": env["PGUSER"], "dbname": env["PGDATABASE"]}
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    with psycopg.connect(**params) as snap:
        # One snapshot for the counts and the dump: REPEATABLE READ, exported to pg_dump.
        snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with snap.cursor() as cursor:
            tables = _tables(cursor)
            counts = _counts(cursor, tables)
            migrations = _migrations(cursor)
        out(f"  dumping {len(tables)} tables ({sum(counts.values()):,} rows) …")
        result = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-owner",
                "--no-acl",
                "-f",
                str(partial / DUMP),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        snap.execute("COMMIT")
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
    storages = residency.all_storages()
    listed = _region_files(storages)
    files = {name: _copy_out(default_storage, name, partial / FILES / name) for name in listed.pop(residency.DEFAULT)}
    regions = {
        code: {name: _copy_out(storages[code], name, partial / REGIONS / code / name) for name in names}
        for code, names in listed.items()
        if names
    }
    manifest = {
        "format": FORMAT,
        "taken_at": now.isoformat(),
        "database": db["NAME"],
        "migrations": migrations,
        "tables": counts,
        "dump": {"sha256": _sha256(partial / DUMP), "size": (partial / DUMP).stat().st_size},
        "files": files,
        "regions": regions,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(partial, final)  # only a complete backup ever has the final name
    n_files = len(files) + sum(len(names) for names in regions.values())
    out(f"  backup {final.name}: {len(counts)} tables, {n_files} files, dump {manifest['dump']['size']:,} bytes")
    return final


def prune(to: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` complete backups under `to` (and any half-written ones)."""
    root = Path(to)
    done = sorted(p for p in root.glob("companyos-*") if p.is_dir() and not p.name.endswith(".partial"))
    gone = done[:-keep] if keep > 0 else []
    gone += [p for p in root.glob("companyos-*.partial") if p.is_dir()]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


# --- restore ---------------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    if source.name.endswith(".partial"):
        raise BackupError(f"{source.name} is a half-written backup (it never finished): not restoring it.")
    path = source / MANIFEST
    if not path.exists():
        raise BackupError(f"{source} has no {MANIFEST}: not a complete backup.")
    manifest = json.loads(path.read_text())
    if manifest.get("format") not in (1, FORMAT):
        raise BackupError(f"Backup format {manifest.get('format')!r} is not this version's ({FORMAT}).")
    manifest.setdefault("regions", {})
    dump = source / DUMP
    if not dump.exists() or _sha256(dump) != manifest["dump"]["sha256"]:
        raise BackupError(f"{DUMP} is missing or does not match the manifest's checksum.")
    return manifest


def restore(source: str | Path, *, out=print) -> dict:
    """Restore the backup at `source` into the (empty) database and storage of this configuration,
    then verify it. Returns the manifest."""
    source = Path(source)
    manifest = read_manifest(source)
    expected = code_migrations()
    if manifest["migrations"] != expected:
        theirs = {a: n for a, n in manifest["migrations"].items() if expected.get(a) != n}
        raise BackupError(
            "The backup's schema is not this code's: "
            + ", ".join(f"{app} {name} (code: {expected.get(app, 'none')})" for app, name in sorted(theirs.items()))
            + ". Restore it with the release that took it, then migrate."
        )
    db = _owner_db()
    with connection.cursor() as cursor:
        if _tables(cursor):
            raise BackupError(
                f"The database {db['NAME']} is not empty: restore into a new, empty database (createdb, no migrate)."
            )
    storages = {residency.DEFAULT: default_storage}
    for code in manifest["regions"]:
        try:
            storages[code] = residency.storage_for_region(code)
        except residency.ResidencyError:
            raise BackupError(
                f"The backup holds files of the data region {code}, which has no storage configured here: "
                f"add it to STORAGE_REGIONS (its own folder or bucket), then restore."
            ) from None
    storages.update(residency.all_storages())
    for code, names in _region_files(storages).items():
        if names:
            where = "MEDIA_ROOT / bucket" if code == residency.DEFAULT else f"storage of region {code}"
            raise BackupError(
                f"The file storage is not empty ({len(names)} files in the {where}): restore into empty ones."
            )
    # As the owner role, in one transaction. Triggers (the audit table's stamp and hash, the search
    # documents') are created in pg_restore's post-data section, after the rows are in: the rows keep
    # their recorded timestamps and hashes, and `audit_verify` verifies the restored chain.
    args = ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"]
    out(f"  restoring {len(manifest['tables'])} tables into {db['NAME']} …")
    result = subprocess.run(
        [*args, "-d", db["NAME"], str(source / DUMP)], env=_libpq_env(db), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[:800]}")
    app_user = connection.settings_dict.get("USER")
    if owner_settings() is not None and app_user:
        from .db import owner_connection
        from .db_roles import grant_app_privileges

        with owner_connection() as owner, owner.cursor() as cursor:
            grant_app_privileges(cursor, app_user)
    for code, names, folder in _file_sets(manifest, source):
        for name in names:
            with open(folder / name, "rb") as handle:
                saved = storages[code].save(name, handle)
            if saved != name:
                raise BackupError(f"The storage renamed {name} to {saved}: it was not empty.")
    problems = verify(manifest)
    if problems:
        raise BackupError("The restored data does not match the backup: " + "; ".join(problems[:10]))
    n_files = sum(len(names) for _, names, _ in _file_sets(manifest, source))
    out(f"  restored and verified: {sum(manifest['tables'].values()):,} rows, {n_files} files")
    return manifest


def _file_sets(manifest: dict, source: Path | None = None):
    """(region, {name: facts}, folder in the backup) for the default storage and each region."""
    root = source or Path(".")
    yield residency.DEFAULT, manifest["files"], root / FILES
    for code, names in sorted(manifest.get("regions", {}).items()):
        yield code, names, root / REGIONS / code


def verify(manifest: dict) -> list[str]:
    """What differs between this database and storage and the manifest (empty: they match)."""
    problems = []
    with connection.cursor() as cursor:
        counts = _counts(cursor, _tables(cursor))
    for table, n in manifest["tables"].items():
        if counts.get(table) != n:
            problems.append(f"{table}: {counts.get(table)} rows, the backup has {n}")
    for code, names, _ in _file_sets(manifest):
        storage = residency.storage_for_region(code)
        label = f"{code}:" if code else ""
        for name, facts in names.items():
            try:
                with storage.open(name, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            except FileNotFoundError:
                problems.append(f"file {label}{name} is missing")
                continue
            if digest != facts["sha256"]:
                problems.append(f"file {label}{name} differs")
    return problems


def default_dir() -> str:
    return getattr(settings, "BACKUP_DIR", "") or ""
