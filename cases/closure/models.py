"""Closure's rows: the auto-close timer of each resolution and one Closure (with its survey answer)
per time a case closed. Imported by cases.models, so Django sees them as the `cases` app's. Neither
writes the case row or its timeline: that is cases.services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .rules import CLOSED_HOW


def _case_created_at(case_id: int):
    from django.apps import apps

    return apps.get_model("cases", "Case").objects.values_list("created_at", flat=True).get(pk=case_id)


class AutoClose(models.Model):
    """The timer of one resolution: a resolved case closes by itself at `due_at` unless the customer
    answers first. One row per resolution (case × resolved_at, unique), swept by beat
    (cases.closure.sweep); a reopen or a close ends it. `asked_at`: when "is this solved?" went out."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="auto_closes")
    # The case's created_at (it never changes), copied so the reports select a cohort's rows by index.
    case_created_at = models.DateTimeField()
    resolved_at = models.DateTimeField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    # When the case was reopened after this resolution (from resolved, or later from closed): the
    # reports' reopen rate and "reopened within 7 days" (seed 002: target < 5 %) count these.
    reopened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "resolved_at"], name="autoclose_one_per_resolution")]
        indexes = [
            models.Index(fields=["due_at", "id"], name="autoclose_pending_idx", condition=Q(state="pending")),
            models.Index(fields=["case", "-resolved_at"], name="autoclose_case_idx"),
            models.Index(fields=["case_created_at"], name="autoclose_cohort_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.case_created_at is None:
            self.case_created_at = _case_created_at(self.case_id)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"auto-close of case {self.case_id} at {self.due_at:%Y-%m-%d %H:%M} ({self.state})"


class Closure(models.Model):
    """One time a case closed: how (confirmed by the customer, automatically, or by an agent without
    confirmation: seed 002 lists that as a mistake; the reports count it) and the satisfaction survey
    sent for it, with its one answer (CSAT 1–5, optional NPS 0–10 and a comment; editable for 24 h)."""

    class How(models.TextChoices):
        CONFIRMED = "confirmed", CLOSED_HOW["confirmed"]
        AUTO = "auto", CLOSED_HOW["auto"]
        UNCONFIRMED = "unconfirmed", CLOSED_HOW["unconfirmed"]

    class Credit(models.TextChoices):
        NONE = "", "No credit question"
        PENDING = "pending", "Credit decision pending"
        APPROVED = "approved", "Credit approved"
        DECLINED = "declined", "Credit declined"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="closures")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    case_created_at = models.DateTimeField()  # as on AutoClose: the reports' cohort, by index
    closed_at = models.DateTimeField()
    how = models.CharField(max_length=12, choices=How.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    survey_sent_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 (very dissatisfied) … 5 (very satisfied)"
    )
    nps = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0 … 10: how likely to recommend us")
    comment = models.TextField(blank=True)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    low_score_notified_at = models.DateTimeField(null=True, blank=True)
    # SLA credit (seed 001 "Offer credit if SLA violated"): a closing whose resolution clock breached
    # is flagged for a manager's decision on the tenant's billing, approved or declined, with a note.
    credit = models.CharField(max_length=10, choices=Credit.choices, blank=True, db_default="")
    credit_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    credit_decided_at = models.DateTimeField(null=True, blank=True)
    credit_note = models.CharField(max_length=500, blank=True, db_default="")

    class Meta:
        ordering = ["-closed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "closed_at"], name="closure_one_per_close"),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="closure_csat_range"
            ),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="closure_nps_range"),
        ]
        indexes = [
            models.Index(fields=["closed_at"], name="closure_closed_idx"),
            models.Index(fields=["case_created_at"], name="closure_cohort_idx"),
            models.Index(fields=["tenant", "closed_at"], name="closure_tenant_idx"),
            models.Index(fields=["case", "-closed_at"], name="closure_case_idx"),
            models.Index(fields=["closed_at"], name="closure_credit_pending_idx", condition=Q(credit="pending")),
        ]

    def save(self, *args, **kwargs):
        if self.case_created_at is None:
            self.case_created_at = _case_created_at(self.case_id)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"closure of case {self.case_id} at {self.closed_at:%Y-%m-%d %H:%M} ({self.how})"

    @property
    def answered(self) -> bool:
        return self.csat is not None
