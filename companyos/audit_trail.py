"""Tamper evidence and housekeeping of the audit table (PostgreSQL; issue 8, findings 1 and 5).

- Every row carries `row_hash`, computed by the database at insert (companyos migration 0006).
- `seal_closed_intervals` (beat, every 5 minutes, as the application's role) seals each closed hour
  AUDIT_SEAL_LAG_SECONDS after its end: the number of rows and a sha256 over their row hashes in id order,
  chained to the previous seal by an HMAC under `audit.audit_key()`, a key that is not in the database.
  Writers never wait for it: it only reads rows that are already committed. A stretch of empty hours is
  one seal.
- `verify` (`manage.py audit_verify`, daily beat with an alert) recomputes every row hash and every seal
  and reports the first mismatch: a row changed or deleted by the owner role, a seal removed or rewritten.
- `ensure_partitions` keeps monthly partitions ahead (through a SECURITY DEFINER function the application
  may call); `archive_expired_partitions` exports months past AUDIT_RETENTION_MONTHS to gzip'd CSV, checks
  the file by its sha256 and row count, then detaches and drops the partition (as the owner role).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .audit import audit_key
from .db import owner_connection
from .models import AuditArchive, AuditSeal

log = logging.getLogger(__name__)

TABLE = "auditlog_logentry"
HOUR = timedelta(hours=1)
ROW_HASH_SQL = (
    'companyos_audit_row_hash(id, "timestamp", content_type_id, object_pk, object_id, object_repr, '
    "serialized_data, action, changes_text, changes, actor_id, cid, remote_addr, remote_port, additional_data)"
)
PARTITION_RE = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")


def supported() -> bool:
    return connection.vendor == "postgresql"


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chain_digest(prev: str, start: datetime, end: datetime, count: int, rows_digest: str) -> str:
    message = f"{prev}|{_stamp(start)}|{_stamp(end)}|{count}|{rows_digest}"
    return hmac.new(audit_key(), message.encode(), hashlib.sha256).hexdigest()


def period_digest(cursor, start: datetime, end: datetime) -> tuple[int, str]:
    """(rows, sha256 over their row hashes in id order) of the entries stamped in [start, end)."""
    cursor.execute(
        f"""SELECT count(*), encode(sha256(coalesce(string_agg(row_hash, ''::bytea ORDER BY id), ''::bytea)), 'hex')
            FROM {TABLE} WHERE "timestamp" >= %s AND "timestamp" < %s""",
        [start, end],
    )
    count, digest = cursor.fetchone()
    return count, digest


# --- sealing ------------------------------------------------------------------------------------------


def seal_closed_intervals(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Seal the closed hours not sealed yet, oldest first, at most `limit`. Returns how many seals."""
    if not supported():
        return 0
    now = now or timezone.now()
    horizon = _floor_hour(now - timedelta(seconds=settings.AUDIT_SEAL_LAG_SECONDS))
    made = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('companyos.audit_seal'))")  # one sealer at a time
        last = AuditSeal.objects.order_by("-period_start").first()
        if last is not None:
            start, prev = last.period_end, last.digest
        else:
            cursor.execute(f'SELECT min("timestamp") FROM {TABLE}')
            first = cursor.fetchone()[0]
            if first is None:
                return 0
            start, prev = _floor_hour(first), ""
        while start < horizon and made < limit:
            cursor.execute(f'SELECT min("timestamp") FROM {TABLE} WHERE "timestamp" >= %s', [start])
            following = cursor.fetchone()[0]
            if following is None or _floor_hour(following) >= horizon:
                end = horizon  # nothing more to seal before the horizon: one (empty) seal up to it
            elif _floor_hour(following) > start:
                end = _floor_hour(following)  # a stretch of empty hours
            else:
                end = start + HOUR
            count, rows_digest = period_digest(cursor, start, end)
            digest = chain_digest(prev, start, end, count, rows_digest)
            AuditSeal.objects.create(
                period_start=start,
                period_end=end,
                row_count=count,
                rows_digest=rows_digest,
                prev_digest=prev,
                digest=digest,
            )
            start, prev, made = end, digest, made + 1
    return made


