"""The admins' erasure pages (issue 18, point 4): find a contact, see what erasing them touches, erase
them with a reason and a typed confirmation; non-admins are refused; every read is audited."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import services
from cases.erasure_models import Erasure
from cases.models import Attachment
from tenants.models import Requester
from tests.conftest import login
from tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(tenant_a):
    return RequesterFactory(tenant=tenant_a, name="Ada Lovelace", email="ada@acme.example", role="CTO")


@pytest.fixture
def adas_case(tenant_a, ada, agent):
    case = services.case_create(
        actor=None, tenant=tenant_a, requester=ada, subject="Ada Lovelace cannot log in", description="Hi, Ada here."
    )
    services.case_customer_message(
        case_id=case.pk, requester=ada, body="My HAR", channel="email", files=[SimpleUploadedFile("a.har", b"{}")]
    )
    return case


def test_an_admin_finds_the_contact_and_sees_what_erasing_touches(admin_user, ada, adas_case, tenant_b):
    RequesterFactory(tenant=tenant_b, name="Grace Hopper", email="grace@globex.example")
    client = login(admin_user)
    page = client.get(reverse("cases:erasure"), {"q": "ada@acme"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "ada@acme.example" in body and "Acme Corp" in body and "grace@" not in body
    assert reverse("cases:erasure_confirm", kwargs={"pk": ada.pk}) in body
    entry = LogEntry.objects.filter(object_pk="list", additional_data__view="erasure page").latest("id")
    assert entry.additional_data["ids"] == [ada.pk]  # who saw which contacts is on the trail

    confirm = client.get(reverse("cases:erasure_confirm", kwargs={"pk": ada.pk}))
    text = confirm.content.decode()
    assert confirm.status_code == 200
    assert "<b>1</b> case(s)" in text and "<b>1</b> attachment(s)" in text and "cannot be undone" in text
    assert Requester.objects.get(pk=ada.pk).name == "Ada Lovelace"  # looking erases nothing


def test_erasing_needs_a_reason_and_the_typed_address(admin_user, ada, adas_case):
    client = login(admin_user)
    url = reverse("cases:erasure_confirm", kwargs={"pk": ada.pk})
    wrong = client.post(url, {"reason": "GDPR request DPO-7", "confirm": "someone@else.example"})
    assert wrong.status_code == 422 and "not this contact’s e-mail address" in wrong.content.decode()
    short = client.post(url, {"reason": "x", "confirm": "ada@acme.example"})
    assert short.status_code == 422 and "Say why" in short.content.decode()
    assert not Erasure.objects.exists() and Requester.objects.get(pk=ada.pk).email == "ada@acme.example"

    done = client.post(url, {"reason": "GDPR request DPO-7 of 2026-12-01", "confirm": "ADA@acme.example "}, follow=True)
    assert done.status_code == 200
    assert f"Erased contact {ada.pk}: 1 case(s)" in done.content.decode()
    record = Erasure.objects.get()
    assert record.erased_by == admin_user and record.reason == "GDPR request DPO-7 of 2026-12-01"
    assert record.attachments == 1 and not Attachment.objects.filter(case=adas_case, filename="a.har").exists()
    ada.refresh_from_db()
    assert ada.email == f"erased-{ada.pk}@erased.invalid"
    # The list shows the record (who, why), never who they were; the contact's page says it is done.
    listing = client.get(reverse("cases:erasure")).content.decode()
    assert "GDPR request DPO-7 of 2026-12-01" in listing and "root" in listing and "Ada" not in listing
    again = client.post(url, {"reason": "again please", "confirm": ada.email})
    assert again.status_code == 422 and "erased already" in again.content.decode()
    assert Erasure.objects.count() == 1


def test_only_admins_erase(agent, manager, ada, adas_case):
    url = reverse("cases:erasure_confirm", kwargs={"pk": ada.pk})
    for user in (agent, manager):
        client = login(user)
        assert client.get(reverse("cases:erasure")).status_code == 403
        refused = client.post(url, {"reason": "GDPR request DPO-7", "confirm": "ada@acme.example"})
        assert refused.status_code == 403
    assert not Erasure.objects.exists()
    assert LogEntry.objects.filter(
        additional_data__denied=True, additional_data__reason="erasure is for admins"
    ).exists()


def test_an_unknown_contact_is_a_404_and_short_searches_find_nothing(admin_user):
    client = login(admin_user)
    assert client.get(reverse("cases:erasure_confirm", kwargs={"pk": 999999})).status_code == 404
    short = client.get(reverse("cases:erasure"), {"q": "ad"})
    assert short.status_code == 200 and "Type at least 3 characters" in short.content.decode()
