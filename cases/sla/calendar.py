"""Business-time arithmetic for SLA clocks: plain functions on aware datetimes and a `Calendar`.

No ORM and no database here (STYLE.md, "Pure logic has no ORM"): the models turn a
`BusinessCalendar` row into a `Calendar` and the clock services call these functions.

Conventions
-----------
* Every datetime passed in must be timezone-aware (a naive one raises `ValueError`). Every
  datetime returned is aware in UTC. Arithmetic is always done on absolute instants (UTC), never on
  wall-clock readings, so a day across a DST change is 23 or 25 hours of calendar time.
* `cal=None` (`CALENDAR_24X7`) means calendar time: every instant counts. `Calendar.always(tz)` is
  the same thing expressed as a calendar (open 00:00-24:00 every local day).
* A calendar's windows are local wall-clock times in `Calendar.tz`; a window is half-open
  `[start, end)`. "Until midnight" is written `end=None`; `time(0, 0)` and `time.max` as an *end*
  mean the same (normalised to `None`). A window never crosses midnight: 22:00-02:00 is written as
  22:00-None on one day and 00:00-02:00 on the next, and the two join up.
* Which windows a local date has: `extra_open[date]` if the date is listed there (an extra day wins
  over `closed`, and replaces the weekly hours of that date), else none if the date is in `closed`,
  else `weekly[date.weekday()]` (0 = Monday).

DST (which instants a local window covers)
------------------------------------------
A window `[start, end)` of local date `d` is open at exactly the instants whose wall-clock reading
in `Calendar.tz` (a local date and time) lies in `[d start, d end)`:
* a window that spans a repeated hour (clocks go back) covers both passes, so 01:00-04:00 in Oslo on
  2026-10-25 is 4 h long;
* a window with an edge inside the repeated hour covers the part of each pass that reads inside it:
  01:00-02:30 on that day is open 01:00-02:30 CEST and again 02:00-02:30 CET (2 h in all), and
  02:30-04:00 covers 02:30-03:00 CEST and 02:30-04:00 CET, so the two never overlap;
* readings that never exist (clocks go forward) cover nothing, so 01:00-04:00 in Oslo on 2026-03-29
  is 2 h long, 02:30-03:30 that day opens at the jump (03:00 CEST), and a window lying wholly inside
  the skipped hour (02:00-03:00) is empty.
Wall readings are a function of the instant, so the windows of a day, and of consecutive days, never
overlap. (One assumption: no clock change moves the wall clock back across midnight; the last one
in the tz database was Antarctica/Casey's in 2010. The days' intervals are taken in date order.)

Semantics of `add`
------------------
`add(start, target, cal)` is the earliest instant at which `target` of business time has elapsed
since `start`: a target that runs out exactly at a window's close returns that close (not the next
morning); a positive target started outside business hours starts counting at the next open;
`target == 0` returns `start` itself (converted to UTC) even outside business hours.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "CALENDAR_24X7",
    "HORIZON_DAYS",
    "Calendar",
    "NoBusinessTime",
    "add",
    "business_days",
    "business_intervals",
    "elapsed",
    "explain_calendar_skips",
    "holiday_dates",
    "is_open",
    "next_open",
]

UTC = UTC
ONE_DAY = timedelta(days=1)
ONE_HOUR = timedelta(hours=1)
ZERO = timedelta(0)
FULL_DAY = timedelta(hours=24)
# How far ahead `add`/`next_open` look for business time before giving up (about ten years).
HORIZON_DAYS = 3653
# `cal=None` means calendar time (24x7 absolute time).
CALENDAR_24X7 = None

Window = tuple[time, "time | None"]


class NoBusinessTime(ValueError):
    """The calendar has no open hours at all, or none within the search horizon."""


def _normalise_windows(windows: Iterable, where: str) -> tuple[tuple[time, time | None], ...]:
    """Sorted, validated windows; an end of None, 00:00 or time.max means "until midnight"."""
    out: list[tuple[time, time | None]] = []
    for pair in windows:
        try:
            start, end = pair
        except (TypeError, ValueError):
            raise ValueError(f"{where}: a window is a (start, end) pair of times, got {pair!r}") from None
        if not isinstance(start, time) or (end is not None and not isinstance(end, time)):
            raise ValueError(f"{where}: window times must be datetime.time, got {pair!r}")
        if start.tzinfo is not None or (end is not None and end.tzinfo is not None):
            raise ValueError(f"{where}: window times are local wall-clock times and must be naive")
        if end is not None and (end == time(0, 0) or end == time.max):
            end = None
        if end is not None and end <= start:
            raise ValueError(
                f"{where}: window {start:%H:%M}-{end:%H:%M} ends before it starts "
                "(windows cannot cross midnight; split them, and use end=None for midnight)"
            )
        out.append((start, end))
    out.sort(key=lambda w: w[0])
    for (s1, e1), (s2, _) in zip(out, out[1:]):
        if e1 is None or e1 > s2:
            raise ValueError(f"{where}: windows overlap ({s1:%H:%M} and {s2:%H:%M})")
    return tuple(out)


def _window_length(window: tuple[time, time | None]) -> timedelta:
    """Nominal wall-clock length (a DST day is not accounted for: this is the calendar's 'day')."""
    start, end = window
    end_td = (
        FULL_DAY
        if end is None
        else timedelta(hours=end.hour, minutes=end.minute, seconds=end.second, microseconds=end.microsecond)
    )
    return end_td - timedelta(
        hours=start.hour, minutes=start.minute, seconds=start.second, microseconds=start.microsecond
    )


@dataclass(frozen=True)
class Calendar:
    """A business calendar: local weekly windows, closed dates and extra open dates, in `tz`."""

    tz: str
    weekly: Mapping[int, tuple[Window, ...]]
    closed: frozenset[date] = frozenset()
    extra_open: Mapping[date, tuple[Window, ...]] = field(default_factory=dict)
    holiday_names: Mapping[date, str] = field(default_factory=dict)
    # Per local date: its open intervals as absolute UTC instants (filled lazily).
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _zone: ZoneInfo = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self):
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.tz!r} (use an IANA name such as 'Europe/Oslo')") from None
        weekly = {}
        for day, windows in dict(self.weekly).items():
            if day not in range(7):
                raise ValueError(f"weekday {day!r} is not 0 (Monday) .. 6 (Sunday)")
            normalised = _normalise_windows(windows, f"weekday {day}")
            if normalised:
                weekly[day] = normalised
        extra = {}
        for day, windows in dict(self.extra_open).items():
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"extra_open keys are dates, got {day!r}")
            extra[day] = _normalise_windows(windows, f"extra day {day}")
        set_ = object.__setattr__
        set_(self, "_zone", zone)
        set_(self, "weekly", MappingProxyType(weekly))
        set_(self, "closed", frozenset(self.closed))
        set_(self, "extra_open", MappingProxyType(extra))
        set_(self, "holiday_names", MappingProxyType(dict(self.holiday_names)))

    def __hash__(self):
        return hash(
            (
                self.tz,
                tuple(sorted(self.weekly.items())),
                self.closed,
                tuple(sorted(self.extra_open.items())),
                tuple(sorted(self.holiday_names.items())),
            )
        )

    def __reduce__(self):  # picklable (the mappings are read-only proxies), without the day cache
        return (Calendar, (self.tz, dict(self.weekly), self.closed, dict(self.extra_open), dict(self.holiday_names)))

    # -- constructors -----------------------------------------------------------------------------
    @classmethod
    def always(cls, tz: str = "UTC") -> Calendar:
        """Open around the clock: business time equals calendar time (same as `cal=None`)."""
        return cls(tz=tz, weekly={day: ((time(0), None),) for day in range(7)})

    @classmethod
    def office(cls, tz: str, *windows: Window, days: Iterable[int] = range(5), **kwargs) -> Calendar:
        """The same windows on each of `days` (Monday-Friday by default)."""
        return cls(tz=tz, weekly={day: tuple(windows) for day in days}, **kwargs)

    def with_holidays(self, country: str, subdiv: str | None = None, years: Iterable[int] = ()) -> Calendar:
        """This calendar with the public holidays of `country`/`subdiv` added to `closed`.
        Names already in `holiday_names` (custom closures) win over the package's names."""
        found = holiday_dates(country, subdiv, years)
        return dataclasses.replace(
            self, closed=self.closed | frozenset(found), holiday_names={**found, **self.holiday_names}
        )

    # -- JSON (e.g. a calendar snapshotted onto a case with its policy) ------------------------------
    def as_dict(self) -> dict:
        """Plain JSON-able data: times as "HH:MM[:SS[.ffffff]]", None for midnight, dates ISO."""

        def windows(ws):
            return [[start.isoformat(), None if end is None else end.isoformat()] for start, end in ws]

        return {
            "tz": self.tz,
            "weekly": {str(day): windows(ws) for day, ws in sorted(self.weekly.items())},
            "closed": sorted(day.isoformat() for day in self.closed),
            "extra_open": {day.isoformat(): windows(ws) for day, ws in sorted(self.extra_open.items())},
            "holiday_names": {day.isoformat(): name for day, name in sorted(self.holiday_names.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Calendar:
        """The inverse of `as_dict`."""

        def windows(ws):
            return tuple(
                (time.fromisoformat(start), None if end is None else time.fromisoformat(end)) for start, end in ws
            )

        return cls(
            tz=data["tz"],
            weekly={int(day): windows(ws) for day, ws in data.get("weekly", {}).items()},
            closed=frozenset(date.fromisoformat(day) for day in data.get("closed", ())),
            extra_open={date.fromisoformat(day): windows(ws) for day, ws in data.get("extra_open", {}).items()},
            holiday_names={date.fromisoformat(day): name for day, name in data.get("holiday_names", {}).items()},
        )

    # -- reading ----------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def has_hours(self) -> bool:
        return bool(self.weekly) or any(self.extra_open.values())

    @property
    def hours_per_day(self) -> timedelta:
        """The typical business day: the most common total length among weekdays that have hours
        (ties go to the longer day); used to turn "N business days" into a duration. 0 if none."""
        lengths = Counter(sum((_window_length(w) for w in windows), ZERO) for windows in self.weekly.values())
        if not lengths:
            return ZERO
        return max(lengths.items(), key=lambda item: (item[1], item[0]))[0]

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The local windows of a date: extra day > closed > weekly."""
        if day in self.extra_open:
            return self.extra_open[day]
        if day in self.closed:
            return ()
        return self.weekly.get(day.weekday(), ())

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of a local date as absolute UTC instants, sorted (empty ones dropped)."""
        cached = self._days.get(day)
        if cached is None:
            cached = _absolute(day, self.windows_on(day), self._zone)
            if len(self._days) > 50_000:  # a long-lived calendar used across many years
                self._days.clear()
            self._days[day] = cached
        return cached


def _absolute(day: date, windows: Iterable[Window], zone: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
    """The instants the windows of local date `day` cover, as sorted UTC intervals (empty ones dropped).
    A window is one interval unless an edge falls in a repeated hour (then one per pass)."""
    out = []
    for start, end in windows:
        lo = datetime.combine(day, start)
        hi = datetime.combine(day + ONE_DAY, time(0)) if end is None else datetime.combine(day, end)
        out.extend(_reading_between(lo, hi, zone))
    out.sort()
    return tuple(out)


def _once(naive: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant at which the wall clock of `zone` reads `naive`, if it does so exactly once
    (None for a reading repeated when clocks go back or skipped when they go forward)."""
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if naive.replace(tzinfo=zone, fold=1).astimezone(UTC) != first:
        return None
    return first if first.astimezone(zone).replace(tzinfo=None) == naive else None


def _reading_between(lo: datetime, hi: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The UTC intervals of instants whose wall-clock reading in `zone` lies in [lo, hi) (naive)."""
    a, b = _once(lo, zone), _once(hi, zone)
    if a is not None and b is not None:
        # Both edges are read exactly once, so the reading is inside [lo, hi) from a until b (it may
        # jump inside, but to leave the range it would have to read an edge a second time or skip it).
        return [(a, b)] if b > a else []
    # An edge in a repeated or skipped hour: the reading is instant + offset on each stretch of
    # constant offset, so each stretch contributes [lo - offset, hi - offset) clipped to it.
    # Offsets lie within +-15 h, which bounds the instants that can read inside [lo, hi).
    out: list[tuple[datetime, datetime]] = []
    for since, until, offset in _offset_stretches(
        lo.replace(tzinfo=UTC) - 15 * ONE_HOUR, hi.replace(tzinfo=UTC) + 15 * ONE_HOUR, zone
    ):
        s, e = max(since, lo.replace(tzinfo=UTC) - offset), min(until, hi.replace(tzinfo=UTC) - offset)
        if e > s:
            if out and out[-1][1] == s:  # one pass continuing across the change: one interval
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
    return out


def _offset_stretches(since: datetime, until: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime, timedelta]]:
    """[since, until) cut at the zone's offset changes: (from, to, UTC offset) in order. Changes
    are found hour by hour and pinned to the second (transitions fall on whole seconds)."""

    def offset(t: datetime) -> timedelta:
        return t.astimezone(zone).utcoffset()

    out, begin, current, t = [], since, offset(since), since
    while t < until:
        step = min(t + ONE_HOUR, until)
        if offset(step) != current:
            lo_s, hi_s = 0, int((step - t).total_seconds())  # offset(t + lo_s) == current != offset(t + hi_s)
            while lo_s + 1 < hi_s:
                mid = (lo_s + hi_s) // 2
                if offset(t + timedelta(seconds=mid)) == current:
                    lo_s = mid
                else:
                    hi_s = mid
            change = t + timedelta(seconds=hi_s)
            out.append((begin, change, current))
            begin, current = change, offset(change)
            step = change
        t = step
    out.append((begin, until, current))
    return out


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _open_intervals(start: datetime, end: datetime | None, cal: Calendar) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals clipped to [start, end] (UTC, non-empty, in order); end=None is open-ended and
    raises `NoBusinessTime` past the horizon."""
    if end is None and not cal.has_hours:
        raise NoBusinessTime(f"calendar {cal.tz} has no open hours at all")
    zone = cal._zone
    # A window of local date d ends by midnight after d, so nothing before the day before start's
    # local date can reach start (one day of slack covers odd offsets around midnight transitions).
    day = start.astimezone(zone).date() - ONE_DAY
    if end is None:
        last = day + timedelta(days=HORIZON_DAYS)
    else:
        last = end.astimezone(zone).date() + ONE_DAY
    intervals_on = cal.intervals_on
    while day <= last:
        for a, b in intervals_on(day):
            if b <= start:
                continue
            if end is not None and a >= end:
                return
            yield (a if a > start else start), (b if end is None or b < end else end)
        day += ONE_DAY
    if end is None:
        raise NoBusinessTime(
            f"no business time on calendar {cal.tz} within {HORIZON_DAYS} days after {start.isoformat()}"
        )


def business_intervals(
    start: datetime, end: datetime | None, cal: Calendar | None
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the open intervals in [start, end] as UTC-aware (from, to) pairs, in order, non-empty.

    `end=None` is open-ended (it raises `NoBusinessTime` once past the ~10 year horizon). With
    `cal=None` (calendar time) the whole span is one interval."""
    start_utc = _utc(start, "start")
    end_utc = None if end is None else _utc(end, "end")
    if end_utc is not None and end_utc <= start_utc:
        return
    if cal is None:
        yield start_utc, (end_utc if end_utc is not None else datetime.max.replace(tzinfo=UTC))
        return
    yield from _open_intervals(start_utc, end_utc, cal)


def add(start: datetime, target: timedelta, cal: Calendar | None) -> datetime:
    """The due instant (UTC): the earliest instant at which `target` of business time on `cal` has
    elapsed since `start`. `cal=None` counts calendar time (start + target on absolute time)."""
    start_utc = _utc(start, "start")
    if target < ZERO:
        raise ValueError(f"target must not be negative, got {target}")
    if target == ZERO:
        return start_utc
    if cal is None:
        return start_utc + target
    remaining = target
    for a, b in _open_intervals(start_utc, None, cal):
        span = b - a
        if remaining <= span:
            return a + remaining
        remaining -= span
    raise AssertionError("unreachable: _open_intervals raises at the horizon")  # pragma: no cover


def elapsed(start: datetime, end: datetime, cal: Calendar | None) -> timedelta:
    """Business time in [start, end); 0 if end <= start."""
    start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
    if end_utc <= start_utc:
        return ZERO
    if cal is None:
        return end_utc - start_utc
    total = ZERO
    for a, b in _open_intervals(start_utc, end_utc, cal):
        total += b - a
    return total


def next_open(t: datetime, cal: Calendar | None) -> datetime:
    """The first instant >= t inside business hours (t itself, in UTC, if the business is open)."""
    t_utc = _utc(t, "t")
    if cal is None:
        return t_utc
    for a, _ in _open_intervals(t_utc, None, cal):
        return a
    raise AssertionError("unreachable")  # pragma: no cover


def is_open(t: datetime, cal: Calendar | None) -> bool:
    """Whether instant t lies inside a window [open, close) (always true for calendar time)."""
    t_utc = _utc(t, "t")
    if cal is None:
        return True
    day = t_utc.astimezone(cal._zone).date()
    return any(a <= t_utc < b for d in (day - ONE_DAY, day) for a, b in cal.intervals_on(d))


def explain_calendar_skips(start: datetime, end: datetime, cal: Calendar | None) -> list[str]:
    """Plain-language notes on closed dates between start and end that would otherwise have been
    open, e.g. ["Easter Monday (2026-04-06) skipped"], for the "why is it due then" text."""
    start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
    if cal is None or end_utc <= start_utc:
        return []
    zone = cal._zone
    notes = []
    day, last = start_utc.astimezone(zone).date(), end_utc.astimezone(zone).date()
    while day <= last:
        if day in cal.closed and day not in cal.extra_open and day.weekday() in cal.weekly:
            # Only if some of that day's usual hours fall inside the span.
            if any(a < end_utc and b > start_utc for a, b in _weekly_intervals(cal, day)):
                name = cal.holiday_names.get(day) or "Closure"
                notes.append(f"{name} ({day.isoformat()}) skipped")
        day += ONE_DAY
    return notes


def _weekly_intervals(cal: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The intervals a date would have from the weekly hours alone (ignoring closures)."""
    return _absolute(day, cal.weekly.get(day.weekday(), ()), cal._zone)


def business_days(n: float, cal: Calendar | None) -> timedelta:
    """N business days as a duration: n x the calendar's hours_per_day (n x 24 h for calendar time)."""
    if n < 0:
        raise ValueError(f"a number of days must not be negative, got {n}")
    if cal is None:
        return FULL_DAY * n
    per_day = cal.hours_per_day
    if per_day <= ZERO:
        raise NoBusinessTime(f"calendar {cal.tz} has no weekly hours, so a business day has no length")
    return per_day * n


def holiday_dates(
    country: str, subdiv: str | None, years: Iterable[int], *, language: str | None = None
) -> dict[date, str]:
    """Public holidays of a country (ISO 3166-1 code, e.g. "NO") and optional subdivision, from the
    `holidays` package, as {date: name} sorted by date. Names are in English where the package has
    English names, unless `language` says otherwise. Unknown country or subdivision: ValueError."""
    import holidays

    years = sorted(set(years))
    code = (country or "").strip().upper()
    if not code:
        raise ValueError("a country code is required, e.g. 'NO'")
    try:
        probe = holidays.country_holidays(code, subdiv=subdiv, years=[])
    except NotImplementedError as exc:
        if subdiv and code in holidays.list_supported_countries():
            known = ", ".join(holidays.list_supported_countries()[code]) or "none"
            raise ValueError(f"unknown subdivision {subdiv!r} for country {code} (known: {known})") from exc
        raise ValueError(f"unknown country {country!r} for public holidays (use an ISO code such as 'NO')") from exc
    if language is None and "en_US" in (probe.supported_languages or ()):
        language = "en_US"
    found = holidays.country_holidays(code, subdiv=subdiv, years=years, language=language)
    return dict(sorted(found.items()))
