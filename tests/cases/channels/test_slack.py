"""The Slack channel (issue 11 point 4) in Slack's own wire formats: the slash command (form-encoded),
the interactivity payload (`payload=` JSON) of a message action, both signed with a real signature
computed here; replies in the case's thread through `chat.postMessage`, and incoming-webhook
notifications, against a local HTTP server speaking those APIs (pytest-httpserver)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta
from unittest import mock
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from werkzeug import Response

from cases import services
from cases.channels.outbound import PermanentFailure, sender_for
from cases.channels.slack import api, intake
from cases.channels.slack.api import SlackSendError
from cases.choices import Priority
from cases.models import (
    BusinessCalendar,
    Case,
    Interaction,
    Notification,
    SlackChannelLink,
    SlackContact,
    SlackThread,
)
from cases.sla import sweep
from cases.sla.actions import Breach, page_on_call
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM, CHANNEL, USER, OTHER_USER = "T0001", "C2147483705", "U2147483697", "U0D15K92L"
ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(7)}
OFFICE = {str(d): [["08:00", "16:00"]] for d in range(5)}
OSLO = ZoneInfo("Europe/Oslo")


# --- the world and Slack's side -------------------------------------------------------------------------


@pytest.fixture
def slack(settings, httpserver):
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SLACK_BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
    settings.SLACK_API_URL = httpserver.url_for("/api/")
    settings.SLACK_RESPONSE_URL_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    settings.SLACK_WEBHOOK_URL = ""
    return httpserver


@pytest.fixture
def world(db):
    tenant = TenantFactory(name="Acme Corp", slug="acme")
    other = TenantFactory(name="Globex", slug="globex")
    steve = RequesterFactory(tenant=tenant, name="Steve Jobs", email="steve@acme.example")
    always = BusinessCalendar.objects.create(name="Slack 24x7", timezone="UTC", weekly_hours=ALWAYS)
    link = SlackChannelLink.objects.create(
        team_id=TEAM, team_name="Acme", channel_id=CHANNEL, channel_name="support", tenant=tenant, calendar=always
    )
    SlackContact.objects.create(team_id=TEAM, user_id=USER, requester=steve)
    agent = UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[tenant])
    return {"tenant": tenant, "other": other, "steve": steve, "link": link, "agent": agent}


def signed(client, url: str, body: str, *, secret: str = SECRET, at: int | None = None, signature: str | None = None):
    """POST `body` as Slack does: form-encoded, with `X-Slack-Signature: v0=HMAC-SHA256(secret, v0:ts:body)`."""
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return client.generic(
        "POST",
        url,
        body.encode(),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_SLACK_SIGNATURE=signature or f"v0={digest}",
    )


def slash(client, text: str, *, user: str = USER, team: str = TEAM, channel: str = CHANNEL, **kwargs):
    """The slash command's request, field for field as Slack sends it."""
    body = urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": team,
            "team_domain": "acme",
            "enterprise_id": "E0001",
            "enterprise_name": "Acme Corp",
            "channel_id": channel,
            "channel_name": "support",
            "user_id": user,
            "user_name": "steve",
            "command": "/support",
            "text": text,
            "api_app_id": "A123456",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/1234/5678",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )
    return signed(client, reverse("slack:commands"), body, **kwargs)


def message_action(slack_server, *, text: str, author: str = USER, ts: str = "1530829189.000190", thread_ts=None):
    """A message shortcut's interactivity payload (type message_action)."""
    message = {
        "type": "message",
        "user": author,
        "text": text,
        "ts": ts,
        "client_msg_id": "5b4d1ab5-52d5-4d07-9c36-5b1c1d4c7f0e",
        "team": TEAM,
        "blocks": [{"type": "rich_text", "block_id": "x1", "elements": []}],
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "token": "Nj2rfC2hU8mAfgaJLemZgO7H",
        "action_ts": "1530829201.457521",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": USER, "username": "steve", "team_id": TEAM, "name": "steve"},
        "channel": {"id": CHANNEL, "name": "support"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": "create_case",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "response_url": slack_server.url_for("/actions/T0001/1234/abcd"),
        "message_ts": ts,
        "message": message,
    }


def interact(client, payload: dict, **kwargs):
    return signed(client, reverse("slack:interactivity"), urlencode({"payload": json.dumps(payload)}), **kwargs)


def texts(answer: dict) -> str:
    """Every mrkdwn/plain text of a Slack message, joined."""
    found = [answer.get("text", "")]
    for block in answer.get("blocks", []):
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []) + block.get("fields", []):
            found.append(element.get("text", ""))
    return "\n".join(found)


