"""SLA clocks: which policy a case gets, and what every case event does to its clocks.

The rules (seed 003, exact):
* First response starts when the case is created, is never paused, and stops at the first public
  reply by an agent (an internal note does not stop it).
* Resolution starts when the case is accepted into triage, pauses while waiting on the customer,
  resumes when the case leaves that state and stops at resolved. A reopen starts a new resolution
  window with the full target; earlier windows keep their outcome.
* Update cadence: after each public reply the next customer update is due one cadence later,
  counted while the case is open and not waiting on the customer (paused while waiting, like
  resolution). A reopen starts a fresh cadence window.
* Due = the earliest instant at which the target has elapsed on the calendar (cases.sla.add). A
  priority change keeps the elapsed time and re-targets the due time. The policy is snapshotted onto
  the case when it opens; only an explicit re-apply moves running clocks.

These functions run inside the caller's transaction (the case row is already locked by a case
service), write `SLAClock` rows and nothing else, and return a `ClockImpact`: human-readable notes
for the timeline entry and the case's new SLA summary fields (what the queue shows and sorts by),
which the case service saves with its other changes in one UPDATE. They may set those fields on the
in-memory case they are given (later rules read the snapshot), but never save it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from companyos import timefmt
from tenants.choices import Channel

from ..choices import OPEN_STATUSES, Priority, Status
from ..models import Case, SLAClock, SLAPolicy, SLAPolicyRule, calendar_from_snapshot
from . import calendar as sla
from .models import channel_target_row
from .presets import (
    preset_channel_targets,
    preset_column,
    preset_description,
    preset_severity_targets,
    preset_targets,
)

Kind = SLAClock.Kind
State = SLAClock.State
ZERO = timedelta(0)
SUMMARY_FIELDS = ("sla_due_at", "sla_clock", "sla_risk_at", "sla_paused")
# Clocks keyed on the case's priority, and those keyed on its severity (seed 004's SLA records).
PRIORITY_KINDS = (Kind.FIRST_RESPONSE, Kind.RESOLUTION, Kind.UPDATE)
SEVERITY_KINDS = (Kind.ACKNOWLEDGE, Kind.MITIGATE)


@dataclass
class ClockImpact:
    """What a case event did to the clocks: `notes` for the timeline entry, `fields` the Case
    columns to save (the SLA summary, and on create / re-apply `sla_policy` and `sla_snapshot`)."""

    notes: list[str] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    pending: list = field(default_factory=list)  # clocks planned for a case not yet saved (on_create)


# --- policy ----------------------------------------------------------------------------------------


def policy_for_tenant(tenant) -> SLAPolicy | None:
    """The tenant's own override, else the first rule matching its segment and support tier."""
    if tenant.sla_policy_id:
        return tenant.sla_policy
    for rule in SLAPolicyRule.objects.select_related("policy", "policy__calendar").order_by("position", "id"):
        if rule.matches(tenant):
            return rule.policy
    return None


def load_preset(*, preset: str, column: str | None, name: str, calendar=None, **fields) -> SLAPolicy:
    """Create (or refresh) a policy from one column of a seed's table."""
    hours = calendar.to_calendar().hours_per_day if calendar else timedelta(hours=8)
    targets = {}
    for priority, kinds in preset_targets(preset, column, hours_per_day=hours).items():
        targets[priority] = {}
        for kind, (duration, business) in kinds.items():
            if duration is None:
                targets[priority][kind] = None
            else:
                business = business and calendar is not None
                targets[priority][kind] = {"minutes": round(duration.total_seconds() / 60, 2), "business": business}
    channel_targets = {}
    for channel, rows in preset_channel_targets(preset, column, hours_per_day=hours).items():
        channel_targets[channel] = {
            priority: {
                "minutes": round(duration.total_seconds() / 60, 2),
                "business": business and calendar is not None,
            }
            for priority, (duration, business) in rows.items()
        }
    severity_targets = {
        severity: {
            kind: {"minutes": round(duration.total_seconds() / 60, 2), "business": business and calendar is not None}
            for kind, (duration, business) in rows.items()
        }
        for severity, rows in preset_severity_targets(preset, column, hours_per_day=hours).items()
    }
    column_key = preset_column(preset, column)
    description = preset_description(preset, column_key)
    policy, created = SLAPolicy.objects.get_or_create(
        name=name,
        defaults={
            "targets": targets,
            "channel_targets": channel_targets,
            "severity_targets": severity_targets,
            "calendar": calendar,
            "preset": f"{preset}:{column_key}",
            "description": description,
            **fields,
        },
    )
    if not created:
        policy.severity_targets = severity_targets
        policy.targets, policy.channel_targets, policy.calendar, policy.preset, policy.description = (
            targets,
            channel_targets,
            calendar,
            f"{preset}:{column_key}",
            description,
        )
        for key, value in fields.items():
            setattr(policy, key, value)
        policy.version += 1
        policy.save()
    return policy


