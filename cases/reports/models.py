"""The reports' rollups (cases.reports.rollup keeps them; cases.reports.metrics reads them).
Imported by cases.models, so Django sees them as the `cases` app's."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class _Measures(models.Model):
    """The integer sums (cases.reports.cells.MEASURES) and sparse histograms (parallel arrays of
    bucket and count: first response and resolution times in cases.reports.cells.bucket()s, and tag
    ids) a rollup row carries."""

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

    class Meta:
        abstract = True


class ReportHour(_Measures):
    """One cell of the full cube: the cases created in one UTC `hour` with one tenant × priority ×
    category × channel × team × owner. Read under dimension filters (team, agent, priority, category,
    channel) and for the partial days at a range's edges. Written only by cases.reports.rollup."""

    hour = models.DateTimeField()
    tenant_id = models.IntegerField()
    priority = models.SmallIntegerField()
    category = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    team_id = models.IntegerField(null=True)
    owner_id = models.IntegerField(null=True)

    tag_b = ArrayField(models.IntegerField(), default=list)
    tag_c = ArrayField(models.IntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "tenant_id", "priority", "category", "channel", "team_id", "owner_id"],
                name="reporthour_one_per_cell",
                nulls_distinct=False,
            )
        ]
        # A dimension filter reads only its cells of the range.
        indexes = [
            models.Index(fields=[column, "hour"], name=f"reporthour_{column}_idx")
            for column in ("priority", "category", "channel", "team_id", "owner_id")
        ]

    def __str__(self):
        return f"rollup {self.hour:%Y-%m-%d %H}h tenant {self.tenant_id}: {self.created} cases"


class ReportSlice(_Measures):
    """One narrow rollup row: the cases created on the UTC `day` (`hour` −1: the whole day; 0–23: that
    hour, kept for the priority dimension only, to split a day at a viewer's week start) of one
    tenant (NULL: all tenants) with one value of one dimension (`dim`: priority, category, channel,
    team, owner, tenant, or tag — a tag row's `created` counts the cases with the tag; or a priority
    pair, cells.PAIRS). `hour` −7 (cells.WEEK): a week slice, the UTC week from `day` (a Monday),
    its day slices added up, priority aside. Histograms on the team and owner rows (and their pairs)
    only. Read for the views without a dimension filter (at most a tenant, segment or tier) or with
    a priority filter alone. Written only by cases.reports.rollup, from the same cells as ReportHour."""

    day = models.DateField()
    hour = models.SmallIntegerField(default=-1)
    tenant_id = models.IntegerField(null=True)
    dim = models.CharField(max_length=8)
    value = models.CharField(max_length=32, null=True)  # the value as text; NULL: no team / no owner

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "day", "hour", "dim", "value"],
                name="reportslice_one_per_value",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"rollup {self.day} {self.dim}={self.value} tenant {self.tenant_id}: {self.created} cases"


class ReportDirtyDay(models.Model):
    """A day whose rollup is stale: written in the transaction of any change to a case created that
    day (cases.reports.rollup.on_change), deleted by the sweep in the transaction that recomputes
    the day's ReportHour and ReportSlice rows. Until then the report reads the marked hours of that
    day from plain rows (and the day's other hours from the cube)."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    # The changed case's creation hour (UTC): a report reads only the marked hours of a stale day
    # from plain rows. None: the whole day (a marker from before hours were kept).
    hour = models.SmallIntegerField(null=True, blank=True)
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["day"], name="reportdirty_day_idx")]

    def __str__(self):
        return f"rollup of {self.day} to recompute"
