"""SLA configuration (calendars, policies, rules) and the clocks that run on each case.

Imported by cases.models, so Django sees these models as the `cases` app's. The arithmetic lives in
cases.sla (pure); the rules that start, pause and stop clocks live in cases.clocks (services).
"""

from __future__ import annotations

import functools
import json
from datetime import date, time, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from companyos.models import TIMEZONE_CHOICES
from tenants.choices import Channel, Segment, SupportTier

from . import calendar as sla

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PRIORITY_SLUGS = ["critical", "high", "medium", "low"]
CLOCK_KINDS = ["first_response", "resolution", "update"]
# Seed 004's SLA records, keyed on the case's impact severity (Case.severity), not its priority.
SEVERITY_SLUGS = ["sev1", "sev2", "sev3"]
SEVERITY_CLOCK_KINDS = ["acknowledge", "mitigate"]


def _parse_hhmm(value: str, where: str) -> time | None:
    value = (value or "").strip()
    if value in {"24:00", ""} and where.endswith("end"):
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{where}: {value!r} is not a time like 08:00") from None


class BusinessCalendar(models.Model):
    """Business hours in a timezone: weekly windows, public holidays of a country (the `holidays`
    package), custom closures and extra open days."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Oslo")
    # {"0": [["08:00", "16:00"]], "1": [...], ...}  weekday 0 = Monday; "24:00" = until midnight
    weekly_hours = models.JSONField(default=dict)
    holiday_country = models.CharField(max_length=8, blank=True, help_text="ISO code, e.g. NO, US, GB, AU")
    holiday_subdivision = models.CharField(max_length=16, blank=True, help_text="e.g. CA for California, NSW")
    # [{"date": "2026-12-24", "name": "Christmas Eve closure"}]
    closures = models.JSONField(default=list, blank=True)
    # [{"date": "2026-03-28", "name": "Migration weekend", "windows": [["10:00", "14:00"]]}]
    extra_days = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.timezone})"

    def clean(self):
        try:
            self.to_calendar(years=[timezone.now().year])
        except (ValueError, KeyError, TypeError) as error:
            raise ValidationError(str(error)) from None

    def to_calendar(self, years=None) -> sla.Calendar:
        years = list(years or range(timezone.now().year - 1, timezone.now().year + 3))
        weekly = {}
        for day, windows in (self.weekly_hours or {}).items():
            weekly[int(day)] = tuple(
                (_parse_hhmm(start, f"{WEEKDAYS[int(day)]} start"), _parse_hhmm(end, f"{WEEKDAYS[int(day)]} end"))
                for start, end in windows
            )
        names: dict[date, str] = {}
        closed: set[date] = set()
        if self.holiday_country:
            found = sla.holiday_dates(self.holiday_country, self.holiday_subdivision or None, years)
            names.update(found)
            closed |= set(found)
        for item in self.closures or []:
            day = date.fromisoformat(item["date"])
            closed.add(day)
            names[day] = item.get("name") or "Closure"
        extra = {}
        for item in self.extra_days or []:
            day = date.fromisoformat(item["date"])
            extra[day] = tuple(
                (_parse_hhmm(s, f"{day} start"), _parse_hhmm(e, f"{day} end"))
                for s, e in item.get("windows") or [["09:00", "17:00"]]
            )
        return sla.Calendar(
            tz=self.timezone, weekly=weekly, closed=frozenset(closed), extra_open=extra, holiday_names=names
        )

    def snapshot(self, around=None) -> dict:
        """The calendar as plain data, holidays resolved, for a case's SLA snapshot. Every new case
        takes one: resolving five years of public holidays (the `holidays` package) is ~0.6 ms, so
        the resolved calendar is kept per process for the calendar's exact content and the year."""
        year = (around or timezone.now()).year
        content = json.dumps(
            [
                self.timezone,
                self.weekly_hours,
                self.holiday_country,
                self.holiday_subdivision,
                self.closures,
                self.extra_days,
                year,
            ],
            sort_keys=True,
            default=str,
        )
        return {
            "id": self.pk,
            "name": self.name,
            "key": f"{self.pk}:{self.updated_at.isoformat()}:{year}",
            "calendar": json.loads(_resolved_calendar(self, content, year)),
        }

    def describe_hours(self) -> str:
        parts = []
        for day in range(7):
            windows = (self.weekly_hours or {}).get(str(day)) or []
            if windows:
                parts.append(f"{WEEKDAYS[day][:3]} " + ", ".join(f"{s}–{e}" for s, e in windows))
        return "; ".join(parts) or "no hours"