# --- signatures -------------------------------------------------------------------------------------------


def test_a_bad_signature_an_old_timestamp_or_no_secret_is_refused(client, slack, world, settings):
    assert slash(client, "new Webhooks fail", secret="not-the-secret").status_code == 401
    assert slash(client, "new Webhooks fail", at=int(time.time()) - 10 * 60).status_code == 401  # a replay
    assert slash(client, "new Webhooks fail", signature="v0=deadbeef").status_code == 401
    settings.SLACK_SIGNING_SECRET = ""
    assert slash(client, "new Webhooks fail").status_code == 401
    assert not Case.objects.exists()
    denials = LogEntry.objects.filter(additional_data__denied=True, additional_data__path=reverse("slack:commands"))
    assert denials.count() == 4 and "answered 401" in denials.first().additional_data["reason"]  # audited


def test_a_valid_signature_within_the_window_is_accepted(client, slack, world):
    response = slash(client, "help", at=int(time.time()) - 4 * 60)
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "/support new" in texts(response.json())


# --- the slash command ------------------------------------------------------------------------------------


def test_support_new_opens_a_slack_case_for_the_linked_contact(client, slack, world):
    response = slash(client, "new Webhooks to https://acme.example are <b>delayed</b> by 20 min")
    assert response.status_code == 200
    answer = response.json()
    case = Case.objects.get()
    assert (case.tenant, case.requester, case.channel) == (world["tenant"], world["steve"], "slack")
    assert case.subject == "Webhooks to https://acme.example are <b>delayed</b> by 20 min"
    assert answer["response_type"] == "ephemeral"
    assert f"*{case.key}*" in texts(answer) and "&lt;b&gt;delayed&lt;/b&gt;" in texts(answer)  # escaped
    thread = SlackThread.objects.get(case=case)
    assert (thread.team_id, thread.channel_id, thread.thread_ts, thread.slack_user_id) == (TEAM, CHANNEL, "", USER)
    opening = case.interactions.get(kind=Interaction.Kind.INBOUND)
    assert opening.channel == "slack" and opening.actor is None and opening.requester == world["steve"]
    assert opening.data["channel_data"]["slack"] == {
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "user_id": USER,
        "message_ts": "",
        "via": "slash_command",
    }
    assert LogEntry.objects.filter(object_pk=str(case.pk), additional_data__view="slack: case opened").exists()


def test_a_workspace_link_covers_its_channels_and_the_default_contact_files_unknown_users(client, slack, world):
    world["link"].delete()
    office = RequesterFactory(tenant=world["tenant"], name="Acme IT desk")
    SlackChannelLink.objects.create(team_id=TEAM, channel_id="", tenant=world["tenant"], default_requester=office)
    response = slash(client, "new Login loops", user="U999UNKNOWN", channel="C0OTHER")
    assert response.status_code == 200
    assert Case.objects.get().requester == office


@pytest.mark.parametrize(
    ("team", "user", "message"),
    [
        ("T9999", USER, "not connected to CompanyOS Support"),
        (TEAM, "U999UNKNOWN", "Your Slack account is not linked to a contact of Acme Corp"),
        ("T" * 40, USER, "not valid"),
        (TEAM, "u<script>", "not valid"),
    ],
)
def test_unknown_workspace_or_user_gets_a_clear_ephemeral_error(client, slack, world, team, user, message):
    response = slash(client, "new Something broke", team=team, user=user)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral" and message in texts(answer)
    assert not Case.objects.exists()


def test_support_new_without_a_subject_says_how(client, slack, world):
    answer = slash(client, "new   ").json()
    assert "Say what the case is about" in texts(answer)
    assert not Case.objects.exists()


def test_support_key_shows_the_case_without_internal_notes(client, slack, world):
    case = services.case_create(
        actor=world["agent"], tenant=world["tenant"], requester=world["steve"], subject="SSO fails"
    )
    services.case_reply(case_id=case.pk, actor=world["agent"], body="Internal: customer is on old IdP", public=False)
    services.case_reply(case_id=case.pk, actor=world["agent"], body="We are looking at your SSO setup.", public=True)
    answer = slash(client, case.key.lower()).json()
    shown = texts(answer)
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": f"{case.key} SSO fails"}}
    assert "New" in shown and "We are looking at your SSO setup." in shown
    assert "old IdP" not in shown
    assert LogEntry.objects.filter(object_pk=str(case.pk), additional_data__view="slack: /support").exists()


