"""Slack out: the support team's incoming-webhook notifications, and replies into customer threads.

Notifications (settings.SLACK_WEBHOOK_URL, the team's own channel) go through the existing outbox,
`cases.sla.models.Notification` with channel "slack", sent by `cases.sla.sweep.send_pending_notifications`:
- a **new critical case**, or a case raised to critical: written here, by a change listener, in the
  transaction that opened or raised it;
- **breaches** and **pages**: written by the SLA sweep and its page action (cases.sla).

Replies: `send_slack_reply(interaction)` is the "slack" reply sender (cases.channels.outbound): the
public reply goes to the thread the case came from with `chat.postMessage`; a case opened by slash
command has no thread yet, so its first reply starts one in the channel and later replies follow it.
"""

from __future__ import annotations

from django.conf import settings

from ...choices import Priority
from ...models import Interaction, Notification, SlackReply, SlackThread
from . import api, blocks
from .api import SlackPermanentError

Kind = Interaction.Kind


def on_change(interaction: Interaction) -> None:
    """A change listener (runs for every timeline entry, inside its transaction: cheap first checks)."""
    if interaction.kind not in (Kind.INBOUND, Kind.FIELDS):
        return
    url = settings.SLACK_WEBHOOK_URL
    if not url:
        return
    data = interaction.data or {}
    case = interaction.case
    if interaction.kind == Kind.INBOUND:
        if "opened_by" not in data or "merged_from" in data or case.priority != Priority.CRITICAL:
            return
        headline = f"New critical case {case.key}: {case.subject}"
    else:
        change = (data.get("changes") or {}).get("priority")
        if not change or change[1] != str(Priority.CRITICAL.label):
            return
        headline = f"{case.key} raised to critical: {case.subject}"
    body = (
        f"Tenant: {case.tenant.name}\nChannel: {case.get_channel_display()}\n"
        f"Priority: {Priority(case.priority).code} {Priority(case.priority).label}\n"
        f"Owner: {case.owner.get_username() if case.owner_id else 'unassigned'}\n"
    )
    Notification.objects.create(
        case=case,
        channel=Notification.Channel.SLACK,
        recipient=url,
        subject=headline[:300],
        body=body,
        send_after=interaction.created_at,
    )


def _agent_name(interaction: Interaction) -> str:
    actor = interaction.actor
    if actor is None:
        return "Support"
    return actor.get_full_name() or actor.get_username()


def send_slack_reply(interaction: Interaction) -> str:
    """Deliver a public reply on a Slack case into its thread. Returns the message's ts (the
    outbox's external id); raises SlackSendError (`retry_after` on a 429) for the relay to retry, or
    SlackPermanentError (a PermanentFailure) to give up at once."""
    if interaction.kind != Kind.REPLY or not interaction.public:
        raise SlackPermanentError("Only public replies go to Slack; internal notes never leave.")
    thread = SlackThread.objects.filter(case_id=interaction.case_id).select_related("case").first()
    if thread is None:
        raise SlackPermanentError(
            f"Case {interaction.case_id} did not come from Slack: no channel to reply in.", error="no_thread"
        )
    delivered = SlackReply.objects.filter(interaction=interaction).first()
    if delivered is not None:  # sent before; the relay is retrying after a crash: do not post it twice
        return delivered.ts
    case = thread.case
    who = _agent_name(interaction)
    body = interaction.body.strip()
    lead = "" if thread.thread_ts else f"*{case.key}* — {blocks.escape(case.subject)}\n"
    answer = api.post_message(
        channel=thread.channel_id,
        thread_ts=thread.thread_ts,
        text=f"{who} ({case.key}): {body}",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": (lead + blocks.escape(body))[:3000]}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"{blocks.escape(who)} · Support · {case.key}"}],
            },
        ],
    )
    if answer.get("ts"):
        SlackReply.objects.get_or_create(
            interaction=interaction,
            defaults={"channel_id": answer.get("channel") or thread.channel_id, "ts": answer["ts"]},
        )
    if not thread.thread_ts and answer.get("ts"):
        # The first reply to a slash-command case starts its thread: later replies go under it.
        SlackThread.objects.filter(pk=thread.pk, thread_ts="").update(thread_ts=answer["ts"])
    return str(answer.get("ts") or "")