def channel_target_row(channel_targets: dict | None, channel: str, priority_slug: str) -> dict | None:
    """The stored first-response target of `channel` for `priority_slug` ({"minutes", "business"}), or
    None when the policy (or a case's snapshot of it) sets none for that channel and priority."""
    if not channel:
        return None
    return ((channel_targets or {}).get(channel) or {}).get(priority_slug) or None


_RESOLVED: dict[str, str] = {}  # a calendar's content and year → its resolved days, as JSON


def _resolved_calendar(calendar: BusinessCalendar, content: str, year: int) -> str:
    found = _RESOLVED.get(content)
    if found is None:
        if len(_RESOLVED) >= 256:
            _RESOLVED.clear()
        found = _RESOLVED[content] = json.dumps(calendar.to_calendar(years=range(year - 1, year + 4)).as_dict())
    return found


@functools.lru_cache(maxsize=256)
def _calendar_from_json(key: str, payload: str) -> sla.Calendar:
    return sla.Calendar.from_dict(json.loads(payload))


def calendar_from_snapshot(snapshot: dict | None) -> sla.Calendar | None:
    """The Calendar of a policy snapshot (cached per calendar version): None means 24×7."""
    if not snapshot or not snapshot.get("calendar"):
        return None
    cal = snapshot["calendar"]
    return _calendar_from_json(cal["key"], json.dumps(cal["calendar"], sort_keys=True))


