"""Inbound e-mail through the one service (`cases.channels.email.inbound.receive`), on raw messages
as mail clients and servers write them: threading, reply stripping, charsets, HTML-only, forwards,
auto-replies and bounces, a 30 MB attachment, malformed mail, the unmatched queue, reopen windows."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cases import services
from cases.channels import outbox
from cases.channels.email import inbound, parsing
from cases.choices import Status, WaitingFor
from cases.models import Case, EmailMessage, Interaction, OutboundReply, SLAClock
from companyos import roles
from tests.cases.channels.mail import crlf, plain, reply
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def acme():
    return TenantFactory(name="Acme Corp", slug="acme")


@pytest.fixture
def jane(acme):
    return RequesterFactory(tenant=acme, name="Jane Doe", email="jane@acme.example")


@pytest.fixture
def kari(acme):
    return UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[acme])


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SUPPORT_EMAIL = "support@companyos.example"


def receive(raw: bytes, source: str = "mta"):
    return inbound.receive(raw, source=source)


def opening(case: Case) -> Interaction:
    return case.interactions.get(kind=Interaction.Kind.INBOUND)


# --- a new case, a redelivery --------------------------------------------------------------------------


def test_mail_from_a_known_contact_opens_a_case_with_the_original_kept(jane):
    outcome = receive(plain())
    assert outcome.state == "accepted" and outcome.created
    case = Case.objects.get()
    assert (case.tenant, case.requester, case.channel, case.status) == (jane.tenant, jane, "email", Status.NEW)
    assert case.subject == "Webhooks stopped firing"
    message = opening(case)
    assert message.public and message.requester == jane and message.actor is None and message.channel == "email"
    assert message.body == "Since 10:40 UTC no webhooks arrive at our endpoint."
    assert message.data["email"]["message_id"] == "m1.jane@mail.acme.example"
    (eml,) = case.attachments.all()
    assert eml.display_name == "original-message.eml" and eml.content_type == "message/rfc822"
    assert eml.interaction == message and eml.file.read() == plain()
    record = EmailMessage.objects.get()
    assert (record.state, record.case, record.interaction, record.source) == ("accepted", case, message, "mta")
    assert OutboundReply.objects.count() == 0  # a customer's message is never sent anywhere


def test_a_redelivered_message_is_recognised_and_changes_nothing(jane):
    first = receive(plain())
    again = receive(plain(), source="mailgun")
    assert again.duplicate and again.case_key == first.case_key
    assert Case.objects.count() == 1 and EmailMessage.objects.count() == 1


def test_a_message_without_message_id_is_still_recognised_when_redelivered(jane):
    raw = plain().replace(b"Message-ID: <m1.jane@mail.acme.example>\r\n", b"")
    assert receive(raw).created and receive(raw).duplicate
    assert Case.objects.count() == 1


# --- threading -------------------------------------------------------------------------------------------


def _agent_reply(case: Case, kari, body="Could you retry now?") -> EmailMessage:
    services.case_reply(case_id=case.pk, actor=kari, body=body, public=True)
    assert outbox.relay_replies() == 1
    return EmailMessage.objects.filter(direction="out", case=case).latest("created_at")


QUOTED_REPLY = """Thanks, retrying fixed it.

--
Jane Doe
Acme Corp

