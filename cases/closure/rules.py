"""The closure rules as plain functions (no ORM): what resolving needs, when a resolved case closes
by itself, what counts as a low satisfaction score. Tested without a database."""

from __future__ import annotations

from datetime import datetime, timedelta

# The resolution record (seed 003 "resolution summary, evidence, and preventive actions captured";
# seed 001's resolution template: root cause, solution, verification), in the order the form asks.
RESOLUTION_FIELDS: tuple[tuple[str, str], ...] = (
    ("summary", "Resolution summary"),
    ("root_cause", "Root cause"),
    ("solution", "Solution"),
    ("verification", "Verification"),
    ("evidence", "Evidence"),
    ("preventive_actions", "Preventive actions"),
)
RESOLUTION_LABELS = dict(RESOLUTION_FIELDS)
# Required for critical and high cases (priority 1 and 2): what a reviewer needs to trust the fix.
REQUIRED_FIELDS = ("summary", "evidence", "preventive_actions")
REQUIRED_PRIORITIES = (1, 2)
FIELD_MAX_CHARS = 4000

DEFAULT_AUTO_CLOSE_DAYS = 7
# How a case was closed (kept on the status entry and on the Closure row).
CONFIRMED, AUTO, UNCONFIRMED = "confirmed", "auto", "unconfirmed"
CLOSED_HOW = {
    CONFIRMED: "confirmed by the customer",
    AUTO: "closed automatically",
    UNCONFIRMED: "closed without the customer's confirmation",
}

# Seed 003 "Feedback emissions": every closing emits to one backlog, chosen from the case's
# classification and confirmed (or changed) by the agent at close; an auto-close emits by the
# classification alone. The status entry carries the choice (`feedback`, `feedback_confirmed`); the
# backlogs themselves live above cases (incidents/escalations listens to the entry).
RELIABILITY, PRODUCT, DOCS, NO_FEEDBACK = "reliability", "product", "docs", "none"
FEEDBACK = {
    RELIABILITY: "Reliability backlog (a defect)",
    PRODUCT: "Product backlog (a feature gap)",
    DOCS: "Docs backlog (a missing guide)",
    NO_FEEDBACK: "No feedback",
}

CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)
# A low score notifies the team manager: CSAT 1–2 ("dissatisfied") or an NPS detractor (0–6).
LOW_CSAT_MAX = 2
NPS_DETRACTOR_MAX = 6
SURVEY_EDIT_WINDOW = timedelta(hours=24)


def clean_resolution(values: dict | None) -> dict[str, str]:
    """The resolution fields given, whitespace-trimmed and bounded; unknown keys are dropped."""
    values = values or {}
    out = {}
    for name, _label in RESOLUTION_FIELDS:
        text = str(values.get(name) or "").strip()[:FIELD_MAX_CHARS]
        if text:
            out[name] = text
    return out


def resolution_problems(priority: int, resolution: dict[str, str]) -> list[str]:
    """The labels of the required fields still empty (critical and high only)."""
    if int(priority) not in REQUIRED_PRIORITIES:
        return []
    return [RESOLUTION_LABELS[name] for name in REQUIRED_FIELDS if not resolution.get(name)]


def resolution_text(resolution: dict[str, str]) -> str:
    """The resolution as the timeline shows it: one "Label: text" paragraph per field given."""
    return "\n".join(
        f"{RESOLUTION_LABELS[name]}: {resolution[name]}" for name, _ in RESOLUTION_FIELDS if name in resolution
    )


def auto_close_at(resolved_at: datetime, days: int | None) -> datetime:
    """When a case resolved at `resolved_at` closes by itself (calendar days, default 7)."""
    return resolved_at + timedelta(days=days if days and days > 0 else DEFAULT_AUTO_CLOSE_DAYS)


def is_low_score(csat: int | None, nps: int | None) -> bool:
    return (csat is not None and csat <= LOW_CSAT_MAX) or (nps is not None and nps <= NPS_DETRACTOR_MAX)


def nps_group(nps: int | None) -> str:
    """promoter (9–10), passive (7–8), detractor (0–6) or "" when not answered."""
    if nps is None:
        return ""
    return "promoter" if nps >= 9 else "passive" if nps >= 7 else "detractor"


def survey_editable(first_answered_at: datetime | None, now: datetime) -> bool:
    """An answer can be changed for 24 h after it was first given; a survey not answered yet can be."""
    return first_answered_at is None or now - first_answered_at <= SURVEY_EDIT_WINDOW


def feedback_for(category: str, issue_type: str) -> str:
    """The backlog a closing emits to by its classification: a feature request → product, missing
    documentation → docs, a bug or an incident → reliability, anything else → none."""
    if category == "feature_request":
        return PRODUCT
    if category == "documentation":
        return DOCS
    if issue_type in ("bug", "incident"):
        return RELIABILITY
    return NO_FEEDBACK
