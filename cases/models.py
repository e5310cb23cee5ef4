from __future__ import annotations

import functools
import os
import re

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from companyos.residency import RegionalFileField
from tenants.choices import Channel

from .choices import OPEN_STATUSES, Category, Environment, IssueType, Priority, Severity, Status, WaitingFor


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="support_teams")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True, help_text="lower-case, e.g. security, billing")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


@functools.cache
def _cases_prefix() -> str:
    return reverse("cases:list")


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Case(models.Model):
    """A customer case. Its human key is CS-<id>. Every write goes through cases.services."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="cases")
    requester = models.ForeignKey("tenants.Requester", on_delete=models.PROTECT, related_name="cases")
    subject = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    issue_type = models.CharField(max_length=20, choices=IssueType.choices, default=IssueType.QUESTION)
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.UNKNOWN)
    # Impact (seed 003/004), beside the priority (urgency); blank until assessed at triage.
    severity = models.CharField(max_length=5, choices=Severity.choices, blank=True, db_default="", default="")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    # Classification fields nobody has set yet (intake left them at the default, a customer's own
    # message never sets them): the priority suggestion ignores them, resolving needs them set.
    unclassified = models.JSONField(default=list, db_default=[], blank=True)
    # While waiting on the customer: what for (seed 003), set by the move to waiting, cleared on leaving it.
    waiting_for = models.CharField(max_length=20, choices=WaitingFor.choices, blank=True, db_default="")
    waiting_note = models.CharField(max_length=200, blank=True, db_default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_cases"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    affected_resources = models.ManyToManyField("tenants.Resource", blank=True, related_name="cases")
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # Requesters of cases merged into this one: they hear what its requester hears.
    followers = models.ManyToManyField("tenants.Requester", blank=True, related_name="followed_cases")

    created_at = models.DateTimeField(default=timezone.now, help_text="opened")
    updated_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    triaged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When an agent marked the impact mitigated (seed 004's "time to mitigate"; case_mark_mitigated).
    mitigated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # SLA: the policy in force, frozen when the case opened (cases.clocks), and a summary of the
    # running clocks kept by every write, so the queue can show and sort by it at a million cases.
    sla_policy = models.ForeignKey(
        "cases.SLAPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    sla_snapshot = models.JSONField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True, help_text="Earliest due time of a running clock")
    sla_risk_at = models.DateTimeField(null=True, blank=True, help_text="Earliest at-risk time of a running clock")
    sla_clock = models.CharField(max_length=20, blank=True, help_text="Kind of the clock that is due first")
    sla_paused = models.BooleanField(default=False, help_text="No clock running, at least one paused")

    # Bumped by every write; a form carries the version it was rendered with, so a stale write is a
    # conflict the user sees instead of a silent overwrite.
    version = models.PositiveIntegerField(default=1)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [
            # The default queue (open cases by priority, oldest first). Its other sorts (updated,
            # stale, age, newest) walk case_updated_idx / case_created_idx below for open and all
            # statuses alike: partial twins of those two went in migration 0009, unused by every plan.
            models.Index(
                fields=["priority", "created_at", "id"],
                name="case_open_prio_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The same for agents, whose queue is always scoped to their tenants.
            models.Index(
                fields=["tenant", "priority", "created_at", "id"],
                name="case_open_tenant_prio_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["owner", "tenant", "priority"],
                name="case_open_owner_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(fields=["status", "priority", "created_at"], name="case_status_prio_idx"),
            models.Index(fields=["status", "status_changed_at"], name="case_status_changed_idx"),
            models.Index(
                fields=["sla_due_at", "id"], name="case_open_sla_due_idx", condition=Q(status__in=OPEN_STATUSES)
            ),
            models.Index(fields=["sla_risk_at"], name="case_open_sla_risk_idx", condition=Q(status__in=OPEN_STATUSES)),
            # A tenant's cases by SLA (the tenant console's Cases panel, the tenant list's counts).
            models.Index(
                fields=["tenant", "sla_due_at"], name="case_open_tenant_due_idx", condition=Q(status__in=OPEN_STATUSES)
            ),
            models.Index(fields=["tenant", "sla_due_at", "id"], name="case_tenant_due_idx"),
            models.Index(fields=["tenant", "status", "priority"], name="case_tenant_status_idx"),
            models.Index(fields=["owner", "status", "priority"], name="case_owner_status_idx"),
            models.Index(fields=["team", "status", "priority"], name="case_team_status_idx"),
            models.Index(fields=["priority", "created_at"], name="case_prio_created_idx"),
            models.Index(fields=["-updated_at"], name="case_updated_idx"),
            models.Index(fields=["created_at"], name="case_created_idx"),
            models.Index(fields=["category", "status"], name="case_category_idx"),
            models.Index(fields=["issue_type", "status"], name="case_issue_type_idx"),
            models.Index(fields=["environment", "status"], name="case_environment_idx"),
            models.Index(fields=["channel", "status"], name="case_channel_idx"),
        ]
        constraints = [
            # A duplicate points at another case of its own tenant: this check refuses itself, the
            # trigger of migration 0050 (PostgreSQL) another tenant's case.
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | ~Q(duplicate_of=models.F("id")), name="case_not_own_duplicate"
            ),
        ]

    def __str__(self):
        return f"{self.key} {self.subject}"

    def clean(self):
        super().clean()
        if self.duplicate_of_id is None:
            return
        if self.duplicate_of_id == self.pk:
            raise ValidationError({"duplicate_of": "A case cannot be a duplicate of itself."})
        if self.duplicate_of.tenant_id != self.tenant_id:
            raise ValidationError({"duplicate_of": "A case can only be a duplicate of a case of the same tenant."})

    @property
    def key(self) -> str:
        return f"{settings.CASE_KEY_PREFIX}-{self.pk}"

    def get_absolute_url(self) -> str:
        # Equivalent to reverse("cases:detail", key=…), without reverse's cost on 50-row queue pages.
        return f"{_cases_prefix()}{self.key}/"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def priority_enum(self) -> Priority:
        return Priority(self.priority)

    @property
    def priority_slug(self) -> str:
        return Priority(self.priority).slug

    @property
    def priority_code(self) -> str:
        return Priority(self.priority).code

    @property
    def missing_classification(self) -> list[str]:
        """The classification fields still to set before the case can be resolved (labels, in order):
        those nobody has set. A value a person chose counts, "Other" and "Unknown" included."""
        from .choices import REQUIRED_TO_RESOLVE

        unset = set(self.unclassified or ())
        return [str(self._meta.get_field(f).verbose_name) for f in REQUIRED_TO_RESOLVE if f in unset]

    @property
    def feedback_backlog(self) -> str:
        """The backlog closing this case would feed by its classification (cases.closure.rules)."""
        from .closure.rules import feedback_for

        return feedback_for(self.category, self.issue_type)

    @property
    def waiting_for_text(self) -> str:
        """ "logs", "approval", … or the agent's own words for "other" (empty unless waiting)."""
        if self.status != Status.WAITING_ON_CUSTOMER or not self.waiting_for:
            return ""
        if self.waiting_for == WaitingFor.OTHER:
            return self.waiting_note or "other"
        return str(WaitingFor(self.waiting_for).label).lower()

    @property
    def allowed_transitions(self) -> list[str]:
        from .choices import TRANSITIONS

        return list(TRANSITIONS.get(self.status, []))