On Tue, Dec 1, 2026 at 11:02 AM Kari Nordmann <support@companyos.example> wrote:
> Could you retry now?
>
> Kari"""


def test_a_reply_to_our_message_lands_on_its_case_with_the_quote_and_signature_cut(jane, kari):
    receive(plain())
    case = Case.objects.get()
    sent = _agent_reply(case, kari)
    outcome = receive(
        reply(
            in_reply_to=sent.message_id,
            references=f"<m1.jane@mail.acme.example> <{sent.message_id}>",
            subject="Re: Webhooks stopped firing [CS-999999]",  # a wrong key: the headers win
            body=QUOTED_REPLY,
            message_id="<m2.jane@mail.acme.example>",
        )
    )
    assert (outcome.state, outcome.case_key, outcome.created) == ("accepted", case.key, False)
    assert Case.objects.count() == 1
    answer = case.interactions.filter(kind=Interaction.Kind.INBOUND).latest("id")
    assert answer.body == "Thanks, retrying fixed it."
    assert answer.requester == jane and answer.public
    assert "In-Reply-To" in EmailMessage.objects.get(message_id="m2.jane@mail.acme.example").reason


def test_references_alone_thread_a_reply_when_in_reply_to_names_an_unknown_message(jane, kari):
    receive(plain())
    case = Case.objects.get()
    sent = _agent_reply(case, kari)
    raw = reply(
        in_reply_to="unknown.123@elsewhere.example",
        references=f"<{sent.message_id}> <unknown.123@elsewhere.example>",
        subject="Re: something else entirely",
        body="Still broken.",
        message_id="<m3.jane@mail.acme.example>",
    )
    assert receive(raw).case_key == case.key


def test_the_case_key_in_the_subject_threads_a_message_without_headers(jane):
    case = CaseFactory(tenant=jane.tenant, requester=jane, status=Status.IN_PROGRESS)
    outcome = receive(plain(subject=f"Re: anything [{case.key}]", message_id="<k1@acme.example>", body="More info."))
    assert outcome.case_key == case.key and not outcome.created


def test_the_same_subject_text_without_a_key_opens_a_new_case(jane):
    case = CaseFactory(tenant=jane.tenant, requester=jane, subject="Webhooks stopped firing", status=Status.IN_PROGRESS)
    outcome = receive(plain(subject="Re: Webhooks stopped firing", message_id="<s1@acme.example>"))
    assert outcome.created and outcome.case_key != case.key
    assert Case.objects.get(pk=int(outcome.case_key.split("-")[1])).subject == "Webhooks stopped firing"


def test_a_case_key_from_another_tenants_contact_goes_to_the_unmatched_queue(jane):
    case = CaseFactory(tenant=jane.tenant, requester=jane, status=Status.IN_PROGRESS)
    RequesterFactory(tenant=TenantFactory(slug="globex"), email="eve@globex.example")
    outcome = receive(plain(sender="Eve <eve@globex.example>", subject=f"[{case.key}] let me in", message_id="<e1@x>"))
    assert outcome.state == "unmatched" and "not a contact" in outcome.reason
    assert case.interactions.filter(kind=Interaction.Kind.INBOUND).count() == 0


def test_mail_on_a_merged_duplicate_lands_on_the_case_it_was_merged_into(jane, kari):
    survivor = CaseFactory(tenant=jane.tenant, requester=jane, status=Status.IN_PROGRESS)
    duplicate = CaseFactory(tenant=jane.tenant, requester=jane, status=Status.IN_PROGRESS)
    services.case_merge(case_id=duplicate.pk, into_id=survivor.pk, actor=kari)
    outcome = receive(plain(subject=f"Re: [{duplicate.key}]", message_id="<d1@acme.example>", body="Any news?"))
    assert outcome.case_key == survivor.key


# --- the case's status -----------------------------------------------------------------------------------


def test_a_reply_to_a_case_waiting_on_the_customer_moves_it_back_to_in_progress(jane, kari):
    receive(plain())
    case = Case.objects.get()
    system = roles.system_user()
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=system)
    services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=system)
    sent = _agent_reply(case, kari, body="Please send us the webhook logs.")
    services.case_transition(case_id=case.pk, to=Status.WAITING_ON_CUSTOMER, actor=kari, waiting_for=WaitingFor.LOGS)
    assert SLAClock.objects.get(case=case, kind="resolution").state == "paused"
    receive(
        reply(in_reply_to=sent.message_id, subject="Re: logs", body="Logs attached.", message_id="<w1@acme.example>")
    )
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.waiting_for == ""
    assert SLAClock.objects.get(case=case, kind="resolution").state == "running"
    move = case.interactions.filter(kind=Interaction.Kind.STATUS).latest("id")
    assert move.data["from"] == Status.WAITING_ON_CUSTOMER and "wrote by email" in move.body


def _closed_case(jane, days_ago: int) -> Case:
    case = CaseFactory(tenant=jane.tenant, requester=jane, status=Status.CLOSED)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=days_ago))
    return case


def test_mail_on_a_case_closed_within_the_window_reopens_it(jane, settings):
    settings.EMAIL_REOPEN_WINDOW_DAYS = 14
    case = _closed_case(jane, days_ago=13)
    outcome = receive(plain(subject=f"Re: [{case.key}]", message_id="<r1@acme.example>", body="It is back."))
    case.refresh_from_db()
    assert outcome.case_key == case.key and case.status == Status.IN_PROGRESS and case.closed_at is None
    assert case.interactions.filter(kind=Interaction.Kind.STATUS, data__reopened=True).exists()


def test_mail_on_a_case_closed_before_the_window_opens_a_linked_follow_up(jane, settings):
    settings.EMAIL_REOPEN_WINDOW_DAYS = 14
    case = _closed_case(jane, days_ago=15)
    outcome = receive(plain(subject=f"Re: old issue [{case.key}]", message_id="<r2@acme.example>", body="Again."))
    case.refresh_from_db()
    assert case.status == Status.CLOSED and outcome.created and outcome.case_key != case.key
    follow_up = Case.objects.get(pk=int(outcome.case_key.split("-")[1]))
    assert follow_up.subject == "old issue" and opening(follow_up).data["follow_up_of"] == case.key
    assert case.interactions.get(data__follow_up=follow_up.key).body.endswith(f"follow-up {follow_up.key} opened.")


# --- what a machine sent -----------------------------------------------------------------------------------

AUTO = {
    "auto-submitted": "Auto-Submitted: auto-replied",
    "auto-generated": "Auto-Submitted: auto-generated",
    "precedence bulk": "Precedence: bulk",
    "precedence junk": "Precedence: junk",
    "precedence list": "Precedence: list",
    "x-autoreply": "X-Autoreply: yes",
    "x-autorespond": "X-Autorespond: Out of office",
}


@pytest.mark.parametrize("header", list(AUTO.values()), ids=list(AUTO))
def test_auto_replies_never_open_cases_nor_land_on_them(jane, kari, header):
    receive(plain())
    case = Case.objects.get()
    sent = _agent_reply(case, kari)
    raw = reply(in_reply_to=sent.message_id, subject="Out of office", body="I am away.", message_id="<oof@acme>")
    raw = raw.replace(b"MIME-Version: 1.0\r\n", f"MIME-Version: 1.0\r\n{header}\r\n".encode())
    outcome = receive(raw)
    assert outcome.state == "ignored" and header.split(":")[0] in outcome.reason
    assert case.interactions.filter(kind=Interaction.Kind.INBOUND).count() == 1
    assert Case.objects.count() == 1 and OutboundReply.objects.count() == 1  # only the agent's reply


def test_auto_submitted_no_is_a_person(jane):
    assert receive(plain(headers="Auto-Submitted: no")).created


DSN = crlf(
    """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
