"""Who a Slack request is, and opening or showing a case for it.

A request names a workspace (`team_id`), a channel and a Slack user. The workspace (or that one
channel of it) must be linked to a tenant by an admin (`SlackChannelLink`); the user is the
tenant's contact they are linked to (`SlackContact`), else the link's default contact, else the
request is refused with a message that says what to do. The case row and its timeline are written by
`cases.services.case_create`; this module writes only where the case lives in Slack (`SlackThread`).

Seed 001: "Slack: #support channel (real-time during business hours)". A case opened outside the
channel's staffed hours is still opened; the answer says when the team is back, and the opening
timeline entry records it (`channel_data["staffed"]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import Requester

from ... import services
from ...choices import REQUIRED_TO_RESOLVE
from ...models import Case, SlackChannelLink, SlackContact, SlackThread
from ...sla import calendar as sla
from ...sla.clocks import policy_for_tenant

SUBJECT_MAX = 120
SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")  # T…, C…/G…/D…, U…/W…
SLACK_TS = re.compile(r"\d{1,20}\.\d{1,12}")


class SlackRefusal(Exception):
    """A Slack request we cannot act on; the message is shown to the Slack user as it is."""


@dataclass
class Sender:
    link: SlackChannelLink
    requester: Requester
    team_id: str
    channel_id: str
    user_id: str


def link_for(team_id: str, channel_id: str) -> SlackChannelLink | None:
    """The channel's own link, else the workspace's (channel blank)."""
    links = {
        link.channel_id: link
        for link in SlackChannelLink.objects.filter(team_id=team_id, channel_id__in=[channel_id or "", ""])
        .select_related("tenant", "default_requester", "calendar")
        .order_by("-channel_id")
    }
    return links.get(channel_id) or links.get("")


def identify(*, team_id: str, channel_id: str, user_id: str) -> Sender:
    """The tenant and contact behind a Slack request, or SlackRefusal saying what is missing."""
    if not team_id:
        raise SlackRefusal("This request does not say which Slack workspace it came from.")
    for value in (team_id, channel_id, user_id):
        if not SLACK_ID.fullmatch(value or ""):
            raise SlackRefusal("This request names a Slack workspace, channel or user that is not valid.")
    link = link_for(team_id, channel_id)
    if link is None:
        raise SlackRefusal(
            "This Slack channel is not connected to CompanyOS Support yet, so no case can be opened or shown "
            "here. Ask your account team to link the workspace, or write to support by e-mail."
        )
    contact = (
        SlackContact.objects.filter(team_id=team_id, user_id=user_id, requester__tenant_id=link.tenant_id)
        .select_related("requester")
        .first()
    )
    requester = contact.requester if contact else link.default_requester
    if requester is None:
        raise SlackRefusal(
            f"Your Slack account is not linked to a contact of {link.tenant.name} yet. Ask your account team "
            "to add you, or write to support by e-mail."
        )
    return Sender(link=link, requester=requester, team_id=team_id, channel_id=channel_id, user_id=user_id)


def staffed(link: SlackChannelLink, at: datetime | None = None) -> dict:
    """Is Slack support staffed at `at` (seed 001: business hours)? On the link's calendar, else the
    tenant's SLA policy calendar; with neither, always. {"open", "calendar", "hours", "next_open"}."""
    at = at or timezone.now()
    calendar = link.calendar
    if calendar is None:
        policy = policy_for_tenant(link.tenant)
        calendar = policy.calendar if policy is not None else None
    if calendar is None:
        return {"open": True, "calendar": "", "hours": "around the clock", "next_open": None}
    cal = calendar.to_calendar()
    next_open = sla.next_open(at, cal) if cal.has_hours else None
    is_open = next_open is not None and next_open <= at
    return {
        "open": is_open,
        "calendar": calendar.name,
        "hours": f"{calendar.describe_hours()} ({calendar.timezone})",
        "next_open": None if is_open or next_open is None else next_open.isoformat(),
    }


def _subject(text: str) -> str:
    first = " ".join((text or "").strip().splitlines()[0].split()) if (text or "").strip() else ""
    return first if len(first) <= SUBJECT_MAX else first[: SUBJECT_MAX - 1].rstrip() + "…"


def open_case(
    sender: Sender, *, text: str, description: str = "", message_ts: str = "", thread_ts: str = "", via: str
) -> tuple[Case, bool, dict]:
    """Open a case from Slack for `sender` (`via`: "slash_command" or "message_action"). A case made
    from a message (`message_ts`) is made once: the same message again returns the first case.
    Returns (case, created, staffed)."""
    subject = _subject(text)
    for ts in (message_ts, thread_ts):
        if ts and not SLACK_TS.fullmatch(ts):
            raise SlackRefusal("This message's timestamp is not one Slack gives.")
    if not subject:
        raise SlackRefusal("Say what the case is about: `/support new <what is wrong>`.")
    hours = staffed(sender.link)
    if message_ts:
        existing = _case_of_message(sender, message_ts)
        if existing is not None:
            return existing, False, hours
    channel_data = {
        "slack": {
            "team_id": sender.team_id,
            "channel_id": sender.channel_id,
            "user_id": sender.user_id,
            "message_ts": message_ts,
            "via": via,
        },
        "staffed": hours,
    }
    try:
        with transaction.atomic():
            case = services.case_create(
                actor=None,
                tenant=sender.link.tenant,
                requester=sender.requester,
                subject=subject,
                description=(description or text or "").strip(),
                channel="slack",
                unclassified=REQUIRED_TO_RESOLVE,
                channel_data=channel_data,
            )
            SlackThread.objects.create(
                case=case,
                team_id=sender.team_id,
                channel_id=sender.channel_id,
                message_ts=message_ts,
                thread_ts=thread_ts or message_ts,
                slack_user_id=sender.user_id,
            )
    except IntegrityError:  # the same message, turned into a case at the same moment by another request
        existing = _case_of_message(sender, message_ts) if message_ts else None
        if existing is None:
            raise
        return existing, False, hours
    return case, True, hours


def _case_of_message(sender: Sender, message_ts: str) -> Case | None:
    thread = (
        SlackThread.objects.filter(team_id=sender.team_id, channel_id=sender.channel_id, message_ts=message_ts)
        .select_related("case")
        .first()
    )
    return thread.case if thread else None


def find_case(sender: Sender, key: str) -> Case | None:
    """The case `key` (CS-1042) if it belongs to the sender's tenant; None otherwise (another
    tenant's case is "not found", like a case that does not exist)."""
    prefix, _, number = (key or "").strip().upper().partition("-")
    if prefix != settings.CASE_KEY_PREFIX.upper() or not number.isdigit() or len(number) > 12:
        return None
    return (
        Case.objects.filter(pk=int(number), tenant_id=sender.link.tenant_id)
        .select_related("tenant", "requester", "owner")
        .first()
    )


def last_public_message(case: Case):
    """The newest message the customer can see (their own or our public reply), or None."""
    return (
        case.interactions.filter(public=True, kind__in=["inbound", "reply"])
        .exclude(body="")
        .order_by("-created_at", "-id")
        .first()
    )
