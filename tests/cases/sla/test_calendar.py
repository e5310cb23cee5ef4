"""cases.sla and cases.sla_presets: business-time arithmetic with no database.

Tables on the seeds' examples (seed 003's targets on Oslo office hours), split days, holidays,
closures, extra open days and the DST changes of Europe/Oslo, America/New_York and
Australia/Lord_Howe (30-minute shift), then hypothesis properties over generated calendars.
"""

from __future__ import annotations

import functools
import itertools
import json
import pickle
import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.sla import calendar as sla
from cases.sla.calendar import (
    Calendar,
    add,
    business_days,
    business_intervals,
    elapsed,
    explain_calendar_skips,
    next_open,
)
from cases.sla.presets import KINDS, PRESETS, PRIORITIES, UNITS, preset_column, preset_targets

UTC = UTC
OSLO = ZoneInfo("Europe/Oslo")
NY = ZoneInfo("America/New_York")
LHI = ZoneInfo("Australia/Lord_Howe")
H, M = timedelta(hours=1), timedelta(minutes=1)
US = timedelta(microseconds=1)


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


OFFICE = Calendar.office("Europe/Oslo", (time(8), time(16)))  # Mon-Fri 08:00-16:00, 8 h a day
LUNCH = Calendar.office("Europe/Oslo", (time(8), time(12)), (time(13), time(17)))  # 8 h, split by lunch
EASTER = OFFICE.with_holidays("NO", None, [2026])
CLOSURE = Calendar.office(
    "Europe/Oslo",
    (time(8), time(16)),
    closed=frozenset({date(2026, 1, 14)}),
    holiday_names={date(2026, 1, 14): "Office move"},
)
SATURDAY = Calendar.office(
    "Europe/Oslo",
    (time(8), time(16)),
    closed=frozenset({date(2026, 1, 17)}),
    extra_open={date(2026, 1, 17): ((time(10), time(14)),)},
)
BIZ_DAY = business_days(1, OFFICE)


# -- seed 003's table on Oslo office hours -------------------------------------------------------
# 2026-01-09 is a Friday; 2026-03-27 the Friday before Oslo springs forward.
SEED_003_CASES = [
    # (id, start, target, calendar, due in Oslo wall time)
    ("4 hrs opened Fri 15:00 -> Mon 11:00", oslo(2026, 1, 9, 15), 4 * H, OFFICE, oslo(2026, 1, 12, 11)),
    ("4 hrs opened Fri 15:00 over the DST weekend", oslo(2026, 3, 27, 15), 4 * H, OFFICE, oslo(2026, 3, 30, 11)),
    ("15 min opened Mon 10:00", oslo(2026, 1, 12, 10), 15 * M, OFFICE, oslo(2026, 1, 12, 10, 15)),
    ("1 hr opened Mon 15:30 -> Tue 08:30", oslo(2026, 1, 12, 15, 30), H, OFFICE, oslo(2026, 1, 13, 8, 30)),
    ("8 hrs opened Mon 12:00", oslo(2026, 1, 12, 12), 8 * H, OFFICE, oslo(2026, 1, 13, 12)),
    ("1 biz day opened Tue 10:00", oslo(2026, 1, 13, 10), BIZ_DAY, OFFICE, oslo(2026, 1, 14, 10)),
    ("2 biz days opened Thu 10:00 -> Mon", oslo(2026, 1, 15, 10), 2 * BIZ_DAY, OFFICE, oslo(2026, 1, 19, 10)),
    ("3 biz days opened Wed 09:00", oslo(2026, 1, 14, 9), 3 * BIZ_DAY, OFFICE, oslo(2026, 1, 19, 9)),
    ("5 biz days opened Mon 09:00", oslo(2026, 1, 12, 9), 5 * BIZ_DAY, OFFICE, oslo(2026, 1, 19, 9)),
    ("1 biz day opened Sat -> clock starts Mon 08:00", oslo(2026, 1, 10, 12), BIZ_DAY, OFFICE, oslo(2026, 1, 12, 16)),
    ("4 hrs opened Sun night", oslo(2026, 1, 11, 23, 59), 4 * H, OFFICE, oslo(2026, 1, 12, 12)),
    ("15 min opened Tue 22:00 -> Wed 08:15", oslo(2026, 1, 13, 22), 15 * M, OFFICE, oslo(2026, 1, 14, 8, 15)),
    ("1 hr opened Mon 06:00 before opening", oslo(2026, 1, 12, 6), H, OFFICE, oslo(2026, 1, 12, 9)),
    ("ends exactly at close -> the close", oslo(2026, 1, 12, 12), 4 * H, OFFICE, oslo(2026, 1, 12, 16)),
    ("2 hrs premium ends at close", oslo(2026, 1, 16, 14), 2 * H, OFFICE, oslo(2026, 1, 16, 16)),
    ("opened at close counts from next open", oslo(2026, 1, 12, 16), 15 * M, OFFICE, oslo(2026, 1, 13, 8, 15)),
    ("one microsecond past a full day", oslo(2026, 1, 12, 8), BIZ_DAY + US, OFFICE, oslo(2026, 1, 13, 8, 0, 0, 1)),
    # split days 08:00-12:00 + 13:00-17:00
    ("lunch: 2 hrs opened 11:00 -> 14:00", oslo(2026, 1, 12, 11), 2 * H, LUNCH, oslo(2026, 1, 12, 14)),
    ("lunch: 1 hr opened 11:00 ends at the lunch close", oslo(2026, 1, 12, 11), H, LUNCH, oslo(2026, 1, 12, 12)),
    ("lunch: opened during lunch", oslo(2026, 1, 12, 12, 30), 30 * M, LUNCH, oslo(2026, 1, 12, 13, 30)),
    ("lunch: 1 biz day = 8 h", oslo(2026, 1, 12, 11), business_days(1, LUNCH), LUNCH, oslo(2026, 1, 13, 11)),
    (
        "lunch: 6 hrs from Fri 15:00 end at Monday's lunch close",
        oslo(2026, 1, 16, 15),
        6 * H,
        LUNCH,
        oslo(2026, 1, 19, 12),
    ),
    ("lunch: 7 hrs from Fri 15:00", oslo(2026, 1, 16, 15), 7 * H, LUNCH, oslo(2026, 1, 19, 14)),
    # Norway's Easter 2026: Maundy Thursday 04-02, Good Friday 04-03, Easter Monday 04-06
    ("Easter: 4 hrs opened Wed 15:00 -> Tue 11:00", oslo(2026, 4, 1, 15), 4 * H, EASTER, oslo(2026, 4, 7, 11)),
    ("Easter: 1 biz day opened Sat -> Tue close", oslo(2026, 4, 4, 10), BIZ_DAY, EASTER, oslo(2026, 4, 7, 16)),
    # a custom closure (Wed 2026-01-14) and an extra open Saturday (2026-01-17, 10-14, also listed closed)
    ("closure skipped", oslo(2026, 1, 13, 14), 4 * H, CLOSURE, oslo(2026, 1, 15, 10)),
    ("extra open Saturday", oslo(2026, 1, 16, 15), 4 * H, SATURDAY, oslo(2026, 1, 17, 13)),
    ("extra Saturday used up", oslo(2026, 1, 16, 15), 6 * H, SATURDAY, oslo(2026, 1, 19, 9)),
    # calendar time
    ("calendar time", oslo(2026, 1, 9, 15), 4 * H, None, oslo(2026, 1, 9, 19)),
    ("calendar days", oslo(2026, 1, 9, 15), business_days(2, None), None, oslo(2026, 1, 11, 15)),
]