To: support@companyos.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.1@mx.acme.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain

This is the mail system at host mx.acme.example. Your message could not be delivered.

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example
Final-Recipient: rfc822; gone@acme.example
Action: failed
Status: 5.1.1

--dsn--
"""
)


def test_a_bounce_is_recorded_and_ignored(jane):
    outcome = receive(DSN)
    assert outcome.state == "ignored" and "multipart/report" in outcome.reason
    assert Case.objects.count() == 0


def test_a_bounce_from_mailer_daemon_without_a_report_is_ignored(jane):
    raw = plain(sender="MAILER-DAEMON@mx.acme.example", subject="failure notice", message_id="<b2@mx>")
    assert receive(raw).state == "ignored" and Case.objects.count() == 0


def test_our_own_mail_coming_back_is_a_loop_and_ignored(jane):
    raw = plain(sender="Kari (CompanyOS Support) <support@companyos.example>", message_id="<loop@x>")
    assert "loop" in receive(raw).reason and Case.objects.count() == 0


# --- bodies and charsets ------------------------------------------------------------------------------------

ENCODED = crlf(
    """From: =?iso-8859-1?Q?J=F8rn_Str=F8m?= <jane@acme.example>
To: support@companyos.example
Subject: =?utf-8?B?RmVobGVyIGJlaW0gTG9naW4g4oCUIOKAnkFQSeKAnCBzY2hsw6RndCBmZWhs?=
Message-ID: <enc.1@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe, der Login schl=E4gt fehl: =AB401=BB.

Am 01.12.2026 um 10:00 schrieb Support <support@companyos.example>:
> alte Nachricht

--alt
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

<p>Gr=FC=DFe, der Login schl=E4gt fehl.</p>

