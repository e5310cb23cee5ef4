"""The SLA tables of the seeds as plain data (no ORM), for admins to load as a policy in one click.

`PRESETS[key]` is a dict with
* `name` (what the preset is, as admins see it), `description` (one or two sentences a customer's
  admin understands: what the targets are, in what time), and, for us only and never shown in the
  console, `source` (where the numbers come from) and `notes` (every reading we had to make);
* `priority_map`: the seed's own labels -> our priorities (`critical`, `high`, `medium`, `low`,
  the slugs of `cases.choices.Priority`);
* `columns`: {column key: {"name": ..., "policy_name": ..., "description": ..., "targets": {priority:
  {kind: Target | None}}}} (`policy_name`, the name a loaded column gets; `description`, the policy's
  description, falling back to the preset's) where kind is
  `first_response`, `resolution` or `update` (the update cadence) and None means "the seed gives no
  such target" (no clock runs);
* optionally per column `channel_targets`: {channel: {priority: Target}}, first-response targets
  for cases on that channel (seed 001's table); a priority a channel does not list falls back to
  the column's own first-response target;
* optionally per column `severity_targets`: {severity: {"acknowledge": Target, "mitigate": Target}},
  targets keyed on the case's impact severity (`sev1`..`sev3`, `cases.choices.Severity`) rather than
  its priority (seed 004's SLA records);
* `default_column` and `tiers` (support tier -> column; seed 003's Premium/Enterprise column serves
  both tiers).

A `Target` is (amount, unit, business): unit is one of UNITS; `business` says whether the duration
counts business time on the policy's calendar or calendar (24x7) time. `preset_targets()` turns a
column into timedeltas, converting business days at the calendar's `hours_per_day`.

Priority mapping: seed 003 P0..P3, seed 002 P1..P4 and seed 001 Critical..Low map in order onto
critical, high, medium, low. Seed 004 has only Sev-1..3 (critical, high, medium); `low` reuses
Sev-3's targets, the lowest the seed defines, so every priority has a clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

PRIORITIES = ("critical", "high", "medium", "low")
KINDS = ("first_response", "resolution", "update")
SEVERITIES = ("sev1", "sev2", "sev3")
SEVERITY_KINDS = ("acknowledge", "mitigate")
UNITS = ("minutes", "hours", "business_days", "calendar_days")
DEFAULT_PRESET = "seed-003"
DEFAULT_HOURS_PER_DAY = timedelta(hours=8)


class Target(NamedTuple):
    amount: float
    unit: str
    business: bool

    def duration(self, hours_per_day: timedelta = DEFAULT_HOURS_PER_DAY) -> timedelta:
        """The target as a duration; business days count `hours_per_day` each (calendar days 24 h)."""
        if self.unit == "minutes":
            return timedelta(minutes=self.amount)
        if self.unit == "hours":
            return timedelta(hours=self.amount)
        if self.unit == "business_days":
            return (hours_per_day if self.business else timedelta(hours=24)) * self.amount
        if self.unit == "calendar_days":
            return timedelta(days=self.amount)
        raise ValueError(f"unknown unit {self.unit!r}")


def _b(amount: float, unit: str) -> Target:
    return Target(amount, unit, True)


def _c(amount: float, unit: str) -> Target:
    return Target(amount, unit, False)


def _row(first_response, resolution, update) -> dict:
    return {"first_response": first_response, "resolution": resolution, "update": update}


# -- seed 003: Case & Escalation Model v0, "SLA Targets (example)" (the default) ---------------------
_S003_FIRST = {
    "critical": _b(15, "minutes"),
    "high": _b(1, "hours"),
    "medium": _b(4, "hours"),
    "low": _b(1, "business_days"),
}
_S003_UPDATE = {"critical": _b(4, "hours"), "high": _b(1, "business_days"), "medium": None, "low": None}
_S003_STANDARD = {
    "critical": _b(4, "hours"),
    "high": _b(8, "hours"),
    "medium": _b(2, "business_days"),
    "low": _b(5, "business_days"),
}
_S003_PREMIUM = {
    "critical": _b(2, "hours"),
    "high": _b(6, "hours"),
    "medium": _b(1, "business_days"),
    "low": _b(3, "business_days"),
}

# -- seed 002: Support Playbook, "Response Time Guidelines" --------------------------------------
_S002 = {
    "critical": _row(_c(15, "minutes"), _c(4, "hours"), _c(30, "minutes")),
    "high": _row(_c(1, "hours"), _c(8, "hours"), _c(2, "hours")),
    "medium": _row(_c(4, "hours"), _c(72, "hours"), _c(1, "calendar_days")),
    "low": _row(_c(24, "hours"), _c(7, "calendar_days"), None),
}

# -- seed 001: Troubleshooting & Support Operations, "Response Time SLAs" --------------------------
_S001_CRITICAL_UPDATE = _c(30, "minutes")
_S001 = {
    "email": {"critical": _c(15, "minutes"), "high": _c(2, "hours"), "medium": _c(4, "hours"), "low": _c(24, "hours")},
    "slack": {"critical": _c(15, "minutes"), "high": _c(1, "hours"), "medium": _c(4, "hours"), "low": _c(24, "hours")},
    "phone": {"critical": _c(15, "minutes"), "high": None, "medium": None, "low": None},
}

# -- seed 004: Support Runbook, Sev-1..3 --------------------------------------------------------
_S004_SEV = {
    "critical": _row(_c(30, "minutes"), _c(4, "hours"), _c(1, "hours")),
    "high": _row(_c(4, "hours"), _b(1, "business_days"), _c(12, "hours")),
    "medium": _row(_b(1, "business_days"), _b(5, "business_days"), None),
}
# The same two targets keyed on the case's own severity: "Time to acknowledge (within 30 minutes for
# Sev-1, 4 hours for Sev-2, next business day for Sev-3). Time to mitigate (Sev-1: 4 hours, Sev-2: 1
# business day, Sev-3: 5 business days)."
_S004_BY_SEVERITY = {
    "sev1": {"acknowledge": _c(30, "minutes"), "mitigate": _c(4, "hours")},
    "sev2": {"acknowledge": _c(4, "hours"), "mitigate": _b(1, "business_days")},
    "sev3": {"acknowledge": _b(1, "business_days"), "mitigate": _b(5, "business_days")},
}

PRESETS: dict[str, dict] = {
    "seed-003": {
        "name": "Case & escalation model",
        "description": "Business-hours targets by support tier, the console's default: a first response within "
        "15 minutes (critical) to 1 business day (low), and regular updates on critical and high cases.",
        "source": "seed 003 (Case & Escalation Model v0), table 'SLA Targets (example)'; update cadence from "
        "'Engineering escalation: require update cadence (e.g., every 4 hrs for P0, daily for P1)'.",
        "notes": [
            "P0/Critical -> critical, P1/High -> high, P2/Medium -> medium, P3/Low -> low.",
            "All targets count business time: the table mixes 'hrs' with 'biz days', which only reads "
            "consistently on one business calendar. Switch a row to calendar time for 24x7 cover.",
            "First response and update cadence are the same in both columns; Premium/Enterprise only "
            "shortens resolution.",
            "Update cadence: every 4 h (critical), daily = 1 business day (high); the seed gives none "
            "for medium and low (None: no update clock).",
            "First response starts at creation; resolution starts at acceptance into triage and pauses "
            "while waiting on the customer (seed 003, 'SLA clocks').",
        ],
        "priority_map": {"P0": "critical", "P1": "high", "P2": "medium", "P3": "low"},
        "default_column": "standard",
        "tiers": {"standard": "standard", "premium": "premium", "enterprise": "premium"},
        "columns": {
            "standard": {
                "name": "Standard",
                "policy_name": "Case & escalation model — Standard",
                "description": "Standard support, in business hours: first response within 15 min (critical), 1 h "
                "(high), 4 h (medium) or 1 business day (low); resolution within 4 h, 8 h, 2 or 5 business "
                "days. Critical cases get an update every 4 hours, high ones daily.",
                "targets": {p: _row(_S003_FIRST[p], _S003_STANDARD[p], _S003_UPDATE[p]) for p in PRIORITIES},
            },
            "premium": {
                "name": "Premium/Enterprise",
                "policy_name": "Case & escalation model — Premium/Enterprise",
                "description": "Premium and enterprise support, in business hours: the same first response as "
                "Standard (15 min to 1 business day) and faster resolution: within 2 h (critical), 6 h (high), "
                "1 or 3 business days. Critical cases get an update every 4 hours, high ones daily.",
                "targets": {p: _row(_S003_FIRST[p], _S003_PREMIUM[p], _S003_UPDATE[p]) for p in PRIORITIES},
            },
        },
    },
    "seed-002": {
        "name": "Support playbook — response times",
        "description": "Round-the-clock (24×7) targets: first response within 15 min (critical), 1 h (high), "
        "4 h (medium) or 24 h (low); resolution within 4 h, 8 h, 72 h or 7 days; updates every 30 min, "
        "2 h or daily.",
        "source": "seed 002 (Support Playbook), table 'Response Time Guidelines' (First Response, Update "
        "Frequency, Resolution Target).",
        "notes": [
            "P1 -> critical, P2 -> high, P3 -> medium, P4 -> low.",
            "Calendar (24x7) time throughout: P1 pages on-call immediately and the targets are stated in "
            "clock hours (24 h, 72 h, 1 week = 7 calendar days).",
            "Update cadence from the table: every 30 min, every 2 h, daily (1 calendar day), 'as needed' "
            "(None). The per-severity prose earlier in the seed says 1 h / 4 h / 24 h / 72 h 'to update'; "
            "the table is taken as the authority.",
            "Resolution means resolved or root cause identified with a timeline (the seed's note).",
        ],
        "priority_map": {"P1": "critical", "P2": "high", "P3": "medium", "P4": "low"},
        "default_column": "default",
        "tiers": {},
        "columns": {"default": {"name": "All tiers", "targets": {p: dict(_S002[p]) for p in PRIORITIES}}},
    },
    "seed-001": {
        "name": "Support operations — channel SLAs",
        "description": "First-response targets per channel (e-mail, Slack, phone), 24×7: critical cases are "
        "answered within 15 minutes on every channel and updated every 30 minutes. No resolution targets.",
        "source": "seed 001 (Troubleshooting & Support Operations), table 'Response Time SLAs' (Email, "
        "Slack, Phone columns); critical update cadence from 'Incident Response Procedure: Keep "
        "customer updated every 30 minutes'.",
        "notes": [
            "Critical, High, Medium, Low map to the same names.",
            "One policy for all channels ('channels': e-mail as the base, per-channel first-response targets "
            "for e-mail, Slack and phone), or one policy per channel (email, slack, phone). The table's "
            "'Target' column names the team, not a time, and is not a target here.",
            "'ASAP' (critical e-mail) is read as 15 minutes: the same seed's on-call duty is 'first "
            "response within 15 minutes (critical)'. 'N/A' (phone below critical) is None.",
            "Calendar (24x7) time: on-call is 24/7 and the targets are clock hours. Slack is only staffed "
            "during business hours, so an admin may switch its non-critical rows to business time.",
            "The seed gives no resolution targets (None), and an update cadence only for incidents "
            "(critical, every 30 min); None for the other priorities.",
        ],
        "priority_map": {"Critical": "critical", "High": "high", "Medium": "medium", "Low": "low"},
        "default_column": "email",
        "tiers": {},
        "columns": {
            "channels": {
                "name": "All channels",
                "policy_name": "Support operations — channel SLAs",
                "description": "First response by channel, 24×7: e-mail within 15 min (critical), 2 h (high), 4 h "
                "or 24 h; Slack 15 min, 1 h, 4 h or 24 h; phone (critical only) 15 min. Other channels get the "
                "e-mail targets. Critical cases are updated every 30 minutes.",
                "targets": {
                    p: _row(_S001["email"][p], None, _S001_CRITICAL_UPDATE if p == "critical" else None)
                    for p in PRIORITIES
                },
                "channel_targets": {
                    channel: {p: t for p, t in _S001[channel].items() if t is not None}
                    for channel in ("email", "slack", "phone")
                },
            },
            **{
                channel: {
                    "name": label,
                    "policy_name": f"Support operations — channel SLAs ({label})",
                    "description": description,
                    "targets": {
                        p: _row(_S001[channel][p], None, _S001_CRITICAL_UPDATE if p == "critical" else None)
                        for p in PRIORITIES
                    },
                }
                for channel, label, description in (
                    (
                        "email",
                        "Email",
                        "E-mail, 24×7: first response within 15 min (critical), 2 h (high), 4 h (medium) or 24 h "
                        "(low). Critical cases are updated every 30 minutes. No resolution targets.",
                    ),
                    (
                        "slack",
                        "Slack",
                        "Slack, 24×7: first response within 15 min (critical), 1 h (high), 4 h (medium) or 24 h "
                        "(low). Critical cases are updated every 30 minutes. No resolution targets.",
                    ),
                    (
                        "phone",
                        "Phone",
                        "Phone, 24×7: critical cases answered within 15 minutes and updated every 30 minutes; other "
                        "priorities have no phone target.",
                    ),
                )
            },
        },
    },
    "seed-004": {
        "name": "Diagnostics runbook — Sev-1..3",
        "description": "Severity-based targets: acknowledge within 30 min (Sev-1), 4 h (Sev-2) or 1 business "
        "day (Sev-3); mitigate within 4 h, 1 or 5 business days; updates hourly (Sev-1) or twice a day "
        "(Sev-2). A case with a Sev-1..3 severity also records its own time to acknowledge and to mitigate.",
        "source": "seed 004 (Support Runbook), 'Resolution: for SLA purposes' (time to acknowledge, time to "
        "mitigate) and the Escalation Matrix (update cadence).",
        "notes": [
            "Sev-1 -> critical, Sev-2 -> high, Sev-3 -> medium; low reuses Sev-3 (the seed has no Sev-4).",
            "Acknowledge -> first response: 30 min, 4 h, next business day (1 business day). Mitigate -> "
            "resolution: 4 h, 1 business day, 5 business days.",
            "Targets the seed states in business days count business time; those in minutes or hours "
            "count calendar time (Sev-1 pages on-call).",
            "Update cadence from the Escalation Matrix: hourly (Sev-1), twice daily = every 12 h (Sev-2); "
            "none for Sev-3 ('communicate ETA', None).",
            "The same acknowledge and mitigate targets also run keyed on the case's own severity "
            "(Case.severity, set at triage): 'time to acknowledge' stops at the first public reply or when "
            "the case leaves New; 'time to mitigate' stops when an agent marks the case mitigated or "
            "resolves it. Both count from the case's opening and do not pause.",
        ],
        "priority_map": {"Sev-1": "critical", "Sev-2": "high", "Sev-3": "medium"},
        "default_column": "default",
        "tiers": {},
        "columns": {
            "default": {
                "name": "All tiers",
                "targets": {p: dict(_S004_SEV["medium" if p == "low" else p]) for p in PRIORITIES},
                "severity_targets": {sev: dict(kinds) for sev, kinds in _S004_BY_SEVERITY.items()},
            }
        },
    },
}


def preset_policy_name(preset_key: str, column: str | None = None) -> str:
    """The name a loaded column gets: the column's `policy_name`, else the preset's name (one column)
    or "<preset> — <column>"."""
    preset = _preset(preset_key)
    col = preset["columns"][preset_column(preset_key, column)]
    if col.get("policy_name"):
        return col["policy_name"]
    return preset["name"] if len(preset["columns"]) == 1 else f"{preset['name']} — {col['name']}"


def preset_description(preset_key: str, column: str | None = None) -> str:
    """The description a loaded column gets (customer-readable, no provenance)."""
    preset = _preset(preset_key)
    return preset["columns"][preset_column(preset_key, column)].get("description") or preset["description"]


def preset_label(preset_ref: str) -> str:
    """A policy's `preset` ("<key>:<column>") as admins read it: "Case & escalation model · Standard"."""
    key, _, column = (preset_ref or "").partition(":")
    preset = PRESETS.get(key)
    if preset is None:
        return preset_ref
    col = preset["columns"].get(column)
    if col is None or len(preset["columns"]) == 1:
        return preset["name"]
    return f"{preset['name']} · {col['name']}"