# --- verification ------------------------------------------------------------------------------------


@dataclass
class Verification:
    rows_checked: int = 0
    seals_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, start: datetime | None = None, end: datetime | None = None) -> Verification:
    """Recompute every row hash and every seal (or those of [start, end)); stop at the first mismatch."""
    result = Verification()
    if not supported():
        return result
    archived = list(AuditArchive.objects.order_by("period_start"))
    with connection.cursor() as cursor:
        where, params = "TRUE", []
        if start is not None:
            where, params = '"timestamp" >= %s AND "timestamp" < %s', [start, end]
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)
        result.rows_checked = cursor.fetchone()[0]
        cursor.execute(
            f"""SELECT id, "timestamp" FROM {TABLE} WHERE {where} AND row_hash IS DISTINCT FROM {ROW_HASH_SQL}
                ORDER BY id LIMIT 1""",
            params,
        )
        bad = cursor.fetchone()
        if bad:
            result.problems.append(
                f"audit entry {bad[0]} ({_stamp(bad[1])}) does not match its row hash: "
                "it was changed after it was written"
            )
            return result
        prev_end, prev_digest = None, ""
        for seal in AuditSeal.objects.order_by("period_start").iterator():
            result.seals_checked += 1
            label = f"seal {seal.pk} [{_stamp(seal.period_start)}, {_stamp(seal.period_end)})"
            if seal.prev_digest != prev_digest or (prev_end is not None and seal.period_start != prev_end):
                result.problems.append(f"{label} does not follow the previous seal: a seal was removed or inserted")
                return result
            expected = chain_digest(prev_digest, seal.period_start, seal.period_end, seal.row_count, seal.rows_digest)
            if not hmac.compare_digest(expected, seal.digest):
                result.problems.append(f"{label} was rewritten: its digest does not match its content")
                return result
            prev_end, prev_digest = seal.period_end, seal.digest
            if start is not None and (seal.period_end <= start or seal.period_start >= end):
                continue
            if any(a.period_start <= seal.period_start and seal.period_end <= a.period_end for a in archived):
                continue  # archived and dropped: its rows are in the export (checked when it was made)
            count, rows_digest = period_digest(cursor, seal.period_start, seal.period_end)
            if (count, rows_digest) != (seal.row_count, seal.rows_digest):
                change = (
                    f"{seal.row_count - count} entries deleted"
                    if count < seal.row_count
                    else f"{count - seal.row_count} entries added"
                    if count > seal.row_count
                    else "entries changed"
                )
                result.problems.append(f"{label} does not match the rows it sealed ({change})")
                return result
    return result


# --- partitions ----------------------------------------------------------------------------------------


def ensure_partitions(months_ahead: int | None = None) -> int:
    """Create the monthly partitions of this month and the next `months_ahead` (as the application's role,
    through companyos_audit_ensure_partitions). Returns how many were made."""
    if not supported():
        return 0
    months = settings.AUDIT_PARTITIONS_AHEAD if months_ahead is None else months_ahead
    with connection.cursor() as cursor:
        cursor.execute("SELECT companyos_audit_ensure_partitions(%s)", [months])
        return cursor.fetchone()[0]


