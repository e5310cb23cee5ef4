"""`inspect_bundle(source) -> dict`: the bundle checked and explained, as plain JSON-able values.

The report (its keys are the contract of the web page, the Celery task, `manage.py support_inspect`
and `companyos support inspect`):

    verdict      "ok" (valid and redacted), "pii" (valid, but personal data or secrets found),
                 "rejected" (unsafe or invalid: see `rejection` {code, reason})
    bundle       name, size, sha256, and the timestamp and channel read from a conforming name
    files        each entry's name and the bytes it really expanded to
    pii          {count, by_kind, findings: [{kind, file, path, masked}], truncated}
    snapshot     {samples, metrics: {name: {first, last, min, max, mean, trend}}, series: [...]}
    trace        {spans, traces, failed_count, failed, slowest, waterfall, near, services, reported_at}
    error_codes  [{code, count, spans, (catalogue: title, meaning, remediation, runbook)}]

Everything is streamed: `trace.json` is parsed event by event (`ijson`), one span object at a time,
and only bounded summaries are kept (the 200 first failed spans, the 10 slowest, the waterfall of one
trace, the spans nearest the reported time), so a 100,000-span bundle never sits in memory at once.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import time
from collections import Counter
from datetime import datetime, timedelta

import ijson

from . import pii as pii_mod
from .naming import parse_bundle_name
from .summaries import SnapshotSummary, TraceSummary, _iso, parse_time
from .unpack import BundleRejected, Limits, SafeBundle

MAX_FINDINGS = 500
MAX_LINE = 64 * 1024
NEAR_WINDOW = timedelta(minutes=5)


# The CLIs' exit status per verdict (`manage.py support_inspect`, `companyos support inspect`), in the
# CLI's table (companyos_cli/__init__.py): 5 refused as invalid, 9 unredacted personal data or secrets.
EXIT_CODES = {"ok": 0, "rejected": 5, "pii": 9}


class Findings:
    def __init__(self, region):
        self.items: list[dict] = []
        self.by_kind: Counter = Counter()
        self.region = region

    def check(self, value, file: str, path: str, key: str = "") -> None:
        if not isinstance(value, str):
            return
        for kind, found in pii_mod.scan(value, key=key, region=self.region):
            self.by_kind[kind] += 1
            if len(self.items) < MAX_FINDINGS:
                self.items.append({"kind": kind, "file": file, "path": path, "masked": pii_mod.mask(found)})

    def walk(self, value, file: str, path: str, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                k = str(k)
                if len(k) > 24 or "@" in k:  # a key that is data (a map keyed by address or token)
                    self.check(k, file, f"{path} (key)")
                self.walk(v, file, _join(path, k), key=k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.walk(v, file, f"{path}[{i}]", key=key)
        else:
            self.check(value, file, path, key=key)

    def report(self) -> dict:
        total = sum(self.by_kind.values())
        return {
            "count": total,
            "by_kind": dict(self.by_kind),
            "findings": self.items,
            "truncated": total > len(self.items),
        }


def _join(path: str, key: str) -> str:
    return path + _step(key)


@functools.lru_cache(maxsize=4096)
def _step(key: str) -> str:
    return f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"[{json.dumps(key)}]"


def _ijson_path(prefix: str) -> str:
    if not prefix:
        return "$"
    return "$" + "".join("[*]" if part == "item" else f".{part}" for part in prefix.split("."))


def stream_items(handle, item_prefix: str, on_item, on_scalar, file: str):
    """Parse one JSON file event by event: each element of the array at `item_prefix` is built and
    handed to `on_item(index, value)`; every other scalar to `on_scalar(prefix, key, value)`. Returns
    the type of the top-level value. Invalid JSON → BundleRejected."""
    builder = None
    depth = 0
    index = -1
    key = ""
    top = None
    try:
        for prefix, event, value in ijson.parse(handle, use_float=True):
            if top is None:
                top = event
            if builder is not None:
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth == 0:
                    on_item(index, builder.value)
                    builder = None
                continue
            if prefix == item_prefix and event not in ("end_array", "end_map", "map_key"):
                index += 1
                if event in ("start_map", "start_array"):
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    depth = 1
                else:
                    on_item(index, value)
                continue
            if event == "map_key":
                key = value
                on_scalar(prefix, "", value, True)
            elif event in ("string", "number", "boolean", "null"):
                on_scalar(prefix, key, value, False)
    except ijson.JSONError as exc:
        raise BundleRejected("invalid_json", f"{file} is not valid JSON ({_short(exc)}).") from exc
    except UnicodeDecodeError as exc:
        raise BundleRejected("invalid_json", f"{file} is not UTF-8 text.") from exc
    if top is None:
        raise BundleRejected("invalid_json", f"{file} is empty.")
    return top


def _short(exc) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__


def _sha256(source) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        with open(source, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
                size += len(chunk)
    else:
        source.seek(0)
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
        source.seek(0)
    return digest.hexdigest(), size


def inspect_bundle(
    source,
    *,
    name: str | None = None,
    reported_at: datetime | None = None,
    limits: Limits | None = None,
    explain=None,
    progress=None,
    region: str | None = pii_mod.DEFAULT_REGION,
    window: timedelta = NEAR_WINDOW,
) -> dict:
    """`source`: a path or a seekable binary file. `explain(codes) -> {code: {...}}` adds the error-code
    catalogue (the console's); `progress(fraction, stage)` is told how far it got."""
    started = time.perf_counter()
    progress = progress or (lambda fraction, stage: None)
    if name is None and isinstance(source, str):
        name = source.replace("\\", "/").rsplit("/", 1)[-1]
    parsed = parse_bundle_name(name or "")
    report: dict = {
        "verdict": "rejected",
        "rejection": None,
        "bundle": {
            "name": name,
            "timestamp": _iso(parsed.timestamp) if parsed else None,
            "channel": parsed.channel if parsed else None,
            "name_ok": parsed is not None,
        },
    }
    try:
        sha, size = _sha256(source)
        report["bundle"] |= {"sha256": sha, "size": size}
        with SafeBundle(source, limits) as bundle:
            progress(0.05, "checked the archive")
            _inspect(bundle, report, parsed, reported_at, region, window, progress)
    except BundleRejected as rejected:
        report["rejection"] = {"code": rejected.code, "reason": rejected.reason}
        report["verdict"] = "rejected"
    except OSError as exc:
        report["rejection"] = {"code": "unreadable", "reason": f"The bundle cannot be read ({exc.strerror or exc})."}
    else:
        codes = report.pop("_codes")
        entries = [{"code": code, "count": n, "spans": report.pop("_code_spans").get(code, [])} for code, n in codes]
        report.pop("_code_spans", None)
        catalogue = explain([e["code"] for e in entries]) if (explain and entries) else {}
        for entry in entries:
            if entry["code"] in catalogue:
                entry["catalogue"] = catalogue[entry["code"]]
        report["error_codes"] = entries
        report["verdict"] = "pii" if report["pii"]["count"] else "ok"
    report["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    progress(1.0, "done")
    return report


def _inspect(bundle: SafeBundle, report, parsed, reported_at, region, window, progress) -> None:
    findings = Findings(region)
    files = []
    meta: dict = {}
    if "metadata.json" in bundle.names:
        with bundle.open("metadata.json") as handle:
            data = handle.read(1024 * 1024 + 1)
        if len(data) > 1024 * 1024:
            raise BundleRejected("entry_too_large", "metadata.json is larger than 1 MB.")
        try:
            meta = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BundleRejected("invalid_json", f"metadata.json is not valid JSON ({_short(exc)}).") from exc
        if not isinstance(meta, dict):
            raise BundleRejected("bad_structure", "metadata.json is not a JSON object.")
        findings.walk(meta, "metadata.json", "$")
    if reported_at is None:
        reported_at = parse_time(meta.get("reported_at")) or (parsed.timestamp if parsed else None)

    snapshot = SnapshotSummary()

    def snap_scalar(prefix, key, value, is_key):
        findings.check(value, "snapshot.json", _ijson_path(prefix) + (" (key)" if is_key else ""), key=key)
        if not is_key and "." not in prefix and prefix and len(snapshot.meta) < 20:
            snapshot.meta[prefix] = value

    def snap_item(index, value):
        findings.walk(value, "snapshot.json", f"$.samples[{index}]")
        snapshot.add(value)

    with bundle.open("snapshot.json") as handle:
        top = stream_items(handle, "samples.item", snap_item, snap_scalar, "snapshot.json")
    if top != "start_map":
        raise BundleRejected("bad_structure", "snapshot.json is not a JSON object with a samples list.")
    progress(0.15, "read snapshot.json")

    trace = TraceSummary(reported_at, window)
    trace_info = bundle._zip.getinfo("trace.json")
    declared = max(trace_info.file_size, 1)
    trace_handle = bundle.open("trace.json")
    state = {"spans_key": False}

    def trace_scalar(prefix, key, value, is_key):
        if is_key and prefix == "" and value == "spans":
            state["spans_key"] = True
        if prefix == "trace_id" and isinstance(value, str):
            trace.top_trace_id = value[:64]
        if prefix == "reported_at" and trace.reported_at is None and trace.count == 0:
            trace.reported_at = parse_time(value)
        findings.check(value, "trace.json", _ijson_path(prefix) + (" (key)" if is_key else ""), key=key)

    def trace_item(index, value):
        findings.walk(value, "trace.json", f"$.spans[{index}]")
        trace.add(value)
        if index % 10_000 == 9_999:
            done = trace_handle.raw.produced / declared  # for display only
            progress(0.15 + 0.8 * min(done, 1.0), f"read {index + 1:,} spans")

    with trace_handle:
        top = stream_items(trace_handle, "spans.item", trace_item, trace_scalar, "trace.json")
    if top != "start_map" or not state["spans_key"]:
        raise BundleRejected("bad_structure", "trace.json is not a JSON object with a spans list.")

    for info in bundle.entries:
        if info.filename in ("metadata.json", "snapshot.json", "trace.json"):
            continue
        _scan_other(bundle, info.filename, findings)
    for info in bundle.entries:
        files.append({"name": info.filename, "declared_bytes": info.file_size})

    report["files"] = files
    report["metadata"] = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
    report["pii"] = findings.report()
    report["snapshot"] = snapshot.report()
    report["trace"] = trace.report()
    report["_codes"] = trace.codes.most_common(50)
    report["_code_spans"] = trace.code_spans
    report["bytes_read"] = bundle._counter.total


def _scan_other(bundle: SafeBundle, filename: str, findings: Findings) -> None:
    lowered = filename.lower()
    with bundle.open(filename) as handle:
        if lowered.endswith(".json"):
            stream_items(
                handle,
                "\x00never",
                lambda i, v: None,
                lambda prefix, key, value, is_key: findings.check(
                    value, filename, _ijson_path(prefix) + (" (key)" if is_key else ""), key=key
                ),
                filename,
            )
            return
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace")
        number = 0
        while True:
            line = text.readline(MAX_LINE)
            if not line:
                break
            number += 1
            if lowered.endswith(".ndjson") and line.strip():
                try:
                    findings.walk(json.loads(line), filename, f"line {number}")
                except ValueError as exc:
                    raise BundleRejected("invalid_json", f"{filename} line {number} is not valid JSON.") from exc
            else:
                findings.check(line, filename, f"line {number}")