def preset_column(preset_key: str, column: str | None = None) -> str:
    """The column key to use: `column` itself, a support tier mapped through the preset's `tiers`,
    or the preset's default column when None."""
    preset = _preset(preset_key)
    if column is None:
        return preset["default_column"]
    if column in preset["columns"]:
        return column
    if column in preset["tiers"]:
        return preset["tiers"][column]
    raise ValueError(f"preset {preset_key!r} has no column {column!r} (columns: {', '.join(preset['columns'])})")


def preset_targets(
    preset_key: str, column: str | None = None, *, hours_per_day: timedelta = DEFAULT_HOURS_PER_DAY
) -> dict[str, dict[str, tuple[timedelta | None, bool]]]:
    """{priority: {kind: (duration or None, business)}} for one column of a preset ((None, False) where
    the seed gives no such target). `column` may be a column key, a support tier or None (default). Pass the policy
    calendar's `hours_per_day` (e.g. `cal.hours_per_day`) so business days convert at its length."""
    preset = _preset(preset_key)
    if hours_per_day <= timedelta(0):
        raise ValueError("hours_per_day must be positive")
    targets = preset["columns"][preset_column(preset_key, column)]["targets"]
    out: dict[str, dict[str, tuple[timedelta | None, bool]]] = {}
    for priority in PRIORITIES:
        out[priority] = {}
        for kind in KINDS:
            target = targets[priority][kind]
            if target is None:
                out[priority][kind] = (None, False)
            else:
                out[priority][kind] = (target.duration(hours_per_day), target.business)
    return out