@pytest.mark.parametrize("start,target,cal,due", [c[1:] for c in SEED_003_CASES], ids=[c[0] for c in SEED_003_CASES])
def test_add_table(start, target, cal, due):
    got = add(start, target, cal)
    assert got == due
    assert got.tzinfo is UTC
    assert elapsed(start, got, cal) == target


# -- DST: exact due instants in UTC -------------------------------------------------------------
def daily(tz: str, *windows) -> Calendar:
    return Calendar.office(tz, *windows, days=range(7))


DST_CASES = [
    # Europe/Oslo: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET
    (
        "Oslo 24x7 local hours, spring: 24 h",
        oslo(2026, 3, 28, 12),
        24 * H,
        Calendar.always("Europe/Oslo"),
        utc(2026, 3, 29, 11),
    ),
    (
        "Oslo 24x7 local hours, fall: 24 h",
        oslo(2026, 10, 24, 12),
        24 * H,
        Calendar.always("Europe/Oslo"),
        utc(2026, 10, 25, 10),
    ),
    ("Oslo calendar time, spring", oslo(2026, 3, 28, 12), 24 * H, None, utc(2026, 3, 29, 11)),
    (
        "Oslo 01-04 on spring day is 2 h",
        oslo(2026, 3, 29, 0),
        2 * H,
        daily("Europe/Oslo", (time(1), time(4))),
        utc(2026, 3, 29, 2),
    ),
    (
        "Oslo 01-04 spring, spill to next day",
        oslo(2026, 3, 29, 0),
        150 * M,
        daily("Europe/Oslo", (time(1), time(4))),
        utc(2026, 3, 29, 23, 30),
    ),
    (
        "Oslo 01-04 spring, within the day",
        oslo(2026, 3, 29, 0),
        90 * M,
        daily("Europe/Oslo", (time(1), time(4))),
        utc(2026, 3, 29, 1, 30),
    ),
    (
        "Oslo 01-04 on fall day is 4 h",
        oslo(2026, 10, 25, 0),
        4 * H,
        daily("Europe/Oslo", (time(1), time(4))),
        utc(2026, 10, 25, 3),
    ),
    (
        "Oslo 01-04 fall, 3 h",
        oslo(2026, 10, 25, 0),
        3 * H,
        daily("Europe/Oslo", (time(1), time(4))),
        utc(2026, 10, 25, 2),
    ),
    (
        "Oslo 02-03 skipped on spring day",
        oslo(2026, 3, 28, 0),
        90 * M,
        daily("Europe/Oslo", (time(2), time(3))),
        utc(2026, 3, 30, 0, 30),
    ),
    (
        "Oslo 02-03 on fall day is 2 h",
        oslo(2026, 10, 25, 0),
        2 * H,
        daily("Europe/Oslo", (time(2), time(3))),
        utc(2026, 10, 25, 2),
    ),
    (
        "Oslo 02:30-03:30 spring starts at the jump",
        oslo(2026, 3, 29, 0),
        30 * M,
        daily("Europe/Oslo", (time(2, 30), time(3, 30))),
        utc(2026, 3, 29, 1, 30),
    ),
    # A window edge inside the repeated hour: open wherever the wall clock reads inside the window,
    # in both passes (before issue 7 an edge there was mapped to the first pass only).
    (
        "Oslo 02:30-03:30 fall starts at first 02:30",
        oslo(2026, 10, 25, 0),
        30 * M,
        daily("Europe/Oslo", (time(2, 30), time(3, 30))),
        utc(2026, 10, 25, 1),
    ),
    (
        "Oslo 02:30-03:30 fall is 1.5 h: 02:30-03:00 CEST, 02:30-03:30 CET",
        oslo(2026, 10, 25, 0),
        2 * H,
        daily("Europe/Oslo", (time(2, 30), time(3, 30))),
        utc(2026, 10, 26, 2),
    ),
    (
        "Oslo 01:00-02:30 fall is 2 h: both passes' 02:00-02:30",
        oslo(2026, 10, 25, 0),
        2 * H,
        daily("Europe/Oslo", (time(1), time(2, 30))),
        utc(2026, 10, 25, 1, 30),
    ),
    (
        "Oslo 01:00-02:30 fall, 100 min: 10 min into the second pass",
        oslo(2026, 10, 25, 0),
        100 * M,
        daily("Europe/Oslo", (time(1), time(2, 30))),
        utc(2026, 10, 25, 1, 10),
    ),
    (
        "Oslo 01:00-02:30 fall, 90 min end at the first 02:30",
        oslo(2026, 10, 25, 0),
        90 * M,
        daily("Europe/Oslo", (time(1), time(2, 30))),
        utc(2026, 10, 25, 0, 30),
    ),
    (
        "Oslo 01:00-02:30 + 02:30-04:00 fall cover 4 h",
        oslo(2026, 10, 25, 0),
        4 * H,
        daily("Europe/Oslo", (time(1), time(2, 30)), (time(2, 30), time(4))),
        utc(2026, 10, 25, 3),
    ),
    (
        "Oslo 01:00-02:30 spring ends at the jump",
        oslo(2026, 3, 29, 0),
        H,
        daily("Europe/Oslo", (time(1), time(2, 30))),
        utc(2026, 3, 29, 1),
    ),
    (
        "Oslo 01:00-02:30 spring is 1 h, then next day",
        oslo(2026, 3, 29, 0),
        61 * M,
        daily("Europe/Oslo", (time(1), time(2, 30))),
        utc(2026, 3, 29, 23, 1),
    ),
    ("Oslo office Mon after spring", oslo(2026, 3, 27, 15), 2 * H, OFFICE, utc(2026, 3, 30, 7)),
    ("Oslo office Mon after fall", oslo(2026, 10, 23, 15), 2 * H, OFFICE, utc(2026, 10, 26, 8)),
    # America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
    (
        "NY office across spring",
        datetime(2026, 3, 6, 16, tzinfo=NY),
        2 * H,
        Calendar.office("America/New_York", (time(9), time(17))),
        utc(2026, 3, 9, 14),
    ),
    (
        "NY office across fall",
        datetime(2026, 10, 30, 16, tzinfo=NY),
        2 * H,
        Calendar.office("America/New_York", (time(9), time(17))),
        utc(2026, 11, 2, 15),
    ),
    (
        "NY 24x7 local hours, spring",
        datetime(2026, 3, 7, 12, tzinfo=NY),
        24 * H,
        Calendar.always("America/New_York"),
        utc(2026, 3, 8, 17),
    ),
    (
        "NY 24x7 local hours, fall",
        datetime(2026, 10, 31, 12, tzinfo=NY),
        24 * H,
        Calendar.always("America/New_York"),
        utc(2026, 11, 1, 16),
    ),
    (
        "NY 01-03 on spring day is 1 h",
        datetime(2026, 3, 8, 0, tzinfo=NY),
        H,
        daily("America/New_York", (time(1), time(3))),
        utc(2026, 3, 8, 7),
    ),
    (
        "NY 01-03 on fall day is 3 h",
        datetime(2026, 11, 1, 0, tzinfo=NY),
        3 * H,
        daily("America/New_York", (time(1), time(3))),
        utc(2026, 11, 1, 8),
    ),
    (
        "NY 01-03 fall, 90 min in the repeated hour",
        datetime(2026, 11, 1, 0, tzinfo=NY),
        90 * M,
        daily("America/New_York", (time(1), time(3))),
        utc(2026, 11, 1, 6, 30),
    ),
    (
        "NY 00:00-01:30 fall is 2 h: both passes' 01:00-01:30",
        datetime(2026, 11, 1, 0, tzinfo=NY),
        2 * H,
        daily("America/New_York", (time(0), time(1, 30))),
        utc(2026, 11, 1, 6, 30),
    ),
    # Australia/Lord_Howe: 2026-04-05 02:00 +11 -> 01:30 +10:30; 2026-10-04 02:00 +10:30 -> 02:30 +11
    (
        "Lord Howe 24x7 local hours, April",
        datetime(2026, 4, 4, 12, tzinfo=LHI),
        24 * H,
        Calendar.always("Australia/Lord_Howe"),
        utc(2026, 4, 5, 1),
    ),
    (
        "Lord Howe 24x7 local hours, October",
        datetime(2026, 10, 3, 12, tzinfo=LHI),
        24 * H,
        Calendar.always("Australia/Lord_Howe"),
        utc(2026, 10, 4, 1, 30),
    ),
    (
        "Lord Howe 01-03 April day is 2.5 h",
        datetime(2026, 4, 5, 0, tzinfo=LHI),
        150 * M,
        daily("Australia/Lord_Howe", (time(1), time(3))),
        utc(2026, 4, 4, 16, 30),
    ),
    (
        "Lord Howe 01-03 October day is 1.5 h",
        datetime(2026, 10, 4, 0, tzinfo=LHI),
        90 * M,
        daily("Australia/Lord_Howe", (time(1), time(3))),
        utc(2026, 10, 3, 16),
    ),
    # 01:45-02:15 reads 01:45-02:00 (+11), then, after the repeat of 01:30-01:45, 01:45-02:15 (+10:30): 45 min
    (
        "Lord Howe 01:45-02:15 April spans the repeat",
        datetime(2026, 4, 5, 0, tzinfo=LHI),
        45 * M,
        daily("Australia/Lord_Howe", (time(1, 45), time(2, 15))),
        utc(2026, 4, 4, 15, 45),
    ),
    (
        "Lord Howe 01:45-02:15 April, 1 h runs into the next day",
        datetime(2026, 4, 5, 0, tzinfo=LHI),
        H,
        daily("Australia/Lord_Howe", (time(1, 45), time(2, 15))),
        utc(2026, 4, 5, 15, 30),
    ),
    (
        "Lord Howe 02:00-02:30 skipped in October",
        datetime(2026, 10, 3, 0, tzinfo=LHI),
        45 * M,
        daily("Australia/Lord_Howe", (time(2), time(2, 30))),
        utc(2026, 10, 4, 15, 15),
    ),
    (
        "Lord Howe office across April",
        datetime(2026, 4, 3, 16, tzinfo=LHI),
        2 * H,
        Calendar.office("Australia/Lord_Howe", (time(9), time(17))),
        utc(2026, 4, 5, 23, 30),
    ),
]