def channel_target(case: Case, kind: str) -> dict | None:
    """The stored target of the case's channel for its priority, when `kind` is first response and
    the case's policy snapshot sets one (seed 001: "Slack 1 h for high"); else None."""
    if kind != Kind.FIRST_RESPONSE:
        return None
    snapshot = case.sla_snapshot or {}
    return channel_target_row(snapshot.get("channel_targets"), case.channel, Priority(case.priority).slug)


def target_for(case: Case, kind: str) -> tuple[timedelta, bool] | None:
    """The target a clock of `kind` runs to: the channel's first-response target when the policy
    sets one for the case's channel and priority, else the priority's target."""
    snapshot = case.sla_snapshot or {}
    if kind in SEVERITY_KINDS:
        row = ((snapshot.get("severity_targets") or {}).get(case.severity) or {}).get(kind) if case.severity else None
    else:
        row = channel_target(case, kind) or (snapshot.get("targets") or {}).get(Priority(case.priority).slug, {}).get(
            kind
        )
    if not row:
        return None
    return timedelta(minutes=row["minutes"]), bool(row["business"])


def target_source(case: Case, kind: str) -> str:
    """Where the target comes from, for notes and explanations: "Slack target" or ""."""
    if channel_target(case, kind) is None:
        return ""
    return f"{Channel(case.channel).label} target"


def case_calendar(case: Case) -> sla.Calendar | None:
    return calendar_from_snapshot(case.sla_snapshot)


def clock_calendar(case: Case, clock: SLAClock) -> sla.Calendar | None:
    return case_calendar(case) if clock.business else None


def _risk_share(case: Case) -> float:
    return ((case.sla_snapshot or {}).get("at_risk_percent") or 80) / 100


# --- one clock -------------------------------------------------------------------------------------


def _recompute(case: Case, clock: SLAClock) -> None:
    """Due and at-risk instants of a running clock from its elapsed time and target."""
    if clock.state != State.RUNNING:
        clock.due_at = clock.at_risk_at = None
        return
    cal = clock_calendar(case, clock)
    start = clock.segment_started_at
    remaining = clock.target - clock.elapsed_before
    if remaining > ZERO:
        clock.due_at = sla.add(start, remaining, cal)
    elif remaining == ZERO:
        clock.due_at = start
    else:  # re-targeted below the time already elapsed: it was due in the past
        clock.due_at = _overdue_due(case, clock)
    risk_total = clock.target * _risk_share(case)
    clock.at_risk_at = (
        sla.add(start, risk_total - clock.elapsed_before, cal) if risk_total > clock.elapsed_before else start
    )


def _overdue_due(case: Case, clock: SLAClock) -> datetime:
    """A clock re-targeted below its elapsed time was due when its elapsed time reached the new
    target: recover that instant from its history (segment start minus the excess is not exact on
    a calendar, so walk back over business intervals)."""
    excess = clock.elapsed_before - clock.target
    cal = clock_calendar(case, clock)
    if cal is None:
        return clock.segment_started_at - excess
    # Walk back day by day from the segment start until `excess` business time is covered.
    cursor, left = clock.segment_started_at, excess
    probe = cursor
    if not cal.has_hours:
        return clock.started_at
    for _ in range(sla.HORIZON_DAYS):
        probe = probe - timedelta(days=1)
        chunk = sla.elapsed(probe, cursor, cal)
        if chunk >= left:
            return sla.add(probe, chunk - left, cal)
        left -= chunk
        cursor = probe
    return clock.started_at


