"""Rotation arithmetic of on-call schedules: plain functions on plain values (no ORM), so the rules
are tested as tables and hypothesis properties without a database.

A *layer* hands off at a local wall-clock time in the schedule's zone: hand-off k is the naive local
instant `first + k × length` (wall-clock arithmetic: a weekly rotation at Monday 09:00 stays at 09:00
across a DST change, so that week is 167 or 169 hours long), localised in the zone. A local time that
does not exist (the spring-forward gap) is read as Python does with fold=0 — 02:30 becomes 03:30 of
the new offset; an ambiguous one (fall-back) is its first occurrence. Lengths are whole hours or
days, at least one hour, so hand-offs never run backwards (a gap is at most the length).

Participant k mod n holds shift k. Layers are ordered: a later layer (higher in the list) wins where
it is active (between its start and its optional end); overrides win over every layer, a later
override over an earlier one. `final_shifts` merges the result into the shifts people live by.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = timedelta(days=7)
_EPOCH, _EPOCH_UTC = datetime(1970, 1, 1), datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Layer:
    participants: tuple[Hashable, ...]
    first_handoff: datetime  # naive, local wall-clock time of the first hand-off (the layer's start)
    length: timedelta = WEEK
    end: datetime | None = None  # aware; the layer stops at this instant
    name: str = "Layer"

    def __post_init__(self):
        if self.first_handoff.tzinfo is not None:
            raise ValueError("first_handoff is a naive local wall-clock time")
        if self.length < timedelta(hours=1) or self.length % timedelta(hours=1):
            raise ValueError("a rotation length is a whole number of hours, at least one")


@dataclass(frozen=True)
class Override:
    who: Hashable
    start: datetime  # aware
    end: datetime  # aware
    name: str = "Override"


@dataclass(frozen=True)
class Shift:
    who: Hashable
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    source: str = ""  # the layer's name or "Override"


def first_handoff(start_date: date, handoff_time: time, handoff_weekday: int | None = 0) -> datetime:
    """The first hand-off on or after `start_date`: on the hand-off weekday (Monday = 0; None = that
    very day) at the hand-off time, as naive local wall-clock time."""
    day = start_date
    if handoff_weekday is not None:
        day = start_date + timedelta(days=(handoff_weekday - start_date.weekday()) % 7)
    return datetime.combine(day, handoff_time.replace(tzinfo=None))


def localise(naive: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall-clock time as a UTC instant (gap: fold=0, i.e. shifted forward; overlap: the
    first occurrence). The same as `naive.replace(tzinfo=zone, fold=0).astimezone(UTC)`, in one step:
    the zone's offset at that wall-clock time (fold 0) taken off."""
    if naive.fold:
        naive = naive.replace(fold=0)
    return _EPOCH_UTC + (naive - _EPOCH - zone.utcoffset(naive))  # (no .replace(tzinfo=): 5× slower)


def handoff(layer: Layer, k: int, zone: ZoneInfo) -> datetime:
    return localise(layer.first_handoff + k * layer.length, zone)


def _index_at(layer: Layer, zone: ZoneInfo, at: datetime) -> int | None:
    """The shift k holding `at` (hand-off k ≤ at < hand-off k+1), or None before the layer starts."""
    start = handoff(layer, 0, zone)
    if at < start:
        return None
    k = math.floor((at - start) / layer.length)
    while handoff(layer, k, zone) > at:  # DST moves a hand-off by at most the offset change
        k -= 1
    while handoff(layer, k + 1, zone) <= at:
        k += 1
    return k


def layer_shift_at(layer: Layer, zone: ZoneInfo, at: datetime) -> Shift | None:
    """Who the layer has on call at `at`, from when until when (None: not started, ended or empty)."""
    if not layer.participants or (layer.end is not None and at >= layer.end):
        return None
    k = _index_at(layer, zone, at)
    if k is None:
        return None
    end = handoff(layer, k + 1, zone)
    if layer.end is not None:
        end = min(end, layer.end)
    return Shift(layer.participants[k % len(layer.participants)], handoff(layer, k, zone), end, layer.name)


