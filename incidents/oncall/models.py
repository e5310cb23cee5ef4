"""On-call schedules and pages (models of the incidents app, kept in their own module). Every write
goes through incidents.oncall.services; the step timer is swept by incidents.oncall.sweep."""

from __future__ import annotations

import secrets
from datetime import time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now


def _token() -> str:
    return secrets.token_urlsafe(24)


class Schedule(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="Europe/Oslo", help_text="Hand-offs are at local time here")
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="schedules")
    # The calendar feed's secret (a calendar app cannot sign in): /oncall/ical/<token>.ics
    ical_token = models.CharField(max_length=64, unique=True, default=_token)
    created_at = models.DateTimeField(default=now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ScheduleLayer(models.Model):
    class Unit(models.TextChoices):
        DAYS = "days", "days"
        HOURS = "hours", "hours"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=80, default="Primary")
    position = models.PositiveSmallIntegerField(default=0, help_text="Higher layers win where they are active")
    start_date = models.DateField()
    handoff_time = models.TimeField(default=time(9, 0))
    handoff_weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, default=0, help_text="0 = Monday … 6 = Sunday; empty: the start date itself"
    )
    length = models.PositiveIntegerField(default=7)
    unit = models.CharField(max_length=5, choices=Unit.choices, default=Unit.DAYS)
    end_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["schedule", "position", "id"]

    def __str__(self):
        return f"{self.schedule}: {self.name}"

    @property
    def length_delta(self) -> timedelta:
        return timedelta(days=self.length) if self.unit == self.Unit.DAYS else timedelta(hours=self.length)


class LayerParticipant(models.Model):
    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [models.UniqueConstraint(fields=["layer", "position"], name="layerparticipant_position_once")]


class ScheduleOverride(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["schedule", "created_at", "id"]
        indexes = [models.Index(fields=["schedule", "end"], name="override_schedule_end_idx")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="override_ends_after_start")]


class EscalationChain(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    repeat = models.PositiveSmallIntegerField(default=1, help_text="Run the steps this many extra times")
    fallback_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fallback_team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_default = models.BooleanField(default=False, help_text="Used when no team's chain applies")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class EscalationStep(models.Model):
    class Target(models.TextChoices):
        SCHEDULE = "schedule", "Schedule's on-call"
        USER = "user", "A user"
        TEAM = "team", "A team"

    chain = models.ForeignKey(EscalationChain, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    target = models.CharField(max_length=10, choices=Target.choices, default=Target.SCHEDULE)
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    wait_minutes = models.PositiveIntegerField(default=15)

    class Meta:
        ordering = ["chain", "position"]
        constraints = [models.UniqueConstraint(fields=["chain", "position"], name="escalationstep_position_once")]


class Page(models.Model):
    class Status(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Source(models.TextChoices):
        CASE = "case", "Case"
        INCIDENT = "incident", "Incident"
        SLA = "sla", "SLA breach"
        INTAKE = "intake", "Case intake"
        MANUAL = "manual", "By hand"
        PLAYBOOK = "playbook", "Escalation rule"

    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    chain = models.ForeignKey(EscalationChain, on_delete=models.PROTECT, related_name="pages")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="pages")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="pages"
    )
    status = models.CharField(max_length=13, choices=Status.choices, default=Status.TRIGGERED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    # The timer: the chain's next step (round, position) is due at `next_due_at` (None: nothing left).
    next_round = models.PositiveSmallIntegerField(default=0)
    next_position = models.PositiveSmallIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_due_at"], name="page_due_idx", condition=Q(status="triggered")),
            models.Index(fields=["status", "-created_at"], name="page_status_idx"),
        ]
        constraints = [
            # one open page per case: paging it again adds to the open one's timeline
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=["triggered", "acknowledged"]), name="page_one_open_per_case"
            ),
        ]

    def __str__(self):
        return f"Page {self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED


class PageStep(models.Model):
    """A step of a page's chain as it fired: at most one row per (page, round, position), so the step
    notifies once however many sweeps race for it. Position -1 is the fallback."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField()
    position = models.SmallIntegerField()
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["page", "round", "position"], name="pagestep_once")]


class PageNotice(models.Model):
    """One person told of a page (by e-mail, and Slack if configured): the outbox notification's id and
    the one-time acknowledge link's nonce (`used_at` once clicked)."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="notices")
    step = models.ForeignKey(PageStep, null=True, blank=True, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notification_id = models.BigIntegerField(null=True, blank=True)
    nonce = models.CharField(max_length=40, unique=True, default=_token)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["page", "created_at"], name="pagenotice_page_idx")]


class PageEntry(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        STEP = "step", "Step"
        DELIVERY = "delivery", "Delivery"
        TIMEOUT = "timeout", "Timeout"
        FALLBACK = "fallback", "Fallback"
        ACK = "ack", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        NOTE = "note", "Note"

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(default=now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["page", "at"], name="pageentry_page_idx")]


class HandoffPrompt(models.Model):
    """One rotation change of a schedule (the final result's hand-off at `at`): a timer row made ahead
    by the hand-off sweep, unique per (schedule, at). At `due_at` (an hour before) the outgoing
    engineer is asked for a hand-off note, prefilled; at `at` the incoming one gets it by e-mail and
    sees it on the console's home."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROMPTED = "prompted", "Outgoing asked"
        WRITTEN = "written", "Note written"
        DELIVERED = "delivered", "Delivered"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="handoffs")
    at = models.DateTimeField()
    due_at = models.DateTimeField()
    outgoing = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    incoming = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    note = models.TextField(blank=True)
    written_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["schedule", "at"], name="handoff_once_per_change")]
        indexes = [models.Index(fields=["due_at"], name="handoff_due_idx", condition=~Q(state="delivered"))]


class ProgressWatch(models.Model):
    """The playbook's P2 rule (seed 002): a high-priority case notifies on-call at intake and pages
    them if it made no progress (no public reply, no status change) within two hours. A timer row,
    one per case, swept by beat; `fired_at` set once."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="progress_watch")
    started_at = models.DateTimeField(default=now)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="progresswatch_due_idx", condition=Q(fired_at__isnull=True))]