def preset_channel_targets(
    preset_key: str, column: str | None = None, *, hours_per_day: timedelta = DEFAULT_HOURS_PER_DAY
) -> dict[str, dict[str, tuple[timedelta, bool]]]:
    """{channel: {priority: (duration, business)}}: the column's first-response targets per channel
    ({} when it has none)."""
    preset = _preset(preset_key)
    col = preset["columns"][preset_column(preset_key, column)]
    return {
        channel: {priority: (t.duration(hours_per_day), t.business) for priority, t in rows.items()}
        for channel, rows in (col.get("channel_targets") or {}).items()
    }


def preset_severity_targets(
    preset_key: str, column: str | None = None, *, hours_per_day: timedelta = DEFAULT_HOURS_PER_DAY
) -> dict[str, dict[str, tuple[timedelta, bool]]]:
    """{severity: {kind: (duration, business)}}: the column's acknowledge / mitigate targets keyed on
    the case's severity ({} when it has none)."""
    preset = _preset(preset_key)
    col = preset["columns"][preset_column(preset_key, column)]
    return {
        severity: {kind: (t.duration(hours_per_day), t.business) for kind, t in rows.items() if t is not None}
        for severity, rows in (col.get("severity_targets") or {}).items()
    }


def _preset(preset_key: str) -> dict:
    try:
        return PRESETS[preset_key]
    except KeyError:
        raise ValueError(f"unknown SLA preset {preset_key!r} (presets: {', '.join(PRESETS)})") from None
