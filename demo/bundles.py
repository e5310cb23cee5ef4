"""Diagnostic trace bundles for the demo, the tests and `bench_bundles`: a good one (a failed
`gateway.outbound` span carrying an error code near the reported time), one with unredacted PII, a
large one (written span by span, never held in memory) and the hostile ones the safe reader refuses."""

from __future__ import annotations

import io
import json
import random
import stat
import struct
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPORTED = datetime(2026, 11, 2, 10, 15, tzinfo=UTC)
NAME = "trace-20261102T101500Z-ui.zip"
ERROR_CODE = "X502-E3001"


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def snapshot(samples: int = 12, start: datetime = REPORTED - timedelta(minutes=11)) -> dict:
    rows = []
    for i in range(samples):
        rows.append(
            {
                "at": _iso(start + timedelta(minutes=i)),
                "queue_depth": 10 + i * i,
                "error_count": 0 if i < samples // 2 else i * 3,
                "latency_ms": {"p50": 80 + i, "p95": 200 + i * 40, "p99": 400 + i * 90},
            }
        )
    return {"captured_at": _iso(start + timedelta(minutes=samples)), "app_version": "4.12.1", "samples": rows}


def trace(pii: bool = False, trace_id: str = "0af7651916cd43dd8448eb211c80319c") -> dict:
    t0 = REPORTED - timedelta(seconds=20)
    spans = [
        {
            "span_id": "a1",
            "parent_id": "",
            "name": "ui.checkout",
            "service": "web",
            "start": _iso(t0),
            "duration_ms": 5400,
            "status": "ok",
            "attributes": {"http.route": "/checkout"},
        },
        {
            "span_id": "b2",
            "parent_id": "a1",
            "name": "api.orders.create",
            "service": "api",
            "start": _iso(t0 + timedelta(milliseconds=40)),
            "duration_ms": 5300,
            "status": "ok",
            "attributes": {"user.email": "[REDACTED]", "authorization": "[REDACTED]"},
        },
        {
            "span_id": "c3",
            "parent_id": "b2",
            "name": "db.query",
            "service": "api",
            "start": _iso(t0 + timedelta(milliseconds=60)),
            "duration_ms": 35,
            "status": "ok",
            "attributes": {},
        },
        {
            "span_id": "d4",
            "parent_id": "b2",
            "name": "gateway.outbound",
            "service": "gateway",
            "start": _iso(t0 + timedelta(milliseconds=120)),
            "duration_ms": 5000,
            "status": {"code": "ERROR", "message": f"{ERROR_CODE} upstream payment provider timed out"},
            "attributes": {"error_code": ERROR_CODE, "peer.service": "payments", "client.ip": "10.0.3.7"},
        },
        {
            "span_id": "e5",
            "parent_id": "a1",
            "name": "ui.render",
            "service": "web",
            "start": _iso(t0 + timedelta(milliseconds=5350)),
            "duration_ms": 30,
            "status": "ok",
            "attributes": {},
        },
    ]
    if pii:
        spans[1]["attributes"] = {
            "user.email": "jane.doe@example.com",
            "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU",
            "note": "call me on +44 20 7946 0958",
        }
        spans[3]["attributes"]["client.ip"] = "81.2.69.142"
    return {"trace_id": trace_id, "reported_at": _iso(REPORTED), "spans": spans}


