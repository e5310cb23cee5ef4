"""Public replies out as e-mail, through the reply outbox, to a real SMTP server on 127.0.0.1
(aiosmtpd): the bytes it receives carry the threading headers, the case key, the agent's name, a
text and an HTML part and the attachments. Internal notes never leave; a failing server is retried
with backoff and, out of attempts, the case says so; security cases refuse to ask for details."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.channels import outbox
from cases.channels.email import inbound, security
from cases.channels.email.outbound import message_id_for
from cases.choices import Status
from cases.models import Case, EmailMessage, Interaction, OutboundReply
from tests.cases.channels.mail import plain, reply
from tests.factories import CaseFactory, RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


class Inbox:
    """An SMTP server's DATA handler: keeps every envelope it accepts (or refuses them all)."""

    def __init__(self):
        self.envelopes = []
        self.refuse = ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [BytesParser(policy=policy.default).parsebytes(e.content) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
    settings.EMAIL_TIMEOUT = 5
    settings.SUPPORT_EMAIL = "support@companyos.example"
    settings.SUPPORT_EMAIL_NAME = "CompanyOS Support"
    settings.EMAIL_MESSAGE_ID_DOMAIN = "companyos.example"
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def jane():
    return RequesterFactory(
        tenant=TenantFactory(name="Acme Corp", slug="acme"), name="Jane Doe", email="jane@acme.example"
    )


@pytest.fixture
def kari(jane):
    return UserFactory(username="kari", first_name="Kåri", last_name="Nordmann", role="agent", tenants=[jane.tenant])


def _emailed_case(jane) -> Case:
    inbound.receive(plain(), source="mta")
    return Case.objects.get()


def test_a_public_reply_arrives_with_threading_headers_key_name_text_html_and_attachment(smtp, jane, kari):
    case = _emailed_case(jane)
    follower = RequesterFactory(tenant=jane.tenant, email="ops@acme.example")
    case.followers.add(follower)
    upload = SimpleUploadedFile("steps.txt", b"1. open the console\n", content_type="text/plain")
    interaction = services.case_reply(
        case_id=case.pk, actor=kari, body="We found it: a stuck queue.\nIt is drained now.", public=True, files=[upload]
    )
    assert OutboundReply.objects.get().status == "pending"
    assert smtp.envelopes == []  # nothing is sent inside the request
    assert outbox.relay_replies() == 1

    (envelope,) = smtp.envelopes
    assert sorted(envelope.rcpt_tos) == ["jane@acme.example", "ops@acme.example"]
    assert envelope.mail_from == "support@companyos.example"
    raw = envelope.content
    message = BytesParser(policy=policy.default).parsebytes(raw)
    sent_id = message_id_for(interaction.pk)
    assert message["Message-ID"] == f"<{sent_id}>" and sent_id.endswith("@companyos.example")
    assert message["In-Reply-To"] == "<m1.jane@mail.acme.example>"
    assert message["References"] == "<m1.jane@mail.acme.example>"
    assert message["Subject"] == f"Re: Webhooks stopped firing [{case.key}]"
    assert message["From"].addresses[0].display_name == "Kåri Nordmann (CompanyOS Support)"
    assert message["From"].addresses[0].addr_spec == "support@companyos.example"
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]  # the non-ASCII name is RFC 2047-encoded on the wire
    assert message["To"].addresses[0].addr_spec == "jane@acme.example"
    assert message["Cc"].addresses[0].addr_spec == "ops@acme.example"
    assert message["Reply-To"] == "support@companyos.example"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert text.startswith("We found it: a stuck queue.\nIt is drained now.") and "Kåri Nordmann" in text
    assert "<p>We found it: a stuck queue.<br>It is drained now.</p>" in html
    (attachment,) = list(message.iter_attachments())
    assert (
        attachment.get_filename() == "steps.txt"
        and attachment.get_content().replace("\r\n", "\n") == "1. open the console\n"
    )

    reply_row = OutboundReply.objects.get()
    assert reply_row.status == "sent" and reply_row.external_id == sent_id and reply_row.attempts == 1
    assert EmailMessage.objects.get(direction="out").message_id == sent_id


