"""What the inspector keeps of trace.json and snapshot.json while it streams them: bounded summaries
(the first failed spans, the slowest, one trace's waterfall, the spans nearest the reported time, each
service's counts; each metric's first, last, extremes and trend)."""

from __future__ import annotations

import heapq
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

# The same shape as runbooks.errorcodes.IN_TEXT, without bare HTTP statuses (those count only when a
# span names them in its error-code field). A test keeps the two in step.
CODE_IN_TEXT = re.compile(r"\b(?:[A-Z][A-Z0-9]*(?:[-_.][A-Z0-9]+)+|[A-Z]{1,6}\d{2,6})\b")
CODE_FIELDS = ("error_code", "error.code", "code", "errorCode", "x400.error_code")
MESSAGE_FIELDS = ("error.message", "exception.message", "message", "status_message")
MAX_FAILED = 200
MAX_SLOWEST = 10
MAX_WATERFALL = 150
MAX_TRACKED_TRACES = 50
MAX_NEAR = 20
MAX_SERIES = 2000
MAX_SERVICES = 200
METRICS = ("queue_depth", "error_count", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")


def parse_time(value) -> datetime | None:
    """An ISO 8601 string, or a Unix time in s, ms, µs or ns (guessed by magnitude)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            v = float(value)
            for scale in (1e18, 1e15, 1e12):
                if v > scale / 1e2:  # ns, µs, ms
                    v /= {1e18: 1e9, 1e15: 1e6, 1e12: 1e3}[scale]
                    break
            return datetime.fromtimestamp(v, tz=UTC)
        if isinstance(value, str) and value:
            if value.isdigit():
                return parse_time(int(value))
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Span:
    __slots__ = ("name", "service", "span_id", "parent_id", "trace_id", "start", "duration_ms", "error", "message")

    def compact(self) -> dict:
        return {
            "name": self.name,
            "service": self.service,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "trace_id": self.trace_id,
            "start": _iso(self.start),
            "duration_ms": round(self.duration_ms, 3),
            "status": "error" if self.error else "ok",
            "message": self.message,
        }


def _status(raw: dict) -> tuple[bool, str]:
    status = raw.get("status")
    message = ""
    error = False
    if isinstance(status, dict):
        code = status.get("code")
        message = str(status.get("message") or "")
        error = code in (2, "2", "ERROR", "error", "STATUS_CODE_ERROR")
    elif isinstance(status, str):
        error = status.strip().lower() in ("error", "failed", "failure", "err", "fault")
    elif isinstance(status, (int, float)) and not isinstance(status, bool):
        error = status >= 500 or status == 2
    if raw.get("error") is True:
        error = True
    attributes = raw.get("attributes") if isinstance(raw.get("attributes"), dict) else {}
    if not message:
        for field in MESSAGE_FIELDS:
            candidate = raw.get(field) or attributes.get(field)
            if isinstance(candidate, str) and candidate:
                message = candidate
                break
    return error, message[:300]


def _span(raw, trace_id) -> Span | None:
    if not isinstance(raw, dict):
        return None
    name = raw.get("name") or raw.get("operationName")
    start = parse_time(
        raw.get("start")
        if raw.get("start") is not None
        else raw.get("start_time", raw.get("startTime", raw.get("start_ms", raw.get("startTimeUnixNano"))))
    )
    if not isinstance(name, str) or start is None:
        return None
    span = Span()
    span.name = name[:200]
    attributes = raw.get("attributes") if isinstance(raw.get("attributes"), dict) else {}
    span.service = str(raw.get("service") or attributes.get("service.name") or "")[:100]
    span.span_id = str(raw.get("span_id") or raw.get("spanId") or raw.get("id") or "")[:64]
    span.parent_id = str(raw.get("parent_id") or raw.get("parent_span_id") or raw.get("parentSpanId") or "")[:64]
    span.trace_id = str(raw.get("trace_id") or raw.get("traceId") or trace_id or "")[:64]
    span.start = start
    duration = _number(raw.get("duration_ms"))
    if duration is None:
        end = parse_time(raw.get("end", raw.get("end_time", raw.get("endTime", raw.get("endTimeUnixNano")))))
        duration = (end - start).total_seconds() * 1000 if end else 0.0
    span.duration_ms = max(duration, 0.0)
    span.error, span.message = _status(raw)
    return span


def _codes(raw: dict, message: str) -> set[str]:
    attributes = raw.get("attributes") if isinstance(raw.get("attributes"), dict) else {}
    codes = set()
    for field in CODE_FIELDS:
        for holder in (raw, attributes):
            value = holder.get(field)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                codes.add(str(value).strip()[:60])
    if message:
        codes.update(CODE_IN_TEXT.findall(message)[:5])
    return codes


class TraceSummary:
    def __init__(self, reported_at: datetime | None, window: timedelta):
        self.reported_at = reported_at
        self.window = window
        self.count = 0
        self.malformed = 0
        self.trace_ids: set[str] = set()
        self.failed: list[dict] = []
        self.failed_count = 0
        self.first_failed_trace: str | None = None
        self.slowest: list = []
        self.tracked: dict[str, list] = {}
        self.near: list = []
        self.near_count = 0
        self.near_failed = 0
        self.services: dict[str, list] = {}
        self.codes: Counter = Counter()
        self.code_spans: dict[str, list] = {}
        self.seq = 0
        self.top_trace_id = ""

    def add(self, raw) -> None:
        span = _span(raw, self.top_trace_id)
        if span is None:
            self.malformed += 1
            return
        self.count += 1
        self.seq += 1
        if len(self.trace_ids) < 10_000:
            self.trace_ids.add(span.trace_id)
        service = self.services.get(span.service)
        if service is None and len(self.services) < MAX_SERVICES:
            service = self.services[span.service] = [0, 0, 0.0]
        if service is not None:
            service[0] += 1
            service[1] += span.error
            service[2] += span.duration_ms
        item = (span.duration_ms, -self.seq, span)
        if len(self.slowest) < MAX_SLOWEST:
            heapq.heappush(self.slowest, item)
        elif item[:2] > self.slowest[0][:2]:
            heapq.heapreplace(self.slowest, item)
        if span.error:
            self.failed_count += 1
            if self.first_failed_trace is None:
                self.first_failed_trace = span.trace_id
            if len(self.failed) < MAX_FAILED:
                self.failed.append(span.compact() | {"codes": sorted(_codes(raw, span.message))})
        for code in _codes(raw, span.message) if (span.error or "error_code" in raw) else ():
            self.codes[code] += 1
            names = self.code_spans.setdefault(code, [])
            if span.name not in names and len(names) < 3:
                names.append(span.name)
        heap = self.tracked.get(span.trace_id)
        if heap is None and len(self.tracked) < MAX_TRACKED_TRACES:
            heap = self.tracked[span.trace_id] = []
        if heap is not None:
            entry = (-span.start.timestamp(), -self.seq, span)  # a max-heap on start: keep the earliest
            if len(heap) < MAX_WATERFALL:
                heapq.heappush(heap, entry)
            elif entry[:2] > heap[0][:2]:
                heapq.heapreplace(heap, entry)
        if self.reported_at is not None:
            distance = abs((span.start - self.reported_at).total_seconds())
            if distance <= self.window.total_seconds():
                self.near_count += 1
                self.near_failed += span.error
                entry = (-distance, -self.seq, span)
                if len(self.near) < MAX_NEAR:
                    heapq.heappush(self.near, entry)
                elif entry[:2] > self.near[0][:2]:
                    heapq.heapreplace(self.near, entry)

    def waterfall(self) -> dict:
        focus = self.first_failed_trace
        if focus not in self.tracked:
            focus = max(self.tracked, key=lambda t: len(self.tracked[t]), default=None)
        if focus is None:
            return {"trace_id": None, "rows": [], "total_ms": 0}
        spans = sorted((entry[2] for entry in self.tracked[focus]), key=lambda s: (s.start, -s.duration_ms))
        origin = spans[0].start
        by_id = {s.span_id: s for s in spans if s.span_id}
        end = max((s.start - origin).total_seconds() * 1000 + s.duration_ms for s in spans)
        rows = []
        for s in spans:
            depth, parent, hops = 0, by_id.get(s.parent_id), 0
            while parent is not None and hops < 50:
                depth += 1
                hops += 1
                parent = by_id.get(parent.parent_id) if parent.parent_id != parent.span_id else None
            offset = (s.start - origin).total_seconds() * 1000
            rows.append(
                s.compact()
                | {
                    "depth": depth,
                    "offset_ms": round(offset, 3),
                    "left_pct": round(100 * offset / end, 2) if end else 0,
                    "width_pct": round(max(100 * s.duration_ms / end, 0.3), 2) if end else 100,
                }
            )
        return {"trace_id": focus, "rows": rows, "total_ms": round(end, 3), "truncated": len(spans) >= MAX_WATERFALL}

    def report(self) -> dict:
        near = sorted((entry[2] for entry in self.near), key=lambda s: s.start)
        return {
            "spans": self.count,
            "malformed": self.malformed,
            "traces": len(self.trace_ids),
            "failed_count": self.failed_count,
            "failed": self.failed,
            "slowest": [entry[2].compact() for entry in sorted(self.slowest, key=lambda e: e[:2], reverse=True)],
            "waterfall": self.waterfall(),
            "reported_at": _iso(self.reported_at),
            "near_window_minutes": int(self.window.total_seconds() // 60),
            "near_count": self.near_count,
            "near_failed": self.near_failed,
            "near": [
                s.compact() | {"seconds_from_report": round((s.start - self.reported_at).total_seconds(), 1)}
                for s in near
            ],
            "services": sorted(
                (
                    {"service": name or "(none)", "spans": c, "errors": e, "avg_ms": round(t / c, 1) if c else 0}
                    for name, (c, e, t) in self.services.items()
                ),
                key=lambda r: (-r["errors"], -r["spans"]),
            ),
        }


class SnapshotSummary:
    def __init__(self):
        self.samples = 0
        self.series: list[dict] = []
        self.stats: dict[str, list] = {}
        self.meta: dict = {}

    def add(self, raw) -> None:
        if not isinstance(raw, dict):
            return
        self.samples += 1
        latency = raw.get("latency_ms") if isinstance(raw.get("latency_ms"), dict) else {}
        latency = latency or (raw.get("latency") if isinstance(raw.get("latency"), dict) else {})
        values = {
            "queue_depth": _number(raw.get("queue_depth")),
            "error_count": _number(raw.get("error_count", raw.get("errors"))),
            "latency_p50_ms": _number(raw.get("latency_p50_ms", latency.get("p50"))),
            "latency_p95_ms": _number(raw.get("latency_p95_ms", latency.get("p95"))),
            "latency_p99_ms": _number(raw.get("latency_p99_ms", latency.get("p99"))),
        }
        for name, value in values.items():
            if value is None:
                continue
            stat = self.stats.setdefault(name, [value, value, value, 0, 0.0, [], []])  # first last min max n sum…
            stat[1] = value
            stat[2] = min(stat[2], value)
            stat[3] = max(stat[3], value) if stat[4] else value
            stat[4] += 1
            stat[5].append(value) if len(stat[5]) < MAX_SERIES else None
        if len(self.series) < MAX_SERIES:
            when = parse_time(raw.get("at", raw.get("ts", raw.get("time", raw.get("timestamp")))))
            self.series.append({"at": _iso(when)} | {k: v for k, v in values.items() if v is not None})

    def report(self) -> dict:
        metrics = {}
        for name in METRICS:
            if name not in self.stats:
                continue
            first, last, low, high, n, kept, _ = self.stats[name]
            metrics[name] = {
                "first": first,
                "last": last,
                "min": low,
                "max": high,
                "mean": round(sum(kept) / len(kept), 2) if kept else None,
                "trend": _trend(kept),
                "samples": n,
            }
        return {"samples": self.samples, "metrics": metrics, "series": self.series, "meta": self.meta}


def _trend(values: list[float]) -> str:
    if len(values) < 3:
        return "steady"
    third = max(len(values) // 3, 1)
    head = sum(values[:third]) / third
    tail = sum(values[-third:]) / third
    if tail > head * 1.2 and tail - head > 1e-9:
        return "rising"
    if tail < head * 0.8:
        return "falling"
    return "steady"