@pytest.mark.parametrize("start,target,cal,due", [c[1:] for c in DST_CASES], ids=[c[0] for c in DST_CASES])
def test_add_across_dst(start, target, cal, due):
    assert add(start, target, cal) == due
    assert elapsed(start, due, cal) == target


def test_dst_window_lengths():
    spring, fall = date(2026, 3, 29), date(2026, 10, 25)
    span = daily("Europe/Oslo", (time(0), None))  # 00:00 until midnight
    assert sum((b - a for a, b in span.intervals_on(spring)), timedelta()) == 23 * H
    assert sum((b - a for a, b in span.intervals_on(fall)), timedelta()) == 25 * H
    assert daily("Europe/Oslo", (time(2), time(3))).intervals_on(spring) == ()
    # consecutive days join up: the midnight close of one day is the next day's midnight open
    ((a1, b1),) = span.intervals_on(spring)
    ((a2, _),) = span.intervals_on(spring + timedelta(days=1))
    assert b1 == a2 == utc(2026, 3, 29, 22)


def test_window_edge_in_the_repeated_hour_is_open_in_both_passes():
    """Open = the instants whose local wall time is inside a window: 02:15 happens twice in Oslo on
    2026-10-25 and a 01:00-02:30 window is open both times; 02:45 (CEST) is outside it."""
    cal = daily("Europe/Oslo", (time(1), time(2, 30)))
    first, second = oslo(2026, 10, 25, 2, 15), datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=OSLO)
    assert (first.astimezone(UTC), second.astimezone(UTC)) == (utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 1, 15))
    assert sla.is_open(first, cal) and sla.is_open(second, cal)
    assert not sla.is_open(oslo(2026, 10, 25, 2, 45), cal)  # first pass, past 02:30
    assert not sla.is_open(datetime(2026, 10, 25, 2, 45, fold=1, tzinfo=OSLO), cal)  # second pass, too
    assert cal.intervals_on(date(2026, 10, 25)) == (
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30)),
    )
    night = (oslo(2026, 10, 24, 22), oslo(2026, 10, 25, 6))
    assert elapsed(*night, cal) == 2 * H
    assert list(business_intervals(*night, cal)) == list(cal.intervals_on(date(2026, 10, 25)))
    assert next_open(oslo(2026, 10, 25, 2, 45), cal) == utc(2026, 10, 25, 1)  # the second 02:00
    # The next window takes the rest of each pass: together they cover the night, without overlap.
    both = daily("Europe/Oslo", (time(1), time(2, 30)), (time(2, 30), time(4)))
    spans = both.intervals_on(date(2026, 10, 25))
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
    assert elapsed(*night, both) == 4 * H and sla.is_open(oslo(2026, 10, 25, 2, 45), both)
    # A start edge in the repeat: 02:30-03:30 is 02:30-03:00 CEST and 02:30-03:30 CET.
    late = daily("Europe/Oslo", (time(2, 30), time(3, 30)))
    assert not sla.is_open(second, late) and sla.is_open(oslo(2026, 10, 25, 2, 45), late)
    assert elapsed(*night, late) == 90 * M