def test_the_customers_answer_to_our_reply_threads_back_and_the_next_reply_references_both(smtp, jane, kari):
    case = _emailed_case(jane)
    first = services.case_reply(case_id=case.pk, actor=kari, body="Does it work now?", public=True)
    outbox.relay_replies()
    inbound.receive(
        reply(
            in_reply_to=message_id_for(first.pk),
            references=f"<m1.jane@mail.acme.example> <{message_id_for(first.pk)}>",
            subject=f"Re: Webhooks stopped firing [{case.key}]",
            body="Yes, thanks!\n\nOn Tue, Kari wrote:\n> Does it work now?",
            message_id="<m2.jane@mail.acme.example>",
        ),
        source="mta",
    )
    assert case.interactions.filter(kind=Interaction.Kind.INBOUND).latest("id").body == "Yes, thanks!"
    services.case_reply(case_id=case.pk, actor=kari, body="Great, closing.", public=True)
    outbox.relay_replies()
    second = smtp.messages()[-1]
    assert second["In-Reply-To"] == "<m2.jane@mail.acme.example>"
    assert (
        second["References"] == f"<m1.jane@mail.acme.example> <{message_id_for(first.pk)}> <m2.jane@mail.acme.example>"
    )


def test_a_reply_on_a_case_opened_in_the_console_threads_on_our_earlier_replies(smtp, jane, kari):
    case = CaseFactory(tenant=jane.tenant, requester=jane, channel="email", status=Status.IN_PROGRESS)
    first = services.case_reply(case_id=case.pk, actor=kari, body="Hello.", public=True)
    services.case_reply(case_id=case.pk, actor=kari, body="Update.", public=True)
    assert outbox.relay_replies() == 2
    opening, update = smtp.messages()
    assert opening["In-Reply-To"] is None and opening["Subject"] == f"{case.subject} [{case.key}]"
    assert update["In-Reply-To"] == f"<{message_id_for(first.pk)}>"


def test_internal_notes_and_replies_on_channels_without_a_sender_never_leave(smtp, jane, kari):
    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="Internal: customer is on the old SDK.", public=False)
    widget = CaseFactory(tenant=jane.tenant, requester=jane, channel="widget", status=Status.IN_PROGRESS)
    services.case_reply(case_id=widget.pk, actor=kari, body="Shown in the widget.", public=True)
    assert OutboundReply.objects.count() == 0
    assert outbox.relay_replies() == 0 and smtp.envelopes == []


def test_a_merge_does_not_send_again_the_replies_it_copies(smtp, jane, kari):
    survivor = CaseFactory(tenant=jane.tenant, requester=jane, channel="email", status=Status.IN_PROGRESS)
    duplicate = CaseFactory(tenant=jane.tenant, requester=jane, channel="email", status=Status.IN_PROGRESS)
    services.case_reply(case_id=duplicate.pk, actor=kari, body="Looking.", public=True)
    outbox.relay_replies()
    services.case_merge(case_id=duplicate.pk, into_id=survivor.pk, actor=kari)
    assert OutboundReply.objects.count() == 1 and len(smtp.envelopes) == 1


def test_a_server_that_is_down_is_retried_with_backoff_and_the_same_message_id(smtp, jane, kari, settings):
    case = _emailed_case(jane)
    interaction = services.case_reply(case_id=case.pk, actor=kari, body="Fixed.", public=True)
    up_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    now = timezone.now()
    assert outbox.relay_replies(now=now) == 0
    row = OutboundReply.objects.get()
    assert row.attempts == 1 and row.status == "pending" and "Connection refused" in row.last_error
    assert row.send_after == now + timedelta(minutes=1)
    assert outbox.relay_replies(now=now + timedelta(seconds=30)) == 0  # not due yet
    assert outbox.relay_replies(now=now + timedelta(minutes=1)) == 0
    row.refresh_from_db()
    assert row.attempts == 2 and row.send_after == now + timedelta(minutes=1) + timedelta(minutes=2)
    settings.EMAIL_PORT = up_port
    assert outbox.relay_replies(now=now + timedelta(minutes=3)) == 1
    (message,) = smtp.messages()
    assert message["Message-ID"] == f"<{message_id_for(interaction.pk)}>"
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 3 and row.last_error == ""


