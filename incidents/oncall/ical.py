"""iCal feeds (the `icalendar` library): a schedule's final shifts, and one person's shifts over
every schedule, from a week back to eight weeks ahead. A calendar app cannot sign in, so a feed's URL
carries its secret: the schedule's `ical_token`, or a signed token naming the person."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing
from django.utils import timezone
from icalendar import Calendar, Event

from . import rotation, selectors
from .models import Schedule

PERSON_SALT = "incidents.oncall.ical.person"
BACK, AHEAD = timedelta(weeks=1), timedelta(weeks=8)


def person_token(user_id: int) -> str:
    return signing.dumps({"u": user_id}, salt=PERSON_SALT, compress=False)


def read_person_token(token: str) -> int | None:
    try:
        data = signing.loads(token, salt=PERSON_SALT)
    except signing.BadSignature:
        return None
    return data.get("u") if isinstance(data, dict) and isinstance(data.get("u"), int) else None


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//CompanyOS Support//On-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def _event(cal: Calendar, schedule: Schedule, shift: rotation.Shift, who: str, stamp: datetime) -> None:
    event = Event()
    event.add("uid", f"oncall-{schedule.pk}-{shift.who}-{int(shift.start.timestamp())}@companyos")
    event.add("summary", f"On call: {schedule.name} ({who})")
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("dtstamp", stamp)
    cal.add_component(event)


def schedule_feed(schedule: Schedule, *, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    schedule = selectors.schedules_with_rotation(Schedule.objects.filter(pk=schedule.pk), since=now - BACK).get()
    layers, overrides, zone = selectors.rotation_of(schedule)
    shifts = rotation.final_shifts(layers, overrides, zone, now - BACK, now + AHEAD)
    users = selectors.User.objects.in_bulk({s.who for s in shifts})
    cal = _calendar(f"On call: {schedule.name}")
    for shift in shifts:
        _event(cal, schedule, shift, selectors._name(users.get(shift.who)), now)
    return cal.to_ical()


def person_feed(user, *, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    cal = _calendar(f"On call: {selectors._name(user)}")
    for schedule, shift in selectors.shifts_of_user(user.pk, start=now - BACK, end=now + AHEAD):
        _event(cal, schedule, shift, selectors._name(user), now)
    return cal.to_ical()