def test_window_edge_in_the_skipped_hour_follows_the_same_rule():
    """Spring forward: readings that never exist cover nothing, so an edge inside the skipped hour
    sits at the jump (the first instant whose reading is past it)."""
    spring, day = date(2026, 3, 29), (oslo(2026, 3, 28, 22), oslo(2026, 3, 29, 6))
    jump = utc(2026, 3, 29, 1)  # 02:00 CET -> 03:00 CEST
    assert daily("Europe/Oslo", (time(1), time(2, 30))).intervals_on(spring) == ((utc(2026, 3, 29, 0), jump),)
    assert daily("Europe/Oslo", (time(2, 30), time(3, 30))).intervals_on(spring) == ((jump, utc(2026, 3, 29, 1, 30)),)
    assert daily("Europe/Oslo", (time(2), time(3))).intervals_on(spring) == ()
    assert elapsed(*day, daily("Europe/Oslo", (time(1), time(2, 30)), (time(2, 30), time(4)))) == 2 * H
    assert sla.is_open(jump, daily("Europe/Oslo", (time(2, 30), time(3, 30))))
    assert not sla.is_open(jump, daily("Europe/Oslo", (time(1), time(2, 30))))


def test_calendar_time_is_absolute_not_wall_clock():
    # Python's aware arithmetic on one tzinfo is wall-clock arithmetic; add() must not be.
    start = oslo(2026, 3, 28, 12)
    assert add(start, 24 * H, None) == utc(2026, 3, 29, 11) != (start + 24 * H).astimezone(UTC)
    assert elapsed(start, oslo(2026, 3, 29, 12), None) == 23 * H
    assert add(start, timedelta(0), OFFICE) == start and add(start, timedelta(0), OFFICE).tzinfo is UTC


