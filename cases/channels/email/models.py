"""Every e-mail in or out, for threading, de-duplication and the unmatched queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def raw_path(instance: EmailMessage, filename: str) -> str:
    return f"email/raw/{timezone.now():%Y/%m/%d}/{instance.pk or 'new'}-{timezone.now():%H%M%S%f}.eml"


class EmailMessage(models.Model):
    """One message. Inbound: what arrived and what became of it. Outbound: the Message-ID we sent
    (the customer's reply names it in In-Reply-To/References, which is how it finds its case)."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class State(models.TextChoices):
        ACCEPTED = "accepted", "On a case"  # a new case or a message on an existing one
        UNMATCHED = "unmatched", "Unmatched"  # waiting for an agent to say whose it is
        ASSIGNED = "assigned", "Assigned"  # was unmatched; an agent assigned it (now on a case)
        IGNORED = "ignored", "Ignored"  # auto-reply, bounce, bulk, a loop
        REJECTED = "rejected", "Rejected"  # unreadable: no sender, malformed
        DISCARDED = "discarded", "Discarded"  # was unmatched; an agent threw it away
        SENT = "sent", "Sent"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    state = models.CharField(max_length=10, choices=State.choices)
    reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text="mta, mailgun, outbox")
    message_id = models.CharField(max_length=998, blank=True, help_text="Without the angle brackets")
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True, help_text="Message-IDs, space separated")
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # For the unmatched queue's page: what the sender wrote (cut) and the attachments' names, taken
    # when the message arrived, so the page never re-reads the (possibly 40 MB) raw copy.
    preview = models.TextField(blank=True)
    attachment_names = models.JSONField(default=list, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    interaction = models.ForeignKey(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    # Kept only while the message waits in the unmatched queue (on a case it is the case's .eml).
    raw = models.FileField(upload_to=raw_path, max_length=300, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["message_id"], name="email_message_id_idx"),
            models.Index(fields=["-created_at"], name="email_unmatched_idx", condition=Q(state="unmatched")),
            models.Index(fields=["case", "direction", "created_at"], name="email_case_idx"),
        ]
        constraints = [
            # A redelivered message (MTA retry, ESP webhook retry) is recognised, never a second case.
            models.UniqueConstraint(
                fields=["message_id"],
                condition=Q(direction="in") & ~Q(message_id=""),
                name="email_inbound_message_id_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.message_id or self.pk}: {self.subject}"
