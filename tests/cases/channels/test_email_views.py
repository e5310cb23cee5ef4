"""The ESP inbound webhook (Mailgun through django-anymail) with real signatures computed here, and
the unmatched-mail page where an agent says whose a message is."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Case, EmailMessage, Interaction
from tenants.models import Requester
from tests.cases.channels.mail import plain
from tests.conftest import login
from tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db
KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
URL = "/inbound/email/mailgun/"


@pytest.fixture(autouse=True)
def _mailgun(settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": KEY}
    settings.EMAIL_WEBHOOK_MAX_AGE = 300
    settings.SUPPORT_EMAIL = "support@companyos.example"


@pytest.fixture
def jane(tenant_a):
    return RequesterFactory(tenant=tenant_a, name="Jane Doe", email="jane@acme.example")


def signed(timestamp: int | None = None, key: str = KEY) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    token = hashlib.sha256(f"token-{timestamp}-{time.perf_counter_ns()}".encode()).hexdigest()[:50]
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": str(timestamp), "token": token, "signature": signature}


def parsed_post(signature: dict | None = None) -> dict:
    """Mailgun's "fully parsed" forward(): fields as its inbound route posts them."""
    headers = [
        ["Return-Path", "<jane@acme.example>"],
        ["From", "Jane Doe <jane@acme.example>"],
        ["To", "support@companyos.example"],
        ["Subject", "Export fails with 502"],
        ["Message-Id", "<mg.1@mail.acme.example>"],
        ["Mime-Version", "1.0"],
        ["Content-Type", 'multipart/mixed; boundary="x"'],
    ]
    return {
        "recipient": "support@companyos.example",
        "sender": "jane@acme.example",
        "from": "Jane Doe <jane@acme.example>",
        "subject": "Export fails with 502",
        "body-plain": "The CSV export fails with a 502.\n\n-- \nJane",
        "stripped-text": "The CSV export fails with a 502.",
        "message-headers": json.dumps(headers),
        "attachment-count": "1",
        "attachment-1": SimpleUploadedFile("export.log", b"502 Bad Gateway\n", content_type="text/plain"),
        **(signed() if signature is None else signature),
    }


def test_a_signed_mailgun_post_opens_a_case_through_the_inbound_service(jane):
    response = Client().post(URL, parsed_post())
    assert response.status_code == 200 and response.json() == {"received": [{"state": "accepted", "duplicate": False}]}
    case = Case.objects.get()
    assert (case.subject, case.requester, case.channel) == ("Export fails with 502", jane, "email")
    message = case.interactions.get(kind=Interaction.Kind.INBOUND)
    assert message.body == "The CSV export fails with a 502." and message.data["email"]["source"] == "mailgun"
    assert sorted(a.display_name for a in case.attachments.all()) == ["export.log", "original-message.eml"]
    assert EmailMessage.objects.get().message_id == "mg.1@mail.acme.example"


def test_a_redelivered_mailgun_post_is_a_duplicate(jane):
    Client().post(URL, parsed_post())
    again = Client().post(URL, parsed_post())
    assert again.json()["received"][0]["duplicate"] is True and Case.objects.count() == 1


def test_the_raw_mime_variant_feeds_the_same_service(jane):
    response = Client().post(
        "/inbound/email/mailgun/mime/",
        {
            "recipient": "support@companyos.example",
            "sender": "jane@acme.example",
            "body-mime": plain().decode(),
            **signed(),
        },
    )
    assert response.status_code == 200
    assert Case.objects.get().subject == "Webhooks stopped firing"
    assert Case.objects.get().attachments.get().file.read() == plain()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: {**s, "signature": "0" * 64}, id="wrong signature"),
        pytest.param(lambda s: {**s, "token": s["token"] + "x"}, id="token changed"),
        pytest.param(lambda s: signed(key="another-key"), id="another key"),
        pytest.param(lambda s: signed(timestamp=int(time.time()) - 3600), id="an hour old (replay)"),
        pytest.param(lambda s: {}, id="unsigned"),
    ],
)
def test_a_bad_or_stale_signature_is_refused_and_nothing_is_stored(jane, tamper):
    response = Client().post(URL, parsed_post(tamper(signed())))
    assert response.status_code == 400
    assert Case.objects.count() == 0 and EmailMessage.objects.count() == 0