# -- the other functions ----------------------------------------------------------------------
def test_next_open():
    assert next_open(oslo(2026, 1, 10, 12), OFFICE) == oslo(2026, 1, 12, 8)  # Saturday
    assert next_open(oslo(2026, 1, 12, 9), OFFICE) == oslo(2026, 1, 12, 9)  # open: itself
    assert next_open(oslo(2026, 1, 12, 8), OFFICE) == oslo(2026, 1, 12, 8)  # at opening
    assert next_open(oslo(2026, 1, 12, 16), OFFICE) == oslo(2026, 1, 13, 8)  # at close: closed
    assert next_open(oslo(2026, 1, 12, 12, 30), LUNCH) == oslo(2026, 1, 12, 13)
    assert next_open(oslo(2026, 4, 2, 7), EASTER) == oslo(2026, 4, 7, 8)
    assert next_open(oslo(2026, 1, 17, 9), SATURDAY) == oslo(2026, 1, 17, 10)
    assert next_open(oslo(2026, 1, 10, 12), None) == oslo(2026, 1, 10, 12)


def test_is_open():
    assert sla.is_open(oslo(2026, 1, 12, 8), OFFICE)
    assert not sla.is_open(oslo(2026, 1, 12, 16), OFFICE)
    assert not sla.is_open(oslo(2026, 1, 12, 12, 30), LUNCH)
    assert not sla.is_open(oslo(2026, 4, 6, 10), EASTER)
    assert sla.is_open(oslo(2026, 1, 17, 10), SATURDAY)
    assert sla.is_open(oslo(2026, 1, 17, 10), None)


def test_elapsed():
    assert elapsed(oslo(2026, 1, 9, 15), oslo(2026, 1, 12, 11), OFFICE) == 4 * H
    assert elapsed(oslo(2026, 1, 12, 11), oslo(2026, 1, 9, 15), OFFICE) == timedelta(0)
    assert elapsed(oslo(2026, 1, 12, 9), oslo(2026, 1, 12, 9), OFFICE) == timedelta(0)
    assert elapsed(oslo(2026, 1, 12, 0), oslo(2026, 1, 19, 0), OFFICE) == 40 * H
    assert elapsed(oslo(2026, 1, 12, 0), oslo(2026, 1, 13, 0), LUNCH) == 8 * H
    assert elapsed(oslo(2026, 3, 30, 0), oslo(2026, 4, 13, 0), EASTER) == 7 * BIZ_DAY
    assert elapsed(oslo(2026, 1, 16, 0), oslo(2026, 1, 19, 0), SATURDAY) == 12 * H
    # spans far longer than the add() horizon are fine: elapsed is bounded by its end
    assert elapsed(oslo(2020, 1, 1), oslo(2032, 1, 1), daily("UTC", (time(0), None))) == utc(2032, 1, 1) - utc(
        2020, 1, 1
    )


def test_business_intervals_are_clipped_utc_and_ordered():
    got = list(business_intervals(oslo(2026, 1, 9, 15), oslo(2026, 1, 12, 11), OFFICE))
    assert got == [(utc(2026, 1, 9, 14), utc(2026, 1, 9, 15)), (utc(2026, 1, 12, 7), utc(2026, 1, 12, 10))]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in got)
    assert list(business_intervals(oslo(2026, 1, 12, 11), oslo(2026, 1, 12, 11), OFFICE)) == []
    assert list(business_intervals(oslo(2026, 1, 12, 11), oslo(2026, 1, 12, 12), None)) == [
        (utc(2026, 1, 12, 10), utc(2026, 1, 12, 11))
    ]
    lunch = list(business_intervals(oslo(2026, 1, 12, 0), oslo(2026, 1, 13, 0), LUNCH))
    assert [(a.astimezone(OSLO).hour, b.astimezone(OSLO).hour) for a, b in lunch] == [(8, 12), (13, 17)]


def test_explain_calendar_skips():
    assert explain_calendar_skips(oslo(2026, 4, 1, 15), oslo(2026, 4, 7, 11), EASTER) == [
        "Maundy Thursday (2026-04-02) skipped",
        "Good Friday (2026-04-03) skipped",
        "Easter Monday (2026-04-06) skipped",  # Easter Sunday is no business day: not mentioned
    ]
    assert explain_calendar_skips(oslo(2026, 4, 4, 10), oslo(2026, 4, 7, 16), EASTER) == [
        "Easter Monday (2026-04-06) skipped"
    ]
    assert explain_calendar_skips(oslo(2026, 1, 13, 14), oslo(2026, 1, 15, 10), CLOSURE) == [
        "Office move (2026-01-14) skipped"
    ]
    unnamed = Calendar.office("Europe/Oslo", (time(8), time(16)), closed=frozenset({date(2026, 1, 14)}))
    assert explain_calendar_skips(oslo(2026, 1, 13), oslo(2026, 1, 16), unnamed) == ["Closure (2026-01-14) skipped"]
    assert explain_calendar_skips(oslo(2026, 1, 16), oslo(2026, 1, 19), SATURDAY) == []  # extra day wins
    assert explain_calendar_skips(oslo(2026, 4, 6, 17), oslo(2026, 4, 7, 9), EASTER) == []  # after its hours
    assert explain_calendar_skips(oslo(2026, 4, 1), oslo(2026, 4, 8), None) == []


