"""The incident vocabulary: severities (seed 004's meanings), the lifecycle as data, roles, the kinds
of timeline entry, and the update cadence presets (seed 004: SEV1 hourly, SEV2 twice a day; seed 001:
"keep customer updated every 30 minutes")."""

from __future__ import annotations

from django.db import models


class Severity(models.TextChoices):
    SEV1 = "SEV1", "SEV1"
    SEV2 = "SEV2", "SEV2"
    SEV3 = "SEV3", "SEV3"


# Seed 004's escalation matrix, shown beside the severity wherever it is chosen.
SEVERITY_HELP = {
    Severity.SEV1: "Complete outage (e.g. message delivery down): page on-call, notify stakeholders, hourly updates.",
    Severity.SEV2: "Degraded performance (queue backlog, telemetry failures): incident commander, status page, "
    "twice-daily updates.",
    Severity.SEV3: "Non-blocking UI/CLI issue: next sprint, communicate an ETA to the customer.",
}


class CadenceKind(models.TextChoices):
    """The two marks of an update cadence clock, the incident's (CadenceMark) and the engineering
    task's (escalations' TaskCadenceMark): one enum for both."""

    WARNING = "warning", "Update due soon"
    BREACH = "breach", "Update overdue"


class Status(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MITIGATING = "mitigating", "Mitigating"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


ACTIVE = [Status.INVESTIGATING, Status.IDENTIFIED, Status.MITIGATING, Status.MONITORING]

# The lifecycle: every move not listed is refused by incident_update_status. Forward moves may skip
# a step (a fix found at once); monitoring may fall back to mitigating; resolved reopens.
TRANSITIONS: dict[str, list[str]] = {
    Status.INVESTIGATING: [Status.IDENTIFIED, Status.MITIGATING, Status.MONITORING, Status.RESOLVED],
    Status.IDENTIFIED: [Status.MITIGATING, Status.MONITORING, Status.RESOLVED],
    Status.MITIGATING: [Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED],
    Status.MONITORING: [Status.MITIGATING, Status.RESOLVED],
    Status.RESOLVED: [Status.INVESTIGATING],
}


def transition_label(was: str, to: str) -> str:
    if was == Status.RESOLVED:
        return "Reopen"
    return {Status.RESOLVED: "Resolve"}.get(to, Status(to).label)


class Role(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    COMMS_LEAD = "comms_lead", "Communications lead"


class EntryKind(models.TextChoices):
    DECLARED = "declared", "Declared"
    STATUS = "status", "Status change"
    SEVERITY = "severity", "Severity change"
    ROLE = "role", "Role change"
    UPDATE = "update", "Update"
    NOTE = "note", "Internal note"
    LINK = "link", "Case linked"
    UNLINK = "unlink", "Case unlinked"
    ACTION = "action", "Corrective action"
    POSTMORTEM = "postmortem", "Postmortem"
    CUSTOMERS = "customers", "Customer update"
    CADENCE = "cadence", "Update cadence"
    FIELDS = "fields", "Details changed"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


# Minutes between updates, by severity (seed 004); None: no cadence clock.
DEFAULT_CADENCE_MINUTES: dict[str, int | None] = {Severity.SEV1: 60, Severity.SEV2: 12 * 60, Severity.SEV3: None}
CADENCE_PRESETS = {
    "seed-004": DEFAULT_CADENCE_MINUTES,
    "seed-001": {Severity.SEV1: 30, Severity.SEV2: 30, Severity.SEV3: 30},  # "every 30 minutes"
}
# The commander is warned this long before an update is due.
CADENCE_WARN_MINUTES = 10

# Case priority -> incident severity when a case has no severity (admins edit SeverityMapping).
DEFAULT_SEVERITY_BY_PRIORITY = {1: Severity.SEV1, 2: Severity.SEV2, 3: Severity.SEV3, 4: Severity.SEV3}

TITLE_MAX = 250
TEXT_MAX = 10_000
