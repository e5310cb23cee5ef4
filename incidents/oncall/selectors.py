"""Reads of on-call and paging: the rotation of a schedule as plain values (incidents.oncall.rotation
does the arithmetic), who is on call now / next and until when, a schedule's timeline, open pages."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from . import rotation
from .models import LayerParticipant, Page, Schedule, ScheduleLayer, ScheduleOverride

User = get_user_model()
HORIZON = timedelta(weeks=8)


def zone_of(schedule: Schedule) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(schedule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def schedules_with_rotation(
    queryset: QuerySet[Schedule] | None = None, *, since: datetime | None = None, with_users: bool = False
):
    """Schedules with their layers, participants and the overrides still running (3 queries however
    many schedules). `with_users` loads the people too (the schedule page); "who is on call" needs
    only their ids and loads the few people it names."""
    since = since or timezone.now() - timedelta(days=1)
    participants = LayerParticipant.objects.order_by("position")
    overrides = ScheduleOverride.objects.filter(end__gt=since).order_by("created_at", "id")
    if with_users:
        participants, overrides = participants.select_related("user"), overrides.select_related("user")
    else:
        participants, overrides = (
            participants.only("id", "layer_id", "user_id", "position"),
            overrides.only("id", "schedule_id", "user_id", "start", "end", "created_at"),
        )
    return (queryset if queryset is not None else Schedule.objects.all()).prefetch_related(
        Prefetch(
            "layers",
            queryset=ScheduleLayer.objects.order_by("position", "id").prefetch_related(
                Prefetch("participants", queryset=participants)
            ),
        ),
        Prefetch("overrides", queryset=overrides),
    )


def rotation_of(schedule: Schedule) -> tuple[list[rotation.Layer], list[rotation.Override], zoneinfo.ZoneInfo]:
    """The schedule as plain values; people are user ids."""
    layers = [
        rotation.Layer(
            tuple(p.user_id for p in layer.participants.all()),
            rotation.first_handoff(layer.start_date, layer.handoff_time, layer.handoff_weekday),
            layer.length_delta,
            layer.end_at,
            layer.name,
        )
        for layer in schedule.layers.all()
    ]
    overrides = [rotation.Override(o.user_id, o.start, o.end) for o in schedule.overrides.all()]
    return layers, overrides, zone_of(schedule)


@dataclass
class OnCall:
    schedule: Schedule
    now: rotation.Shift | None
    next: rotation.Shift | None
    users: dict

    @property
    def now_user(self):
        return self.users.get(self.now.who) if self.now else None

    @property
    def next_user(self):
        return self.users.get(self.next.who) if self.next else None


def on_call(schedules, at: datetime | None = None) -> list[OnCall]:
    """Who is on call now and next, and until when, for each schedule (rotation prefetched)."""
    at = at or timezone.now()
    found = []
    for schedule in schedules:
        layers, overrides, zone = rotation_of(schedule)
        now, nxt = rotation.on_call_at(layers, overrides, zone, at, HORIZON)
        found.append((schedule, now, nxt))
    ids = {s.who for _, now, nxt in found for s in (now, nxt) if s}
    users = User.objects.in_bulk(ids) if ids else {}
    return [OnCall(schedule, now, nxt, users) for schedule, now, nxt in found]


# --- the on-call overview: values, not model instances ---------------------------------------------------


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as the overview shows it (the model's fields it needs, read as values)."""

    pk: int
    name: str
    timezone: str
    team: str  # the team's name, "" for none

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Person:
    """Who is on call, as values (what the pages and notifications show of a user)."""

    pk: int
    username: str
    first_name: str
    last_name: str
    email: str
    is_active: bool

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self):
        return self.get_full_name() or self.username


@dataclass(frozen=True)
class OnCallRow:
    schedule: ScheduleInfo
    now: rotation.Shift | None
    next: rotation.Shift | None
    now_user: Person | None
    next_user: Person | None

    @property
    def pk(self) -> int:
        return self.schedule.pk


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def on_call_overview(*, schedule_ids=None, at: datetime | None = None) -> list[OnCallRow]:
    """Who is on call now and next, and until when, for every schedule (or those of `schedule_ids`),
    ordered by name: four queries of plain values (schedules; layers with their participants as one
    array; the overrides still running; the people named) fed to the pure rotation arithmetic. No model instance is
    built and nothing is cached: every call reads the rotation as it stands."""
    at = at or timezone.now()
    schedules = Schedule.objects.order_by("name")
    # a layer's participants in order, as one array column (participant k holds shift k mod n)
    layers = ScheduleLayer.objects.annotate(
        people=ArrayAgg("participants__user_id", order_by="participants__position", default=[])
    ).order_by("schedule_id", "position", "id")
    overrides = ScheduleOverride.objects.filter(end__gt=at).order_by("schedule_id", "created_at", "id")
    if schedule_ids is not None:
        ids = list(schedule_ids)
        schedules = schedules.filter(pk__in=ids)
        layers = layers.filter(schedule_id__in=ids)
        overrides = overrides.filter(schedule_id__in=ids)
    infos = [
        ScheduleInfo(pk, name, zone, team or "")
        for pk, name, zone, team in schedules.values_list("id", "name", "timezone", "team__name")
    ]
    if not infos:
        return []
    by_schedule: dict[int, list[rotation.Layer]] = {}
    unit_hours = ScheduleLayer.Unit.HOURS
    for schedule_id, name, start, handoff_time, weekday, length, unit, end_at, people in layers.values_list(
        "schedule_id", "name", "start_date", "handoff_time", "handoff_weekday", "length", "unit", "end_at", "people"
    ):
        by_schedule.setdefault(schedule_id, []).append(
            rotation.Layer(
                tuple(p for p in people if p is not None),
                rotation.first_handoff(start, handoff_time, weekday),
                timedelta(hours=length) if unit == unit_hours else timedelta(days=length),
                end_at,
                name,
            )
        )
    covers: dict[int, list[rotation.Override]] = {}
    for schedule_id, user_id, start, end in overrides.values_list("schedule_id", "user_id", "start", "end"):
        covers.setdefault(schedule_id, []).append(rotation.Override(user_id, start, end))
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    found = []
    for info in infos:
        zone = zones.get(info.timezone) or zones.setdefault(info.timezone, _zone(info.timezone))
        now, nxt = rotation.on_call_at(by_schedule.get(info.pk, ()), covers.get(info.pk, ()), zone, at, HORIZON)
        found.append((info, now, nxt))
    ids = {s.who for _, now, nxt in found for s in (now, nxt) if s}
    users = {
        row[0]: Person(*row)
        for row in User.objects.filter(pk__in=ids).values_list(
            "id", "username", "first_name", "last_name", "email", "is_active"
        )
    }
    return [
        OnCallRow(info, now, nxt, users.get(now.who) if now else None, users.get(nxt.who) if nxt else None)
        for info, now, nxt in found
    ]