def test_extra_day_wins_over_closed_and_replaces_weekly_hours():
    cal = EASTER.__class__(
        tz=EASTER.tz,
        weekly=EASTER.weekly,
        closed=EASTER.closed,
        holiday_names=EASTER.holiday_names,
        extra_open={date(2026, 4, 6): ((time(10), time(12)),)},
    )  # Easter Monday, 2 h
    assert add(oslo(2026, 4, 6, 9), 3 * H, cal) == oslo(2026, 4, 7, 9)
    assert sla.is_open(oslo(2026, 4, 6, 11), cal) and not sla.is_open(oslo(2026, 4, 6, 13), cal)


def test_holiday_dates():
    days = sla.holiday_dates("NO", None, [2026])
    assert days[date(2026, 4, 6)] == "Easter Monday"
    assert days[date(2026, 5, 17)] == "Constitution Day"
    assert list(days) == sorted(days)
    assert date(2026, 1, 6) in sla.holiday_dates("DE", "BY", range(2026, 2027))  # Epiphany in Bavaria only
    assert date(2026, 1, 6) not in sla.holiday_dates("DE", None, [2026])
    assert sla.holiday_dates("NO", None, []) == {}
    with pytest.raises(ValueError, match="unknown country"):
        sla.holiday_dates("XX", None, [2026])
    with pytest.raises(ValueError, match="unknown subdivision 'ZZ' for country NO"):
        sla.holiday_dates("NO", "ZZ", [2026])


def test_hours_per_day_and_business_days():
    assert OFFICE.hours_per_day == 8 * H
    assert LUNCH.hours_per_day == 8 * H
    assert Calendar.always().hours_per_day == 24 * H
    short_fridays = Calendar(
        tz="UTC", weekly={**{d: ((time(9), time(17)),) for d in range(4)}, 4: ((time(9), time(15)),)}
    )
    assert short_fridays.hours_per_day == 8 * H
    tie = Calendar(tz="UTC", weekly={0: ((time(9), time(17)),), 1: ((time(9), time(15)),)})
    assert tie.hours_per_day == 8 * H  # ties go to the longer day
    assert business_days(1.5, OFFICE) == 12 * H
    assert business_days(2, None) == 48 * H
    assert business_days(0, OFFICE) == timedelta(0)
    with pytest.raises(ValueError):
        business_days(1, Calendar(tz="UTC", weekly={}))


def test_until_midnight_spellings_are_the_same():
    a = daily("UTC", (time(22), None))
    assert a == daily("UTC", (time(22), time(0))) == daily("UTC", (time(22), time.max))
    assert a.hours_per_day == 2 * H
    # 22:00-midnight then 00:00-02:00 join up across midnight
    night = Calendar(tz="UTC", weekly={0: ((time(22), None),), 1: ((time(0), time(2)),)})
    assert add(utc(2026, 1, 12, 23), 2 * H, night) == utc(2026, 1, 13, 1)


def test_calendar_round_trips_through_json_and_pickle():
    for cal in (EASTER, SATURDAY, LUNCH, Calendar.always("Australia/Lord_Howe"), daily("UTC", (time(22), None))):
        data = json.loads(json.dumps(cal.as_dict()))
        assert Calendar.from_dict(data) == cal
        assert pickle.loads(pickle.dumps(cal)) == cal
    assert hash(Calendar.from_dict(EASTER.as_dict())) == hash(EASTER)
    assert EASTER.as_dict()["holiday_names"]["2026-04-06"] == "Easter Monday"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"tz": "Mars/Olympus", "weekly": {}}, "unknown time zone"),
        ({"tz": "UTC", "weekly": {7: ((time(8), time(9)),)}}, "weekday"),
        ({"tz": "UTC", "weekly": {0: ((time(9), time(8)),)}}, "ends before it starts"),
        ({"tz": "UTC", "weekly": {0: ((time(8), time(12)), (time(11), time(13)))}}, "overlap"),
        ({"tz": "UTC", "weekly": {0: ((time(8), None), (time(11), time(13)))}}, "overlap"),
        ({"tz": "UTC", "weekly": {0: ((time(8),),)}}, "pair"),
        ({"tz": "UTC", "weekly": {0: ((time(8, tzinfo=UTC), time(9)),)}}, "naive"),
    ],
)
def test_calendar_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Calendar(**kwargs)


def test_guards():
    empty = Calendar(tz="UTC", weekly={})
    with pytest.raises(ValueError, match="no open hours"):
        add(utc(2026, 1, 1), H, empty)
    with pytest.raises(ValueError, match="no open hours"):
        next_open(utc(2026, 1, 1), empty)
    assert add(utc(2026, 1, 1), timedelta(0), empty) == utc(2026, 1, 1)
    assert elapsed(utc(2026, 1, 1), utc(2026, 2, 1), empty) == timedelta(0)
    only_past = Calendar(tz="UTC", weekly={}, extra_open={date(2020, 1, 4): ((time(9), time(10)),)})
    with pytest.raises(ValueError, match="within 3653 days"):
        add(utc(2026, 1, 1), H, only_past)
    with pytest.raises(ValueError, match="timezone-aware"):
        add(datetime(2026, 1, 1), H, OFFICE)
    with pytest.raises(ValueError, match="negative"):
        add(utc(2026, 1, 1), -H, OFFICE)


def test_add_is_fast():
    start, target = oslo(2026, 1, 9, 15), 5 * BIZ_DAY
    add(start, target, EASTER)
    n = 2000
    began = clock.perf_counter()
    for _ in range(n):
        add(start, target, EASTER)
    per_call = (clock.perf_counter() - began) / n
    assert per_call < 0.001, f"add() took {per_call * 1e6:.0f} µs"


