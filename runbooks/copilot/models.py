"""The copilot's rows: the versioned model artefact, one assessment per case (its proposals), the
agents' decisions on them (what the acceptance report counts), and the admin's auto-apply settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CopilotModel(models.Model):
    """A trained model (`model.Predictor.dumps()`). `tenant` empty: the global model; set: that
    tenant's own model, trained on its confirmed cases only (plus the shipped playbook set). A case
    is proposed for by its tenant's newest model, else by the newest global one. Versions are one
    sequence over all scopes; proposals record the version and the scope they were made with."""

    version = models.PositiveIntegerField(unique=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="copilot_models"
    )
    trained_at = models.DateTimeField(default=timezone.now)
    examples = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0, help_text="time to fit")
    source = models.CharField(max_length=40, default="confirmed cases")
    blob = models.BinaryField()

    class Meta:
        ordering = ["-version"]
        indexes = [models.Index(fields=["tenant", "-version"], name="copilot_model_tenant_idx")]

    def __str__(self) -> str:
        scope = f"tenant {self.tenant_id}" if self.tenant_id else "global"
        return f"copilot model v{self.version} ({scope}, {self.examples} examples)"


class CopilotAssessment(models.Model):
    """What the copilot proposed for a case (`engine.Assessment.to_json()`), the newest run."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="copilot")
    model_version = models.PositiveIntegerField(default=0)
    model_scope = models.CharField(max_length=10, default="global", db_default="global")
    data = models.JSONField(default=dict)
    review = models.JSONField(default=list, help_text="why human review is required (empty: no gate)")
    created_at = models.DateTimeField(default=timezone.now)


class CopilotDecision(models.Model):
    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        OVERRIDDEN = "overridden", "Overridden"
        AUTO_APPLIED = "auto_applied", "Auto-applied"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="copilot_decisions")
    field = models.CharField(max_length=30)
    proposed = models.CharField(max_length=100)
    rule = models.CharField(max_length=200)
    confidence = models.FloatField()
    model_version = models.PositiveIntegerField(default=0)
    model_scope = models.CharField(max_length=10, default="global", db_default="global")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    value = models.CharField(max_length=100, blank=True, help_text="what the case got (override: the agent's value)")
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # one decision per field of a case's proposals: a second click is refused, not double-counted
            models.UniqueConstraint(fields=["case", "field", "model_version"], name="copilot_one_decision_per_field"),
        ]
        indexes = [models.Index(fields=["decided_at"], name="copilot_decision_at")]


class CopilotSetting(models.Model):
    """Auto-apply for one field, switched on by an admin, above a confidence threshold."""

    field = models.CharField(max_length=30, unique=True)
    auto_apply = models.BooleanField(default=False)
    threshold = models.FloatField(default=0.9)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
