"""How the console writes a duration and a relative time: one place, pure (no Django, no ORM), used by
the template tags, the SLA pages and the SLA explanations. static/js/console.js has the one
JavaScript twin of `relative`, which keeps "updated 3 min ago" true while a page stays open."""

from __future__ import annotations

from datetime import timedelta


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
