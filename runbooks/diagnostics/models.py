"""Trace bundles and the evidence made from them (and, next, from the collectors). Imported by
runbooks.models so that Django finds them; written by runbooks.diagnostics.services only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class BundleStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    INSPECTING = "inspecting", "Inspecting"
    OK = "ok", "Valid and redacted"
    PII = "pii", "Unredacted personal data"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Inspection failed"


class TraceBundle(models.Model):
    """One uploaded `trace-<timestamp>-<channel>.zip`. Its bytes are in `bundle_storage(tenant)` under
    `storage_name` until it is rejected (deleted at once: the row is the rejection record) or purged
    (the row stays as the tombstone: name, size, hash, uploaded, purged, by which rule)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="trace_bundles")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    channel = models.CharField(max_length=30)
    recorded_at = models.DateTimeField(help_text="the timestamp in the bundle's name")
    source = models.CharField(max_length=10, default="web", help_text="web, api or cli")
    storage_name = models.CharField(max_length=300, blank=True, help_text="empty once deleted")
    region = models.CharField(
        max_length=16, blank=True, default="", help_text="the data region whose storage holds it ('' the default)"
    )
    status = models.CharField(max_length=12, choices=BundleStatus.choices, default=BundleStatus.RECEIVED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    rejection_code = models.CharField(max_length=40, blank=True)
    rejection_reason = models.TextField(blank=True)
    report = models.JSONField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    inspected_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    purge_rule = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "-uploaded_at"], name="tracebundle_case_idx"),
            models.Index(fields=["uploaded_at"], name="tracebundle_kept_idx", condition=models.Q(purged_at=None)),
        ]

    def __str__(self):
        return f"{self.name} (case {self.case_id})"

    @property
    def done(self) -> bool:
        return self.status not in (BundleStatus.RECEIVED, BundleStatus.INSPECTING)

    @property
    def reference(self) -> str:
        """What an engineering task quotes: `bundle-<id>-<first 12 of sha256>`."""
        return f"bundle-{self.pk}-{self.sha256[:12]}"


class Evidence(models.Model):
    """A typed artifact attached to a case and to every incident linked to it at the time: who made
    it, when, and from which data (`source`)."""

    class Kind(models.TextChoices):
        BUNDLE_REPORT = "bundle_report", "Trace bundle report"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="evidence")
    incidents = models.ManyToManyField("incidents.Incident", blank=True, related_name="evidence")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    source = models.JSONField(default=dict, help_text="what it was made from (bundle id and hash, collector inputs)")
    data = models.JSONField(default=dict)
    bundle = models.ForeignKey(TraceBundle, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["case", "-created_at"], name="evidence_case_idx")]

    def __str__(self):
        return f"{self.kind}: {self.title}"


class CollectorRun(models.Model):
    """One run of a one-click collector on a case (runbooks.diagnostics.collectors): queued, running
    (with progress), done (its result, what changed since the previous run, the evidence it made) or
    failed (why; run it again)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="collector_runs")
    collector = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    changes = models.JSONField(null=True, blank=True, help_text="against the previous done run")
    error = models.CharField(max_length=300, blank=True)
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "collector", "-requested_at"], name="collectorrun_case_idx")]

    def __str__(self):
        return f"{self.collector} on case {self.case_id}"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
