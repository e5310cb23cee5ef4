"""The stored weekly operations report (cases.reports.weekly.export_week): one row per ISO week,
written by beat every Monday for the week before, once (unique week). Imported by cases.models, so
Django sees it as the `cases` app's."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class WeeklyExport(models.Model):
    """One week's weekly operations report over every tenant (Monday 00:00 UTC to the next), as the
    JSON and the CSV it was served as then; earlier weeks stay downloadable. `kind` "ops_review":
    a weekly ops review stored before the two weekly reports became one (its own JSON/CSV shape)."""

    class Kind(models.TextChoices):
        REPORT = "report", "Weekly operations report"
        OPS_REVIEW = "ops_review", "Weekly ops review (before the merge)"

    week_start = models.DateField(unique=True)
    label = models.CharField(max_length=8)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REPORT)
    data = models.JSONField()
    csv = models.TextField()
    # What it shows, for the access entry a download writes: the tenants counted, the cases named.
    tenant_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    case_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start"]

    def __str__(self):
        return f"weekly operations report {self.label}"
