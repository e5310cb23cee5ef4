"""The engineering task's lifecycle as data, and the update cadence presets (seed 003: "every 4 hrs
for P0, daily for P1", P0/P1 being our critical/high)."""

from __future__ import annotations

from django.db import models


class TaskStatus(models.TextChoices):
    OPEN = "open", "Waiting for engineering"
    ACCEPTED = "accepted", "Accepted"
    INFO_REQUESTED = "info_requested", "More information asked"
    REJECTED = "rejected", "Rejected"
    DONE = "done", "Done"


# From → the statuses a decision may move a task to. An answer to "more information" moves it back
# to open (the support side's `task_answer`); a rejected or done task is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    TaskStatus.OPEN: (TaskStatus.ACCEPTED, TaskStatus.INFO_REQUESTED, TaskStatus.REJECTED),
    TaskStatus.ACCEPTED: (TaskStatus.INFO_REQUESTED, TaskStatus.DONE),
    TaskStatus.INFO_REQUESTED: (TaskStatus.ACCEPTED, TaskStatus.REJECTED),
    TaskStatus.REJECTED: (),
    TaskStatus.DONE: (),
}
ACTIVE_TASK = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.INFO_REQUESTED)
# A reason is required for these decisions (what support must add, why engineering says no).
NEEDS_REASON = (TaskStatus.INFO_REQUESTED, TaskStatus.REJECTED)

DECISION_LABEL = {
    TaskStatus.ACCEPTED: "Accept",
    TaskStatus.INFO_REQUESTED: "Ask for more information",
    TaskStatus.REJECTED: "Reject",
    TaskStatus.DONE: "Mark done",
}


class TaskEntryKind(models.TextChoices):
    CREATED = "created", "Escalated"
    DECISION = "decision", "Decision"
    UPDATE = "update", "Update"
    ANSWER = "answer", "Information added"
    CADENCE = "cadence", "Update cadence"


# Minutes between engineering updates by case priority (1 critical, 2 high); medium and low: none.
CADENCE_MINUTES: dict[int, int] = {1: 4 * 60, 2: 24 * 60}
CADENCE_WARN_MINUTES = 30  # "update due soon" this long before the due time

# Seed 002 "Escalations rejected by engineering (should be <10%)".
REJECTION_TARGET_PCT = 10

TEXT_MAX = 20_000