--alt--
"""
)


def test_encoded_headers_and_an_iso_8859_1_body_are_decoded(jane):
    receive(ENCODED)
    case = Case.objects.get()
    assert case.subject == "Fehler beim Login — „API“ schlägt fehl"
    assert opening(case).body == "Grüße, der Login schlägt fehl: «401»."
    assert EmailMessage.objects.get().from_name == "Jørn Strøm"


WINDOWS_1252 = (
    crlf(
        """From: jane@acme.example
To: support@companyos.example
Subject: Invoice
Message-ID: <cp1252@acme.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: 8bit
"""
    )
    + b"\r\nWe were charged \x80 120 for \x93premium\x94 support \x96 twice.\r\n"
)


def test_a_windows_1252_body_keeps_its_euro_sign_and_smart_quotes(jane):
    receive(WINDOWS_1252)
    assert opening(Case.objects.get()).body == "We were charged € 120 for “premium” support – twice."


HTML_ONLY = crlf(
    """From: Jane Doe <jane@acme.example>
To: support@companyos.example
Subject: Dashboard blank
Message-ID: <html.1@acme.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style></head><body>
<div dir="ltr"><p>The dashboard is <b>blank</b> since the update.</p><ul><li>Chrome 140</li><li>Firefox 150</li></ul>
<div class="gmail_quote"><div>On Mon, Kari wrote:</div><blockquote>old &amp; quoted</blockquote></div></div>
</body></html>
"""
)


def test_html_only_mail_becomes_text_without_its_quoted_part(jane):
    receive(HTML_ONLY)
    body = opening(Case.objects.get()).body
    assert body == "The dashboard is blank since the update.\n\n- Chrome 140\n- Firefox 150"


FORWARDED = crlf(
    """From: Jane Doe <jane@acme.example>
To: support@companyos.example
Subject: Fwd: Alert: error rate above 5%
Message-ID: <fwd.1@acme.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=utf-8

See below, our monitoring sent this.

---------- Forwarded message ---------
From: Monitoring <alerts@acme.example>
Date: Tue, 1 Dec 2026 at 09:58
Subject: Alert: error rate above 5%

Error rate 7.2% on api-gateway (eu-west).

--mix
Content-Type: message/rfc822
Content-Disposition: attachment

From: Monitoring <alerts@acme.example>
Subject: Alert: error rate above 5%
Message-ID: <inner@acme.example>

Error rate 7.2% on api-gateway (eu-west).

--mix--
"""
)


def test_a_forward_is_kept_whole_and_an_attached_message_kept_as_eml(jane):
    receive(FORWARDED)
    case = Case.objects.get()
    assert case.subject == "Alert: error rate above 5%"
    body = opening(case).body
    assert body.startswith("See below") and "Error rate 7.2% on api-gateway" in body
    names = sorted(a.display_name for a in case.attachments.all())
    assert names == ["Alert_error_rate_above_5.eml", "original-message.eml"]
    inner = case.attachments.get(original_name="Alert_error_rate_above_5.eml")
    assert b"Message-ID: <inner@acme.example>" in inner.file.read()


def _with_attachment(name: str, content: bytes, content_type: str) -> bytes:
    encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
    return (
        crlf(
            f"""From: Jane Doe <jane@acme.example>
To: support@companyos.example
Subject: Trace bundle
Message-ID: <att.{len(content)}@acme.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=utf-8

The trace is attached.

