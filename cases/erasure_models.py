"""The record of an erasure (cases.erasure): who erased which contact, when and why."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Erasure(models.Model):
    """That a contact was erased: by whom, when and why (never what they were)."""

    requester_id = models.BigIntegerField(db_index=True)
    tenant_id = models.BigIntegerField()
    erased_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500)
    cases = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    attachments = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "cases"

    def __str__(self):
        return f"erasure of contact {self.requester_id}"