# -- presets ----------------------------------------------------------------------------------
def test_presets_are_complete():
    assert set(PRESETS) == {"seed-003", "seed-002", "seed-001", "seed-004"}
    for preset in PRESETS.values():
        assert preset["name"] and preset["source"] and preset["notes"]
        assert set(preset["priority_map"].values()) <= set(PRIORITIES)
        assert preset["default_column"] in preset["columns"]
        for column in preset["columns"].values():
            assert set(column["targets"]) == set(PRIORITIES)
            for row in column["targets"].values():
                assert set(row) == set(KINDS)
                for target in row.values():
                    assert target is None or (
                        target.unit in UNITS and target.amount > 0 and isinstance(target.business, bool)
                    )


def test_preset_targets():
    std = preset_targets("seed-003", "standard")
    assert std["critical"] == {"first_response": (15 * M, True), "resolution": (4 * H, True), "update": (4 * H, True)}
    assert std["medium"]["resolution"] == (16 * H, True)
    assert std["low"]["first_response"] == (8 * H, True) and std["low"]["update"] == (None, False)
    premium = preset_targets("seed-003", "enterprise", hours_per_day=LUNCH.hours_per_day)  # tier -> column
    assert premium["critical"]["resolution"] == (2 * H, True)
    assert premium["low"]["resolution"] == (24 * H, True)
    assert preset_targets("seed-003", None, hours_per_day=timedelta(hours=7, minutes=30))["low"]["resolution"] == (
        37.5 * H,
        True,
    )
    seed2 = preset_targets("seed-002")
    assert seed2["critical"] == {
        "first_response": (15 * M, False),
        "resolution": (4 * H, False),
        "update": (30 * M, False),
    }
    assert seed2["medium"]["update"] == (24 * H, False) and seed2["low"]["update"] == (None, False)
    assert seed2["low"]["resolution"] == (7 * 24 * H, False)
    phone = preset_targets("seed-001", "phone")
    assert phone["critical"]["first_response"] == (15 * M, False) and phone["high"]["first_response"] == (None, False)
    assert preset_targets("seed-001", "slack")["high"]["first_response"] == (H, False)
    assert preset_targets("seed-001", "email")["high"]["resolution"] == (None, False)
    sev = preset_targets("seed-004", hours_per_day=OFFICE.hours_per_day)
    assert sev["critical"] == {"first_response": (30 * M, False), "resolution": (4 * H, False), "update": (H, False)}
    assert sev["high"] == {"first_response": (4 * H, False), "resolution": (8 * H, True), "update": (12 * H, False)}
    assert sev["medium"] == {"first_response": (8 * H, True), "resolution": (40 * H, True), "update": (None, False)}
    assert sev["low"] == sev["medium"]
    assert preset_column("seed-003", "premium") == "premium"
    with pytest.raises(ValueError, match="unknown SLA preset"):
        preset_targets("seed-999")
    with pytest.raises(ValueError, match="no column"):
        preset_targets("seed-003", "gold")


def test_seed_003_preset_on_oslo_hours():
    """The preset and the arithmetic together: a P1 (high) Standard case opened Friday 15:00."""
    high = preset_targets("seed-003", "standard", hours_per_day=OFFICE.hours_per_day)["high"]
    opened = oslo(2026, 1, 9, 15)
    assert add(opened, high["first_response"][0], OFFICE) == oslo(2026, 1, 9, 16)  # ends at close
    assert add(opened, high["resolution"][0], OFFICE) == oslo(2026, 1, 12, 15)