def test_without_a_signing_key_the_webhook_is_off(jane, settings):
    settings.ANYMAIL = {}
    assert Client().post(URL, parsed_post()).status_code == 404


def test_garbage_posts_are_a_400(jane):
    assert Client().post(URL, {**signed(), "message-headers": "not json"}).status_code == 400
    assert Client().post(URL, b"\xff\xfe", content_type="multipart/form-data; boundary=x").status_code == 400
    assert Client().get(URL).status_code == 405


# --- the unmatched queue -------------------------------------------------------------------------------------


@pytest.fixture
def unmatched(jane):
    from cases.channels.email import inbound

    inbound.receive(
        plain(sender="Ola Nordmann <ola@acme-partner.example>", message_id="<u1@p>", body="Ola here."), source="mta"
    )
    return EmailMessage.objects.get()


def test_the_page_lists_unmatched_mail_for_managers_and_is_a_404_for_tenant_agents(unmatched, manager, agent):
    page = login(manager).get("/cases/email/unmatched/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Ola Nordmann" in text and "ola@acme-partner.example" in text and "Ola here." in text
    assert "unknown sender" in text
    assert login(agent).get("/cases/email/unmatched/").status_code == 404
    assert login(agent).post(f"/cases/email/unmatched/{unmatched.pk}/discard/").status_code == 404


def test_assigning_to_an_existing_contact_opens_the_case(unmatched, manager, jane):
    response = login(manager).post(
        f"/cases/email/unmatched/{unmatched.pk}/assign/", {"tenant": "acme", "requester": str(jane.pk)}
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == f"/cases/{case.key}/"
    assert case.requester == jane
    unmatched.refresh_from_db()
    assert unmatched.state == "assigned" and unmatched.handled_by == manager


def test_assigning_as_a_new_contact_adds_the_sender_to_the_tenant(unmatched, manager, jane):
    login(manager).post(
        f"/cases/email/unmatched/{unmatched.pk}/assign/", {"tenant": "acme", "new_contact": "1", "name": "Ola N."}
    )
    ola = Requester.objects.get(email="ola@acme-partner.example")
    assert ola.tenant == jane.tenant and ola.name == "Ola N." and Case.objects.get().requester == ola
    # The next mail from Ola finds the contact by itself.
    from cases.channels.email import inbound

    assert inbound.receive(plain(sender="ola@acme-partner.example", message_id="<u2@p>"), source="mta").created


def test_assign_without_a_contact_says_what_is_missing(unmatched, manager):
    response = login(manager).post(f"/cases/email/unmatched/{unmatched.pk}/assign/", {"tenant": "acme"}, follow=True)
    assert "Choose a contact of Acme Corp" in response.content.decode()
    assert Case.objects.count() == 0


def test_discard_takes_it_off_the_queue(unmatched, manager):
    login(manager).post(f"/cases/email/unmatched/{unmatched.pk}/discard/")
    unmatched.refresh_from_db()
    assert unmatched.state == "discarded"
    assert "No unmatched mail" in login(manager).get("/cases/email/unmatched/").content.decode()


def test_a_second_assign_of_a_handled_message_is_refused(unmatched, manager, jane):
    client = login(manager)
    client.post(f"/cases/email/unmatched/{unmatched.pk}/assign/", {"tenant": "acme", "requester": str(jane.pk)})
    again = client.post(
        f"/cases/email/unmatched/{unmatched.pk}/assign/", {"tenant": "acme", "requester": str(jane.pk)}, follow=True
    )
    assert "no longer in the unmatched queue" in again.content.decode() and Case.objects.count() == 1