def test_another_tenants_case_is_not_found(client, slack, world):
    theirs = services.case_create(
        actor=None, tenant=world["other"], requester=RequesterFactory(tenant=world["other"]), subject="Globex secret"
    )
    answer = slash(client, f"show {theirs.key}").json()
    assert f"No case {theirs.key}" in texts(answer) and "Globex secret" not in texts(answer)
    assert "not something /support understands" in texts(slash(client, "hello there").json())


def test_outside_staffed_hours_the_case_opens_and_the_answer_says_when_we_are_back(client, slack, world):
    office = BusinessCalendar.objects.create(name="Oslo office", timezone="Europe/Oslo", weekly_hours=OFFICE)
    SlackChannelLink.objects.filter(pk=world["link"].pk).update(calendar=office)
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=OSLO)
    with mock.patch("django.utils.timezone.now", return_value=saturday):
        answer = slash(client, "new Export is slow").json()
    case = Case.objects.get()
    assert "staffed in business hours" in texts(answer) and "Mon–Fri" not in texts(answer)
    monday = int(datetime(2026, 3, 9, 8, 0, tzinfo=OSLO).timestamp())
    assert f"<!date^{monday}^" in texts(answer)
    staffed = case.interactions.get(kind="inbound").data["channel_data"]["staffed"]
    assert staffed["open"] is False and staffed["calendar"] == "Oslo office"
    page = login(world["agent"]).get(case.get_absolute_url()).content.decode()
    assert "Sent in Slack outside its staffed hours (Mon 08:00–16:00" in page
    with mock.patch("django.utils.timezone.now", return_value=saturday + timedelta(days=2)):  # Monday 12:00
        assert "staffed in business hours" not in texts(slash(client, "new Another").json())


# --- the message action -----------------------------------------------------------------------------------


def test_create_case_from_a_message_answers_through_response_url_and_only_once(
    client, slack, world, django_capture_on_commit_callbacks
):
    slack.expect_request("/actions/T0001/1234/abcd", method="POST").respond_with_data("ok")
    OtherContact = RequesterFactory(tenant=world["tenant"], name="Ana Lima")
    SlackContact.objects.create(team_id=TEAM, user_id=OTHER_USER, requester=OtherContact)
    payload = message_action(
        slack,
        text="Our nightly export failed again\nJob id 8812, error E_TIMEOUT",
        author=OTHER_USER,
        ts="1700.0002",
        thread_ts="1700.0001",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = interact(client, payload)
    assert response.status_code == 200 and response.content == b""
    case = Case.objects.get()
    assert case.subject == "Our nightly export failed again" and "E_TIMEOUT" in case.description
    assert case.requester == OtherContact  # the message's author, a known contact
    thread = SlackThread.objects.get(case=case)
    assert (thread.message_ts, thread.thread_ts) == ("1700.0002", "1700.0001")  # replies go to its thread
    request, _ = slack.log[-1]
    answer = request.get_json()
    assert answer["response_type"] == "ephemeral" and f"Opened *{case.key}*" in texts(answer)

    with django_capture_on_commit_callbacks(execute=True):
        interact(client, payload)  # Slack retried, or someone clicked again
    assert Case.objects.count() == 1
    assert "Already a case:" in texts(slack.log[-1][0].get_json())


def test_a_message_by_an_unknown_user_is_filed_under_the_one_who_asked(client, slack, world):
    slack.expect_request("/actions/T0001/1234/abcd", method="POST").respond_with_data("ok")
    interact(client, message_action(slack, text="Dashboard shows 0 events", author="U0NOTKNOWN"))
    assert Case.objects.get().requester == world["steve"]


def test_other_interactions_and_bad_payloads(client, slack, world):
    assert interact(client, {"type": "block_actions", "actions": []}).status_code == 200
    body = urlencode({"payload": "{not json"})
    assert signed(client, reverse("slack:interactivity"), body).status_code == 400
    assert interact(client, {**message_action(slack, text="x"), "team": "T0001"}).status_code == 400
    assert interact(client, message_action(slack, text="x", ts="9" * 40)).status_code == 200  # refused, politely
    assert not Case.objects.exists()


def test_response_url_to_a_foreign_host_is_not_followed(settings):
    settings.SLACK_RESPONSE_URL_HOSTS = ["hooks.slack.com"]
    assert api.response_url_allowed("https://hooks.slack.com/actions/T1/2/3")
    assert not api.response_url_allowed("http://169.254.169.254/latest/meta-data")
    assert not api.response_url_allowed("file:///etc/passwd")


# --- replies in the thread ------------------------------------------------------------------------------


def _reply(world, case, body="We found the cause: a stuck queue. Fixed at 10:42."):
    return services.case_reply(case_id=case.pk, actor=world["agent"], body=body, public=True)


def test_a_public_reply_goes_to_the_thread_with_the_bot_token(client, slack, world):
    slack.expect_request("/actions/T0001/1234/abcd", method="POST").respond_with_data("ok")
    interact(client, message_action(slack, text="Webhooks are delayed", ts="1700.0002"))
    case = Case.objects.get()
    slack.expect_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": True, "channel": CHANNEL, "ts": "1700.0099", "message": {"text": "…"}}
    )
    reply = _reply(world, case, body="Fixed <now> & verified")
    assert sender_for("slack")(reply) == "1700.0099"  # the ts: the reply outbox's external id
    request, _ = slack.log[-1]
    assert request.headers["Authorization"] == "Bearer xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
    sent = request.get_json()
    assert (sent["channel"], sent["thread_ts"]) == (CHANNEL, "1700.0002")
    assert "Kari Nordmann" in sent["text"] and "Fixed &lt;now&gt; &amp; verified" in sent["blocks"][0]["text"]["text"]
    # The relay retries a reply it delivered (it crashed before marking it sent): not posted twice.
    posts = len(slack.log)
    assert sender_for("slack")(reply) == "1700.0099"
    assert len(slack.log) == posts


