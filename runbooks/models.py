"""The knowledge side of the console: runbooks (with ordered steps and version history), the
error-code catalogue, knowledge-base articles, known issues and macros. Every write goes through
runbooks.services; the case and its timeline are written by cases.services only."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.choices import Category

from .choices import ArticleCategory, ArticleStatus, KnownIssueStatus, MacroKind, MacroVisibility

REVIEW_DAYS = 180  # a runbook not reviewed for this long is flagged "review due"


class Runbook(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="Markdown; raw HTML is not rendered")
    body_html = models.TextField(blank=True, editable=False, help_text="The body rendered and sanitised")
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    tags = models.JSONField(default=list, blank=True)
    internal = models.BooleanField(default=True, help_text="Staff only (never linked in customer replies)")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateField(null=True, blank=True)
    review_days = models.PositiveSmallIntegerField(default=REVIEW_DAYS)
    version = models.PositiveIntegerField(default=1)
    search = SearchVectorField(null=True, editable=False)
    # Title, summary and tags only: what the case page's suggestions match a subject against (a small
    # index, so the candidates to rank stay few even in a big library).
    search_head = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        indexes = [
            # fastupdate off: without it new entries wait in the index's pending list, which every
            # search reads in full until a vacuum merges it (10 ms a query at 10,000 runbooks). The
            # library is read far more often than it is written.
            GinIndex(fields=["search"], name="runbook_search_idx", fastupdate=False),
            GinIndex(fields=["search_head"], name="runbook_search_head_idx", fastupdate=False),
            models.Index(fields=["category", "-updated_at"], name="runbook_category_idx"),  # suggestions
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        return f"/runbooks/{self.slug}/"

    @property
    def review_due(self) -> bool:
        if self.reviewed_at is None:
            return True
        return timezone.localdate() - self.reviewed_at > timedelta(days=self.review_days)


class RunbookStep(models.Model):
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)

    class Meta:
        ordering = ["runbook", "position"]
        constraints = [models.UniqueConstraint(fields=["runbook", "position"], name="runbookstep_unique_position")]

    def __str__(self):
        return f"{self.position}. {self.title}"


class RunbookRevision(models.Model):
    """What a runbook was after each save: who changed what, when; restore brings one back."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    steps = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    changed = models.JSONField(default=list, help_text="the fields this save changed")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["runbook", "-version"]
        constraints = [models.UniqueConstraint(fields=["runbook", "version"], name="runbookrevision_unique_version")]

    def __str__(self):
        return f"{self.runbook_id} v{self.version}"


class RunbookExecution(models.Model):
    """A runbook step marked executed on a case (once per case); the case's timeline has its entry."""

    step = models.ForeignKey(RunbookStep, on_delete=models.CASCADE, related_name="executions")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="runbook_executions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    executed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["step", "case"], name="runbookexecution_once_per_case")]
        indexes = [models.Index(fields=["case", "step"], name="runbookexec_case_idx")]

    def __str__(self):
        return f"step {self.step_id} on case {self.case_id}"


class CaseRunbook(models.Model):
    """A runbook linked to a case (a macro's action, or an agent's choice): the case's related runbooks."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="runbook_links")
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="case_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "runbook"], name="caserunbook_unique")]

    def __str__(self):
        return f"{self.runbook_id} on case {self.case_id}"


class ErrorCode(models.Model):
    """One entry of the error-code catalogue (importable from a product's docs/errors.md)."""

    code = models.CharField(max_length=60, unique=True)
    title = models.CharField(max_length=200, blank=True)
    meaning = models.TextField(blank=True)
    remediation = models.TextField(blank=True)
    runbook = models.ForeignKey(Runbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="error_codes")
    source = models.CharField(max_length=200, blank=True, help_text="the file it was imported from")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    category = models.CharField(max_length=20, choices=ArticleCategory.choices)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="Markdown; raw HTML is not rendered")
    body_html = models.TextField(blank=True, editable=False)
    tags = models.JSONField(default=list, blank=True)
    search = SearchVectorField(null=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "title"]
        indexes = [GinIndex(fields=["search"], name="article_search_idx", fastupdate=False)]  # as Runbook's

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        return f"/runbooks/kb/{self.slug}/"