def _start(
    case: Case, kind: str, window: int, at: datetime, impact: list[str], *, paused: bool = False
) -> SLAClock | None:
    clock = _plan(case, kind, window, at, impact, paused=paused)
    if clock is not None:
        clock.save()
    return clock


def _plan(
    case: Case, kind: str, window: int, at: datetime, impact: list[str], *, paused: bool = False
) -> SLAClock | None:
    """A new clock for `case`, computed and described in `impact`, not saved."""
    target = target_for(case, kind)
    if target is None:
        return None
    duration, business = target
    clock = SLAClock(
        case=case,
        kind=kind,
        window=window,
        state=State.RUNNING,
        business=business,
        target=duration,
        started_at=at,
        segment_started_at=at,
    )
    _recompute(case, clock)
    if paused:
        _pause(case, clock, at)
    label = _label(kind)
    if paused:
        impact.append(f"{label} clock started paused (waiting on customer)")
    else:
        source = target_source(case, kind)
        impact.append(
            f"{label} clock started: {describe_target(duration, business)}"
            + (f" ({source})" if source else "")
            + f", due {_fmt(clock.due_at)}"
        )
    return clock


def _pause(case: Case, clock: SLAClock, at: datetime) -> None:
    clock.elapsed_before = clock.elapsed_at(at, clock_calendar(case, clock))
    clock.segment_started_at = None
    clock.paused_at = at
    clock.state = State.PAUSED
    clock.due_at = clock.at_risk_at = None


def _resume(case: Case, clock: SLAClock, at: datetime) -> None:
    clock.paused_total += max(at - clock.paused_at, ZERO)
    clock.paused_at = None
    clock.segment_started_at = at
    clock.state = State.RUNNING
    _recompute(case, clock)


def _stop(case: Case, clock: SLAClock, at: datetime) -> None:
    if clock.state == State.RUNNING:
        clock.met = clock.breached_at is None and at <= clock.due_at
        clock.elapsed_before = clock.elapsed_at(at, clock_calendar(case, clock))
    else:  # paused
        clock.paused_total += max(at - clock.paused_at, ZERO)
        clock.met = clock.breached_at is None and clock.elapsed_before <= clock.target
    if clock.met is False and clock.breached_at is None:
        clock.breached_at = at if clock.state == State.PAUSED else min(at, clock.due_at)
    clock.state = State.STOPPED
    clock.stopped_at = at
    clock.segment_started_at = clock.paused_at = None
    clock.due_at = clock.at_risk_at = None


def _retarget(case: Case, clock: SLAClock, at: datetime, target: timedelta, business: bool) -> None:
    cal_before = clock_calendar(case, clock)
    if clock.state == State.RUNNING:
        clock.elapsed_before = clock.elapsed_at(at, cal_before)
        clock.segment_started_at = at
    clock.business = business
    clock.target = target
    _recompute(case, clock)
    if clock.state == State.RUNNING and clock.due_at and clock.due_at > at:
        # The new due time is ahead: the clock is no longer past due (escalations already run stay).
        clock.breached_at = None
        if clock.at_risk_at and clock.at_risk_at > at:
            clock.at_risk_marked_at = None


def _open_clocks(case: Case, *kinds: str) -> list[SLAClock]:
    qs = SLAClock.objects.filter(case=case).exclude(state=State.STOPPED)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return list(qs.order_by("kind", "window"))


def _next_window(case: Case, kind: str) -> int:
    """The window number a new clock of `kind` on the case gets (one after the latest)."""
    latest = SLAClock.objects.filter(case=case, kind=kind).order_by("-window").values_list("window", flat=True).first()
    return (latest or 0) + 1


def _label(kind: str) -> str:
    """A clock kind as the timeline writes it (from SLAClock.Kind, the one place for its words)."""
    return str(Kind(kind).label).lower()