def test_a_slash_command_case_starts_its_thread_with_the_first_reply(client, slack, world):
    slash(client, "new Exports are empty")
    case = Case.objects.get()
    slack.expect_ordered_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": True, "ts": "1800.0001"}
    )
    slack.expect_ordered_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": True, "ts": "1800.0002"}
    )
    sender_for("slack")(_reply(world, case, "First answer"))
    sender_for("slack")(_reply(world, case, "Second answer"))
    first, second = (r.get_json() for r, _ in slack.log[-2:])
    assert "thread_ts" not in first and case.key in first["blocks"][0]["text"]["text"]
    assert second["thread_ts"] == "1800.0001"
    assert SlackThread.objects.get(case=case).thread_ts == "1800.0001"


def test_slack_errors_say_whether_to_retry(client, slack, world):
    slash(client, "new Exports are empty")
    case = Case.objects.get()
    reply = _reply(world, case)
    slack.expect_oneshot_request("/api/chat.postMessage").respond_with_json({"ok": False, "error": "channel_not_found"})
    with pytest.raises(SlackSendError) as refused:
        sender_for("slack")(reply)
    assert (refused.value.error, refused.value.retryable) == ("channel_not_found", False)
    assert isinstance(refused.value, PermanentFailure)  # the reply outbox fails it at once
    slack.expect_oneshot_request("/api/chat.postMessage").respond_with_response(
        Response(json.dumps({"ok": False, "error": "ratelimited"}), status=429, headers={"Retry-After": "30"})
    )
    with pytest.raises(SlackSendError) as limited:
        sender_for("slack")(reply)
    assert (limited.value.retryable, limited.value.retry_after) == (True, 30.0)
    slack.expect_oneshot_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "internal_error"}, status=500
    )
    with pytest.raises(SlackSendError) as broken:
        sender_for("slack")(reply)
    assert broken.value.retryable is True and not isinstance(broken.value, PermanentFailure)
    note = services.case_reply(case_id=case.pk, actor=world["agent"], body="internal", public=False)
    with pytest.raises(SlackSendError, match="internal notes never leave"):
        sender_for("slack")(note)
    email_case = services.case_create(
        actor=world["agent"], tenant=world["tenant"], requester=world["steve"], subject="By mail"
    )
    with pytest.raises(SlackSendError, match="did not come from Slack"):
        sender_for("slack")(_reply(world, email_case))


def test_unreachable_slack_is_a_retryable_error(settings, world):
    settings.SLACK_BOT_TOKEN = "xoxb-1"
    settings.SLACK_API_URL = "http://127.0.0.1:9/api/"  # nothing listens on the discard port
    with pytest.raises(SlackSendError) as down:
        api.post_message(channel=CHANNEL, text="hi")
    assert down.value.retryable is True


# --- incoming-webhook notifications -----------------------------------------------------------------------


@pytest.fixture
def hook(slack, settings):
    settings.SLACK_WEBHOOK_URL = slack.url_for("/services/T0001/B0001/XXXX")
    return slack