class Interaction(models.Model):
    """One entry of a case's timeline."""

    class Kind(models.TextChoices):
        INBOUND = "inbound", "Customer message"
        REPLY = "reply", "Public reply"
        NOTE = "note", "Internal note"
        STATUS = "status", "Status change"
        ASSIGNMENT = "assignment", "Assignment"
        FIELDS = "fields", "Classification change"
        TAGS = "tags", "Tags"
        ATTACHMENT = "attachment", "Attachment"
        AUTOMATION = "automation", "Automation step"
        CONFIRMATION = "confirmation", "Customer confirmation"
        CALL = "call", "Phone call"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    public = models.BooleanField(default=False, help_text="Visible to the customer")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester = models.ForeignKey(
        "tenants.Requester", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="interaction_case_time_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on case {self.case_id}"

    @property
    def is_message(self) -> bool:
        return self.kind in {self.Kind.INBOUND, self.Kind.REPLY, self.Kind.NOTE, self.Kind.CALL}


def _ascii_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "", text.strip().replace(" ", "_"))


def bounded_filename(name: str, limit: int, *, ascii_only: bool = False) -> str:
    """`name` (a basename) cut to `limit` characters with its extension kept; with `ascii_only`,
    reduced to letters, digits, `-`, `_` and `.` first (a name any disk, path and header can hold)."""
    stem, ext = os.path.splitext(os.path.basename(name or ""))
    if ascii_only:
        stem, ext = _ascii_name(stem).strip("._") or "attachment", _ascii_name(ext.lower())
    ext = ext[:16]
    return stem[: max(limit - len(ext), 1)] + ext


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under the safe name (`Attachment.filename`), never the uploaded one: a 300-character or
    non-ASCII name would overflow the column or the file system's 255-byte limit."""
    return f"attachments/{instance.case_id}/{timezone.now():%Y%m%d%H%M%S}-{instance.filename or 'attachment'}"