def _done(case: Case, notes: list[str], **fields) -> ClockImpact:
    """The impact of an event: its notes and the case's SLA summary after it (set on `case` too)."""
    fields.update(summary(case))
    for name, value in fields.items():
        setattr(case, name, value)
    return ClockImpact(notes=notes, fields=fields)


# --- case events ----------------------------------------------------------------------------------


def on_create(case: Case, at: datetime) -> ClockImpact:
    """Snapshot the tenant's policy onto a new case that is not saved yet and plan its first-response
    clock: the policy, snapshot and SLA summary are set on `case` before its INSERT (the row is
    written once), and the clock waits in `impact.pending` for `save_pending` once the case has its id."""
    impact: list[str] = []
    policy = policy_for_tenant(case.tenant)
    if policy is None:
        return ClockImpact(notes=["no SLA policy applies to this tenant"])
    case.sla_policy = policy
    case.sla_snapshot = policy.snapshot(at)
    clock = _plan(case, Kind.FIRST_RESPONSE, 1, at, impact)
    pending = [clock] if clock is not None else []
    pending += [c for c in (_plan(case, kind, 1, at, impact) for kind in SEVERITY_KINDS) if c is not None]
    fields = {"sla_policy": policy, "sla_snapshot": case.sla_snapshot, **_summary_of(pending)}
    for name, value in fields.items():
        setattr(case, name, value)
    return ClockImpact(notes=impact, fields=fields, pending=pending)


def save_pending(case: Case, impact: ClockImpact) -> None:
    """Save the clocks `on_create` planned, now that `case` has its id (one INSERT)."""
    for clock in impact.pending:
        clock.case = case
    if impact.pending:
        SLAClock.objects.bulk_create(impact.pending)


def on_transition(case: Case, was: str, to: str, at: datetime) -> ClockImpact:
    impact: list[str] = []
    if not case.sla_snapshot:
        return ClockImpact()
    reopened = was in (Status.RESOLVED, Status.CLOSED) and to == Status.IN_PROGRESS
    if was == Status.NEW:  # accepted into triage: acknowledged (seed 004)
        _stop_kinds(case, at, impact, Kind.ACKNOWLEDGE)
    if to == Status.TRIAGE and not SLAClock.objects.filter(case=case, kind=Kind.RESOLUTION).exists():
        _start(case, Kind.RESOLUTION, 1, at, impact)
    elif to == Status.WAITING_ON_CUSTOMER:
        for clock in _open_clocks(case, Kind.RESOLUTION, Kind.UPDATE):
            if clock.state == State.RUNNING:
                _pause(case, clock, at)
                clock.save()
                impact.append(f"{_label(clock.kind)} clock paused (waiting on customer)")
    elif was == Status.WAITING_ON_CUSTOMER and to == Status.IN_PROGRESS:
        for clock in _open_clocks(case, Kind.RESOLUTION, Kind.UPDATE):
            if clock.state == State.PAUSED:
                paused_for = at - clock.paused_at
                _resume(case, clock, at)
                clock.save()
                impact.append(
                    f"{_label(clock.kind)} clock resumed after {timefmt.duration(paused_for)} paused, "
                    f"due {_fmt(clock.due_at)}"
                )
    elif to in (Status.RESOLVED, Status.CLOSED):
        for clock in _open_clocks(case):
            _stop(case, clock, at)
            clock.save()
            impact.append(f"{_label(clock.kind)} clock stopped: {'met' if clock.met else 'breached'}")
    elif reopened:
        window = _next_window(case, Kind.RESOLUTION)
        _start(case, Kind.RESOLUTION, window, at, impact)
        impact[-1] = impact[-1].replace(
            f"{_label(Kind.RESOLUTION)} clock started", f"{_label(Kind.RESOLUTION)} window {window} started (reopen)"
        )
        _start(case, Kind.UPDATE, _next_window(case, Kind.UPDATE), at, impact)
    return _done(case, impact)


def on_root_cause(case: Case, at: datetime, statement: str) -> ClockImpact:
    """ "Root cause identified, timeline communicated" (a policy option, seed 002): the resolution
    clock stops now — met if within its target — with the statement kept on the clock. The case stays
    open; a later resolve finds no resolution clock to stop, a reopen opens a new window as usual."""
    impact: list[str] = []
    for clock in _open_clocks(case, Kind.RESOLUTION):
        _stop(case, clock, at)
        clock.stop_note = statement
        clock.save()
        impact.append(
            f"{_label(clock.kind)} clock stopped on root cause with timeline: {'met' if clock.met else 'breached'}"
        )
    return _done(case, impact)


