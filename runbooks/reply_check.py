"""The reply check (seed 002, "Customer Communication Guidelines"): warnings about a public reply
before it is sent. Each names its rule; none blocks sending (the agent may override any). Pure:
plain text and plain facts in, warnings out; no ORM.

    check(text, facts) -> [Warning(rule, message), ...]

`facts`: case_key, category, issue_type, engineering_confirmed (a linked known issue or incident).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RULES = {
    "promise": "Do not promise fixes without engineering confirmation",
    "bug": "Do not call it a bug until engineering confirmed it",
    "impossible": "Do not say “impossible” (check with engineering first)",
    "dont_know": "Do not say “I don't know” (say “I'll investigate” or “I'll escalate”)",
    "blame": "Avoid blame language",
    "reference": "Always include the ticket reference",
    "next_steps": "Always include clear next steps",
    "next_update": "Always include the time of the next update",
    "docs": "Link the relevant documentation",
    "request_id": "Include the request ID when discussing a specific request",
}

PROMISE = re.compile(
    r"\b(?:will|should|is going to|are going to)\s+be\s+(?:fixed|resolved|deployed|released|patched)\s+"
    r"(?:by|on|before|within|in|tomorrow|today|next|this)\b",
    re.IGNORECASE,
)
FIX_DATE = re.compile(
    r"\bfix(?:ed)?\b[^.\n]{0,40}\b(?:by|on|before)\s+(?:\d|monday|tuesday|wednesday|thursday|friday|tomorrow|end of)",
    re.IGNORECASE,
)  # noqa: E501
BUG = re.compile(
    r"\b(?:this|it|that) is (?:a|definitely a|clearly a) bug\b|\bbug (?:in|on) our (?:code|side|end)\b", re.IGNORECASE
)
IMPOSSIBLE = re.compile(r"\bimpossible\b", re.IGNORECASE)
DONT_KNOW = re.compile(r"\bi (?:don'?t|do not) know\b|\bno idea\b", re.IGNORECASE)
BLAME = re.compile(
    r"\byou (?:did|have done|configured|set)\b[^.\n]{0,40}\bwrong\b|\byour fault\b|\byou should have\b|"
    r"\byou failed to\b|\buser error\b|\byou didn'?t (?:read|follow)\b",
    re.IGNORECASE,
)
NEXT_STEPS = re.compile(r"\bnext step|\bplease\b|\bwe(?:'ll| will)\b|\bi(?:'ll| will)\b|\bcould you\b", re.IGNORECASE)
NEXT_UPDATE = re.compile(
    r"\bupdate (?:you|this)\b|\bnext update\b|\bwithin \d|\bby \d|\bby (?:end of|tomorrow|monday|tuesday|wednesday|"
    r"thursday|friday)|\bevery \d+ ?(?:min|hour|h\b)|\bin \d+ ?(?:min|hour|h\b)",
    re.IGNORECASE,
)
LINK = re.compile(r"https?://\S+")
REQUEST_TALK = re.compile(r"\b(?:the|this|that|your|failing) (?:request|call|api call)\b", re.IGNORECASE)
REQUEST_ID = re.compile(
    r"\b(?:req|request)[-_ ]?id\b|\bx-request-id\b|\breq_[A-Za-z0-9]{6,}|\b[0-9a-f]{8}-[0-9a-f]{4}-", re.IGNORECASE
)
DOCS_CATEGORIES = {"documentation", "validation", "integration", "authentication"}


@dataclass(frozen=True)
class Warning:
    rule: str
    message: str

    @property
    def title(self) -> str:
        return RULES[self.rule]


def check(text: str, facts: dict) -> list[Warning]:
    text = text or ""
    if not text.strip():
        return []
    found: list[Warning] = []

    def warn(rule: str, message: str):
        found.append(Warning(rule, message))

    confirmed = bool(facts.get("engineering_confirmed"))
    promise = PROMISE.search(text) or FIX_DATE.search(text)
    if promise and not confirmed:
        warn("promise", f"“{promise.group(0)}” promises a fix time, and no engineering commitment is linked.")
    bug = BUG.search(text)
    if bug and not confirmed:
        warn("bug", f"“{bug.group(0)}”: engineering has not confirmed a bug on this case.")
    if IMPOSSIBLE.search(text):
        warn("impossible", "The reply says “impossible”.")
    dont = DONT_KNOW.search(text)
    if dont:
        warn("dont_know", f"“{dont.group(0)}”: say what you will do instead.")
    blame = BLAME.search(text)
    if blame:
        warn("blame", f"“{blame.group(0)}” reads as blame.")
    key = facts.get("case_key", "")
    if key and key.lower() not in text.lower():
        warn("reference", f"Mention {key}.")
    if not NEXT_STEPS.search(text):
        warn("next_steps", "Say what happens next (what you will do, or what the customer should do).")
    if not NEXT_UPDATE.search(text):
        warn("next_update", "Say when the customer will hear from you next.")
    if facts.get("category") in DOCS_CATEGORIES and not LINK.search(text):
        warn("docs", "This kind of case usually has a documentation page: link it.")
    if REQUEST_TALK.search(text) and not REQUEST_ID.search(text):
        warn("request_id", "The reply discusses a request: quote its request ID.")
    return found
