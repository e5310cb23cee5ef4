"""The reports' daily rollups (cases.reports.rollup keeps them; cases.reports.metrics reads them).
Imported by cases.models, so Django sees them as the `cases` app's."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class ReportDay(models.Model):
    """One rollup cell: the cases created on `day` (UTC) with one tenant × priority × category ×
    channel × team × owner, as integer sums (cases.reports.cells.MEASURES) and sparse histograms
    (parallel arrays of bucket and count: first response and resolution times in
    cases.reports.cells.bucket()s, and tag ids). Written only by cases.reports.rollup."""

    day = models.DateField()
    tenant_id = models.IntegerField()
    priority = models.SmallIntegerField()
    category = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    team_id = models.IntegerField(null=True)
    owner_id = models.IntegerField(null=True)

    created = models.IntegerField(default=0)
    fr_n = models.IntegerField(default=0)
    fr_us = models.BigIntegerField(default=0)
    res_n = models.IntegerField(default=0)
    res_us = models.BigIntegerField(default=0)
    resolutions = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    reopened_7d = models.IntegerField(default=0)
    closed_confirmed = models.IntegerField(default=0)
    closed_auto = models.IntegerField(default=0)
    closed_unconfirmed = models.IntegerField(default=0)
    surveys_sent = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    csat_sum = models.IntegerField(default=0)
    nps_n = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    low = models.IntegerField(default=0)

    fr_b = ArrayField(models.IntegerField(), default=list)
    fr_c = ArrayField(models.IntegerField(), default=list)
    res_b = ArrayField(models.IntegerField(), default=list)
    res_c = ArrayField(models.IntegerField(), default=list)
    tag_b = ArrayField(models.IntegerField(), default=list)
    tag_c = ArrayField(models.IntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "tenant_id", "priority", "category", "channel", "team_id", "owner_id"],
                name="reportday_one_per_cell",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"rollup {self.day} tenant {self.tenant_id}: {self.created} cases"


class ReportDirtyDay(models.Model):
    """A day whose rollup is stale: written in the transaction of any change to a case created that
    day (cases.reports.rollup.on_change), deleted by the sweep in the transaction that recomputes
    the day. Until then the report reads that day from plain rows."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["day"], name="reportdirty_day_idx")]

    def __str__(self):
        return f"rollup of {self.day} to recompute"
