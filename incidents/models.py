"""Incidents (minimal for now): what SRE/engineering track, linked to cases and resources, so a
case's context and a tenant's console can show the incidents touching them."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Incident(models.Model):
    class Severity(models.TextChoices):
        SEV1 = "SEV1", "SEV1"
        SEV2 = "SEV2", "SEV2"
        SEV3 = "SEV3", "SEV3"

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MITIGATING = "mitigating", "Mitigating"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    ACTIVE = [Status.INVESTIGATING, Status.IDENTIFIED, Status.MITIGATING, Status.MONITORING]

    title = models.CharField(max_length=250)
    severity = models.CharField(max_length=5, choices=Severity.choices, default=Severity.SEV2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comms_channel = models.CharField(max_length=100, blank=True, help_text="e.g. #inc-204")
    started_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="incidents")
    resources = models.ManyToManyField("tenants.Resource", blank=True, related_name="incidents")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"], name="incident_status_idx")]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"INC-{self.pk}"

    @property
    def active(self) -> bool:
        return self.status in self.ACTIVE