def write_bundle(path, *, pii: bool = False, extra: dict[str, bytes] | None = None) -> Path:
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps({"reported_at": _iso(REPORTED), "channel": "ui", "app": "x400"}))
        zf.writestr("snapshot.json", json.dumps(snapshot()))
        zf.writestr("trace.json", json.dumps(trace(pii=pii)))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def bundle_bytes(*, pii: bool = False) -> bytes:
    """The good (or PII) bundle as bytes, the same bytes every time (fixed entry dates)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("metadata.json", {"reported_at": _iso(REPORTED), "channel": "ui"}),
            ("snapshot.json", snapshot()),
            ("trace.json", trace(pii=pii)),
        ):
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 2, 10, 15, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, json.dumps(data))
    return buffer.getvalue()


def write_large_bundle(path, spans: int = 100_000, payload: int = 420, seed: int = 7) -> Path:
    """`spans` spans over 2,000 traces, each with `payload` bytes of random-ish attributes, streamed
    into the archive (about 50 MB of trace.json at the defaults)."""
    rng = random.Random(seed)
    path = Path(path)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    names = ["api.orders.create", "db.query", "cache.get", "gateway.outbound", "queue.publish", "ui.render"]
    t0 = REPORTED - timedelta(hours=1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot(samples=600, start=t0)))
        with zf.open("trace.json", "w", force_zip64=True) as out:
            out.write(b'{"trace_id": "bulk", "reported_at": "' + _iso(REPORTED).encode() + b'", "spans": [')
            for i in range(spans):
                failed = i % 997 == 0
                span = {
                    "span_id": f"s{i}",
                    "parent_id": f"s{i - 1}" if i % 50 else "",
                    "trace_id": f"t{i // 50}",
                    "name": "gateway.outbound" if failed else names[i % len(names)],
                    "service": f"svc-{i % 12}",
                    "start": _iso(t0 + timedelta(milliseconds=i * 36)),
                    "duration_ms": rng.randint(1, 4000),
                    "status": {"code": "ERROR", "message": f"{ERROR_CODE} timeout"} if failed else "ok",
                    "attributes": {"blob": "".join(rng.choices(alphabet, k=payload)), "n": i},
                }
                if failed:
                    span["attributes"]["error_code"] = ERROR_CODE
                out.write((b"," if i else b"") + json.dumps(span).encode())
            out.write(b"]}")
    return path


# Hostile bundles: each returns the path it wrote and the rejection code it must get.


def hostile_ratio(path) -> tuple[Path, str]:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot()))
        with zf.open("trace.json", "w", force_zip64=True) as out:
            out.write(b'{"spans": [], "pad": "')
            chunk = b"0" * (1024 * 1024)
            for _ in range(100):  # 100 MB of zeros: about 100 KB compressed
                out.write(chunk)
            out.write(b'"}')
    return Path(path), "ratio"


def hostile_ratio_forged(path) -> tuple[Path, str]:
    """The bomb with its compressed size forged to look harmless (1:2): only the count made while
    streaming catches it."""
    hostile_ratio(path)
    raw = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo("trace.json")
    real = struct.pack("<I", info.compress_size) if info.compress_size < 2**32 else None
    forged = struct.pack("<I", min(info.file_size // 2, 2**32 - 2))
    for signature, offset in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            if real and raw[start + offset : start + offset + 4] == real:
                raw[start + offset : start + offset + 4] = forged
            start += 4
    Path(path).write_bytes(bytes(raw))
    return Path(path), "ratio"


def hostile_entries(path, count: int = 20_000) -> tuple[Path, str]:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot()))
        zf.writestr("trace.json", json.dumps(trace()))
        for i in range(count):
            zf.writestr(f"logs/{i}.log", b"")
    return Path(path), "too_many_entries"


def hostile_forged_sizes(path) -> tuple[Path, str]:
    """trace.json's headers claim 100 bytes; its data inflates to far more (caught by the CRC/size check)."""
    data = json.dumps(trace()).encode() + b" " * 200_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot()))
        zf.writestr("trace.json", data)
    raw = bytearray(buffer.getvalue())
    real = struct.pack("<I", len(data))
    forged = struct.pack("<I", 100)
    # The uncompressed size sits in the local header (offset 22) and the central record (offset 24).
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            if raw[start + offset : start + offset + 4] == real:
                raw[start + offset : start + offset + 4] = forged
            start += 4
    Path(path).write_bytes(bytes(raw))
    return Path(path), "corrupt"


def _with_entry(path, name: str, data: bytes = b"{}", mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot()))
        zf.writestr("trace.json", json.dumps(trace()))
        info = zipfile.ZipInfo(name, date_time=(2026, 11, 2, 10, 15, 0))
        if mode is not None:
            info.create_system = 3
            info.external_attr = mode << 16
        zf.writestr(info, data)
    return Path(path)


def hostile_dotdot(path) -> tuple[Path, str]:
    return _with_entry(path, "../../etc/evil.json"), "unsafe_name"


def hostile_absolute(path) -> tuple[Path, str]:
    return _with_entry(path, "/tmp/evil.json"), "unsafe_name"


def hostile_drive(path) -> tuple[Path, str]:
    return _with_entry(path, "C:/evil.json"), "unsafe_name"


def hostile_symlink(path) -> tuple[Path, str]:
    return _with_entry(path, "link.json", b"/etc/passwd", mode=stat.S_IFLNK | 0o777), "symlink"


def hostile_fifo(path) -> tuple[Path, str]:
    return _with_entry(path, "pipe.log", b"", mode=stat.S_IFIFO | 0o644), "special_file"


def hostile_duplicate(path) -> tuple[Path, str]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it is told to write
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("snapshot.json", json.dumps(snapshot()))
            zf.writestr("trace.json", json.dumps(trace()))
            zf.writestr("trace.json", json.dumps(trace()))
    return Path(path), "duplicate"


def hostile_exe(path) -> tuple[Path, str]:
    return _with_entry(path, "tool.exe", b"MZ\x90\x00"), "file_type"


def hostile_not_zip(path) -> tuple[Path, str]:
    Path(path).write_bytes(b"%PDF-1.7\n" + b"x" * 1000)
    return Path(path), "not_zip"


def hostile_truncated(path) -> tuple[Path, str]:
    Path(path).write_bytes(bundle_bytes()[:300])
    return Path(path), "not_zip"


def hostile_invalid_json(path) -> tuple[Path, str]:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot()))
        zf.writestr("trace.json", b'{"spans": [{"name": "x", "start": 1}, ')
    return Path(path), "invalid_json"


def hostile_missing(path) -> tuple[Path, str]:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("snapshot.json", json.dumps(snapshot()))
    return Path(path), "missing_file"


HOSTILE = {
    "zip bomb (ratio)": hostile_ratio,
    "zip bomb, forged sizes": hostile_ratio_forged,
    "20,000 entries": hostile_entries,
    "forged header sizes": hostile_forged_sizes,
    "../ name": hostile_dotdot,
    "absolute name": hostile_absolute,
    "drive letter": hostile_drive,
    "symlink entry": hostile_symlink,
    "FIFO entry": hostile_fifo,
    "duplicate name": hostile_duplicate,
    "executable entry": hostile_exe,
    "not a zip": hostile_not_zip,
    "truncated zip": hostile_truncated,
    "invalid JSON": hostile_invalid_json,
    "missing trace.json": hostile_missing,
}
