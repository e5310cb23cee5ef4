"""Seed 002 on a security issue: "Do not request additional details via unencrypted channels".

E-mail is such a channel. On a case tagged `security` whose channel is e-mail, a public reply that
asks the customer for details is refused, with a message saying why and what to do instead; a reply
that asks for nothing (an acknowledgement, a status update, the resolution) goes out, with a notice
telling the customer not to send details by e-mail. What counts as asking is `detail_requests`: a
question, or one of the phrases below; pure, tested as a table.
"""

from __future__ import annotations

import re

SECURITY_TAG = "security"

REQUEST_PHRASES = [
    r"please (send|share|provide|attach|forward|upload|include|reply with|give us|let us know)",
    r"(could|can|would) you (please )?(send|share|provide|attach|forward|upload|include|confirm|give|tell)",
    r"(send|share|provide|attach|forward|upload) (us|me)\b",
    r"we (need|require|would need) (you to|your|the|more|additional|some)",
    r"(need|require) (more|additional|further) (details|information|info|logs)",
    r"(reply|respond) with",
    r"(your|the) (password|credentials|api key|token|secret|private key)",
]
_REQUEST = re.compile("|".join(f"(?:{p})" for p in REQUEST_PHRASES), re.I)
# A question mark ending a sentence (not inside a URL's query string).
_QUESTION = re.compile(r"\?(\s|$)")

NOTICE = (
    "This case is handled as a security issue. For your protection we will not ask you for details "
    "by e-mail, and please do not send any (logs, credentials, personal data) by e-mail: we will contact "
    "you through a secure channel if we need more."
)


def detail_requests(text: str) -> list[str]:
    """What in `text` asks the customer for something: the matched phrases, and "a question" for a
    question mark ending a sentence. Empty when it asks for nothing."""
    found = [m.group(0).strip() for m in _REQUEST.finditer(text or "")]
    if _QUESTION.search(text or ""):
        found.append("a question")
    return list(dict.fromkeys(found))


def refusal(key: str, found: list[str]) -> str:
    asked = ", ".join(f"“{f}”" for f in found[:3])
    return (
        f"Not sent: {key} is tagged security, and this reply asks the customer for details ({asked}). "
        "Seed 002's rule for security issues: do not request additional details via unencrypted channels, "
        "and e-mail is one. Ask by phone or another secure channel and record it as an internal note; "
        "a reply that asks for nothing (an acknowledgement, an update) can go by e-mail."
    )