def on_public_reply(case: Case, at: datetime) -> ClockImpact:
    """The first public reply stops first response; every public reply restarts the cadence."""
    impact: list[str] = []
    if not case.sla_snapshot:
        return ClockImpact()
    for clock in _open_clocks(case, Kind.FIRST_RESPONSE, Kind.UPDATE, Kind.ACKNOWLEDGE):
        _stop(case, clock, at)
        clock.save()
        if clock.kind in (Kind.FIRST_RESPONSE, Kind.ACKNOWLEDGE):
            impact.append(f"{_label(clock.kind)} clock stopped: {'met' if clock.met else 'breached'}")
    if case.status in OPEN_STATUSES:
        _start(
            case,
            Kind.UPDATE,
            _next_window(case, Kind.UPDATE),
            at,
            impact,
            paused=case.status == Status.WAITING_ON_CUSTOMER,
        )
    return _done(case, impact)


def on_priority_change(case: Case, at: datetime) -> ClockImpact:
    """Re-target every priority clock that has not stopped, keeping the time already elapsed."""
    if not case.sla_snapshot:
        return ClockImpact()
    return _done(case, _retarget_open(case, at, PRIORITY_KINDS))


def _retarget_open(case: Case, at: datetime, kinds) -> list[str]:
    """Re-target the case's clocks of `kinds` that have not stopped (ending those left without a
    target), keeping the time already elapsed; the notes for the timeline."""
    impact: list[str] = []
    for clock in _open_clocks(case, *kinds):
        target = target_for(case, clock.kind)
        label = _label(clock.kind)
        if target is None:
            clock.state, clock.stopped_at, clock.met = State.STOPPED, at, None
            clock.due_at = clock.at_risk_at = None
            clock.save()
            impact.append(f"{label} clock ended: the new priority has no such target")
            continue
        _retarget(case, clock, at, *target)
        clock.save()
        impact.append(
            f"{label} clock re-targeted to {describe_target(*target)}"
            + (f", due {_fmt(clock.due_at)}" if clock.due_at else "")
        )
    return impact


def acknowledged_at(case: Case) -> datetime | None:
    """When the case was acknowledged (seed 004): its first public reply by an agent or its
    acceptance into triage, whichever came first."""
    times = [t for t in (case.first_response_at, case.triaged_at) if t is not None]
    return min(times) if times else None


def _stop_kinds(case: Case, at: datetime, impact: list[str], *kinds: str) -> None:
    for clock in _open_clocks(case, *kinds):
        _stop(case, clock, at)
        clock.save()
        impact.append(f"{_label(clock.kind)} clock stopped: {'met' if clock.met else 'breached'}")


def on_severity_change(case: Case, at: datetime) -> ClockImpact:
    """The case's severity was set or changed: its time-to-acknowledge and time-to-mitigate clocks
    (the policy's `severity_targets`) count from the case's opening. A clock that has not stopped is
    re-targeted (or ended when the new severity has no target); one not started yet starts at the
    opening — recorded stopped at once when the case was already acknowledged / mitigated, so a
    severity set at triage still records how long acknowledging took."""
    impact: list[str] = []
    if not case.sla_snapshot:
        return ClockImpact()
    impact += _retarget_open(case, at, SEVERITY_KINDS)
    have = set(SLAClock.objects.filter(case=case, kind__in=SEVERITY_KINDS).values_list("kind", flat=True))
    ends = {
        Kind.ACKNOWLEDGE: acknowledged_at(case),
        Kind.MITIGATE: case.mitigated_at or case.resolved_at or case.closed_at,
    }
    for kind in SEVERITY_KINDS:
        if kind in have:
            continue
        clock = _plan(case, kind, 1, case.created_at, impact)
        if clock is None:
            continue
        if ends[kind] is not None:
            _stop(case, clock, ends[kind])
            impact[-1] = f"{_label(kind)} recorded: {'met' if clock.met else 'missed'}"
        clock.save()
    return _done(case, impact)