class SLAPolicy(models.Model):
    """For each priority: first-response target, resolution target and update cadence, each counted
    in business time (on `calendar`) or calendar time; plus what happens when a clock is at risk or
    breached."""

    class Escalation(models.TextChoices):
        NOTIFY = "notify", "Notify owner and their manager"
        RAISE_PRIORITY = "raise_priority", "Notify and raise priority one level"
        REASSIGN = "reassign", "Notify and reassign to the escalation team"
        PAGE_CRITICAL = "page_critical", "Notify, and page on-call for critical cases"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Business hours for targets counted in business time.",
    )
    # {"critical": {"first_response": {"minutes": 15, "business": true}, "resolution": {...}, "update": null}, ...}
    targets = models.JSONField(default=dict)
    # First-response targets per channel (seed 001's channel table): {"slack": {"high": {"minutes": 60,
    # "business": false}}, "phone": {"critical": {...}}}. A case on a channel with a target for its
    # priority gets that target; otherwise the priority's own first-response target above.
    channel_targets = models.JSONField(default=dict, blank=True, db_default={})
    # Targets keyed on the case's severity (seed 004 "for SLA purposes, record time to acknowledge and
    # time to mitigate"): {"sev1": {"acknowledge": {"minutes": 30, "business": false}, "mitigate": {...}},
    # ...}. A case with a severity set gets these clocks besides its priority's; {} runs none.
    severity_targets = models.JSONField(default=dict, blank=True, db_default={})
    at_risk_percent = models.PositiveSmallIntegerField(
        default=80, help_text="A running clock is at risk once this share of its target has elapsed."
    )
    escalation = models.CharField(max_length=20, choices=Escalation.choices, default=Escalation.PAGE_CRITICAL)
    escalation_team = models.ForeignKey(
        "cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notify_business_hours_only = models.BooleanField(
        default=False,
        help_text="Hold at-risk notifications until the calendar's next open hour (breaches always go out at once).",
    )
    preset = models.CharField(max_length=40, blank=True)
    root_cause_stops_resolution = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The resolution clock stops when the agent records “root cause identified, timeline "
        "communicated” (seed 002: resolution target = resolved OR root cause identified with timeline).",
    )
    auto_close_days = models.PositiveSmallIntegerField(
        default=7,
        db_default=7,
        help_text="A resolved case closes by itself after this many days unless the customer answers (cases.closure).",
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return self.name

    @property
    def preset_label(self) -> str:
        """The preset this policy was loaded from, as admins read it ("" when none)."""
        from .presets import preset_label

        return preset_label(self.preset) if self.preset else ""

    @property
    def severity_target_rows(self) -> list[dict]:
        """The severity-keyed targets as the policy page lists them: [{"severity": "Sev-1",
        "acknowledge": "30 min calendar time", "mitigate": "…"}] ([] when the policy keys none)."""
        from companyos.timefmt import duration

        def text(row):
            if not row:
                return "—"
            return f"{duration(timedelta(minutes=row['minutes']))} {'business' if row['business'] else 'calendar'} time"

        return [
            {
                "severity": f"Sev-{slug[-1]}",
                "acknowledge": text(rows.get("acknowledge")),
                "mitigate": text(rows.get("mitigate")),
            }
            for slug in SEVERITY_SLUGS
            if (rows := (self.severity_targets or {}).get(slug))
        ]

    def target(self, priority_slug: str, kind: str, channel: str = "") -> tuple[timedelta, bool] | None:
        """The target of `kind` for a case of `priority_slug` on `channel`: the channel's own first
        response target when the policy sets one, else the priority's."""
        row = channel_target_row(self.channel_targets, channel, priority_slug) if kind == "first_response" else None
        row = row or (self.targets or {}).get(priority_slug, {}).get(kind)
        if not row:
            return None
        return timedelta(minutes=row["minutes"]), bool(row["business"])

    def clean(self):
        """An empty target is allowed (no clock runs for it: seed 001 has no resolution targets)."""
        errors = []
        if not 1 <= self.at_risk_percent <= 99:
            errors.append("The at-risk threshold must be between 1 and 99 percent.")
        business = False
        for priority in PRIORITY_SLUGS:
            for kind in CLOCK_KINDS:
                row = (self.targets or {}).get(priority, {}).get(kind)
                if row is None:
                    continue
                if not isinstance(row.get("minutes"), (int, float)) or row["minutes"] <= 0:
                    errors.append(f"{priority} {kind.replace('_', ' ')}: the target must be a positive duration.")
                business = business or bool(row.get("business"))
        for channel, rows in (self.channel_targets or {}).items():
            if channel not in Channel.values or not isinstance(rows, dict):
                errors.append(f"Channel targets: {channel!r} is not a channel.")
                continue
            for priority, row in rows.items():
                if priority not in PRIORITY_SLUGS:
                    errors.append(f"{Channel(channel).label} targets: {priority!r} is not a priority.")
                elif row is not None:
                    if not isinstance(row.get("minutes"), (int, float)) or row["minutes"] <= 0:
                        errors.append(
                            f"{Channel(channel).label} {priority} first response: must be a positive duration."
                        )
                    business = business or bool(row.get("business"))
        for severity, rows in (self.severity_targets or {}).items():
            if severity not in SEVERITY_SLUGS or not isinstance(rows, dict):
                errors.append(f"Severity targets: {severity!r} is not a severity (sev1, sev2, sev3).")
                continue
            for kind, row in rows.items():
                if kind not in SEVERITY_CLOCK_KINDS:
                    errors.append(f"Severity targets: {kind!r} is not acknowledge or mitigate.")
                elif row is not None:
                    if not isinstance(row.get("minutes"), (int, float)) or row["minutes"] <= 0:
                        errors.append(f"{severity} time to {kind}: the target must be a positive duration.")
                    business = business or bool(row.get("business"))
        if business and self.calendar_id is None:
            errors.append("Targets counted in business time need a business calendar.")
        if self.escalation == self.Escalation.REASSIGN and self.escalation_team_id is None:
            errors.append("Choose the team to reassign breached cases to.")
        if errors:
            raise ValidationError(errors)

    def snapshot(self, around=None) -> dict:
        """Everything a case's clocks need, frozen: later edits don't move past outcomes."""
        return {
            "policy_id": self.pk,
            "name": self.name,
            "version": self.version,
            "targets": self.targets,
            "channel_targets": self.channel_targets or {},
            "severity_targets": self.severity_targets or {},
            "at_risk_percent": self.at_risk_percent,
            "escalation": self.escalation,
            "escalation_team_id": self.escalation_team_id,
            "notify_business_hours_only": self.notify_business_hours_only,
            "calendar": self.calendar.snapshot(around) if self.calendar_id else None,
        }


class SLAPolicyRule(models.Model):
    """Which policy a tenant gets: rules in order, first match wins; blank matches anything.
    A tenant's own `sla_policy` overrides the rules."""

    position = models.PositiveSmallIntegerField(default=10)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    support_tier = models.CharField(max_length=20, choices=SupportTier.choices, blank=True)
    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="rules")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy rule"

    def __str__(self):
        segment = self.get_segment_display() or "any segment"
        tier = self.get_support_tier_display() or "any tier"
        return f"{self.position}: {segment} / {tier} → {self.policy}"

    def matches(self, tenant) -> bool:
        return (not self.segment or self.segment == tenant.segment) and (
            not self.support_tier or self.support_tier == tenant.support_tier
        )


