"""The reply outbox: one row per public reply that leaves through its case's channel.

Written by the change listener (`cases.channels.outbox.on_change`) inside the transaction that
writes the reply, relayed by a beat-swept task (`cases.channels.outbox.relay_replies`) with a lease,
retries and backoff, the shape of `cases.sla.models.Notification`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.choices import Channel


class OutboundReply(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # out of attempts: a person has to look

    interaction = models.OneToOneField("cases.Interaction", on_delete=models.CASCADE, related_name="outbound")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="outbound_replies")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set while a relay has it: another run leaves it alone until the lease runs out.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # What the channel calls the message it delivered (an e-mail's Message-ID, a Slack ts).
    external_id = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["send_after", "id"],
                name="outboundreply_pending_idx",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.channel} reply {self.interaction_id} of case {self.case_id}"

    @property
    def status(self) -> str:
        if self.sent_at:
            return self.Status.SENT
        if self.failed_at:
            return self.Status.FAILED
        if self.lease_until and self.lease_until > timezone.now():
            return self.Status.SENDING
        return self.Status.PENDING
