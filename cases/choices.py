from django.conf import settings
from django.db import models

from tenants.choices import Channel  # noqa: F401  (re-exported: a case's channel)


class Status(models.TextChoices):
    NEW = "new", "New"
    TRIAGE = "triage", "Triage"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = [Status.NEW, Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER]

# The lifecycle (seed 003): every move not listed here is refused by the transition service.
TRANSITIONS: dict[str, list[str]] = {
    Status.NEW: [Status.TRIAGE],
    Status.TRIAGE: [Status.IN_PROGRESS],
    Status.IN_PROGRESS: [Status.WAITING_ON_CUSTOMER, Status.RESOLVED],
    Status.WAITING_ON_CUSTOMER: [Status.IN_PROGRESS, Status.RESOLVED],
    Status.RESOLVED: [Status.CLOSED, Status.IN_PROGRESS],
    Status.CLOSED: [Status.IN_PROGRESS],
}

# What the button for a move says on the case page.
TRANSITION_LABELS: dict[tuple[str, str], str] = {
    (Status.NEW, Status.TRIAGE): "Accept into triage",
    (Status.TRIAGE, Status.IN_PROGRESS): "Start work",
    (Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER): "Wait on customer",
    (Status.IN_PROGRESS, Status.RESOLVED): "Resolve",
    (Status.WAITING_ON_CUSTOMER, Status.IN_PROGRESS): "Resume work",
    (Status.WAITING_ON_CUSTOMER, Status.RESOLVED): "Resolve",
    (Status.RESOLVED, Status.CLOSED): "Close",
    (Status.RESOLVED, Status.IN_PROGRESS): "Reopen",
    (Status.CLOSED, Status.IN_PROGRESS): "Reopen",
}


def transition_label(was: str, to: str) -> str:
    return TRANSITION_LABELS.get((was, to), Status(to).label)


class WaitingFor(models.TextChoices):
    """What a case waiting on the customer waits for (seed 003: "awaiting logs, approval, or repro
    steps"); "other" comes with a short text."""

    LOGS = "logs", "Logs"
    APPROVAL = "approval", "Approval"
    REPRODUCTION = "reproduction", "Reproduction steps"
    OTHER = "other", "Other"


# The classification a case needs before it can be resolved; a field nobody has set yet is listed
# in `Case.unclassified` (its stored value is the model default, not an answer).
REQUIRED_TO_RESOLVE = ("category", "issue_type", "environment")


class Priority(models.IntegerChoices):
    """Stored as a number so sorting by priority is an index scan; named in URLs and forms."""

    CRITICAL = 1, "Critical"
    HIGH = 2, "High"
    MEDIUM = 3, "Medium"
    LOW = 4, "Low"

    @property
    def slug(self) -> str:
        return self.name.lower()

    @property
    def code(self) -> str:
        return settings.PRIORITY_DISPLAY_CODES.get(self.slug, self.name)

    @classmethod
    def from_slug(cls, value: str) -> "Priority":
        return cls[value.upper()]


PRIORITY_SLUG_CHOICES = [(p.slug, p.label) for p in Priority]


class Severity(models.TextChoices):
    """A case's impact (seed 003 lists priority *and* severity on a case), with seed 004's meanings;
    set at triage beside the priority (the urgency). Blank: not assessed yet."""

    SEV1 = "sev1", "Sev-1"
    SEV2 = "sev2", "Sev-2"
    SEV3 = "sev3", "Sev-3"


SEVERITY_HELP = {
    Severity.SEV1: "Complete outage (e.g. message delivery down)",
    Severity.SEV2: "Degraded performance (queue backlog, telemetry failures)",
    Severity.SEV3: "Non-blocking UI/CLI issue",
}


class Category(models.TextChoices):
    AUTHENTICATION = "authentication", "Authentication"
    VALIDATION = "validation", "Validation"
    PERFORMANCE = "performance", "Performance"
    INTEGRATION = "integration", "Integration"
    DOCUMENTATION = "documentation", "Documentation"
    FEATURE_REQUEST = "feature_request", "Feature request"
    OTHER = "other", "Other"


class IssueType(models.TextChoices):
    BUG = "bug", "Bug"
    QUESTION = "question", "Question"
    CONFIGURATION = "configuration", "Configuration"
    INCIDENT = "incident", "Incident"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"
    DEVELOPMENT = "development", "Development"
    UNKNOWN = "unknown", "Unknown"