def test_out_of_attempts_the_reply_is_marked_failed_and_the_timeline_says_so(smtp, jane, kari, settings):
    settings.REPLY_MAX_ATTEMPTS = 2
    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="Fixed.", public=True)
    settings.EMAIL_PORT = free_port()
    now = timezone.now()
    outbox.relay_replies(now=now)
    outbox.relay_replies(now=now + timedelta(minutes=5))
    row = OutboundReply.objects.get()
    assert row.status == "failed" and row.attempts == 2
    assert outbox.relay_replies(now=now + timedelta(days=1)) == 0  # a failed reply is not retried
    entry = case.interactions.get(kind=Interaction.Kind.AUTOMATION, data__outbound_failed=row.interaction_id)
    assert "could not be delivered by email after 2 attempt(s)" in entry.body


def test_a_refused_recipient_fails_at_once(smtp, jane, kari):
    smtp.refuse = "550 5.1.1 No such user"
    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="Fixed.", public=True)
    outbox.relay_replies()
    row = OutboundReply.objects.get()
    assert row.status == "failed" and row.attempts == 1 and "refused Jane Doe <jane@acme.example>" in row.last_error


def test_a_leased_reply_is_left_to_its_relay_until_the_lease_runs_out(smtp, jane, kari):
    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="Fixed.", public=True)
    now = timezone.now()
    claimed = outbox._claim_next(now)
    assert claimed.status == "sending"
    assert outbox.relay_replies(now=now) == 0
    assert outbox.relay_replies(now=now + outbox.LEASE + timedelta(seconds=1)) == 1
    assert len(smtp.envelopes) == 1


# --- security cases (seed 002) ---------------------------------------------------------------------------


@pytest.fixture
def security_case(jane, kari):
    case = _emailed_case(jane)
    services.case_tag(case_id=case.pk, actor=kari, add=["security"])
    return case


@pytest.mark.parametrize(
    "body",
    [
        "Please send us the access logs.",
        "Could you share the API token you used?",
        "We need more details to investigate.",
        "Which endpoint did you call?",
    ],
)
def test_a_reply_asking_for_details_on_a_security_case_is_refused_and_says_why(smtp, security_case, kari, body):
    before = security_case.interactions.count()
    with pytest.raises(services.CaseError, match="tagged security.*do not request additional details"):
        services.case_reply(case_id=security_case.pk, actor=kari, body=body, public=True)
    assert security_case.interactions.count() == before and OutboundReply.objects.count() == 0


def test_a_security_case_still_gets_updates_with_a_notice_and_internal_notes(smtp, security_case, kari):
    services.case_reply(case_id=security_case.pk, actor=kari, body="Please send the logs by phone.", public=False)
    services.case_reply(
        case_id=security_case.pk, actor=kari, body="We are investigating and will call you today.", public=True
    )
    outbox.relay_replies()
    (message,) = smtp.messages()
    assert security.NOTICE in " ".join(message.get_body(("plain",)).get_content().split())


def test_the_same_reply_on_a_case_without_the_tag_goes_out(smtp, jane, kari):
    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="Please send us the access logs.", public=True)
    assert outbox.relay_replies() == 1


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("We are on it.", False),
        ("Fixed in https://status.example/?incident=4 — all good.", False),
        ("Please provide the request id.", True),
        ("Can you confirm the time?", True),
        ("Reply with your password", True),
        ("Send us the trace bundle.", True),
        ("We will call you at 14:00.", False),
    ],
)
def test_detail_requests(text, asks):
    assert bool(security.detail_requests(text)) is asks


def test_the_case_page_shows_each_replys_delivery(smtp, jane, kari):
    from tests.conftest import login

    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="First.", public=True)
    client = login(kari)
    assert 'data-delivery="pending"' in client.get(f"/cases/{case.key}/").content.decode()
    outbox.relay_replies()
    page = client.get(f"/cases/{case.key}/").content.decode()
    assert 'data-delivery="sent"' in page and "email · sent" in page


def test_beat_runs_the_relay_task_every_few_seconds(smtp, jane, kari, settings):
    from cases.tasks import relay_replies_task
    from companyos.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["relay-replies"]
    assert entry["task"] == "cases.tasks.relay_replies_task" and entry["schedule"] <= 15
    assert entry["task"] in app.tasks
    case = _emailed_case(jane)
    services.case_reply(case_id=case.pk, actor=kari, body="Fixed.", public=True)
    assert relay_replies_task.delay().get() == 1 and len(smtp.envelopes) == 1
