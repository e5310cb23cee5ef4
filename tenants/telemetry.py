"""Tenant telemetry: what integrations tell us about a tenant's health, alerts, deployments, flags,
configuration, usage, experiments and resource graph. Ingested through /api/v1/telemetry/ (and the
Alertmanager receiver) with per-integration tokens; shown on the tenant console; purged after the
retention window.

Every item carries the integration it came from (`integration`) and that integration's id for it
(`source_id`): re-sending an item with the same source id changes nothing — (integration,
source_id) is unique. (The foreign key is named `integration`, not `source`: a `source` key's
column would be `source_id` and collide with the item's own id.)
Imported by tenants.models, so these are the `tenants` app's models.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import Health


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Integration(models.Model):
    """A telemetry source (a monitoring system, a deploy pipeline, Alertmanager) and its API token.
    Only a hash of the token is stored; the token is shown once when created. It writes for its
    `tenants` only: a token that leaks cannot touch another tenant's telemetry."""

    name = models.CharField(max_length=100, unique=True)
    token_prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it")
    token_hash = models.CharField(max_length=64, unique=True)
    alert_tenant_label = models.CharField(
        max_length=60, default="tenant", help_text="Alertmanager label naming the tenant (slug)"
    )
    alert_service_label = models.CharField(
        max_length=60, default="service", help_text="Alertmanager label naming the resource (external id)"
    )
    tenants = models.ManyToManyField(
        "tenants.Tenant",
        related_name="integrations",
        blank=True,
        help_text="The tenants it may send telemetry for; items for any other tenant are refused (403)",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def new_token() -> tuple[str, str, str]:
        """(raw token, prefix, hash). The raw token is given to the integration once."""
        raw = "cos_" + secrets.token_urlsafe(32)
        return raw, raw[:12], hash_token(raw)


class TelemetryItem(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="+")
    source_id = models.CharField(max_length=200, help_text="The integration's own id for this item")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


def _unique(name: str):
    return [models.UniqueConstraint(fields=["integration", "source_id"], name=f"{name}_unique_source_id")]


class SLI(TelemetryItem):
    """One observation of a service level indicator against its objective."""

    resource = models.ForeignKey(
        "tenants.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="slis"
    )
    name = models.CharField(max_length=120)
    objective = models.FloatField(help_text="Target, e.g. 99.9 (percent)")
    value = models.FloatField(help_text="Measured, same unit as the objective")
    error_budget_remaining = models.FloatField(
        help_text="Share of the error budget left, 0–100 (percent); negative when overspent"
    )
    window = models.CharField(max_length=20, default="30d")
    observed_at = models.DateTimeField()

    class Meta:
        constraints = _unique("sli")
        indexes = [
            models.Index(fields=["tenant", "name", "-observed_at"], name="sli_tenant_name_idx"),
            models.Index(fields=["observed_at"], name="sli_observed_idx"),
        ]

    @property
    def health(self) -> str:
        if self.value < self.objective or self.error_budget_remaining <= 0:
            return Health.RED
        if self.error_budget_remaining < 25:
            return Health.AMBER
        return Health.GREEN


class Alert(TelemetryItem):
    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    resource = models.ForeignKey(
        "tenants.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    name = models.CharField(max_length=200)
    severity = models.CharField(max_length=20, default="warning")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FIRING)
    summary = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=100, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = _unique("alert")
        indexes = [
            models.Index(fields=["tenant", "status", "-starts_at"], name="alert_tenant_status_idx"),
            models.Index(fields=["resource", "status"], name="alert_resource_status_idx"),
            models.Index(fields=["integration", "fingerprint", "status"], name="alert_fingerprint_idx"),
            models.Index(fields=["received_at"], name="alert_received_idx"),
        ]


class Deployment(TelemetryItem):
    resource = models.ForeignKey(
        "tenants.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    version = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    deployed_at = models.DateTimeField()

    class Meta:
        constraints = _unique("deployment")
        indexes = [models.Index(fields=["tenant", "-deployed_at"], name="deployment_tenant_idx")]


class FeatureFlag(TelemetryItem):
    key = models.CharField(max_length=120)
    enabled = models.BooleanField()
    variant = models.CharField(max_length=120, blank=True)
    observed_at = models.DateTimeField()

    class Meta:
        constraints = _unique("featureflag")
        indexes = [models.Index(fields=["tenant", "key", "-observed_at"], name="flag_tenant_key_idx")]


class ConfigSnapshot(TelemetryItem):
    resource = models.ForeignKey(
        "tenants.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="config_snapshots"
    )
    taken_at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        constraints = _unique("configsnapshot")
        indexes = [models.Index(fields=["tenant", "-taken_at"], name="config_tenant_idx")]


class UsageMetric(TelemetryItem):
    metric = models.CharField(max_length=120, help_text="e.g. api_requests, active_users")
    value = models.FloatField()
    period_start = models.DateTimeField()

    class Meta:
        constraints = _unique("usagemetric")
        indexes = [models.Index(fields=["tenant", "metric", "-period_start"], name="usage_tenant_metric_idx")]


class Experiment(TelemetryItem):
    key = models.CharField(max_length=120)
    status = models.CharField(max_length=20, default="active", help_text="active, paused or ended")
    variant = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = _unique("experiment")
        indexes = [models.Index(fields=["tenant", "status", "-started_at"], name="experiment_tenant_idx")]


class ResourceDependency(TelemetryItem):
    """`resource` depends on `depends_on` (a failure of depends_on reaches resource)."""

    resource = models.ForeignKey("tenants.Resource", on_delete=models.CASCADE, related_name="dependencies")
    depends_on = models.ForeignKey("tenants.Resource", on_delete=models.CASCADE, related_name="dependents")

    class Meta:
        constraints = _unique("resourcedependency") + [
            models.UniqueConstraint(fields=["resource", "depends_on"], name="resourcedependency_unique_edge"),
        ]


class LogLine(TelemetryItem):
    """A log line of one of the tenant's resources (seed 001 "access customer logs"): what the
    diagnostics' recent-logs collector slices around a case's reported time."""

    resource = models.ForeignKey(
        "tenants.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="log_lines"
    )
    logged_at = models.DateTimeField()
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()
    trace_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = _unique("logline")
        indexes = [models.Index(fields=["tenant", "-logged_at"], name="logline_tenant_time_idx")]


class TelemetryPurge(models.Model):
    """A record of each retention purge: when, the cutoff, and how many rows of each kind went."""

    ran_at = models.DateTimeField(default=timezone.now)
    cutoff = models.DateTimeField()
    deleted = models.JSONField(default=dict)

    class Meta:
        ordering = ["-ran_at"]


TELEMETRY_MODELS = {
    "slis": SLI,
    "alerts": Alert,
    "deployments": Deployment,
    "feature_flags": FeatureFlag,
    "config_snapshots": ConfigSnapshot,
    "usage": UsageMetric,
    "experiments": Experiment,
    "dependencies": ResourceDependency,
    "logs": LogLine,
}
# The time column the retention purge reads for each kind.
RETENTION_FIELD = {
    SLI: "observed_at",
    Alert: "received_at",
    Deployment: "deployed_at",
    FeatureFlag: "observed_at",
    ConfigSnapshot: "taken_at",
    UsageMetric: "period_start",
    Experiment: "received_at",
    LogLine: "logged_at",
}
