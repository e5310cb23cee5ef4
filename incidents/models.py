"""Incidents: what SRE/engineering run, linked to cases and resources, with their own timeline
(updates public and internal, status and role changes, links), corrective actions, postmortem, the
update cadence clock, and the public status page's services. Every write goes through
incidents.services."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import ACTIVE, SEVERITY_HELP, ActionStatus, CadenceKind, EntryKind, Severity, Status

# 0 for an active incident, 1 for a resolved one: the list's default order ("active first, worst
# first") sorts on it, and an index over it lets PostgreSQL read that order and stop after the page.
ACTIVE_RANK = models.Case(
    models.When(status__in=ACTIVE, then=models.Value(0)), default=models.Value(1), output_field=models.IntegerField()
)


class Incident(models.Model):
    Severity = Severity
    Status = Status
    ACTIVE = ACTIVE

    title = models.CharField(max_length=250)
    summary = models.TextField(blank=True)
    severity = models.CharField(
        max_length=5,
        choices=Severity.choices,
        default=Severity.SEV2,
        help_text=" ".join(f"{k}: {v}" for k, v in SEVERITY_HELP.items()),
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comms_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comms_channel = models.CharField(max_length=100, blank=True, help_text="e.g. #inc-204")
    current_mitigation = models.TextField(blank=True)
    postmortem = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    detected_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="incidents")
    resources = models.ManyToManyField("tenants.Resource", blank=True, related_name="incidents")
    tenants = models.ManyToManyField("tenants.Tenant", blank=True, related_name="incidents")
    declared_from = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The update cadence clock (seed 004 by severity): the next update is due at `update_due_at`;
    # the beat sweep warns the commander before it and records the breach, each once per due time.
    update_cadence_minutes = models.PositiveIntegerField(null=True, blank=True)
    update_due_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["status", "-started_at"], name="incident_status_idx"),
            models.Index(
                fields=["update_due_at"], name="incident_update_due_idx", condition=Q(update_due_at__isnull=False)
            ),
            models.Index(fields=["severity", "status"], name="incident_severity_idx"),
            # The list's default order (newest first) read off an index, not a sort of every incident.
            models.Index(fields=["-started_at", "-id"], name="incident_started_idx"),
            # The default order, active first, worst first (filtersets.SORTS["active"]): an agent's
            # tenant-scoped list walks it, checking each incident's reach, until the page is full.
            models.Index(
                ACTIVE_RANK,
                models.F("severity"),
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="incident_active_order_idx",
            ),
            models.Index(fields=["severity", "-started_at", "-id"], name="incident_severity_order_idx"),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"INC-{self.pk}"

    def get_absolute_url(self) -> str:
        return f"/incidents/{self.key}/"

    @property
    def active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def severity_help(self) -> str:
        return SEVERITY_HELP.get(self.severity, "")


class IncidentTenant(models.Model):
    """Which tenants an incident touches, and how — denormalised, maintained by incidents.services in
    the same transaction as the declare, link and unlink that change it (incidents.reach): `cases`
    linked cases of the tenant, `named` the tenant named as affected, `resources` the incident's own
    resources of the tenant. A row exists only while one of them holds. It is what an agent's tenant
    scope reads (one indexed semi-join instead of walking every linked case), the linked cases'
    counts and the per-tenant / per-segment blast radius. `manage.py incidents_reach --verify`
    compares it with a recomputation from the links."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tenant_reach")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    cases = models.IntegerField(default=0)
    named = models.BooleanField(default=False)
    resources = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "tenant"], name="incident_tenant_once")]
        indexes = [models.Index(fields=["tenant", "incident"], name="incident_tenant_scope_idx")]


class IncidentResource(models.Model):
    """The resources the incident's linked cases name as affected, with how many of them do: the root
    of its blast radius, maintained with the links (incidents.reach) and when a linked case's affected
    resources change (a receiver on the case's m2m), so the page reads a few rows, not every linked case."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="resource_reach")
    resource = models.ForeignKey("tenants.Resource", on_delete=models.CASCADE, related_name="+")
    cases = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "resource"], name="incident_resource_once")]


class IncidentEntry(models.Model):
    """One entry of an incident's timeline. `public`: published (the status page and the case
    page's incident panel show it); anything else is internal and never leaves the console."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    public = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, help_text="the incident's status at the time")
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="incident_entry_idx"),
            models.Index(fields=["created_at"], name="incident_public_idx", condition=Q(public=True)),
        ]


class CorrectiveAction(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=250)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The engineering task doing it (incidents/escalations; issue 13 point 1).
    engineering_task = models.ForeignKey(
        "incidents.EngineeringTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="corrective_actions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on", "id"]


class SeverityMapping(models.Model):
    """Case priority -> incident severity, for an incident created from a case that has no severity
    of its own (admins edit it; default critical SEV1, high SEV2, medium/low SEV3)."""

    priority = models.PositiveSmallIntegerField(
        unique=True, choices=[(1, "Critical"), (2, "High"), (3, "Medium"), (4, "Low")]
    )
    severity = models.CharField(max_length=5, choices=Severity.choices, help_text=SEVERITY_HELP[Severity.SEV1])

    class Meta:
        ordering = ["priority"]

    def __str__(self):
        return f"{self.get_priority_display()} → {self.severity}"


class CadenceMark(models.Model):
    """The exactly-once guard of the update cadence sweep: one row per (incident, due time, kind)."""

    Kind = CadenceKind

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "due_at", "kind"], name="incident_cadence_once")]


class StatusService(models.Model):
    """A service shown on the public status page: a name customers know, over some resources. Its
    state is derived from the active incidents touching those resources."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=250, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    resources = models.ManyToManyField("tenants.Resource", blank=True, related_name="status_services")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


def _token() -> str:
    return secrets.token_urlsafe(24)


class TenantStatusPage(models.Model):
    """A tenant's own status page at an unguessable URL (/status/t/<token>/): only its resources and
    the incidents touching it. Rotating the token (admin) retires the old URL."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="status_page")
    token = models.CharField(max_length=64, unique=True, default=_token)

    def __str__(self):
        return f"status page of {self.tenant}"


class CustomerDelivery(models.Model):
    """One row per (customer update, case) told: the exactly-once guard of sending an incident
    update to the customers of its linked cases (written in the reply's own transaction)."""

    entry = models.ForeignKey(IncidentEntry, on_delete=models.CASCADE, related_name="deliveries")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    interaction_id = models.BigIntegerField(null=True, blank=True, help_text="the case's reply")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "case"], name="incident_delivery_once")]


# Escalations (incidents/escalations): the component ownership map and engineering tasks.
from .escalations.models import (  # noqa: E402,F401
    Component,
    EngineeringTask,
    EngineeringTaskEntry,
    FeedbackEmission,
    ProductFeedback,
    ShiftHandoff,
    SREEscalation,
    SupportShift,
    TaskCadenceMark,
)
from .oncall.models import (  # noqa: E402,F401  (on-call and paging, incidents/oncall)
    EscalationChain,
    EscalationStep,
    HandoffPrompt,
    LayerParticipant,
    Page,
    PageEntry,
    PageNotice,
    PageStep,
    ProgressWatch,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