class ArticleRevision(models.Model):
    """What an article was after each save (the console's editor): who changed what, when; restore
    brings one back as a new version."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=ArticleCategory.choices)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    tags = models.JSONField(default=list)
    changed = models.JSONField(default=list, help_text="the fields this save changed")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-version"]
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="articlerevision_unique_version")]

    def __str__(self):
        return f"{self.article_id} v{self.version}"


class KnownIssue(models.Model):
    title = models.CharField(max_length=200)
    component = models.CharField(max_length=100, blank=True, help_text="e.g. ingestion API")
    symptoms = models.TextField(blank=True)
    message_patterns = models.TextField(
        blank=True, help_text="phrases of the error message, one per line; any found in a case's text matches"
    )
    error_codes = models.JSONField(default=list, blank=True)
    endpoint = models.CharField(max_length=200, blank=True, help_text="e.g. /v1/ingest")
    affected_versions = models.JSONField(default=list, blank=True)
    workaround = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=KnownIssueStatus.choices, default=KnownIssueStatus.OPEN)
    fixed_in = models.CharField(max_length=40, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    engineering_task = models.CharField(max_length=200, blank=True, help_text="e.g. ENG-4411 or a URL")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="known_issues"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["status", "-updated_at"]

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        return f"/runbooks/known-issues/{self.pk}/"

    @property
    def patterns(self) -> list[str]:
        return [p.strip() for p in (self.message_patterns or "").splitlines() if len(p.strip()) >= 3]


class KnownIssueCase(models.Model):
    """A case linked to a known issue ("close as known issue"); `notified_at` once its customer was
    told of the fix."""

    known_issue = models.ForeignKey(KnownIssue, on_delete=models.CASCADE, related_name="case_links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="known_issue_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["known_issue", "case"], name="knownissuecase_unique")]

    def __str__(self):
        return f"{self.known_issue_id} on case {self.case_id}"


class Macro(models.Model):
    """A canned public reply or internal note (a template of companyos.customer_text) plus actions.
    `actions` is a list of {"type": …, …} (runbooks.actions); the match fields say which cases it is
    suggested for."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=10, choices=MacroKind.choices, default=MacroKind.REPLY)
    body = models.TextField(blank=True, help_text="The text, with variables like {{ customer_name }}")
    actions = models.JSONField(default=list, blank=True)
    visibility = models.CharField(max_length=10, choices=MacroVisibility.choices, default=MacroVisibility.SHARED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    runbook = models.ForeignKey(Runbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="macros")
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="macros")
    builtin = models.SlugField(max_length=60, null=True, blank=True, unique=True, help_text="a built-in's key")
    # What it is suggested for.
    categories = models.JSONField(default=list, blank=True)
    issue_types = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    error_codes = models.JSONField(default=list, blank=True)
    signals = models.JSONField(
        default=list, blank=True, help_text="any of firing_alerts, recent_deployment, known_issue, new_case"
    )
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility="personal") | Q(owner__isnull=False), name="macro_personal_has_owner"
            ),
            models.CheckConstraint(condition=~Q(visibility="team") | Q(team__isnull=False), name="macro_team_has_team"),
        ]

    def __str__(self):
        return self.name


class MacroUse(models.Model):
    """A macro applied on a case: by whom, when, and whether it had been suggested there."""

    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="uses")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="macro_uses")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    suggested = models.BooleanField(default=False)
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["case", "macro"], name="macrouse_case_idx")]

    def __str__(self):
        return f"{self.macro_id} on case {self.case_id}"


class MacroSuggestion(models.Model):
    """A macro suggested on a case (recorded once per case), and whether it was then applied: the
    hit rate per macro on the managers' report."""

    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="suggestions")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="macro_suggestions")
    reason = models.CharField(max_length=200, blank=True)
    shown_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "macro"], name="macrosuggestion_once_per_case")]
        indexes = [models.Index(fields=["macro", "applied_at"], name="macrosuggestion_macro_idx")]

    def __str__(self):
        return f"{self.macro_id} suggested on case {self.case_id}"


# The triage copilot's rows live with its code (runbooks/copilot/models.py).
from .copilot.models import CopilotAssessment, CopilotDecision, CopilotModel, CopilotSetting  # noqa: E402, F401
from .diagnostics.models import BundleStatus, CollectorRun, Evidence, TraceBundle  # noqa: E402,F401  (found by Django here)