def layer_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """The layer's shifts overlapping [start, end), clipped to it."""
    if not layer.participants or start >= end:
        return []
    stop = end if layer.end is None else min(end, layer.end)
    k = _index_at(layer, zone, start)
    if k is None:
        k = 0
    shifts = []
    people, n = layer.participants, len(layer.participants)
    a = handoff(layer, k, zone)
    while a < stop:
        b = handoff(layer, k + 1, zone)  # each hand-off computed once: it ends one shift, starts the next
        if b > a:  # a zero-length shift (two hand-offs in one DST gap) holds no instant
            shifts.append(Shift(people[k % n], max(a, start), min(b, stop), layer.name))
        k, a = k + 1, b
    return shifts


def _who_at(layers: Sequence[Layer], overrides: Sequence[Override], zone: ZoneInfo, at: datetime):
    for override in reversed(overrides):
        if override.start <= at < override.end:
            return override.who, override.name
    for layer in reversed(layers):
        shift = layer_shift_at(layer, zone, at)
        if shift is not None:
            return shift.who, shift.source
    return None, ""


def final_shifts(
    layers: Sequence[Layer], overrides: Sequence[Override], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Shift]:
    """The schedule's result over [start, end): overrides over layers, later over earlier; adjacent
    pieces with the same person merged (the source is the first piece's). Gaps (nobody) are left out.

    Each layer's shifts are computed once; the elementary intervals between every boundary are then
    walked in order with a cursor per layer, so the winner of each is found without recomputing a
    hand-off (the same result as asking `_who_at` at each interval's start, which the tests check)."""
    per_layer = [layer_shifts(layer, zone, start, end) for layer in layers]
    points = {start, end}
    for shifts in per_layer:
        for shift in shifts:
            points.add(shift.start)
            points.add(shift.end)
    for layer in layers:
        if layer.end is not None and start < layer.end < end:
            points.add(layer.end)
    for override in overrides:
        points.update(p for p in (override.start, override.end) if start < p < end)
    ordered = sorted(p for p in points if start <= p <= end)
    cursors = [0] * len(per_layer)
    order = range(len(per_layer) - 1, -1, -1)
    latest_first = list(reversed(overrides))
    result: list[Shift] = []
    for a, b in zip(ordered, ordered[1:], strict=False):
        who = None
        for override in latest_first:
            if override.start <= a < override.end:
                who, source = override.who, override.name
                break
        else:
            for i in order:
                shifts, c = per_layer[i], cursors[i]
                while c < len(shifts) and shifts[c].end <= a:
                    c += 1
                cursors[i] = c
                if c < len(shifts) and shifts[c].start <= a:
                    who, source = shifts[c].who, shifts[c].source
                    break
        if who is None:
            continue
        if result and result[-1].who == who and result[-1].end == a:
            result[-1] = Shift(who, result[-1].start, b, result[-1].source)
        else:
            result.append(Shift(who, a, b, source))
    return result


def on_call_at(
    layers: Sequence[Layer], overrides: Sequence[Override], zone: ZoneInfo, at: datetime, horizon: timedelta = 8 * WEEK
) -> tuple[Shift | None, Shift | None]:
    """(now, next): the shift holding `at` with its true end (until the person changes) and the next
    person's shift, looked up within `horizon`. The window grows from a day until the next shift has
    ended inside it (or the horizon is reached), so a short rotation is not computed weeks ahead."""
    window = min(timedelta(days=1), horizon)
    while True:
        shifts = final_shifts(layers, overrides, zone, at, at + window)
        current = shifts[0] if shifts and shifts[0].start == at else None
        rest = shifts[1:] if current is not None else shifts
        settled = (current is None or current.end < at + window) and (
            len(rest) >= 2 or (rest and rest[0].end < at + window)
        )
        if settled or window >= horizon:
            return current, (rest[0] if rest else None)
        window = min(window * 4, horizon)


def changes(
    layers: Sequence[Layer], overrides: Sequence[Override], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, Hashable | None, Hashable]]:
    """The hand-offs of the final result inside (start, end]: (instant, outgoing, incoming)."""
    shifts = final_shifts(layers, overrides, zone, start - timedelta(seconds=1), end + timedelta(seconds=1))
    out = []
    previous = None
    for shift in shifts:
        if start < shift.start <= end and shift.who != (previous.who if previous else None):
            outgoing = previous.who if previous is not None and previous.end == shift.start else None
            out.append((shift.start, outgoing, shift.who))
        previous = shift
    return out
