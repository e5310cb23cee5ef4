"""Erasure of a requester (issue 18, point 4): personal data gone from the contact, their cases'
text and their attachments; metrics, SLA history and an intact audit chain kept; recorded."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from cases import erasure, services
from cases.choices import Status
from cases.erasure_models import Erasure
from cases.models import Attachment, Case, Interaction, SLAClock
from tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(tenant_a):
    return RequesterFactory(tenant=tenant_a, name="Ada Lovelace", email="ada@acme.example", role="CTO")


def _case(tenant, requester, agent):
    case = services.case_create(
        actor=None,
        tenant=tenant,
        requester=requester,
        subject="Ada Lovelace cannot log in",
        description="Hi, this is Ada Lovelace (ada@acme.example). Login fails since 10:00.",
    )
    services.case_customer_message(
        case_id=case.pk,
        requester=requester,
        body="Attached my HAR file. — Ada",
        channel="email",
        files=[SimpleUploadedFile("ada.har", b'{"log": 1}')],
    )
    services.case_reply(case_id=case.pk, actor=agent, body="Thanks Ada Lovelace, looking into it.", public=True)
    services.case_attach(case_id=case.pk, actor=agent, upload=SimpleUploadedFile("agent-notes.txt", b"ours"))
    return case


def test_erasure_removes_the_person_and_keeps_the_history(tenant_a, ada, agent, settings):
    case = _case(tenant_a, ada, agent)
    clocks = SLAClock.objects.filter(case=case).count()
    other = RequesterFactory(tenant=tenant_a, name="Grace Hopper", email="grace@acme.example")
    untouched = services.case_create(actor=agent, tenant=tenant_a, requester=other, subject="Grace's case")

    record = erasure.requester_erase(requester_id=ada.pk, actor=agent, reason="GDPR request #4411 by e-mail")

    ada.refresh_from_db()
    assert ada.name == f"Erased contact {ada.pk}" and "ada" not in ada.email and ada.role == ""
    case.refresh_from_db()
    assert "Ada" not in case.subject and "ada@acme.example" not in case.description
    assert "[erased]" in case.subject and "Login fails since 10:00" in case.description
    bodies = " ".join(Interaction.objects.filter(case=case).values_list("body", flat=True))
    assert "Lovelace" not in bodies and "ada@acme.example" not in bodies
    # Their own attachments are gone (files too); the agent's stay.
    names = set(Attachment.objects.filter(case=case).values_list("filename", flat=True))
    assert "agent-notes.txt" in names and "ada.har" not in names
    # The case, its status, clocks and the other contact's case are kept.
    assert Case.objects.filter(pk=case.pk, status=Status.NEW).exists()
    assert SLAClock.objects.filter(case=case).count() == clocks
    assert Case.objects.get(pk=untouched.pk).subject == "Grace's case"
    # Recorded: who, why, how much — and on the case's timeline, without what was erased.
    assert (record.erased_by, record.cases, record.reason) == (agent, 1, "GDPR request #4411 by e-mail")
    assert record.messages >= 2
    note = Interaction.objects.filter(case=case, kind=Interaction.Kind.AUTOMATION).latest("created_at")
    assert "erased" in note.body and "Ada" not in note.body
    assert LogEntry.objects.filter(additional_data__view="requester erased", object_pk=str(ada.pk)).exists()


def test_the_audit_chain_still_verifies_after_an_erasure(tenant_a, ada, agent):
    _case(tenant_a, ada, agent)
    erasure.requester_erase(requester_id=ada.pk, actor=agent, reason="GDPR request #4412")
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # raises on a broken chain


def test_the_search_forgets_them_too(tenant_a, ada, agent):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the search document is PostgreSQL's")
    from cases.models import CaseSearch

    case = _case(tenant_a, ada, agent)
    erasure.requester_erase(requester_id=ada.pk, actor=agent, reason="GDPR request #4413")
    assert "'lovelace'" not in str(CaseSearch.objects.get(case=case).document)


def test_an_erasure_needs_a_reason_and_happens_once(tenant_a, ada, agent):
    with pytest.raises(erasure.ErasureError, match="Say why"):
        erasure.requester_erase(requester_id=ada.pk, actor=agent, reason="")
    erasure.requester_erase(requester_id=ada.pk, actor=agent, reason="GDPR request #1")
    with pytest.raises(erasure.ErasureError, match="erased already"):
        erasure.requester_erase(requester_id=ada.pk, actor=agent, reason="GDPR request #1")
    assert Erasure.objects.count() == 1


def test_the_command(tenant_a, ada, admin_user):
    devnull = open("/dev/null", "w")
    call_command("erase_requester", requester=ada.pk, reason="Ticket DPO-7", by=admin_user.username, stdout=devnull)
    assert Erasure.objects.get().erased_by == admin_user
    with pytest.raises(CommandError, match="No requester"):
        call_command("erase_requester", requester=999999, reason="Ticket DPO-8")


def test_redact_text_is_case_insensitive_and_ignores_tiny_needles():
    assert services.redact_text("ADA lovelace wrote to ada@x.io", ["Ada Lovelace", "ada@x.io", "a"]) == (
        "[erased] wrote to [erased]"
    )
