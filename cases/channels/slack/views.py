"""Slack's requests to us: the slash command and the interactivity payload (message actions).

Both are signed by Slack (`X-Slack-Signature`, `X-Slack-Request-Timestamp`): checked with
`slack_sdk.signature.SignatureVerifier` against SLACK_SIGNING_SECRET, which also refuses a timestamp
more than 5 minutes off (a replay). Unsigned or badly signed: 401, audited as a refusal. The views
parse, call cases.channels.slack.intake, and answer in Slack's response format (ephemeral blocks).
What they show a Slack user of a case is recorded in the audit trail with who asked in Slack.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_sdk.signature import SignatureVerifier

from companyos import audit
from companyos.access import audited_write, no_data

from ...errors import CaseError
from ...models import Case
from . import blocks, intake
from .tasks import slack_respond_task

log = logging.getLogger(__name__)
CREATE_CASE_CALLBACK = "create_case"  # the message shortcut's callback id in the Slack app's settings


def _verified(request) -> bool:
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        return False
    try:
        body = request.body.decode("utf-8")
        return SignatureVerifier(secret).is_valid(
            body=body,
            timestamp=request.headers.get("X-Slack-Request-Timestamp"),
            signature=request.headers.get("X-Slack-Signature"),
        )
    except (UnicodeDecodeError, ValueError):
        return False


def _refuse_unsigned() -> HttpResponse:
    return HttpResponse("Invalid or missing Slack signature.", status=401, content_type="text/plain")


def _answer(message: dict, *, shows: Case | None = None, who: dict | None = None, view: str = "") -> JsonResponse:
    response = JsonResponse(message)
    if shows is None:
        return no_data(response)
    audit.log_access(shows, view=view, extra={"slack": who or {}})
    return response


@csrf_exempt
@audited_write(Case, view="slack slash command")
@require_POST
def slash_command(request):
    """`/support new <subject>` opens a case; `/support CS-1042` shows one; anything else: usage."""
    if not _verified(request):
        return _refuse_unsigned()
    post = request.POST
    who = {
        "team_id": post.get("team_id", ""),
        "channel_id": post.get("channel_id", ""),
        "user_id": post.get("user_id", ""),
    }
    text = " ".join(post.get("text", "").split())
    verb, _, rest = text.partition(" ")
    if not text or verb.lower() == "help":
        return _answer(blocks.usage())
    try:
        sender = intake.identify(**who)
        if verb.lower() in ("new", "open"):
            case, created, hours = intake.open_case(sender, text=rest, via="slash_command")
            return _answer(
                blocks.case_opened(case, hours, created=created), shows=case, who=who, view="slack: case opened"
            )
        key = rest if verb.lower() == "show" else verb
        case = intake.find_case(sender, key)
        if case is None:
            looks_like_key = "-" in key and key.split("-")[-1].isdigit()
            if not looks_like_key:
                raise intake.SlackRefusal(f"“{text[:60]}” is not something /support understands.")
            raise intake.SlackRefusal(f"No case {key.upper()} for {sender.link.tenant.name}.")
        return _answer(
            blocks.case_summary(case, intake.last_public_message(case)), shows=case, who=who, view="slack: /support"
        )
    except (intake.SlackRefusal, CaseError) as refusal:
        return _answer(blocks.error(str(refusal)))


@csrf_exempt
@audited_write(Case, view="slack interactivity")
@require_POST
def interactivity(request):
    """Slack's interactivity payload (form field `payload`, JSON). The message shortcut "Create
    support case" (callback id `create_case`) makes a case of the message, in the thread it belongs
    to; the answer goes to the user through `response_url` after commit. Slack shows nothing of
    this response's body: it only needs a quick 200."""
    if not _verified(request):
        return _refuse_unsigned()
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except ValueError:
        return no_data(HttpResponse("The payload is not JSON.", status=400, content_type="text/plain"))
    if not isinstance(payload, dict):
        return no_data(HttpResponse("The payload is not a JSON object.", status=400, content_type="text/plain"))
    if payload.get("type") != "message_action" or payload.get("callback_id") != CREATE_CASE_CALLBACK:
        return no_data(HttpResponse(status=200))  # other interactions are not ours to handle
    team = payload.get("team") or {}
    channel = payload.get("channel") or {}
    user = payload.get("user") or {}
    message = payload.get("message") or {}
    if not all(isinstance(x, dict) for x in (team, channel, user, message)):
        return no_data(
            HttpResponse("The payload is not a Slack message action.", status=400, content_type="text/plain")
        )
    response_url = str(payload.get("response_url") or "")
    who = {
        "team_id": str(team.get("id") or ""),
        "channel_id": str(channel.get("id") or ""),
        "user_id": str(user.get("id") or ""),
    }
    author = str(message.get("user") or "")
    message_ts = str(message.get("ts") or payload.get("message_ts") or "")
    try:
        try:  # the case is the message author's when they are a known contact, else the one who asked
            sender = intake.identify(**{**who, "user_id": author or who["user_id"]})
        except intake.SlackRefusal:
            if not author or author == who["user_id"]:
                raise
            sender = intake.identify(**who)
        text = str(message.get("text") or "")
        case, created, hours = intake.open_case(
            sender,
            text=text,
            description=text,
            message_ts=message_ts,
            thread_ts=str(message.get("thread_ts") or message_ts),
            via="message_action",
        )
    except (intake.SlackRefusal, CaseError) as refusal:
        answer, shown = blocks.error(str(refusal)), None
    else:
        answer, shown = blocks.case_opened(case, hours, created=created), case
    if response_url:
        transaction.on_commit(lambda: slack_respond_task.delay(response_url, answer))
    response = HttpResponse(status=200)
    if shown is None:
        return no_data(response)
    audit.log_access(shown, view="slack: message action", extra={"slack": who})
    return response
