"""The e-mail channel end to end, in Debian's Chromium: a customer's e-mail (posted by "Mailgun" to
the inbound webhook, signed) opens a case; the agent replies on the case page; the outbox relay
(the beat's job) delivers it to an SMTP server on 127.0.0.1 with the threading headers; the
customer's answer (through the MTA pipe command) lands on the same case."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import sys
import time
import urllib.parse
import urllib.request
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from playwright.sync_api import expect

from cases.channels import outbox
from cases.models import Case, EmailMessage
from tests.browser.conftest import send_reply, sign_in
from tests.cases.channels.mail import plain, reply
from tests.cases.channels.test_email_outbound import Inbox, free_port
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KEY = "browser-test-signing-key"


def post_to_webhook(base_url: str, raw: bytes) -> int:
    timestamp, token = str(int(time.time())), "t" * 50
    signature = hmac.new(KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    fields = {"body-mime": raw.decode(), "timestamp": timestamp, "token": token, "signature": signature}
    request = urllib.request.Request(
        f"{base_url}/inbound/email/mailgun/mime/", data=urllib.parse.urlencode(fields).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — the live server
        return response.status


def test_customer_mail_agent_reply_smtp_and_the_answer_on_the_same_case(page, live_server, settings, monkeypatch):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", smtp.port, False
        settings.SUPPORT_EMAIL, settings.EMAIL_MESSAGE_ID_DOMAIN = "support@companyos.example", "companyos.example"
        settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": KEY}
        acme = TenantFactory(name="Acme Corp", slug="acme")
        RequesterFactory(tenant=acme, name="Jane Doe", email="jane@acme.example")
        UserFactory(username="kari", first_name="Kari", last_name="Nordmann", role="agent", tenants=[acme])

        # 1. The customer writes; Mailgun posts it to the webhook.
        assert post_to_webhook(live_server.url, plain()) == 200
        case = Case.objects.get()

        # 2. The agent finds it in the queue and replies.
        sign_in(page, "kari")
        expect(page.locator("#queue-results")).to_contain_text("Webhooks stopped firing")
        page.locator("#queue-results").get_by_role("link", name="Webhooks stopped firing").click()
        expect(page).to_have_url(re.compile(rf"/cases/{case.key}/$"))
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("Since 10:40 UTC no webhooks arrive at our endpoint.")
        send_reply(page, "We restarted the webhook workers; they fire again.")
        expect(timeline).to_contain_text("We restarted the webhook workers")
        assert inbox.envelopes == []  # the request only wrote the outbox row

        # 3. The beat's relay sends it: the SMTP server gets it, threaded on the customer's message.
        assert outbox.relay_replies() == 1
        (envelope,) = inbox.envelopes
        assert envelope.rcpt_tos == ["jane@acme.example"]
        sent = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert sent["Subject"] == f"Re: Webhooks stopped firing [{case.key}]"
        assert sent["In-Reply-To"] == "<m1.jane@mail.acme.example>"
        assert sent["References"] == "<m1.jane@mail.acme.example>"
        assert sent["From"].addresses[0].display_name == "Kari Nordmann (CompanyOS Support)"
        our_id = sent["Message-ID"].strip("<>")
        assert EmailMessage.objects.get(direction="out").message_id == our_id

        # 4. The customer answers (in their client: Re:, quoting us); the MTA pipes it in.
        answer = reply(
            in_reply_to=our_id,
            references=f"<m1.jane@mail.acme.example> <{our_id}>",
            subject=sent["Subject"],
            body="Confirmed, they arrive again. Thanks!\n\nOn Tue, Kari wrote:\n> We restarted the webhook workers",
            message_id="<m2.jane@mail.acme.example>",
        )
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(answer)))
        call_command("receive_email", stdout=io.StringIO())
        assert Case.objects.count() == 1
        page.reload()
        expect(timeline).to_contain_text("Confirmed, they arrive again. Thanks!")
        expect(timeline).not_to_contain_text("> We restarted")
    finally:
        smtp.stop()
