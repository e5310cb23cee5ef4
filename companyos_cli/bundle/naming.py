"""The bundle's name: `trace-<timestamp>-<channel>.zip` (seed 004), e.g. `trace-20261102T101500Z-ui.zip`.

The timestamp is UTC in the basic ISO form (`20261102T101500Z`) or Unix seconds (`1793614500`); the
channel is a short lower-case word (`ui`, `cli`, `api`, `mobile`…)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

PATTERN = re.compile(r"^trace-(?P<ts>\d{8}T\d{6}Z|\d{10})-(?P<channel>[a-z][a-z0-9_]{0,29})\.zip$")
EXAMPLE = "trace-20261102T101500Z-ui.zip"


@dataclass(frozen=True)
class BundleName:
    timestamp: datetime
    channel: str


def parse_bundle_name(name: str) -> BundleName | None:
    """The timestamp and channel read from the name, or None when it does not follow the pattern."""
    match = PATTERN.match(name or "")
    if not match:
        return None
    ts = match["ts"]
    try:
        if "T" in ts:
            when = datetime.strptime(ts, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            when = datetime.fromtimestamp(int(ts), tz=UTC)
    except (ValueError, OverflowError):
        return None
    return BundleName(timestamp=when, channel=match["channel"])