class SLAClock(models.Model):
    """One SLA clock of a case. Resolution clocks are numbered by window (a reopen opens a new one);
    update clocks by the public reply that started them. Times are absolute; business time is
    counted on the case's snapshotted calendar."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        RESOLUTION = "resolution", "Resolution"
        UPDATE = "update", "Customer update"
        # Seed 004, keyed on the case's severity: acknowledged (first public reply or leaving New)
        # and mitigated (an agent marks the case mitigated, or it is resolved), counted from opening.
        ACKNOWLEDGE = "acknowledge", "Time to acknowledge"
        MITIGATE = "mitigate", "Time to mitigate"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    window = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    business = models.BooleanField(default=False)
    target = models.DurationField()
    started_at = models.DateTimeField()
    # Business (or calendar) time that had elapsed before the current running segment began.
    elapsed_before = models.DurationField(default=timedelta(0))
    segment_started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_total = models.DurationField(default=timedelta(0), help_text="Calendar time spent paused")
    due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    at_risk_marked_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met = models.BooleanField(null=True, help_text="Set when the clock stops: stopped by the due time or not")
    # Why a clock stopped when it is not the lifecycle: the root-cause-with-timeline statement (cases.closure).
    stop_note = models.TextField(blank=True, db_default="")

    class Meta:
        ordering = ["kind", "window"]
        constraints = [models.UniqueConstraint(fields=["case", "kind", "window"], name="slaclock_unique_window")]
        indexes = [
            models.Index(
                fields=["due_at"], name="slaclock_due_idx", condition=Q(state="running", breached_at__isnull=True)
            ),
            models.Index(
                fields=["at_risk_at"],
                name="slaclock_risk_idx",
                condition=Q(state="running", at_risk_marked_at__isnull=True, breached_at__isnull=True),
            ),
            models.Index(fields=["case", "state"], name="slaclock_case_state_idx"),
            models.Index(fields=["kind", "started_at"], name="slaclock_kind_started_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.window} of case {self.case_id}"

    @property
    def is_breached(self) -> bool:
        return self.breached_at is not None or self.met is False

    def elapsed_at(self, now, cal) -> timedelta:
        if self.state == self.State.RUNNING and self.segment_started_at:
            return self.elapsed_before + sla.elapsed(self.segment_started_at, max(now, self.segment_started_at), cal)
        return self.elapsed_before

    def status_at(self, now) -> str:
        """running | at_risk | breached | paused | met | missed."""
        if self.state == self.State.STOPPED:
            return "met" if self.met else "missed"
        if self.breached_at or (self.due_at and self.due_at <= now):
            return "breached"
        if self.state == self.State.PAUSED:
            return "paused"
        if self.at_risk_marked_at or (self.at_risk_at and self.at_risk_at <= now):
            return "at_risk"
        return "running"


class SLAEscalation(models.Model):
    """An escalation that ran for a clock at a level; the unique constraint makes it exactly once."""

    class Level(models.TextChoices):
        AT_RISK = "at_risk", "At risk"
        BREACHED = "breached", "Breached"

    clock = models.ForeignKey(SLAClock, on_delete=models.CASCADE, related_name="escalations")
    level = models.CharField(max_length=10, choices=Level.choices)
    created_at = models.DateTimeField(default=timezone.now)
    actions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clock", "level"], name="slaescalation_once_per_level")]

    def __str__(self):
        return f"{self.get_level_display()} escalation of {self.clock}"


class Notification(models.Model):
    """Outbox of notifications: written in the transaction that decides them, sent by a beat task,
    so a crash or a Redis restart loses none. Each is claimed with a lease, sent, then marked
    `sent_at`, one at a time, so a crashed sender re-sends at most the one it had in flight."""

    @property
    def status(self) -> str:
        if self.sent_at:
            return "sent"
        if self.lease_until and self.lease_until > timezone.now():
            return "sending"
        return "failed" if self.attempts >= 5 else "pending"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"

    # The case it is about; None for a notification about something else (an incident's update cadence).
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    escalation = models.ForeignKey(
        SLAEscalation, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=300)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set while a sender has it ("sending"): another run leaves it alone until the lease runs out.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["send_after"], name="notification_pending_idx", condition=Q(sent_at__isnull=True))
        ]

    def __str__(self):
        return f"{self.channel} to {self.recipient}: {self.subject}"