def on_mitigated(case: Case, at: datetime) -> ClockImpact:
    """An agent marked the case mitigated: its time-to-mitigate clock stops (met or breached)."""
    impact: list[str] = []
    if not case.sla_snapshot:
        return ClockImpact()
    _stop_kinds(case, at, impact, Kind.MITIGATE)
    return _done(case, impact)


def reapply_policy(case: Case, policy: SLAPolicy, at: datetime) -> ClockImpact:
    """Take the policy's current version onto the case and re-target its running clocks (the
    service `cases.services.case_reapply_policy` locks the case and saves the result)."""
    case.sla_policy = policy
    case.sla_snapshot = policy.snapshot(case.created_at)
    impact = on_priority_change(case, at)
    impact.notes += on_severity_change(case, at).notes
    return ClockImpact(
        notes=[f"SLA policy {policy.name} v{policy.version} re-applied"] + impact.notes,
        fields={"sla_policy": policy, "sla_snapshot": case.sla_snapshot, **(impact.fields or summary(case))},
    )


def summary(case: Case) -> dict:
    """The case's SLA summary (what the queue shows and sorts by) from its clocks as they stand."""
    clocks = list(
        SLAClock.objects.filter(case=case).exclude(state=State.STOPPED).values("kind", "state", "due_at", "at_risk_at")
    )
    return _summary_from(clocks)


def _summary_of(clocks: list[SLAClock]) -> dict:
    """`summary` of clocks in memory (a new case's, before anything is saved)."""
    return _summary_from(
        [
            {"kind": c.kind, "state": c.state, "due_at": c.due_at, "at_risk_at": c.at_risk_at}
            for c in clocks
            if c.state != State.STOPPED
        ]
    )


def _summary_from(clocks: list[dict]) -> dict:
    running = [c for c in clocks if c["state"] == State.RUNNING and c["due_at"]]
    first = min(running, key=lambda c: c["due_at"]) if running else None
    return {
        "sla_due_at": first["due_at"] if first else None,
        "sla_clock": first["kind"] if first else "",
        "sla_risk_at": min((c["at_risk_at"] for c in running if c["at_risk_at"]), default=None),
        "sla_paused": not running and any(c["state"] == State.PAUSED for c in clocks),
    }


# --- explanations ---------------------------------------------------------------------------------


def _fmt(value: datetime | None) -> str:
    """A due time inside a note: the instant itself, shown in each reader's timezone when rendered."""
    if value is None:
        return "—"
    return timefmt.instant_token(value)


def describe_target(target: timedelta, business: bool) -> str:
    return f"{timefmt.duration(target)} {'business' if business else 'calendar'} time"


def replay(case: Case) -> ClockImpact:
    """Rebuild a case's clocks from its timeline (status changes and public replies, in order), as
    if they had run live: for imported or back-dated cases. Uses the case's current priority. The
    service `cases.services.case_replay_clocks` saves the result."""
    from ..models import Interaction

    final_status = case.status
    SLAClock.objects.filter(case=case).delete()
    case.sla_snapshot = None
    policy = policy_for_tenant(case.tenant)
    if policy is None:
        return ClockImpact()
    case.sla_policy = policy
    case.sla_snapshot = policy.snapshot(case.created_at)
    case.status = Status.NEW
    _start(case, Kind.FIRST_RESPONSE, 1, case.created_at, [])
    events = case.interactions.filter(kind__in=[Interaction.Kind.STATUS, Interaction.Kind.REPLY]).order_by(
        "created_at", "id"
    )
    for event in events:
        if event.kind == Interaction.Kind.STATUS:
            was, to = event.data.get("from"), event.data.get("to")
            if was and to:
                case.status = to
                on_transition(case, was, to, event.created_at)
        else:
            on_public_reply(case, event.created_at)
    case.status = final_status
    on_severity_change(case, timezone.now())  # seed 004's records, from the case's own times
    return _done(case, [], sla_policy=policy, sla_snapshot=case.sla_snapshot)
