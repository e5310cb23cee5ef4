"""The copilot's engine: rules (`rules.py`) + model (`model.py`) + what the database knows (duplicates,
active incidents, known issues, passed in as plain values by `selectors.py`) → one `Assessment`:
the proposals with reasons and confidence, the initial-assessment checklist, and why human review is
required. Pure: the evaluation command calls it on a file's tickets, the case page on a case.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from . import rules
from .model import FIELDS, Predictor, ticket_text

# How much a rule's vote counts against the model's probability; checked by cross-validation on the
# training set (`copilot_train --cv`), never on the evaluation file (README "Triage copilot").
RULE_WEIGHT = {"category": 0.3, "severity": 0.6, "issue_type": 0.3, "environment": 0.6}
SEVERITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
PRIORITY_OF = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
CLASSIFICATION = FIELDS
FLAGS = ("security", "needs_info", "close_as", "escalation", "sentiment", "duplicate", "active_incident", "known_issue")
DEFAULTS = [
    ("category", "other", "Category: no category pattern found"),
    ("severity", "P3", "P3: functionality impaired but not blocking (no other criterion met)"),
    ("issue_type", "bug", "Issue type: a problem report (no other type found)"),
    ("environment", "unknown", "Environment: not named"),
]
MODEL_RULE = "Model: similar past cases (TF-IDF, calibrated)"
SIMILAR_RULE = "Similar past cases (resolved, same tenant)"
SIMILAR_SHOWN = 5
# The proposals similar past cases are listed for, and the label of a past case each reads.
SIMILAR_FIELDS = ("category", "severity", "issue_type", "environment", "needs_info", "close_as")


@dataclass
class Reason:
    rule: str
    words: str = ""


@dataclass
class Proposal:
    field: str
    value: str
    confidence: float
    reasons: list[Reason]
    detail: str = ""  # a template prefilled, the duplicates' keys …
    # The similar past cases behind a classification proposal: [{"id", "sim", "label"}], best first.
    similar: list[dict] = field(default_factory=list)

    @property
    def rule(self) -> str:
        """The rule the acceptance report counts this proposal under: the strongest one behind it."""
        return self.reasons[0].rule if self.reasons else MODEL_RULE


@dataclass
class Ticket:
    subject: str
    body: str
    tenant_tier: str = ""


@dataclass
class Assessment:
    proposals: dict[str, Proposal]
    review: list[str]  # why human review is required; empty: auto-apply may be allowed
    checklist: list[dict]
    info_items: list[str] = field(default_factory=list)
    model_version: int = 0
    model_scope: str = "global"  # "tenant": the case's tenant's own model; "global": the shared one

    def to_json(self) -> dict:
        return {
            "proposals": {k: asdict(v) for k, v in self.proposals.items()},
            "review": self.review,
            "checklist": self.checklist,
            "info_items": self.info_items,
            "model_version": self.model_version,
            "model_scope": self.model_scope,
        }


# A criterion that says what the ticket is *about* silences criteria that only its words trigger:
# a documentation page that errors is a documentation issue (seed 002's P3 example "OpenAPI docs page
# shows 500 error"), a question about pagination is a usage question (P4 "How do I implement
# pagination correctly?").
SILENCES = {
    "P3: documentation unclear or incorrect": {"P2: specific endpoint failing consistently"},
    "P4: general usage question": {
        "P3: non-critical endpoint issue (pagination, large requests)",
        "P3: edge case validation failure",
    },
}


def _classify(name: str, votes: list[rules.Vote], probabilities: dict[str, float] | None) -> Proposal | None:
    mine = [v for v in votes if v.field == name]
    silenced = set().union(*(SILENCES.get(v.rule, set()) for v in mine))
    mine = [v for v in mine if v.rule not in silenced]
    scores: dict[str, float] = dict(probabilities or {})
    strength: dict[str, float] = {}
    for v in mine:
        strength[v.value] = max(strength.get(v.value, 0.0), v.weight)
    if name == "severity" and strength:
        # "any of the following": the most severe criterion met counts in full, the others less.
        top = min(strength, key=SEVERITY_RANK.__getitem__)
        strength = {k: (s if k == top else s * 0.5) for k, s in strength.items()}
    for value, s in strength.items():
        scores[value] = scores.get(value, 0.0) + RULE_WEIGHT[name] * s
    if not scores:
        return None
    value = max(scores, key=scores.__getitem__)
    total = sum(scores.values()) or 1.0
    reasons = [Reason(v.rule, v.words) for v in sorted(mine, key=lambda v: -v.weight) if v.value == value]
    if probabilities and value in probabilities:
        reasons.append(Reason(MODEL_RULE, f"p={probabilities[value]:.2f}"))
    if not probabilities:  # rules only: a fired rule is fairly sure, never certain
        return Proposal(name, value, round(min(0.9, 0.4 + 0.3 * strength.get(value, 0.0)), 3), reasons)
    return Proposal(name, value, round(scores[value] / total, 3), reasons)


def assess(
    ticket: Ticket,
    predictor: Predictor | None,
    *,
    duplicates: list[dict] = (),  # {"key", "score", "reasons"}
    active_incidents: list[dict] = (),  # {"key", "severity", "title"}
    known_issues: list[dict] = (),  # {"id", "title", "component", "workaround", "matched"}
    similar: list[dict] = (),  # past cases, best first: {"id", "sim", "labels": {field: value}}
) -> Assessment:
    subject, body = ticket.subject, ticket.body
    votes = rules.votes(subject, body)
    probabilities = predictor.predict(ticket_text(subject, body)) if predictor else {}
    proposals: dict[str, Proposal] = {}
    for name in CLASSIFICATION:
        if p := _classify(name, votes, probabilities.get(name)):
            proposals[name] = p
    for name, value, rule in DEFAULTS:
        proposals.setdefault(name, Proposal(name, value, 0.3, [Reason(rule)]))

    sec = rules.security(subject, body)
    proposals["security"] = Proposal(
        "security",
        "true" if sec else "false",
        0.95 if sec else 0.8,
        [Reason(sec.rule, sec.words)] if sec else [Reason("Security: no security signal")],
    )
    if sec and proposals.get("severity") and proposals["severity"].value != "P1":
        proposals["severity"].reasons.insert(
            0, Reason("P1: data breach or security vulnerability actively exploited", sec.words)
        )
        proposals["severity"].value = "P1"

    close = rules.close_as(subject, body)
    known = [k for k in known_issues if k.get("matched")]
    if close:
        kind, rule, words, reason = close
        template = rules.EXPECTED_TEMPLATE if kind == "expected_behavior" else rules.CONFIGURATION_TEMPLATE
        proposals["close_as"] = Proposal(
            "close_as", kind, 0.8, [Reason(rule, words)], template.format(reason=reason, link="[link]")
        )
    elif known:
        k = known[0]
        proposals["close_as"] = Proposal(
            "close_as",
            "known_issue",
            0.8,
            [Reason("Close as known issue: matches a documented known issue", k["matched"])],
            rules.KNOWN_ISSUE_TEMPLATE.format(
                component=k.get("component") or k["title"], workaround=k.get("workaround") or "[workaround]"
            ),
        )
    if known:
        proposals["known_issue"] = Proposal(
            "known_issue",
            str(known[0]["id"]),
            0.8,
            [Reason("Known issue match", k["matched"]) for k in known[:3]],
            "; ".join(k["title"] for k in known[:3]),
        )

    missing = rules.missing_information(subject, body)
    severity = proposals["severity"].value if "severity" in proposals else "P3"
    skip = (
        "Do not request: clearly a customer configuration error"
        if close and close[0] == "configuration"
        else "Do not request: expected behavior"
        if close
        else "Do not request: matches a known issue"
        if known
        else "Security: do not request details via unencrypted channels"
        if sec
        else NOTHING_TO_REPRODUCE
        if _nothing_to_reproduce(proposals)
        else ""
    )
    items = [] if skip else [m[0] for m in missing]
    info_reasons = [Reason(skip)] if skip else [Reason(rule, words) for _, rule, words in missing]
    if not info_reasons:
        info_reasons = [Reason("Do not request: the ticket contains sufficient detail to act")]
    detail = rules.information_request(items) if items else ""
    if items and severity in ("P1", "P2"):
        info_reasons.append(Reason("P1/P2 should not wait for more information: escalate now, ask in parallel"))
    proposals["needs_info"] = Proposal("needs_info", "true" if items else "false", 0.85, info_reasons, detail)

    level, rule, words = rules.escalation(
        subject,
        body,
        severity=severity,
        close=(close[0] if close else None) or None,
        known_issue=bool(known),
        issue_type=proposals.get("issue_type", Proposal("", "", 0, [])).value,
    )
    proposals["escalation"] = Proposal("escalation", level, 0.8, [Reason(rule, words)])

    mood, words = rules.sentiment(subject, body)
    proposals["sentiment"] = Proposal(
        "sentiment",
        mood,
        0.7,
        [Reason("Override when: customer sentiment suggests higher priority needed", words)]
        if words
        else [Reason("Sentiment: no frustration expressed")],
    )
    dups = list(duplicates)
    if dups:
        best = dups[0]
        proposals["duplicate"] = Proposal(
            "duplicate",
            best["key"],
            round(best["score"], 2),
            [Reason("Is this a duplicate? error message, endpoint, account, time", ", ".join(best["reasons"]))],
            ", ".join(d["key"] for d in dups[:5]),
        )
    if active_incidents:
        inc = active_incidents[0]
        proposals["active_incident"] = Proposal(
            "active_incident",
            inc["key"],
            0.7,
            [
                Reason(
                    "Is this during an active incident? Don't troubleshoot during an active incident",
                    f"{inc['key']} {inc['title']}",
                )
            ],
        )

    attach_similar(proposals, similar)
    review = review_reasons(proposals, tenant_tier=ticket.tenant_tier, compensation=rules.compensation(subject, body))
    checklist = [
        {
            "check": "Is this a duplicate?",
            "found": "duplicate" in proposals,
            "detail": proposals["duplicate"].detail if "duplicate" in proposals else "no similar recent case",
        },
        {
            "check": "Is this during an active incident?",
            "found": bool(active_incidents),
            "detail": proposals["active_incident"].value if active_incidents else "no active incident for this tenant",
        },
        {
            "check": "Is this a security issue?",
            "found": bool(sec),
            "detail": f"{sec.words}: tag security, escalate to on-call SRE" if sec else "no security signal",
        },
        {
            "check": "Can this be auto-resolved?",
            "found": "close_as" in proposals or _faq(proposals),
            "detail": _auto_detail(proposals),
        },
    ]
    return Assessment(
        proposals,
        review,
        checklist,
        items,
        predictor.version if predictor else 0,
        getattr(predictor, "scope", "global") if predictor else "global",
    )


def attach_similar(proposals: dict[str, Proposal], similar: list[dict]) -> None:
    """Each classification proposal gets the SIMILAR_SHOWN most similar past cases that carry a
    label for its field, and a reason saying how many of them carry the proposed value."""
    for name in SIMILAR_FIELDS:
        p = proposals.get(name)
        if p is None:
            continue
        shown = [{"id": s["id"], "sim": s["sim"], "label": s["labels"][name]} for s in similar if name in s["labels"]][
            :SIMILAR_SHOWN
        ]
        if not shown:
            continue
        p.similar = shown
        agree = sum(s["label"] == p.value for s in shown)
        p.reasons.append(Reason(SIMILAR_RULE, f"{agree} of the {len(shown)} most similar carry {p.value}"))


NOTHING_TO_REPRODUCE = "Do not request: a documentation, feature or usage ticket (nothing to reproduce)"


def _nothing_to_reproduce(proposals: dict[str, Proposal]) -> bool:
    return (
        proposals["category"].value in ("documentation", "feature_request")
        or proposals["issue_type"].value == "question"
        or proposals["severity"].value == "P4"
    )


def _faq(proposals: dict[str, Proposal]) -> bool:
    return (
        proposals.get("issue_type") is not None
        and proposals["issue_type"].value == "question"
        and proposals.get("severity", Proposal("", "P3", 0, [])).value == "P4"
    )


def _auto_detail(proposals: dict[str, Proposal]) -> str:
    if "close_as" in proposals:
        p = proposals["close_as"]
        return f"close as {p.value.replace('_', ' ')}: {p.reasons[0].rule}"
    if _faq(proposals):
        return "FAQ-answerable question"
    return "no: needs investigation"


# --- required human review (seed 002 "AI Agent Integration") -----------------------------------------

GATES = {
    "severity": "All P1 and P2 tickets",
    "escalation": "Any escalation to engineering",
    "security": "Security-related tickets",
    "enterprise": "Tickets from enterprise customers",
    "compensation": "Compensation or refund discussions",
}


def review_reasons(proposals: dict[str, Proposal], *, tenant_tier: str, compensation: str) -> list[str]:
    """Why this case's proposals may not be applied without an agent (empty: none of the gates)."""
    why = []
    sev = proposals.get("severity")
    if sev and sev.value in ("P1", "P2"):
        why.append(f"{GATES['severity']} (proposed {sev.value})")
    esc = proposals.get("escalation")
    if esc and esc.value in ("always", "discretion"):
        why.append(f"{GATES['escalation']} ({esc.reasons[0].rule})")
    if proposals.get("security") and proposals["security"].value == "true":
        why.append(GATES["security"])
    if tenant_tier == "enterprise":
        why.append(GATES["enterprise"])
    if compensation:
        why.append(f"{GATES['compensation']} ({compensation})")
    return why
