"""The engineering escalation's rows: the component ownership map, the engineering task (seed 002's
eight handoff items, the owning team, the update cadence clock) with its own timeline, and the
cadence sweep's exactly-once marks. Imported by incidents.models, so Django sees them as the
`incidents` app's. Every write goes through incidents.escalations.services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..choices import CadenceKind
from .choices import TaskEntryKind, TaskStatus


class Component(models.Model):
    """One line of the component ownership map: a component, the team that owns it, its tracker
    project, and the on-call schedule (incidents.oncall) whose current on-call person an engineering
    escalation notifies. `categories`:
    the case categories routed to it by default when a case is escalated."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=250, blank=True)
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tracker_project = models.CharField(max_length=100, blank=True, help_text="e.g. the Jira project key, ING")
    tracker_url = models.URLField(blank=True, help_text="the project's board or issue list")
    oncall_schedule = models.ForeignKey(
        "incidents.Schedule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="components",
        verbose_name="on-call schedule",
        help_text="whose current on-call person an engineering escalation notifies (none: the whole team)",
    )
    categories = models.JSONField(
        default=list, blank=True, help_text='case categories routed here, e.g. ["performance"]'
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class EngineeringTask(models.Model):
    """A case escalated to engineering (seed 002 "To Engineering"): the eight handoff items as the
    agent confirmed them, routed to the component's team. The update cadence clock (seed 003) runs
    while the task is active: the next engineering update is due at `update_due_at`."""

    Status = TaskStatus

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="engineering_tasks")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="tasks")
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tracker_project = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=250)
    priority = models.PositiveSmallIntegerField(help_text="the case's priority when escalated")
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # Seed 002's eight handoff items.
    ticket = models.CharField(max_length=300, help_text="1. ticket id and link")
    account = models.TextField(help_text="2. customer account identifier")
    reproduction = models.TextField(blank=True, help_text="3. reproduction steps")
    errors = models.TextField(blank=True, help_text="4. error messages and logs")
    occurrences = models.TextField(blank=True, help_text="5. timestamps of occurrences")
    affected_customers = models.PositiveIntegerField(default=1, help_text="6. number of affected customers")
    impact = models.TextField(blank=True, help_text="7. impact assessment")
    tried = models.TextField(blank=True, help_text="8. what has already been tried")
    reason = models.TextField(blank=True, help_text="the last decision's reason (a rejection, a question)")
    cadence_minutes = models.PositiveIntegerField(null=True, blank=True)
    update_due_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True, help_text="first accept or reject")
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="engtask_status_idx"),
            models.Index(fields=["case"], name="engtask_case_idx"),
            models.Index(fields=["update_due_at"], name="engtask_due_idx", condition=Q(update_due_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"ENG-{self.pk}"

    def get_absolute_url(self) -> str:
        return f"/incidents/escalations/{self.key}/"

    HANDOFF_FIELDS = (
        "ticket",
        "account",
        "reproduction",
        "errors",
        "occurrences",
        "affected_customers",
        "impact",
        "tried",
    )

    @property
    def handoff(self) -> list[tuple[str, object]]:
        return [(self._meta.get_field(f).help_text.split(". ", 1)[1], getattr(self, f)) for f in self.HANDOFF_FIELDS]


class EngineeringTaskEntry(models.Model):
    task = models.ForeignKey(EngineeringTask, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20, choices=TaskEntryKind.choices)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, help_text="the task's status after it")
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"], name="engtask_entry_idx")]


class TaskCadenceMark(models.Model):
    """The exactly-once guard of the engineering cadence sweep: one row per (task, due time, kind).
    Its kinds are the incident cadence clock's (incidents.choices.CadenceKind)."""

    Kind = CadenceKind

    task = models.ForeignKey(EngineeringTask, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "due_at", "kind"], name="engtask_cadence_once")]


