"""The Zendesk sync's tables: the link of a case to its ticket, the outbox of changes, the map of
comments both ways, the admin's field mapping, the relay's and the export's state, and the webhook
deliveries received. The case row and its timeline are still written only by `cases.services`."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ZendeskLink(models.Model):
    """A case linked to a Zendesk ticket. `ticket_id` is empty until the ticket is created (the
    create is a change in the outbox, keyed by `external_id`). `last_seen` is the ticket's state as
    we last knew it (what we pushed, or what Zendesk told us): an inbound field applies only when
    Zendesk's value differs from it, so the echo of our own push changes nothing."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="zendesk_link")
    ticket_id = models.BigIntegerField(null=True, blank=True, unique=True)
    external_id = models.CharField(max_length=100, unique=True, help_text="Our key on the ticket (external_id)")
    requester_zendesk_id = models.BigIntegerField(null=True, blank=True)
    last_seen = models.JSONField(default=dict, blank=True)
    synced_updated_at = models.DateTimeField(null=True, blank=True, help_text="The ticket's updated_at last applied")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Zendesk link"

    def __str__(self):
        return f"case {self.case_id} ↔ Zendesk #{self.ticket_id or '(creating)'}"


class ZendeskChange(models.Model):
    """The outbox: one row per change to carry to Zendesk, written in the transaction that made the
    change (a `cases.changes` listener). The relay sends a case's changes one at a time in order
    (a later one waits while an earlier one is pending or dead), so comments arrive in order.
    `uuid` is the change's idempotency key and the marker it carries to Zendesk (the ticket's
    Idempotency-Key on create, the audit's custom metadata on updates)."""

    class Kind(models.TextChoices):
        CREATE = "create", "Create ticket"
        COMMENT = "comment", "Comment"
        UPDATE = "update", "Update fields"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Sent"
        DEAD = "dead", "Dead (gave up)"
        DISCARDED = "discarded", "Discarded"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="zendesk_changes")
    link = models.ForeignKey(ZendeskLink, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    interaction = models.ForeignKey(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    # A previous attempt may have reached Zendesk (a timeout, a 5xx, a crash mid-send): look before
    # sending again (the ticket by external_id, the comment by its marker).
    maybe_applied = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    audit_id = models.BigIntegerField(null=True, blank=True, help_text="The Zendesk audit our update made")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    stuck_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], name="zdchange_due_idx", condition=Q(state="pending")),
            models.Index(
                fields=["case", "id"], name="zdchange_case_open_idx", condition=Q(state__in=["pending", "dead"])
            ),
            models.Index(fields=["audit_id"], name="zdchange_audit_idx", condition=Q(audit_id__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for case {self.case_id} ({self.state})"


class ZendeskComment(models.Model):
    """A Zendesk comment and the timeline entry it is: the unique `comment_id` makes an inbound
    comment land once however often the webhook and the export bring it, and records ours (sent)
    so their echo is recognised."""

    class Direction(models.TextChoices):
        IN = "in", "From Zendesk"
        OUT = "out", "To Zendesk"

    link = models.ForeignKey(ZendeskLink, on_delete=models.CASCADE, related_name="comments")
    comment_id = models.BigIntegerField(unique=True)
    interaction = models.ForeignKey(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Zendesk comment {self.comment_id} ({self.direction})"


def default_status_out() -> dict:
    return {
        "new": "new",
        "triage": "open",
        "in_progress": "open",
        "waiting_on_customer": "pending",
        "resolved": "solved",
        "closed": "solved",
    }


def default_status_in() -> dict:
    return {
        "new": "",
        "open": "in_progress",
        "pending": "waiting_on_customer",
        "hold": "in_progress",
        "solved": "resolved",
        "closed": "closed",
    }


def default_priority_out() -> dict:
    return {"critical": "urgent", "high": "high", "medium": "normal", "low": "low"}


def default_priority_in() -> dict:
    return {"urgent": "critical", "high": "high", "normal": "medium", "low": "low"}


class ZendeskMapping(models.Model):
    """The admin's field mapping (one row): our status and priority to Zendesk's and back, and the
    Zendesk custom fields that carry the case key and the classification. `version` guards the
    admin page against two admins saving over each other."""

    status_out = models.JSONField(default=default_status_out)
    status_in = models.JSONField(default=default_status_in)
    priority_out = models.JSONField(default=default_priority_out)
    priority_in = models.JSONField(default=default_priority_in)
    custom_fields = models.JSONField(
        default=dict, blank=True, help_text='Our field → Zendesk custom field id, e.g. {"case_key": 360001}'
    )
    sync_tags = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Zendesk field mapping"

    def __str__(self):
        return "Zendesk field mapping"


class ZendeskSyncState(models.Model):
    """The machine state (one row): the relay's pause (after a 429's Retry-After, or while Zendesk
    is unreachable) and the incremental export's cursor."""

    paused_until = models.DateTimeField(null=True, blank=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive unreachable/429 answers")
    last_error = models.TextField(blank=True)
    export_cursor = models.CharField(max_length=500, blank=True)
    export_start_time = models.BigIntegerField(null=True, blank=True)
    export_ran_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return "Zendesk sync state"


class ZendeskWebhookEvent(models.Model):
    """A webhook delivery, kept by its event id so a redelivered event is processed once. Its
    ticket is pulled after commit; one not yet processed (Zendesk was down when we pulled) is
    retried by the beat sweep."""

    event_id = models.CharField(max_length=200, unique=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["received_at"], name="zdwebhook_unprocessed_idx", condition=Q(processed_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"Zendesk webhook {self.event_id}"