def test_a_new_critical_case_is_posted_to_the_webhook_through_the_outbox(hook, world):
    services.case_create(actor=world["agent"], tenant=world["tenant"], requester=world["steve"], subject="Minor typo")
    case = services.case_create(
        actor=world["agent"],
        tenant=world["tenant"],
        requester=world["steve"],
        subject="All logins fail",
        priority=Priority.CRITICAL,
    )
    note = Notification.objects.get(channel="slack")
    assert note.case == case and note.subject == f"New critical case {case.key}: All logins fail"
    hook.expect_request("/services/T0001/B0001/XXXX", method="POST").respond_with_data("ok")
    assert sweep.send_pending_notifications() == 1
    sent = hook.log[-1][0].get_json()
    assert f"New critical case {case.key}" in sent["text"]
    assert sent["blocks"][0]["text"]["text"] == f"*New critical case {case.key}: All logins fail*"
    assert "Acme Corp" in sent["blocks"][1]["elements"][0]["text"]
    note.refresh_from_db()
    assert note.sent_at is not None


def test_a_case_raised_to_critical_is_posted(hook, world):
    case = services.case_create(actor=world["agent"], tenant=world["tenant"], requester=world["steve"], subject="Slow")
    assert not Notification.objects.exists()
    services.case_classify(case_id=case.pk, actor=world["agent"], priority=Priority.HIGH)
    assert not Notification.objects.exists()
    services.case_classify(case_id=case.pk, actor=world["agent"], priority=Priority.CRITICAL)
    assert Notification.objects.get().subject == f"{case.key} raised to critical: Slow"


def test_webhook_429_waits_for_retry_after_and_a_revoked_hook_fails_at_once(hook, world):
    services.case_create(
        actor=world["agent"],
        tenant=world["tenant"],
        requester=world["steve"],
        subject="Down",
        priority=Priority.CRITICAL,
    )
    now = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("UTC"))
    Notification.objects.update(send_after=now)
    hook.expect_oneshot_request("/services/T0001/B0001/XXXX").respond_with_response(
        Response("rate limited", status=429, headers={"Retry-After": "120"})
    )
    assert sweep.send_pending_notifications(now=now) == 0
    note = Notification.objects.get()
    assert note.sent_at is None and note.attempts == 1 and note.send_after == now + timedelta(seconds=120)
    assert sweep.send_pending_notifications(now=now + timedelta(seconds=60)) == 0  # not yet
    hook.expect_oneshot_request("/services/T0001/B0001/XXXX").respond_with_response(Response("no_service", status=404))
    assert sweep.send_pending_notifications(now=now + timedelta(seconds=121)) == 0
    note.refresh_from_db()
    assert note.attempts == sweep.MAX_ATTEMPTS and note.status == "failed" and "no_service" in note.last_error


def test_a_page_is_posted_to_slack_too(hook, world):
    UserFactory(username="sre1", email="sre@companyos.example", role="SRE")
    breach = Breach(
        case={"pk": 1, "priority": Priority.CRITICAL},
        key="CS-1",
        headline="CS-1: first response SLA breached",
        body="Case: CS-1",
        escalation_id=None,
        now=datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("UTC")),
    )
    notes = page_on_call(breach)
    assert notes == ["paged on-call (1)", "page posted to Slack"]
    slack_posts = [n for n in breach.notifications if n.channel == "slack"]
    assert [n.subject for n in slack_posts] == ["PAGE: CS-1: first response SLA breached"]


def test_identify_prefers_the_channel_link(world):
    other_tenant_link = SlackChannelLink.objects.create(team_id=TEAM, channel_id="", tenant=world["other"])
    assert intake.link_for(TEAM, CHANNEL) == world["link"]
    assert intake.link_for(TEAM, "C0ELSEWHERE") == other_tenant_link


# --- the admins' mapping -------------------------------------------------------------------------------


def test_only_admins_configure_slack_links_and_a_default_contact_must_be_the_tenants(world, admin_user):
    url = reverse("admin:cases_slackchannellink_add")
    manager = UserFactory(username="mona", role="manager", is_staff=True)
    assert login(manager).get(url).status_code == 403
    admin = login(admin_user)
    stranger = RequesterFactory(tenant=world["other"])
    data = {"team_id": "T0NEW", "channel_id": "", "tenant": world["tenant"].pk, "default_requester": stranger.pk}
    response = admin.post(url, {**data, "created_at_0": "2026-03-04", "created_at_1": "10:00"})
    assert response.status_code == 200 and "Choose a contact of the linked tenant." in response.content.decode()
    data["default_requester"] = world["steve"].pk
    response = admin.post(url, {**data, "created_at_0": "2026-03-04", "created_at_1": "10:00"})
    assert response.status_code == 302
    assert intake.link_for("T0NEW", "C0ANY").default_requester == world["steve"]