class ProductFeedback(models.Model):
    """One product feedback item logged from a case (seed 002 "To Product"): the customer's segment,
    tier and industry, the use case, the current workaround, the business impact and the count of
    similar requests, filed under a theme (a taxonomy tag, `cases.Tag`). `arr` is the tenant's annual
    contract value when logged; the backlog sums it per theme over distinct tenants (ARR at risk)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="product_feedback")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey("cases.Tag", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=250)
    segment = models.CharField(max_length=40)
    tier = models.CharField(max_length=40)
    industry = models.CharField(max_length=80, blank=True)
    use_case = models.TextField()
    workaround = models.TextField(blank=True)
    business_impact = models.TextField()
    similar_requests = models.PositiveIntegerField(default=0)
    arr = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "theme"], name="product_feedback_once_per_theme")]
        indexes = [models.Index(fields=["theme", "-created_at"], name="product_feedback_theme_idx")]

    def __str__(self):
        return f"{self.title} ({self.theme_id})"


class FeedbackEmission(models.Model):
    """One closing's feedback event (seed 003 "Feedback emissions"): the backlog it feeds —
    reliability (a defect), product (a feature gap), docs (a missing guide) — as the agent confirmed
    at close (`confirmed`) or, for an auto-close, by the classification alone. Written by the change
    listener in the closing's own transaction, once per closing (unique case × closed_at)."""

    class Backlog(models.TextChoices):
        RELIABILITY = "reliability", "Reliability"
        PRODUCT = "product", "Product"
        DOCS = "docs", "Docs"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="feedback_emissions")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    backlog = models.CharField(max_length=12, choices=Backlog.choices)
    confirmed = models.BooleanField(default=False, help_text="chosen by the agent at close (else by classification)")
    closed_how = models.CharField(max_length=12, blank=True)
    category = models.CharField(max_length=20, blank=True)
    issue_type = models.CharField(max_length=20, blank=True)
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["-closed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "closed_at"], name="feedback_emission_once")]
        indexes = [models.Index(fields=["backlog", "-closed_at"], name="feedback_emission_idx")]


class SREEscalation(models.Model):
    """A case or a tenant escalated to SRE (seed 003 "SRE escalation": a critical case, or repeated
    error-budget burn → page on-call, open or attach an incident, grant temporary elevated access).
    One per tenant while its incident is active: a second trigger attaches to it."""

    class Trigger(models.TextChoices):
        CASE = "case", "Escalated from a case"
        BURN_RATE = "burn_rate", "Error-budget burn rate"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="sre_escalations")
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    reason = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    paged = models.PositiveIntegerField(default=0, help_text="notifications queued by the page")
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_id = models.PositiveIntegerField(null=True, blank=True, help_text="the tenants.TemporaryAccess granted")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="sre_escalation_tenant_idx")]


class SupportShift(models.Model):
    """A support team's shift (seed 002 "Between Support Shifts"): it starts at `starts_at`, local
    wall-clock time in `timezone`, on `weekdays` (0 Monday … 6 Sunday). Each start is a shift change:
    the handoff report is e-mailed to the team then (beat, once per change: ShiftHandoff)."""

    team = models.ForeignKey("cases.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60, help_text="e.g. EMEA morning")
    starts_at = models.TimeField()
    timezone = models.CharField(max_length=64, default="UTC")
    weekdays = models.JSONField(default=list, blank=True, help_text="0 Monday … 6 Sunday; empty: every day")

    class Meta:
        ordering = ["team__name", "starts_at"]

    def __str__(self):
        return f"{self.team} · {self.name} ({self.starts_at:%H:%M} {self.timezone})"


class ShiftHandoff(models.Model):
    """One shift change's handoff report, sent once (unique shift × change instant)."""

    shift = models.ForeignKey(SupportShift, on_delete=models.CASCADE, related_name="handoffs")
    change_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-change_at"]
        constraints = [models.UniqueConstraint(fields=["shift", "change_at"], name="shift_handoff_once")]