def partitions(cursor) -> list[tuple[str, datetime, datetime]]:
    """The monthly partitions (name, first instant, end), oldest first (not the default partition)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [TABLE],
    )
    found = []
    for (name,) in cursor.fetchall():
        match = PARTITION_RE.match(name)
        if match:
            year, month = int(match[1]), int(match[2])
            begin = datetime(year, month, 1, tzinfo=UTC)
            finish = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            found.append((name, begin, finish))
    return sorted(found, key=lambda p: p[1])


def retention_cutoff(now: datetime, months: int) -> datetime:
    """The first instant that is kept: the start of the month `months` before this one."""
    index = now.year * 12 + now.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


class ArchiveError(Exception):
    pass


def archive_expired_partitions(
    *, months: int | None = None, archive_dir: Path | None = None, now: datetime | None = None, out=log.info
) -> list[AuditArchive]:
    """Export, verify and drop every monthly partition older than `months` (AUDIT_RETENTION_MONTHS; 0
    keeps everything). A partition is archived only once every hour of it is sealed and its seals verify.
    Runs as the owner role (MIGRATE_DATABASE_URL): the application's role cannot drop partitions."""
    months = settings.AUDIT_RETENTION_MONTHS if months is None else months
    if not supported() or months <= 0:
        return []
    archive_dir = Path(archive_dir or settings.AUDIT_ARCHIVE_DIR)
    cutoff = retention_cutoff(now or timezone.now(), months)
    done = []
    with connection.cursor() as cursor:
        expired = [p for p in partitions(cursor) if p[2] <= cutoff]
    last_seal = AuditSeal.objects.order_by("-period_start").first()
    for name, begin, finish in expired:
        if last_seal is None or last_seal.period_end < finish:
            out(f"{name}: not archived yet, its last hours are not sealed")
            continue
        check = verify(start=begin, end=finish)
        if not check.ok:
            raise ArchiveError(f"{name} is not archived: {check.problems[0]}")
        sealed_rows = sum(
            AuditSeal.objects.filter(period_start__gte=begin, period_end__lte=finish).values_list(
                "row_count", flat=True
            )
        )
        done.append(_archive_one(name, begin, finish, sealed_rows, archive_dir, out))
    return done


def _archive_one(name, begin, finish, sealed_rows, archive_dir: Path, out) -> AuditArchive:
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"{name}.csv.gz"
    partial = path.with_suffix(".gz.part")
    with owner_connection() as owner:
        owner.ensure_connection()
        raw = owner.connection
        with raw.transaction():
            with raw.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {name} IN SHARE MODE")  # nothing changes under the export
                count = cursor.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                if count != sealed_rows:
                    raise ArchiveError(f"{name} holds {count} entries, its seals {sealed_rows}")
                content = hashlib.sha256()
                with open(partial, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
                    with cursor.copy(f"COPY (SELECT * FROM {name} ORDER BY id) TO STDOUT (FORMAT csv, HEADER)") as copy:
                        for chunk in copy:
                            content.update(chunk)
                            gz.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                file_sha = _sha256_file(partial)
                os.replace(partial, path)
                (archive_dir / f"{name}.csv.gz.sha256").write_text(f"{file_sha}  {path.name}\n")
                # Read back: the file's checksum, and its decompressed content and row count, must match.
                recorded = (archive_dir / f"{name}.csv.gz.sha256").read_text().split()[0]
                reread = hashlib.sha256()
                lines = 0
                with gzip.open(path, "rb") as gz:
                    for block in iter(lambda: gz.read(1 << 20), b""):
                        reread.update(block)
                if recorded != _sha256_file(path) or reread.digest() != content.digest():
                    raise ArchiveError(f"{path} does not read back as written; {name} is kept")
                with gzip.open(path, "rt", newline="") as text:
                    import csv

                    lines = sum(1 for _ in csv.reader(text)) - 1
                if lines != count:
                    raise ArchiveError(f"{path} holds {lines} entries, {name} {count}; {name} is kept")
                cursor.execute(
                    "INSERT INTO companyos_auditarchive (partition, period_start, period_end, row_count, path, sha256,"
                    " archived_at) VALUES (%s, %s, %s, %s, %s, %s, statement_timestamp()) RETURNING id",
                    [name, begin, finish, count, str(path), file_sha],
                )
                archive_id = cursor.fetchone()[0]
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
    out(f"{name}: {count} entries archived to {path} (sha256 {file_sha}), partition dropped")
    return AuditArchive.objects.get(pk=archive_id)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
