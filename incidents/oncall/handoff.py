"""Hand-offs between on-call engineers (seed 001's handoff procedure). The sweep (beat, every minute)
makes a HandoffPrompt row for each rotation change of a schedule's final result in the coming hour
(INSERT … ON CONFLICT DO NOTHING on (schedule, at): once per change however many sweeps run), asks
the outgoing engineer at `due_at` for a note prefilled with what seed 001 lists — active incidents,
the team's pending queue, ongoing situations (open critical/high cases with their status) — and at
the hand-off sends the note (as written, else the prefilled draft) to the incoming engineer, who also
sees it on the console's home for a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.choices import OPEN_STATUSES, Priority
from cases.models import Case, Notification

from ..choices import ACTIVE
from ..models import Incident
from . import rotation, selectors
from .models import HandoffPrompt, Schedule

LEAD = timedelta(hours=1)  # the outgoing engineer is asked this long before the hand-off
SHOWN_FOR = timedelta(days=1)  # the incoming engineer sees the note on the home this long


class HandoffError(Exception):
    pass


def prefilled_note(schedule: Schedule) -> str:
    lines = ["Active incidents:"]
    incidents = list(Incident.objects.filter(status__in=ACTIVE).order_by("severity", "-started_at")[:10])
    lines += [f"- {i.key} {i.severity} {i.get_status_display()}: {i.title}" for i in incidents] or ["- none"]
    lines.append("")
    if schedule.team_id:
        pending = Case.objects.filter(team_id=schedule.team_id, status__in=OPEN_STATUSES, owner__isnull=True)
        lines.append(f"Pending queue for {schedule.team.name}: {pending.count()} unassigned open case(s)")
        lines += [
            f"- {c.key} {c.get_priority_display()}: {c.subject}" for c in pending.order_by("priority", "created_at")[:5]
        ]
        lines.append("")
    lines.append("Ongoing situations (open critical and high cases):")
    hot = Case.objects.filter(status__in=OPEN_STATUSES, priority__lte=Priority.HIGH).select_related("owner")
    if schedule.team_id:
        hot = hot.filter(team_id=schedule.team_id)
    rows = list(hot.order_by("priority", "created_at")[:15])
    lines += [
        f"- {c.key} {c.get_priority_display()} · {c.get_status_display()} · "
        f"{(c.owner.get_full_name() or c.owner.username) if c.owner else 'unassigned'}: {c.subject}"
        for c in rows
    ] or ["- none"]
    lines += ["", "Notes for the next engineer:", ""]
    return "\n".join(lines)


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "nobody"


def handoff_sweep(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    made = 0
    for schedule in selectors.schedules_with_rotation(Schedule.objects.all()):
        layers, overrides, zone = selectors.rotation_of(schedule)
        for at, outgoing, incoming in rotation.changes(layers, overrides, zone, now - timedelta(minutes=5), now + LEAD):
            made += len(
                HandoffPrompt.objects.bulk_create(
                    [
                        HandoffPrompt(
                            schedule=schedule, at=at, due_at=at - LEAD, outgoing_id=outgoing, incoming_id=incoming
                        )
                    ],
                    ignore_conflicts=True,
                )
            )
    prompted = delivered = 0
    while True:
        with transaction.atomic():
            prompt = (
                HandoffPrompt.objects.filter(due_at__lte=now)
                .exclude(state=HandoffPrompt.State.DELIVERED)
                .exclude(state__in=[HandoffPrompt.State.PROMPTED, HandoffPrompt.State.WRITTEN], at__gt=now)
                .select_related("schedule", "schedule__team", "outgoing", "incoming")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at", "id")
                .first()
            )
            if prompt is None:
                break
            if prompt.state == HandoffPrompt.State.PENDING:
                prompt.note = prefilled_note(prompt.schedule)
                prompt.state = HandoffPrompt.State.PROMPTED
                if prompt.outgoing and prompt.outgoing.email:
                    _mail(
                        prompt.outgoing.email,
                        f"Hand-off note for {prompt.schedule.name} due at the change",
                        f"You hand {prompt.schedule.name} to {_who(prompt.incoming)}. Write your hand-off note on "
                        f"the console's home page; the draft below goes to them as it is otherwise.\n\n{prompt.note}",
                        now,
                    )
                prompted += 1
            if prompt.at <= now:
                if prompt.incoming.email:
                    _mail(
                        prompt.incoming.email,
                        f"You are on call for {prompt.schedule.name}: hand-off from {_who(prompt.outgoing)}",
                        prompt.note,
                        now,
                    )
                prompt.state, prompt.delivered_at = HandoffPrompt.State.DELIVERED, now
                delivered += 1
            prompt.save(update_fields=["note", "state", "delivered_at"])
    return {"made": made, "prompted": prompted, "delivered": delivered}


def _mail(to: str, subject: str, body: str, now: datetime) -> None:
    Notification.objects.create(
        channel=Notification.Channel.EMAIL, recipient=to, subject=subject, body=body, send_after=now
    )


@transaction.atomic
def write_note(*, prompt_id: int, actor, note: str) -> HandoffPrompt:
    prompt = HandoffPrompt.objects.select_for_update().filter(pk=prompt_id).first()
    if prompt is None or prompt.outgoing_id != actor.pk:
        raise HandoffError("That hand-off is not yours to write.")
    if prompt.state == HandoffPrompt.State.DELIVERED:
        raise HandoffError("That hand-off was delivered already.")
    note = (note or "").strip()
    if not note:
        raise HandoffError("Write the hand-off note.")
    prompt.note, prompt.state, prompt.written_at = note[:20000], HandoffPrompt.State.WRITTEN, timezone.now()
    prompt.save(update_fields=["note", "state", "written_at"])
    return prompt


def for_home(user, *, now: datetime | None = None) -> dict:
    """What the console's home shows this person: a note to write (outgoing), notes received (incoming)."""
    now = now or timezone.now()
    qs = HandoffPrompt.objects.select_related("schedule", "outgoing", "incoming")
    return {
        "to_write": list(qs.filter(outgoing=user, state__in=["prompted", "written"], at__gt=now - timedelta(hours=1))),
        "received": list(qs.filter(incoming=user, state="delivered", at__gt=now - SHOWN_FOR)),
    }
