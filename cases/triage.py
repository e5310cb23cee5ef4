"""The pure triage rules: which priority a case's text and signals support (seed 002's severity
criteria), what a case asks for that the tenant's plan does not include, and the subject keywords
similar-case matching compares. Plain values in, plain values out: no ORM, no database, tested by
tables in tests/cases/test_triage.py like the SLA calendar.

The reads that feed them (telemetry, incidents, similar cases) are in the selectors and the context
providers (cases/context.py); the write that records them is `cases.services.case_capture_context`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .choices import Environment, IssueType, Priority

# --- priority suggestion (pure) ---------------------------------------------------------------------

ALL_FAILING = re.compile(
    r"\b(all|every)\b[^.]{0,40}\b(fail\w*|500s?|errors?|down|time ?outs?|return(s|ing)? 5\d\d)\b"
    r"|\b(complete|total|full)\b[^.]{0,20}\boutage\b|\bis down\b|\bcompletely (down|broken|non-functional)\b",
    re.I,
)
SECURITY = re.compile(
    r"unauthori[sz]ed access|data (breach|leak)|security (breach|vulnerability|incident)|exploit"
    r"|leak(ed|ing)? (customer )?data",
    re.I,
)
PAYMENTS = re.compile(r"\b(payment|billing|checkout|transaction)s?\b[^.]{0,30}\b(down|fail\w*|broken)\b", re.I)
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+/\S+", re.I)
FAILING = re.compile(r"\b5\d\d\b|\bfail\w*\b|\berrors?\b|\btime ?outs?\b", re.I)
DEGRADED = re.compile(
    r"\b([2-9]|\d{2,})\s?x\b|\b(latency|slow(er|ness)?|degrad\w*)\b"
    r"|\bdelayed by\b[^.]{0,12}|\b\d+\s*(?:min(?:ute)?s?|hours?)\s+late\b",
    re.I,
)
AUTH_SUBSET = re.compile(r"\b40[13]\b|\bunauthori[sz]ed\b|\bforbidden\b", re.I)
DOCS = re.compile(r"\b(docs?|documentation|openapi|swagger|readme)\b", re.I)
EDGE = re.compile(r"\b422\b|\bvalidation\b|\bedge case\b|\binconsistent\b", re.I)
QUESTION = re.compile(r"^\s*(how|what|why|can|could|is there|do you|does)\b|\?\s*$", re.I)
COSMETIC = re.compile(r"\bcould be clearer\b|\bcosmetic\b|\btypo\b|\bminor (ui|issue|glitch)\b|\bmisaligned\b", re.I)
FEATURE = re.compile(r"\b(feature request|can you add|please add|would be nice|support for)\b", re.I)


@dataclass
class Signals:
    """What the enrichment saw, as plain values (testable without a database)."""

    firing_alerts: list[dict] = field(default_factory=list)  # {"name", "severity", "resource"}
    red_slis: list[str] = field(default_factory=list)
    amber_slis: list[str] = field(default_factory=list)
    active_incidents: list[dict] = field(default_factory=list)  # {"key", "severity", "title"}
    similar_other_tenants_last_hour: int = 0
    recent_deployments: list[dict] = field(default_factory=list)
    affected_resources: list[dict] = field(default_factory=list)  # {"name", "health"}: the case's own


# A feature that does not work at all ("none of our webhook deliveries are retried", "events are
# not being delivered", "notifications stopped arriving"): major functionality impaired (seed 002 P2).
NOT_WORKING = re.compile(
    r"\bnone of (?:our|the|my|its)\b[^.\n]{0,40}?\b(?:are|is|were|was|get|gets|got|have|has)\b(?: (?:being|been))?"
    r"(?: \w+)?"
    r"|\b(?:not|never) (?:being |been |getting )?(?:retried|delivered|processed|sent|received|synced|triggered"
    r"|created|saved|arriving|working|exported|imported)\b"
    r"|\bstopped (?:working|arriving|being \w+)\b|\bnothing (?:is|gets|arrives|works)\b",
    re.I,
)
# How wide the failure is: with a failure or a feature not working, "all endpoints" / "every region".
BROAD = re.compile(
    r"\b(?:all|every)\s+(?:of\s+(?:our|the)\s+)?(?:endpoints?|requests?|calls?|regions?|customers?|users?|tenants?"
    r"|integrations?|webhooks?|services?|environments?|events?|deliveries)\b",
    re.I,
)
# The environment, when the text says it and the form did not.
PRODUCTION_TEXT = re.compile(r"\b(?:production|prod|live (?:system|environment|traffic|site))\b", re.I)

# What a form leaves at its default unless a person sets it (the intake's Issue type "Question",
# Environment "Unknown"): never evidence on its own.
UNSETTABLE = ("category", "issue_type", "environment")


def _quote(match: re.Match | None, limit: int = 60) -> str:
    """The words a rule matched, as the reason quotes them: “none of our webhook deliveries are retried”."""
    text = " ".join(match.group(0).split()) if match else ""
    return f"“{text[: limit - 1] + '…' if len(text) > limit else text}”"


def suggest_priority(
    *,
    subject: str,
    description: str,
    environment: str,
    issue_type: str,
    signals: Signals,
    unset: frozenset[str] | set[str] = frozenset(),
) -> tuple[int, list[str]]:
    """The highest priority any criterion supports (seed 002), with every reason found; each reason
    that comes from the text quotes the words that drove it.

    `unset` names the classification fields nobody has set (`Case.unclassified`): their value is
    the form's default, not an answer, so it counts for nothing — the text decides. An unset
    Environment is read from the text ("production") when the text says it."""
    text = f"{subject}\n{description}"
    notes: list[str] = []
    env_unset = "environment" in unset or environment == Environment.UNKNOWN
    named_production = PRODUCTION_TEXT.search(text) if env_unset else None
    if named_production:
        environment = Environment.PRODUCTION
        notes.append(f"environment taken from the text: production ({_quote(named_production)})")
    production = environment in (Environment.PRODUCTION, Environment.UNKNOWN)
    in_production = " in production" if environment == Environment.PRODUCTION else ""
    found: list[tuple[int, str]] = []
    if m := SECURITY.search(text):
        found.append((Priority.CRITICAL, f"security breach or unauthorized access reported: {_quote(m)}"))
    if production and (m := ALL_FAILING.search(text)):
        found.append((Priority.CRITICAL, f"all requests failing / outage{in_production}: {_quote(m)}"))
    if m := PAYMENTS.search(text):
        found.append((Priority.CRITICAL, f"payment or financial transactions failing: {_quote(m)}"))
    for alert in signals.firing_alerts:
        if alert.get("severity") in ("critical", "page") and production:
            found.append(
                (
                    Priority.CRITICAL,
                    f"critical alert firing: {alert['name']}"
                    + (f" on {alert['resource']}" if alert.get("resource") else ""),
                )
            )
    for incident in signals.active_incidents:
        if incident.get("severity") == "SEV1":
            found.append((Priority.CRITICAL, f"active SEV1 incident {incident['key']}: {incident['title']}"))
    if (endpoint := ENDPOINT.search(text)) and (m := FAILING.search(text)):
        found.append((Priority.HIGH, f"a specific endpoint failing: {_quote(endpoint)}, {_quote(m)}"))
    if m := NOT_WORKING.search(text):
        broad = BROAD.search(text)
        scope = f", {_quote(broad)}" if broad else ""
        found.append((Priority.HIGH, f"a feature not working at all{in_production}: {_quote(m)}{scope}"))
    if m := DEGRADED.search(text):
        found.append((Priority.HIGH, f"performance degradation reported (>50% from baseline): {_quote(m)}"))
    if (m := AUTH_SUBSET.search(text)) and not QUESTION.search(subject):
        found.append((Priority.HIGH, f"authentication failures for valid credentials: {_quote(m)}"))
    if signals.similar_other_tenants_last_hour >= 2:
        found.append(
            (
                Priority.HIGH,
                f"{signals.similar_other_tenants_last_hour} other customers reported the same within an hour",
            )
        )
    for alert in signals.firing_alerts:
        if alert.get("severity") not in ("critical", "page"):
            found.append(
                (
                    Priority.HIGH,
                    f"alert firing: {alert['name']}" + (f" on {alert['resource']}" if alert.get("resource") else ""),
                )
            )
    for name in signals.red_slis:
        found.append((Priority.HIGH, f"SLI {name} below objective / error budget spent"))
    for resource in signals.affected_resources:
        if resource.get("health") == "red":
            found.append((Priority.HIGH, f"affected resource {resource['name']} is unhealthy"))
        elif resource.get("health") == "amber":
            found.append((Priority.MEDIUM, f"affected resource {resource['name']} is degraded"))
    for incident in signals.active_incidents:
        if incident.get("severity") != "SEV1":
            found.append(
                (Priority.HIGH, f"active {incident['severity']} incident {incident['key']}: {incident['title']}")
            )
    if m := DOCS.search(text):
        found.append((Priority.MEDIUM, f"documentation issue: {_quote(m)}"))
    if m := EDGE.search(text):
        found.append((Priority.MEDIUM, f"edge-case validation failure: {_quote(m)}"))
    if m := FEATURE.search(text):
        found.append((Priority.LOW, f"feature request: {_quote(m)}"))
    if m := COSMETIC.search(text):
        found.append((Priority.LOW, f"cosmetic issue with an easy workaround: {_quote(m)}"))
    if m := QUESTION.search(subject):
        found.append((Priority.LOW, f"general usage question: {_quote(m)}"))
    elif issue_type == IssueType.QUESTION:
        if "issue_type" in unset:
            notes.append("issue type not set (the form's default, Question): not counted")
        else:
            found.append((Priority.LOW, "general usage question (issue type Question)"))
    if not found:
        return Priority.MEDIUM, ["no severity signal found: functionality impaired, not blocking (default)", *notes]
    best = min(p for p, _ in found)
    reasons = [reason for p, reason in found if p == best]
    others = [f"{Priority(p).label.lower()}: {reason}" for p, reason in found if p != best]
    return best, reasons + ([f"also seen — {'; '.join(others)}"] if others else []) + notes


# --- entitlements (pure) ----------------------------------------------------------------------------


def entitlement_flags(entitlements: dict | None, *, channel: str) -> list[str]:
    """What the case asks for that the tenant's plan does not include."""
    entitlements = entitlements or {}
    flags = []
    channels = entitlements.get("channels")
    if channels is not None and channel not in channels:
        flags.append(f"channel “{channel}” is not in the tenant's plan (entitled: {', '.join(channels) or 'none'})")
    if channel == "phone" and not entitlements.get("phone_support", False):
        flags.append("phone support is not included in the tenant's plan")
    return flags