# -- hypothesis properties ----------------------------------------------------------------------
# Hypothesis costs about half a millisecond per drawn value here, so a calendar is drawn as one
# seed that builds it (random zone incl. the DST ones, random weekly windows incl. split days and
# windows on the DST hours, random closed and extra open dates), and every property is checked on
# each drawn scenario: 10,000 scenarios = 10,000 examples of each property, in seconds.
ZONES = [
    "UTC",
    "Europe/Oslo",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Tehran",
    "Europe/Dublin",
]
# Starts range over 2025-2029 and cluster around DST changes (2026's in Oslo, New York, Lord Howe...).
TRANSITIONS = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15, 30),
    utc(2027, 3, 28, 1),
    utc(2025, 11, 2, 6),
    utc(2026, 9, 27, 14),
    utc(2027, 4, 4, 14),
]
EPOCH = utc(2025, 1, 1)
SPAN = int((utc(2029, 12, 31) - EPOCH).total_seconds())
N_CALENDARS = 1000
PROPERTY = settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_windows(rng: random.Random) -> tuple:
    """1-3 windows on half-hour (sometimes quarter-hour or minute) boundaries; None = midnight."""
    step = rng.choice([30, 30, 30, 15, 1])
    points = sorted(rng.sample(range(0, 24 * 60 + 1, step), 2 * rng.choice([1, 1, 2, 2, 3])))
    as_time = lambda m: None if m == 24 * 60 else time(m // 60, m % 60)  # noqa: E731
    return tuple((as_time(points[i]), as_time(points[i + 1])) for i in range(0, len(points), 2))


@functools.cache
def generated_calendar(seed: int) -> Calendar:
    """A random business calendar; cached so its per-day intervals stay warm across examples."""
    if seed == 0:
        return OFFICE
    if seed == 1:
        return EASTER
    rng = random.Random(seed)
    shapes = [_random_windows(rng) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3:  # windows on the hours clocks skip or repeat
        shapes.append(
            rng.choice(
                [
                    ((time(1), time(4)),),
                    ((time(2), time(3)),),
                    ((time(2, 30), time(3, 30)),),
                    ((time(0), time(2)), (time(2), None)),
                    ((time(1, 45), time(2, 15)),),
                    ((time(1), time(2, 30)), (time(3), time(4))),
                    ((time(1), time(2, 15)), (time(2, 30), time(4))),
                    ((time(1), time(1, 45)), (time(2, 15), time(3))),
                ]
            )
        )
    weekly = {day: rng.choice(shapes) for day in range(7) if rng.random() < 0.75}
    if not weekly:
        weekly = {rng.randrange(7): shapes[0]}
    random_day = lambda: date(2025, 1, 1) + timedelta(days=rng.randrange(5 * 365))  # noqa: E731
    closed = frozenset(random_day() for _ in range(rng.randint(0, 8)))
    extra = {random_day(): rng.choice(shapes) for _ in range(rng.randint(0, 2))}
    return Calendar(tz=rng.choice(ZONES), weekly=weekly, closed=closed, extra_open=extra)


NEAR = 2 * 86400  # starts within two days either side of a transition
SECONDS = (0, 0, 0, 1, 59)


def _start(n: int) -> datetime:
    """One drawn integer -> an instant, a third of them within two days of a DST change and the
    rest uniform over 2025-2029, given in one of ZONES (the same instant in any zone: the functions
    must not care)."""
    n, zone = divmod(n, len(ZONES))
    n, kind = divmod(n, 3)
    if kind == 0:
        k, offset = divmod(n % (len(TRANSITIONS) * (2 * NEAR + 1)), 2 * NEAR + 1)
        instant = TRANSITIONS[k] + timedelta(seconds=offset - NEAR)
    else:
        instant = EPOCH + timedelta(seconds=n % (SPAN + 1))
    return instant.astimezone(ZoneInfo(ZONES[zone]))


starts = st.integers(0, 3 * len(ZONES) * max(SPAN + 1, len(TRANSITIONS) * (2 * NEAR + 1)) - 1).map(_start)


def _target(n: int) -> timedelta:
    """One drawn integer -> a target at minute resolution, sometimes with a few seconds."""
    minutes, k = divmod(n, len(SECONDS))
    return timedelta(minutes=minutes, seconds=SECONDS[k])


@st.composite
def scenarios(draw):
    """(calendar, start, a, b, split): a and b are 0 .. 30 business days of the calendar; a quarter
    of them are snapped to end exactly at a window's close (the edge case of "earliest instant")."""
    cal = generated_calendar(draw(st.integers(0, N_CALENDARS - 1)))
    start = draw(starts)
    most = 4 * 30 * int(cal.hours_per_day / M) * len(SECONDS)

    def target(n: int) -> timedelta:
        if n % 4:
            return _target(n // 4)
        closes = itertools.islice(business_intervals(start, None, cal), n // 4 % 40 + 1)
        return sum((b - a for a, b in closes), timedelta(0))

    a, b = target(draw(st.integers(0, most))), target(draw(st.integers(0, most)))
    return cal, start, a, b, draw(st.integers(0, 1000)) / 1000


@PROPERTY
@given(scenarios())
def test_properties_of_business_time(scenario):
    cal, start, a, b, split = scenario
    t = start.astimezone(UTC)  # datetime + timedelta is wall-clock arithmetic in a DST zone: stay in UTC
    due_a, due_b, due_ab = add(start, a, cal), add(start, b, cal), add(start, a + b, cal)

    # monotonic in the target
    assert (due_a <= due_b) if a <= b else (due_b <= due_a), "add() is not monotonic in the target"
    assert t <= due_a and t <= due_b
    # additive: add(add(t, a), b) == add(t, a + b)
    assert add(due_a, b, cal) == due_ab, "add() is not additive"
    # the due instant is inside business hours (open, close], and the earliest such instant
    for target, due in ((a, due_a), (a + b, due_ab)):
        if target:
            assert sla.is_open(due - US, cal), f"{due} is not inside business hours"
            assert elapsed(start, due - US, cal) == target - US
        else:
            assert due == t
    # elapsed inverts add
    assert elapsed(start, due_a, cal) == a
    assert elapsed(start, due_ab, cal) == a + b
    # elapsed is additive over any split point
    end = t + (due_ab - t) * 1.1 + H
    mid = t + (end - t) * split
    whole = elapsed(start, end, cal)
    assert whole == elapsed(start, mid, cal) + elapsed(mid, end, cal), "elapsed() is not additive"
    assert timedelta(0) <= whole <= end - t
    # the open intervals behind both: UTC, inside [start, end], ordered, disjoint, non-empty
    spans = list(business_intervals(start, end, cal))
    assert all(t <= lo < hi <= end and lo.tzinfo is UTC for lo, hi in spans)
    assert all(hi <= lo for (_, hi), (lo, _) in zip(spans, spans[1:])), "open intervals overlap"
    assert sum((hi - lo for lo, hi in spans), timedelta(0)) == whole
    # next_open: the first open instant at or after start
    opened = next_open(start, cal)
    assert opened >= t and sla.is_open(opened, cal) and elapsed(start, opened, cal) == timedelta(0)
    assert opened == t or not sla.is_open(start, cal)
    if a:
        assert add(opened, a, cal) == due_a
    # a calendar open around the clock counts calendar time, as cal=None does, across DST too
    always = _always(cal.tz)
    assert add(start, a, always) == add(start, a, None) == t + a
    assert elapsed(start, t + a, always) == a == elapsed(start, t + a, None)


@functools.cache
def _always(tz: str) -> Calendar:
    return Calendar.always(tz)