class CaseSearch(models.Model):
    """A case's search document: its key and id, subject (weight A), description (B) and the text
    of its public messages and internal notes (the newest first, bounded). Written by PostgreSQL
    triggers on the case and interaction tables (migration 0550), whatever writes them, so it is
    never stale; the queue's search matches it through one GIN index (`cases.search_index`). Not
    used on SQLite (the embedded default searches with LIKE)."""

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="search_doc")
    document = SearchVectorField()

    class Meta:
        indexes = [GinIndex(fields=["document"], name="case_search_doc_idx")]

    def __str__(self):
        return f"search document of case {self.case_id}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    # Stored in its tenant's data region (companyos.residency): `region` names the storage it is in.
    file = RegionalFileField(upload_to=attachment_path, max_length=300, region_field="region")
    region = models.CharField(
        max_length=40, blank=True, default="", help_text="The data region whose storage holds the file ('': default)"
    )
    filename = models.CharField(
        max_length=200, help_text="A safe, bounded name (ASCII, ≤ 100 characters): the stored file's"
    )
    original_name = models.CharField(
        max_length=1000, blank=True, help_text="The name as uploaded (up to 1,000 characters), for display"
    )
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.original_name or self.filename

    @property
    def download_name(self) -> str:
        """What the browser saves it as: the uploaded name, bounded (file systems stop at 255 bytes)."""
        return bounded_filename(self.display_name, 120)


class SavedView(models.Model):
    """A named filter set of the queue: personal (owner set), shared by an admin, or built in."""

    name = models.CharField(max_length=80)
    query = models.CharField(
        max_length=1000, blank=True, help_text="The queue's URL query string, e.g. status=open&owner=me"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    columns = models.JSONField(
        default=list,
        blank=True,
        help_text='The optional columns this view shows, e.g. ["requester", "updated"]; empty: the defaults',
    )
    shared = models.BooleanField(default=False, help_text="Shown to everyone (admins only)")
    builtin = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-builtin", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedview_unique_name_per_owner"),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(shared=True) | Q(builtin=True), name="savedview_owned_or_shared"
            ),
        ]

    def __str__(self):
        return self.name


class CaseContext(models.Model):
    """What was true about the tenant when the case arrived (auto-enrichment): health, alerts firing on
    its resources, incidents, similar recent cases, recent deployments, and a suggested priority with
    its reasons. A refresh adds a new snapshot; the agent's accept/override is recorded on it."""

    class Decision(models.TextChoices):
        PENDING = "", "Pending"
        ACCEPTED = "accepted", "Accepted"
        OVERRIDDEN = "overridden", "Overridden"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contexts")
    taken_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)
    suggested_priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    reasons = models.JSONField(default=list)
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    decided_priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["case", "-taken_at"], name="casecontext_case_idx")]

    def __str__(self):
        return f"Context of case {self.case_id} at {self.taken_at:%Y-%m-%d %H:%M}"


from .channels.models_slack_phone import PhoneCallback, SlackChannelLink, SlackContact, SlackReply, SlackThread  # noqa: E402,F401,I001
from .channels.zendesk.models import (  # noqa: E402,F401,E501
    ZendeskChange,
    ZendeskComment,
    ZendeskLink,
    ZendeskMapping,
    ZendeskSyncState,
    ZendeskWebhookEvent,
)
from .channels.email.models import EmailMessage  # noqa: E402,F401  (the e-mail channel's, cases/channels/email)
from .channels.models import OutboundReply  # noqa: E402,F401  (the reply outbox, cases/channels)
from .reports.export_models import WeeklyExport  # noqa: E402,F401  (the stored weekly report, cases/reports)
from .erasure_models import Erasure  # noqa: E402,F401  (cases.erasure's record)
from .channels.api_webhook import ReplyWebhook  # noqa: E402,F401  (API/CLI replies' webhook, cases/channels)
from .closure.models import AutoClose, Closure  # noqa: E402,F401  (closure and surveys, cases/closure)
from .reports.models import ReportDirtyDay, ReportHour, ReportSlice  # noqa: E402,F401  (the reports' rollups, cases/reports)
from .sla.models import (  # noqa: E402,F401  (models of this app, kept in their own module)
    BusinessCalendar,
    Notification,
    SLAClock,
    SLAEscalation,
    SLAPolicy,
    SLAPolicyRule,
    calendar_from_snapshot,
)