PHONE_RULE = "phone support is for critical issues only"  # seed 001, "Support Channels"


def phone_flags(entitlements: dict | None, *, priority: int) -> list[str]:
    """What a phone call on a case of `priority` goes against: the tenant's plan (phone support
    included? the phone channel?) and seed 001's rule that phone is for critical issues only."""
    flags = entitlement_flags(entitlements, channel="phone")
    if priority != Priority.CRITICAL:
        flags.append(f"{PHONE_RULE}; this case is {Priority(priority).label}")
    return flags


# --- keywords (similar-case matching) -------------------------------------------------------------


WORD = re.compile(r"[a-z0-9/._-]{3,}")
STOP = {
    "the",
    "and",
    "for",
    "with",
    "our",
    "are",
    "since",
    "from",
    "this",
    "that",
    "not",
    "all",
    "api",
    "you",
    "can",
    "how",
}
ERROR_CODE = re.compile(r"\b[45]\d\d\b|\b(?:E|ERR)[_-]?[A-Z0-9_]{2,}\b")


def keywords(text: str) -> set[str]:
    """The words of `text` that say what it is about (lower case, three characters or more, no
    stop words)."""
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


def error_codes(text: str) -> set[str]:
    """HTTP error statuses (4xx, 5xx) and error identifiers (E1234, ERR_TIMEOUT) named in `text`."""
    return {m.group(0).upper() for m in ERROR_CODE.finditer(text or "")}
