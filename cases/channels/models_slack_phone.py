"""Models of the Slack and phone channels (issue 11 points 4 and 5), imported by cases.models so they
are the `cases` app's. None of them is the case row or its timeline (those are written only by
cases.services); these say where a case lives in Slack and what the agent still owes a phone caller.

- `SlackChannelLink`  an admin's mapping of a Slack workspace (and optionally one channel of it) to
                      a tenant, with the contact to file cases under when the Slack user is unknown
                      and the hours the channel is staffed (seed 001: "#support in business hours").
- `SlackContact`      a Slack user of a workspace who is a known contact (requester) of the tenant.
- `SlackThread`       the Slack message a case came from (channel id and thread ts): replies go there.
- `SlackReply`        a public reply delivered to Slack (its message ts): a retried send does not
                      post it twice.
- `PhoneCallback`     a callback the agent owes after a public reply on a phone case.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SlackChannelLink(models.Model):
    """A Slack workspace (team id `T…`), or one channel of it (`C…`), belongs to a tenant. The most
    specific link wins: the channel's own, else the workspace's (channel left blank)."""

    team_id = models.CharField("Slack workspace id", max_length=32, help_text="e.g. T024BE7LD")
    team_name = models.CharField("workspace name", max_length=100, blank=True)
    channel_id = models.CharField(
        "Slack channel id", max_length=32, blank=True, help_text="e.g. C024BE91L; blank: every channel of the workspace"
    )
    channel_name = models.CharField(max_length=100, blank=True, help_text="e.g. support (for display)")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="slack_links")
    default_requester = models.ForeignKey(
        "tenants.Requester",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Cases from Slack users who are not linked contacts are filed under this contact; "
        "blank: such users are told to ask their account team to link them.",
    )
    calendar = models.ForeignKey(
        "cases.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="When the channel is staffed (seed 001: #support in business hours); blank: the "
        "tenant's SLA calendar, or always.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team_id", "channel_id"]
        constraints = [models.UniqueConstraint(fields=["team_id", "channel_id"], name="slacklink_unique_channel")]
        verbose_name = "Slack channel link"

    def __str__(self):
        where = f"#{self.channel_name or self.channel_id}" if self.channel_id else "all channels"
        return f"{self.team_name or self.team_id} {where} → {self.tenant}"

    def clean(self):
        super().clean()
        if self.default_requester_id and self.tenant_id and self.default_requester.tenant_id != self.tenant_id:
            raise ValidationError({"default_requester": "Choose a contact of the linked tenant."})


class SlackContact(models.Model):
    """A Slack user (`U…`) of a workspace who is a contact of a tenant."""

    team_id = models.CharField("Slack workspace id", max_length=32)
    user_id = models.CharField("Slack user id", max_length=32, help_text="e.g. U0G9QF9C6")
    requester = models.ForeignKey("tenants.Requester", on_delete=models.CASCADE, related_name="slack_contacts")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team_id", "user_id"], name="slackcontact_unique_user")]
        verbose_name = "Slack contact"

    def __str__(self):
        return f"{self.user_id}@{self.team_id} → {self.requester}"


class SlackThread(models.Model):
    """Where in Slack a case lives: the channel and the thread its replies go to. `message_ts` is the
    message the case was made from (a message action), unique per channel so the same message never
    makes two cases; a case opened by slash command has none until its first reply starts a thread."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="slack_thread")
    team_id = models.CharField(max_length=32)
    channel_id = models.CharField(max_length=32)
    message_ts = models.CharField(max_length=32, blank=True)
    thread_ts = models.CharField(max_length=32, blank=True)
    slack_user_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team_id", "channel_id", "message_ts"],
                condition=~Q(message_ts=""),
                name="slackthread_one_case_per_message",
            )
        ]

    def __str__(self):
        return f"{self.channel_id}/{self.thread_ts or '—'} of case {self.case_id}"


class SlackReply(models.Model):
    """A public reply that reached Slack, with the ts Slack gave it. The sender looks here first, so
    the outbox relay retrying a reply it already delivered (it crashed before marking it sent) does
    not post it again."""

    interaction = models.OneToOneField("cases.Interaction", on_delete=models.CASCADE, related_name="slack_reply")
    channel_id = models.CharField(max_length=32)
    ts = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Slack message {self.channel_id}/{self.ts} for interaction {self.interaction_id}"


class PhoneCallback(models.Model):
    """A public reply on a phone case is given by calling the customer back: the agent sees the
    callback on the case page until they mark it done."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="phone_callbacks")
    reply = models.OneToOneField("cases.Interaction", on_delete=models.CASCADE, related_name="phone_callback")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="phone_callbacks"
    )
    phone = models.CharField(max_length=40, blank=True, help_text="The number to call, if known")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["done_at", "created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="phonecallback_case_idx"),
            models.Index(fields=["assigned_to"], name="phonecallback_open_idx", condition=Q(done_at__isnull=True)),
        ]

    def __str__(self):
        return f"Callback for case {self.case_id} ({'done' if self.done_at else 'open'})"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
