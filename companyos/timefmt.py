"""How the console writes a duration and a relative time: one place, pure (no Django, no ORM), used by
the template tags, the SLA pages and the SLA explanations. static/js/console.js has the one
JavaScript twin of `relative`, which keeps "updated 3 min ago" true while a page stays open."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo


def duration(value: timedelta, *, style: str = "long", rounding: str = "floor") -> str:
    """A duration, to the minute.

    style "long":  "2 d 3 h 5 min", "0 min" (targets, elapsed and paused times, explanations);
    style "hours": "5 h 12 min", "42 min" (means: business hours are not calendar days);
    style "clock": "3 d", "14 h", "2:05" (the queue's SLA cell: short, most significant first).
    rounding "floor" drops the seconds, "nearest" rounds to the nearest minute.
    """
    seconds = value.total_seconds()
    if style == "clock":
        s = int(abs(seconds))
        if s >= 86400 * 2:
            return f"{s // 86400} d"
        if s >= 3600 * 10:
            return f"{s // 3600} h"
        return f"{s // 3600}:{(s % 3600) // 60:02d}"
    minutes = int(round(seconds / 60)) if rounding == "nearest" else int(seconds // 60)
    if style == "hours":
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if hours else f"{rest} min"
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


def relative(delta_seconds: float) -> str:
    """ "9 min ago" for a time `delta_seconds` in the past, "in 2 h" for one in the future; under a
    minute "just now" (or "in a moment")."""
    s = abs(int(delta_seconds))
    if s < 60:
        return "just now" if delta_seconds >= 0 else "in a moment"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            text = f"{s // size} {unit}"
            break
    return f"{text} ago" if delta_seconds >= 0 else f"in {text}"


# --- instants in stored text ------------------------------------------------------------------------
# Text that is stored (a timeline entry's SLA notes, an escalation headline, a notification) never
# holds a formatted time: the writer's timezone is not the reader's. It holds the instant as a token,
# `<t:2026-11-23T08:15:00Z>` (the convention chat apps use for "show this in the reader's zone"), and
# the reader's view renders it: `split_instants` for HTML, `render_instants` for plain text.

INSTANT_TOKEN = re.compile(r"<t:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?Z)>")
# Rows written before the tokens held "2026-11-23 08:15 UTC": UTC is unambiguous, so those are read
# as instants too. Any other abbreviation ("CET") is left as written.
LEGACY_UTC = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\b")


def instant_token(value: datetime) -> str:
    """The stored form of an instant inside text (aware datetime in, UTC token out)."""
    return f"<t:{value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}>"


def local(value: datetime, tz: tzinfo, *, zone: bool = False) -> str:
    """ "2026-11-23 09:15" in `tz` (with its abbreviation, "2026-11-23 09:15 CET", when `zone`)."""
    text = value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return f"{text} {zone_name(value, tz)}" if zone else text


def zone_name(value: datetime, tz: tzinfo) -> str:
    """The abbreviation of `tz` at `value` ("CET", "CEST"), or its offset where it has none."""
    name = value.astimezone(tz).tzname() or ""
    return name if name and name[0] not in "+-" else f"UTC{name}"


def split_instants(text: str) -> list[str | datetime]:
    """`text` cut into its plain parts (str) and its instants (aware UTC datetimes), in order."""
    parts: list[str | datetime] = []
    pos = 0
    pattern = re.compile(f"{INSTANT_TOKEN.pattern}|{LEGACY_UTC.pattern}")
    for match in pattern.finditer(text):
        parts.append(text[pos : match.start()])
        if match.group(1):
            parts.append(datetime.strptime(match.group(1).rstrip("Z"), _iso_format(match.group(1))).replace(tzinfo=UTC))
        else:
            parts.append(datetime.strptime(match.group(2), "%Y-%m-%d %H:%M").replace(tzinfo=UTC))
        pos = match.end()
    parts.append(text[pos:])
    return [p for p in parts if p != ""]


def render_instants(text: str, tz: tzinfo) -> str:
    """`text` with every instant written in `tz`, zone named ("due 2026-11-23 09:15 CET")."""
    return "".join(p if isinstance(p, str) else local(p, tz, zone=True) for p in split_instants(text))


def _iso_format(value: str) -> str:
    return "%Y-%m-%dT%H:%M:%S" if value.count(":") == 2 else "%Y-%m-%dT%H:%M"
