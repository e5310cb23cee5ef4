"""Answers in Slack's response format: `{"response_type": "ephemeral", "text": …, "blocks": [...]}`
(Block Kit `section`, `context` and `header` blocks with `mrkdwn` text). `text` is always set: it is
what notifications and screen readers show. Text from people is escaped (`&`, `<`, `>`), so a case
subject can never mention @channel or fake a link."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from companyos import timefmt

from ...choices import Priority, Status

USAGE = (
    "`/support new <what is wrong>` opens a case · `/support CS-1042` shows a case · "
    "or use *Create support case* on any message (⋯ → More message shortcuts)."
)


def escape(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(*texts: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts if t]}


def ephemeral(text: str, *blocks: dict) -> dict:
    return {"response_type": "ephemeral", "text": text, "blocks": list(blocks) or [_section(escape(text))]}


def error(message: str) -> dict:
    return ephemeral(message, _section(f":warning: {escape(message)}"), _context(USAGE))


def usage() -> dict:
    return ephemeral("How to use /support", _section(USAGE))


def _when(value: str | None) -> str:
    if not value:
        return ""
    at = datetime.fromisoformat(value)
    # Slack renders <!date^…> in each reader's own timezone; the fallback is UTC.
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def staffed_note(hours: dict) -> str:
    """Seed 001: Slack #support is staffed in business hours."""
    if hours.get("open", True):
        return ""
    back = _when(hours.get("next_open"))
    return (
        f":crescent_moon: Slack support is staffed in business hours ({escape(hours.get('hours', ''))}); "
        f"the team picks this up {'from ' + back if back else 'when it is back'}. "
        "For a critical issue, call the support phone line."
    )


def case_opened(case, hours: dict, *, created: bool) -> dict:
    verb = "Opened" if created else "Already a case:"
    text = f"{verb} {case.key}: {case.subject}"
    blocks = [
        _section(f":white_check_mark: {verb} *{case.key}* — {escape(case.subject)}"),
        _context(
            f"{Priority(case.priority).code} {Priority(case.priority).label} · {Status(case.status).label} · "
            f"contact {escape(case.requester.name)}",
            "Replies from the support team arrive in this thread."
            if created and case_thread(case)
            else "Replies from the support team arrive here in Slack.",
        ),
    ]
    note = staffed_note(hours)
    if note:
        blocks.append(_context(note))
    return ephemeral(text + (f" — {note}" if note else ""), *blocks)


def case_thread(case) -> str:
    thread = getattr(case, "slack_thread", None)
    return thread.thread_ts if thread is not None else ""


def case_summary(case, last_message) -> dict:
    """`/support CS-1042`: what the customer may see of the case (never internal notes)."""
    fields = [
        {"type": "mrkdwn", "text": f"*Status*\n{Status(case.status).label}"},
        {"type": "mrkdwn", "text": f"*Priority*\n{Priority(case.priority).code} {Priority(case.priority).label}"},
        {"type": "mrkdwn", "text": f"*Opened*\n{_when(case.created_at.isoformat())}"},
        {"type": "mrkdwn", "text": f"*Updated*\n{_when(case.updated_at.isoformat())}"},
    ]
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{case.key} {case.subject}"[:150]}},
        {"type": "section", "fields": fields},
    ]
    if case.waiting_for_text:
        blocks.append(_context(f":hourglass: Waiting for you: {escape(case.waiting_for_text)}"))
    if last_message is not None:
        who = "Support" if last_message.kind == "reply" else escape(case.requester.name)
        excerpt = escape(last_message.body.strip())
        excerpt = excerpt if len(excerpt) <= 500 else excerpt[:499] + "…"
        ago = timefmt.relative((timezone.now() - last_message.created_at).total_seconds())
        blocks.append(_section(f"*Latest message* ({who}, {ago}):\n{excerpt}"))
    text = f"{case.key} {case.subject}: {Status(case.status).label}, {Priority(case.priority).label}"
    return ephemeral(text, *blocks)


def notification(subject: str, body: str) -> list[dict]:
    """An incoming-webhook notification (breach, page, new critical case) as blocks."""
    return [_section(f"*{escape(subject)}*"), _context(escape(body.strip()))]