def on_call_user(schedule: Schedule, at: datetime):
    schedule = schedules_with_rotation(Schedule.objects.filter(pk=schedule.pk)).get()
    layers, overrides, zone = rotation_of(schedule)
    now, _ = rotation.on_call_at(layers, overrides, zone, at, timedelta(hours=1))
    return User.objects.filter(pk=now.who, is_active=True).first() if now else None


def schedule_list():
    return schedules_with_rotation(Schedule.objects.select_related("team"))


def schedule_detail(schedule_id: int) -> Schedule | None:
    return schedules_with_rotation(
        Schedule.objects.filter(pk=schedule_id).select_related("team"), with_users=True
    ).first()


@dataclass
class Bar:
    who: object
    label: str
    start: datetime
    end: datetime
    left: float
    width: float
    colour: int


@dataclass
class Row:
    name: str
    bars: list[Bar]


def timeline(schedule: Schedule, *, start: datetime, days: int = 28) -> dict:
    """Rows of bars over [start, start + days): each layer, the overrides, the final result; bars
    placed as percentages of the window. Day ticks at local midnight."""
    layers, overrides, zone = rotation_of(schedule)
    end = start + timedelta(days=days)
    span = (end - start).total_seconds()
    people = {p.user_id: p.user for layer in schedule.layers.all() for p in layer.participants.all()}
    people.update({o.user_id: o.user for o in schedule.overrides.all()})
    order = {uid: i for i, uid in enumerate(people)}

    def bars(shifts) -> list[Bar]:
        out = []
        for s in shifts:
            a, b = max(s.start, start), min(s.end, end)
            if b <= a:
                continue
            user = people.get(s.who)
            out.append(
                Bar(
                    user,
                    _name(user),
                    a,
                    b,
                    100 * (a - start).total_seconds() / span,
                    100 * (b - a).total_seconds() / span,
                    order.get(s.who, 0) % 8,
                )
            )
        return out

    rows = [Row(layer.name, bars(rotation.layer_shifts(layer, zone, start, end))) for layer in layers]
    rows.append(Row("Overrides", bars([rotation.Shift(o.who, o.start, o.end, "Override") for o in overrides])))
    final = Row("Final", bars(rotation.final_shifts(layers, overrides, zone, start, end)))
    local_start = start.astimezone(zone)
    ticks = []
    day = local_start.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    for i in range(days + 1):
        instant = rotation.localise(day + timedelta(days=i), zone)
        if start <= instant < end:
            ticks.append(
                {
                    "left": 100 * (instant - start).total_seconds() / span,
                    "label": (day + timedelta(days=i)),
                    "monday": (day + timedelta(days=i)).weekday() == 0,
                }
            )
    return {"rows": rows, "final": final, "ticks": ticks, "zone": zone, "start": start, "end": end}


def _name(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def shifts_of_user(user_id: int, *, start: datetime, end: datetime) -> list[tuple[Schedule, rotation.Shift]]:
    """A person's final shifts over every schedule they are in (the personal iCal feed)."""
    schedules = schedules_with_rotation(
        Schedule.objects.filter(layers__participants__user_id=user_id).distinct()
        | Schedule.objects.filter(overrides__user_id=user_id).distinct(),
        since=start,
    )
    out = []
    for schedule in schedules:
        layers, overrides, zone = rotation_of(schedule)
        out += [(schedule, s) for s in rotation.final_shifts(layers, overrides, zone, start, end) if s.who == user_id]
    return sorted(out, key=lambda pair: pair[1].start)


# --- pages -------------------------------------------------------------------------------------------


def open_pages() -> QuerySet[Page]:
    return (
        Page.objects.filter(status__in=[Page.Status.TRIGGERED, Page.Status.ACKNOWLEDGED])
        .select_related("chain", "case", "incident", "acknowledged_by")
        .order_by("status", "-created_at")
    )


def page_detail(page_id: int) -> Page | None:
    return (
        Page.objects.filter(pk=page_id)
        .select_related("chain", "case", "incident", "acknowledged_by", "created_by")
        .prefetch_related("entries__actor")
        .first()
    )


def pages_of_case(case_id: int) -> list[Page]:
    return list(Page.objects.filter(case_id=case_id).select_related("acknowledged_by").order_by("-created_at")[:5])


def pages_of_incident(incident_id: int) -> list[Page]:
    return list(
        Page.objects.filter(incident_id=incident_id).select_related("acknowledged_by").order_by("-created_at")[:5]
    )
