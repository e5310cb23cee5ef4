"""Rotation math (incidents.oncall.rotation): tables and hypothesis properties, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.oncall.rotation import (
    Layer,
    Override,
    Shift,
    _who_at,
    changes,
    final_shifts,
    first_handoff,
    handoff,
    layer_shift_at,
    layer_shifts,
    localise,
    on_call_at,
)

OSLO = ZoneInfo("Europe/Oslo")
NY = ZoneInfo("America/New_York")


def local(zone, *args):
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def weekly(zone_people=("ann", "bob", "cy"), start=date(2026, 3, 2), at=time(9, 0)):
    return Layer(tuple(zone_people), first_handoff(start, at, 0))


@pytest.mark.parametrize(
    ("start", "weekday", "expected"),
    [
        (date(2026, 3, 2), 0, datetime(2026, 3, 2, 9)),  # a Monday stays
        (date(2026, 3, 4), 0, datetime(2026, 3, 9, 9)),  # a Wednesday: the next Monday
        (date(2026, 3, 4), None, datetime(2026, 3, 4, 9)),  # no weekday: that day
        (date(2026, 3, 4), 4, datetime(2026, 3, 6, 9)),  # Friday hand-offs
    ],
)
def test_first_handoff(start, weekday, expected):
    assert first_handoff(start, time(9), weekday) == expected


@pytest.mark.parametrize(
    ("at", "who"),
    [
        (local(OSLO, 2026, 3, 2, 8, 59), None),  # before the layer starts
        (local(OSLO, 2026, 3, 2, 9, 0), "ann"),
        (local(OSLO, 2026, 3, 9, 8, 59), "ann"),
        (local(OSLO, 2026, 3, 9, 9, 0), "bob"),
        (local(OSLO, 2026, 3, 16, 9, 0), "cy"),
        (local(OSLO, 2026, 3, 23, 9, 0), "ann"),  # wraps round
        # Oslo springs forward on Sunday 29 March 2026: Monday 30 March's hand-off is still 09:00 local
        (local(OSLO, 2026, 3, 30, 8, 59), "ann"),
        (local(OSLO, 2026, 3, 30, 9, 0), "bob"),
        # and falls back on Sunday 25 October 2026: Monday 26 October at 09:00 local
        (local(OSLO, 2026, 10, 26, 8, 59), "ann"),  # week 33 (33 mod 3 = 0)
        (local(OSLO, 2026, 10, 26, 9, 0), "bob"),
    ],
)
def test_weekly_layer_oslo_table(at, who):
    shift = layer_shift_at(weekly(), OSLO, at)
    assert (shift.who if shift else None) == who


def test_dst_week_lengths_and_wall_clock_oslo():
    layer = weekly()
    shift = layer_shift_at(layer, OSLO, local(OSLO, 2026, 3, 25, 12))  # the week across spring-forward
    assert shift.end - shift.start == timedelta(hours=167)
    assert shift.end.astimezone(OSLO).hour == 9
    shift = layer_shift_at(layer, OSLO, local(OSLO, 2026, 10, 21, 12))  # across fall-back
    assert shift.end - shift.start == timedelta(hours=169)
    assert shift.end.astimezone(OSLO).time() == time(9)


def test_dst_new_york_daily_handoff_at_wall_clock():
    # New York springs forward on 8 March 2026 (02:00 → 03:00) and falls back on 1 November 2026
    layer = Layer(("ann", "bob"), first_handoff(date(2026, 3, 1), time(8, 30), None), timedelta(days=1))
    shifts = layer_shifts(layer, NY, local(NY, 2026, 3, 6, 8, 30), local(NY, 2026, 3, 10, 8, 30))
    assert [s.start.astimezone(NY).time() for s in shifts] == [time(8, 30)] * 4
    assert [s.end - s.start for s in shifts] == [timedelta(hours=h) for h in (24, 23, 24, 24)]
    assert [s.who for s in shifts] == ["bob", "ann", "bob", "ann"]  # 6 March is shift 5
    fall = layer_shift_at(layer, NY, local(NY, 2026, 11, 1, 1, 30))
    assert fall.end - fall.start == timedelta(hours=25)
    assert fall.start.astimezone(NY).time() == fall.end.astimezone(NY).time() == time(8, 30)


def test_handoff_inside_the_gap_moves_forward():
    layer = Layer(("ann", "bob"), datetime(2026, 3, 27, 2, 30), timedelta(days=1))
    shift = layer_shift_at(layer, OSLO, local(OSLO, 2026, 3, 29, 12))
    assert shift.start.astimezone(OSLO).time() == time(3, 30)  # 02:30 does not exist that night
    assert layer_shift_at(layer, OSLO, local(OSLO, 2026, 3, 30, 12)).start.astimezone(OSLO).time() == time(2, 30)


def test_non_weekly_length_twelve_hours():
    layer = Layer(("day", "night"), datetime(2026, 3, 27, 8), timedelta(hours=12))
    assert layer_shift_at(layer, OSLO, local(OSLO, 2026, 3, 27, 12)).who == "day"
    assert layer_shift_at(layer, OSLO, local(OSLO, 2026, 3, 27, 23)).who == "night"
    # after spring-forward the 20:00 / 08:00 hand-offs stay at local wall-clock time
    shift = layer_shift_at(layer, OSLO, local(OSLO, 2026, 3, 30, 12))
    assert shift.start.astimezone(OSLO).time() == time(8) and shift.who == "day"


def test_three_day_rotation():
    layer = Layer(("a", "b"), datetime(2026, 1, 1, 0), timedelta(days=3))
    assert [s.who for s in layer_shifts(layer, OSLO, local(OSLO, 2026, 1, 1), local(OSLO, 2026, 1, 13))] == [
        "a",
        "b",
        "a",
        "b",
    ]


def test_override_wins_and_final_merges():
    layer = weekly()
    over = Override("dee", local(OSLO, 2026, 3, 4, 18), local(OSLO, 2026, 3, 5, 6))
    shifts = final_shifts([layer], [over], OSLO, local(OSLO, 2026, 3, 2, 9), local(OSLO, 2026, 3, 16, 9))
    assert [(s.who, s.source) for s in shifts] == [
        ("ann", "Layer"),
        ("dee", "Override"),
        ("ann", "Layer"),
        ("bob", "Layer"),
    ]
    now, nxt = on_call_at([layer], [over], OSLO, local(OSLO, 2026, 3, 4, 12))
    assert now.who == "ann" and now.end == over.start and nxt.who == "dee"


def test_upper_layer_wins_while_active():
    base = weekly()
    upper = Layer(
        ("zed",), datetime(2026, 3, 9, 9), length=timedelta(days=7), end=local(OSLO, 2026, 3, 12, 9), name="Cover"
    )
    assert layer_shift_at(upper, OSLO, local(OSLO, 2026, 3, 10)).who == "zed"
    shifts = final_shifts([base, upper], [], OSLO, local(OSLO, 2026, 3, 9, 9), local(OSLO, 2026, 3, 16, 9))
    assert [(s.who, s.source) for s in shifts] == [("zed", "Cover"), ("bob", "Layer")]


def test_changes_lists_handoffs():
    found = changes([weekly()], [], OSLO, local(OSLO, 2026, 3, 2, 10), local(OSLO, 2026, 3, 16, 9))
    assert found == [(local(OSLO, 2026, 3, 9, 9), "ann", "bob"), (local(OSLO, 2026, 3, 16, 9), "bob", "cy")]


def test_bad_layers_refused():
    with pytest.raises(ValueError):
        Layer(("a",), datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        Layer(("a",), datetime(2026, 1, 1), timedelta(minutes=30))


# --- properties ----------------------------------------------------------------------------------------

zones = st.sampled_from([OSLO, NY, ZoneInfo("UTC"), ZoneInfo("Australia/Lord_Howe")])
lengths = st.one_of(
    st.integers(1, 72).map(lambda h: timedelta(hours=h)), st.integers(1, 21).map(lambda d: timedelta(days=d))
)
starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 6, 30)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=300, deadline=None)
@given(zone=zones, length=lengths, start=starts, n=st.integers(1, 5), at=instants)
def test_exactly_one_person_at_every_instant(zone, length, start, n, at):
    layer = Layer(tuple(range(n)), start, length)
    shift = layer_shift_at(layer, zone, at)
    if shift is None:  # only before the layer's first hand-off
        assert at < handoff(layer, 0, zone)
    else:
        assert shift.start <= at < shift.end
        # the shifts around `at` tile time: no gap, no overlap
        window = layer_shifts(layer, zone, at - 3 * length, at + 3 * length)
        holding = [s for s in window if s.start <= at < s.end]
        assert len(holding) == 1 and holding[0].who == shift.who
        for a, b in zip(window, window[1:], strict=False):
            assert a.end == b.start


@settings(max_examples=200, deadline=None)
@given(zone=zones, length=lengths, start=starts, at=instants)
def test_handoffs_are_at_local_wall_clock_time(zone, length, start, at):
    layer = Layer(("a", "b"), start, length)
    shift = layer_shift_at(layer, zone, at)
    if shift is None or length % timedelta(days=1):
        return
    wall = shift.start.astimezone(zone)
    expected = start.time()
    if wall.replace(tzinfo=None).time() != expected:  # only a hand-off inside a DST gap moves (forward)
        assert wall.replace(tzinfo=None) > datetime.combine(wall.date(), expected)
        assert wall.replace(tzinfo=None) - datetime.combine(wall.date(), expected) <= timedelta(hours=1)


@settings(max_examples=200, deadline=None)
@given(
    zone=zones,
    start=starts,
    at=instants,
    offset=st.integers(-200, 200),
    hours=st.integers(1, 100),
)
def test_overrides_win(zone, start, at, offset, hours):
    layer = Layer(("a", "b", "c"), start, timedelta(days=7))
    o_start = at + timedelta(hours=offset)
    over = Override("cover", o_start, o_start + timedelta(hours=hours))
    shifts = final_shifts([layer], [over], zone, at, at + timedelta(days=20))
    for s in shifts:
        if s.start < over.end and over.start < s.end:
            assert s.who == "cover"
    if over.start <= at < over.end:
        assert on_call_at([layer], [over], zone, at)[0].who == "cover"


@settings(max_examples=150, deadline=None)
@given(zone=zones, length=lengths, start=starts, at=instants, offset=st.integers(-100, 100), n=st.integers(1, 3))
def test_now_and_next_agree_with_the_whole_horizon(zone, length, start, at, offset, n):
    layer = Layer(tuple(range(n)), start, length)
    over = Override("cover", at + timedelta(hours=offset), at + timedelta(hours=offset + 5))
    horizon = timedelta(weeks=8)
    full = final_shifts([layer], [over], zone, at, at + horizon)
    now, nxt = on_call_at([layer], [over], zone, at, horizon)
    expected_now = full[0] if full and full[0].start == at else None
    rest = full[1:] if expected_now else full
    assert now == expected_now
    assert nxt == (rest[0] if rest else None)


def _pointwise(layers, overrides, zone, start, end):
    """The definition final_shifts implements faster: the winner (`_who_at`) of every elementary
    interval between the boundaries, adjacent pieces of one person merged."""
    points = {start, end}
    for layer in layers:
        for shift in layer_shifts(layer, zone, start, end):
            points.update((shift.start, shift.end))
        if layer.end is not None and start < layer.end < end:
            points.add(layer.end)
    for override in overrides:
        points.update(p for p in (override.start, override.end) if start < p < end)
    ordered = sorted(p for p in points if start <= p <= end)
    result = []
    for a, b in zip(ordered, ordered[1:], strict=False):
        who, source = _who_at(layers, overrides, zone, a)
        if who is None:
            continue
        if result and result[-1].who == who and result[-1].end == a:
            result[-1] = Shift(who, result[-1].start, b, result[-1].source)
        else:
            result.append(Shift(who, a, b, source))
    return result


layer_specs = st.lists(
    st.tuples(starts, lengths, st.integers(1, 4), st.one_of(st.none(), st.integers(-48, 24 * 30))),
    min_size=1,
    max_size=3,
)
override_specs = st.lists(st.tuples(st.integers(-100, 24 * 30), st.integers(1, 120)), max_size=3)


@settings(max_examples=200, deadline=None)
@given(zone=zones, specs=layer_specs, covers=override_specs, at=instants, days=st.integers(1, 30))
def test_final_shifts_match_the_pointwise_winner(zone, specs, covers, at, days):
    """Several layers (some ending), overrides: the cursor walk gives exactly the pointwise result."""
    layers = [
        Layer(
            tuple(f"L{i}p{k}" for k in range(n)),
            start,
            length,
            None if end is None else at + timedelta(hours=end),
            f"L{i}",
        )
        for i, (start, length, n, end) in enumerate(specs)
    ]
    overrides = [
        Override(f"o{i}", at + timedelta(hours=offset), at + timedelta(hours=offset + hours))
        for i, (offset, hours) in enumerate(covers)
    ]
    end = at + timedelta(days=days)
    assert final_shifts(layers, overrides, zone, at, end) == _pointwise(layers, overrides, zone, at, end)


@settings(max_examples=300, deadline=None)
@given(zone=zones, naive=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)))
def test_localise_is_the_fold_zero_reading(zone, naive):
    """localise's one-step offset arithmetic is Python's own reading, in DST gaps and overlaps too."""
    for fold in (0, 1):
        wall = naive.replace(fold=fold)
        assert localise(wall, zone) == wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