--mix
Content-Type: {content_type}; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64
"""
        )
        + b"\r\n"
        + encoded
        + b"\r\n--mix--\r\n"
    )


def test_attachments_pass_the_upload_rules_and_a_refused_one_is_named(jane):
    raw = _with_attachment("trace.json", b'{"ok": true}', "application/json")
    raw = raw.replace(
        b"--mix--",
        b"--mix\r\nContent-Type: application/x-msdownload\r\nContent-Disposition: attachment; "
        b'filename="setup.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--mix--',
    )
    receive(raw)
    case = Case.objects.get()
    assert sorted(a.display_name for a in case.attachments.all()) == ["original-message.eml", "trace.json"]
    assert case.attachments.get(original_name="trace.json").file.read() == b'{"ok": true}'
    body = opening(case).body
    assert body.startswith("The trace is attached.") and "[Attachment not kept: setup.exe: files of type .exe" in body


THIRTY_MB = 30 * 1024 * 1024


def test_a_30_mb_attachment_over_the_limit_is_refused_and_the_original_kept_trimmed(jane, settings):
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    content = os.urandom(THIRTY_MB)
    raw = _with_attachment("capture.zip", content, "application/zip")
    assert len(raw) > 40 * 1024 * 1024
    outcome = receive(raw)
    case = Case.objects.get()
    assert outcome.created and "capture.zip is 30.0 MB; the limit is 10 MB" in opening(case).body
    (eml,) = case.attachments.all()
    kept = eml.file.read()
    assert eml.size == len(kept) < 10 * 1024 * 1024
    copy = BytesParser(policy=policy.default).parsebytes(kept)
    assert copy["Message-ID"] == f"<att.{THIRTY_MB}@acme.example>"
    assert "The trace is attached." in copy.get_body(("plain",)).get_content()
    assert b"capture.zip, 31,457,280 bytes: removed from this copy" in kept


def test_a_30_mb_attachment_within_a_raised_limit_is_stored_intact(jane, settings):
    settings.ATTACHMENT_MAX_BYTES = 40 * 1024 * 1024
    content = os.urandom(THIRTY_MB)
    receive(_with_attachment("capture.zip", content, "application/zip"))
    case = Case.objects.get()
    stored = case.attachments.get(original_name="capture.zip")
    assert stored.size == THIRTY_MB and stored.file.read() == content
    assert case.attachments.get(original_name="original-message.eml").size < 40 * 1024 * 1024  # trimmed copy


# --- malformed ------------------------------------------------------------------------------------------------


def test_bytes_that_are_no_message_are_recorded_as_rejected(jane):
    outcome = receive(b"\x00\xff\xfe garbage \x81\r\n\r\n\xc3\x28")
    assert outcome.state == "rejected" and "no readable sender" in outcome.reason
    assert Case.objects.count() == 0


MALFORMED = (
    b"From: Jane Doe <jane@acme.example>\r\n"
    b"To: support@companyos.example\r\n"
    b"Subject: =?utf-8?B?broken-base64?= half \xe9ncoded\r\n"
    b"Message-ID: <malformed@acme.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="never-closed"\r\n'
    b"\r\n"
    b"--never-closed\r\n"
    b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
    b"\r\n"
    b"The body is still readable \xe9.\r\n"
)


def test_a_malformed_message_with_a_sender_still_becomes_a_case(jane):
    outcome = receive(MALFORMED)
    assert outcome.created
    case = Case.objects.get()
    assert "half" in case.subject and opening(case).body.startswith("The body is still readable")


# --- the unmatched queue --------------------------------------------------------------------------------------


def test_an_unknown_sender_waits_in_the_unmatched_queue_with_the_message_kept(jane):
    raw = plain(sender="Stranger <who@nowhere.example>", message_id="<u1@nowhere>")
    outcome = receive(raw)
    assert outcome.state == "unmatched" and "unknown sender" in outcome.reason
    record = EmailMessage.objects.get()
    assert record.raw.read() == raw and Case.objects.count() == 0


def test_an_address_known_to_two_tenants_is_unmatched(jane):
    RequesterFactory(tenant=TenantFactory(slug="globex"), email="JANE@acme.example")
    assert "2 tenants" in receive(plain()).reason


def test_assigning_unmatched_mail_opens_the_case_and_drops_the_raw_copy(jane, kari, django_capture_on_commit_callbacks):
    receive(plain(sender="Stranger <who@nowhere.example>", message_id="<u2@nowhere>", body="Help please."))
    record = EmailMessage.objects.get()
    name = record.raw.name
    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbound.assign_unmatched(email_id=record.pk, actor=kari, requester=jane)
    case = Case.objects.get()
    assert outcome.created and outcome.case_key == case.key and case.requester == jane
    assert opening(case).body == "Help please."
    record.refresh_from_db()
    assert record.state == "assigned" and record.handled_by == kari and record.case == case
    assert not record.raw.storage.exists(name)
    with pytest.raises(services.CaseConflict):
        inbound.assign_unmatched(email_id=record.pk, actor=kari, requester=jane)


def test_an_agent_cannot_assign_mail_to_a_tenant_they_do_not_see(jane, kari):
    other = RequesterFactory(tenant=TenantFactory(slug="globex"))
    receive(plain(sender="who@nowhere.example", message_id="<u3@nowhere>"))
    with pytest.raises(services.NotPermitted):
        inbound.assign_unmatched(email_id=EmailMessage.objects.get().pk, actor=kari, requester=other)


# --- the MTA pipe ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_mta_pipe_command_reads_a_message_from_stdin(acme):
    RequesterFactory(tenant=acme, email="jane@acme.example")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "REDIS_URL": "",
    }
    command = [sys.executable, "manage.py", "receive_email"]
    done = subprocess.run(command, input=plain(), capture_output=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert b"accepted" in done.stdout
    assert Case.objects.get().subject == "Webhooks stopped firing"
    again = subprocess.run(command, input=plain(), capture_output=True, cwd=ROOT, env=env, timeout=120)
    assert again.returncode == 0 and b"duplicate" in again.stdout and Case.objects.count() == 1
    empty = subprocess.run(command, input=b"", capture_output=True, cwd=ROOT, env=env, timeout=120)
    assert empty.returncode == 65


# --- pure parts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "key"),
    [("Re: [CS-12] x", 12), ("[cs-7]", 7), ("CS-12 without brackets", None), ("[CS-]", None), ("[INC-3]", None)],
)
def test_case_key_in_subject(subject, key):
    assert parsing.case_key_in(subject, "CS") == key


@pytest.mark.parametrize(
    ("subject", "clean"),
    [("Re: RE: Fwd: Login [CS-4]", "Login"), ("AW: WG: Rechnung", "Rechnung"), ("Sv: [CS-1]  x  y", "x y")],
)
def test_clean_subject(subject, clean):
    assert parsing.clean_subject(subject, "CS") == clean


def test_the_same_message_delivered_twice_at_once_is_one_case(jane, monkeypatch):
    """Both deliveries pass the look-up before either has written; the unique Message-ID decides."""
    real = inbound._existing
    calls = []

    def racing(message_id):
        calls.append(message_id)
        if len(calls) == 1:  # the second delivery's look-up ran before the first committed
            return None
        return real(message_id)

    receive(plain())
    monkeypatch.setattr(inbound, "_existing", racing)
    again = receive(plain())
    assert again.duplicate and Case.objects.count() == 1 and EmailMessage.objects.count() == 1


def test_the_follow_up_and_the_closed_case_link_each_other_on_their_pages(jane, kari, settings):
    from tests.conftest import login

    case = _closed_case(jane, days_ago=30)
    outcome = receive(plain(subject=f"Re: [{case.key}]", message_id="<r3@acme.example>", body="Again."))
    client = login(kari)
    assert f'href="/cases/{outcome.case_key}/" data-follow-up' in client.get(f"/cases/{case.key}/").content.decode()
    page = client.get(f"/cases/{outcome.case_key}/").content.decode()
    assert f'href="/cases/{case.key}/" data-follow-up-of' in page


def _dsn_for(message_id: str) -> bytes:
    return crlf(
        f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
To: support@companyos.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.{message_id[:8]}@mx.acme.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain

Your message could not be delivered.

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example

Final-Recipient: rfc822; jane@acme.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <jane@acme.example>: Recipient address rejected: User unknown

--dsn
Content-Type: text/rfc822-headers

From: Kari (CompanyOS Support) <support@companyos.example>
To: Jane Doe <jane@acme.example>
Subject: Re: Webhooks stopped firing [CS-1]
Message-ID: <{message_id}>

--dsn--
"""
    )


def test_a_bounce_of_our_reply_is_named_on_its_case_and_is_no_customer_message(jane, kari):
    receive(plain())
    case = Case.objects.get()
    sent = _agent_reply(case, kari)
    outcome = receive(_dsn_for(sent.message_id))
    assert outcome.state == "ignored" and outcome.case_key == case.key and "bounce of our reply" in outcome.reason
    entry = case.interactions.get(data__bounce__status="5.1.1")
    assert entry.kind == Interaction.Kind.AUTOMATION and not entry.public
    assert "did not reach jane@acme.example: 5.1.1 550 5.1.1" in entry.body and "User unknown" in entry.body
    assert case.interactions.filter(kind=Interaction.Kind.INBOUND).count() == 1


def test_a_bounce_of_a_message_we_never_sent_touches_no_case(jane):
    receive(plain())
    assert receive(_dsn_for("not-ours@elsewhere.example")).case_key == ""
    assert not Interaction.objects.filter(data__has_key="bounce").exists()
