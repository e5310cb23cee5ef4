"""The inbound half of the Zendesk sync: signed webhooks and the incremental export, both pulling
the ticket from the fake Zendesk; comments once, in order, visibility kept; fields through the
case services; our own changes never sent back (marker and audit id); CompanyOS as the record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.channels.zendesk import services as zd
from cases.channels.zendesk import webhook
from cases.channels.zendesk.client import Connection, ZendeskClient
from cases.channels.zendesk.inbound import pull_ticket, run_export
from cases.channels.zendesk.models import ZendeskChange, ZendeskComment, ZendeskLink, ZendeskWebhookEvent
from cases.choices import Priority, Status
from cases.models import Interaction
from companyos import roles
from tests.factories import CaseFactory, RequesterFactory

from .zendesk_helpers import drain, signed_post

pytestmark = pytest.mark.django_db
URL = "/api/zendesk/webhook/"
Kind = Interaction.Kind


@pytest.fixture
def case(tenant_a):
    requester = RequesterFactory(tenant=tenant_a, name="Jo Doe", email="jo@acme.example")
    return CaseFactory(tenant=tenant_a, requester=requester, subject="Checkout returns 500", priority=Priority.HIGH)


@pytest.fixture
def ticket(zendesk, case):
    zd.zendesk_link_case(case_id=case.pk, actor=roles.system_user())
    drain()
    return ZendeskLink.objects.get(case=case).ticket_id


def client_for(settings):
    return ZendeskClient(Connection(settings.ZENDESK_BASE_URL, "api@companyos.example", "t", 2.0))


def entries(case, *kinds):
    return list(
        case.interactions.filter(kind__in=kinds).order_by("created_at", "id").values_list("kind", "public", "body")
    )


# --- the signature -------------------------------------------------------------------------------


def test_signature_is_base64_hmac_sha256_of_timestamp_and_body():
    import base64
    import hashlib
    import hmac

    body, stamp = b'{"a":1}', "2026-12-02T10:00:00Z"
    expected = base64.b64encode(hmac.new(b"s3cret", stamp.encode() + body, hashlib.sha256).digest()).decode()
    assert webhook.sign("s3cret", stamp, body) == expected
    now = datetime(2026, 12, 2, 10, 1, tzinfo=UTC)
    assert webhook.verify(secret="s3cret", signature=expected, timestamp=stamp, body=body, now=now, tolerance=300) == ""
    assert webhook.verify(secret="s3cret", signature=expected, timestamp=stamp, body=b"{}", now=now, tolerance=300)
    late = now + timedelta(minutes=10)
    assert "too old" in webhook.verify(
        secret="s3cret", signature=expected, timestamp=stamp, body=body, now=late, tolerance=300
    )
    assert webhook.verify(secret="", signature=expected, timestamp=stamp, body=body, now=now, tolerance=300)


def test_unsigned_wrongly_signed_stale_and_malformed_deliveries_are_refused(client, zendesk, ticket):
    payload = {"id": "evt-1", "detail": {"id": ticket}}
    assert client.post(URL, json.dumps(payload), content_type="application/json").status_code == 401
    assert signed_post(client, URL, payload, secret="wrong").status_code == 401
    old = datetime.now(UTC) - timedelta(hours=1)
    assert signed_post(client, URL, payload, at=old).status_code == 401
    assert signed_post(client, URL, {}, body=b"not json").status_code == 400
    assert client.get(URL).status_code == 405
    assert not ZendeskWebhookEvent.objects.exists()


# --- webhooks: comments ------------------------------------------------------------------------------


def test_a_webhook_brings_comments_once_in_order_with_their_visibility(
    client, zendesk, ticket, case, django_capture_on_commit_callbacks
):
    zendesk.requester_comment(ticket, "It still fails for me")
    zendesk.agent_comment(ticket, "Internal: looks like the gateway", public=False)
    zendesk.agent_comment(ticket, "We are on it", public=True)
    payload = {"id": "evt-1", "type": "zen:event-type:ticket.comment_added", "detail": {"id": str(ticket)}}
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, URL, payload)
    assert response.status_code == 200 and response.json()["duplicate"] is False
    got = entries(case, Kind.INBOUND, Kind.REPLY, Kind.NOTE)
    assert got == [
        (Kind.INBOUND, True, "It still fails for me"),
        (Kind.NOTE, False, "Internal: looks like the gateway"),
        (Kind.REPLY, True, "We are on it"),
    ]
    inbound = case.interactions.get(body="It still fails for me")
    assert inbound.requester_id == case.requester_id and inbound.data["external"]["system"] == "zendesk"
    # The same delivery again, and a second one about the same ticket: nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(client, URL, payload).json()["duplicate"] is True
        signed_post(client, URL, {**payload, "id": "evt-2"})
    assert len(entries(case, Kind.INBOUND, Kind.REPLY, Kind.NOTE)) == 3
    # Nothing that came from Zendesk goes back to it.
    assert not ZendeskChange.objects.filter(case=case, state="pending").exists()


def test_our_own_changes_coming_back_are_recognised(zendesk, ticket, case, agent, settings):
    services.case_reply(case_id=case.pk, actor=agent, body="Our reply", public=True)
    services.case_transition(case_id=case.pk, actor=agent, to=Status.TRIAGE)
    drain()
    before = case.interactions.count()
    with client_for(settings) as api:
        result = pull_ticket(ticket_id=ticket, client=api)
    assert result.comments == 0 and result.fields == []
    assert case.interactions.count() == before
    assert ZendeskComment.objects.filter(direction="out").count() == 2  # the description and our reply


def test_an_echo_arriving_before_the_relay_knew_it_was_sent_is_recognised_by_its_marker(
    zendesk, ticket, case, agent, settings
):
    from cases.channels.zendesk.relay import relay

    services.case_reply(case_id=case.pk, actor=agent, body="Answer lost", public=True)
    zendesk.apply_then_fail(1)  # Zendesk adds the comment; the relay hears a 500
    assert relay().failed == 1
    before = case.interactions.count()
    with client_for(settings) as api:
        result = pull_ticket(ticket_id=ticket, client=api)  # the webhook of that very comment
    assert result.echoes == 1 and result.comments == 0
    assert case.interactions.count() == before
    drain(start=timezone.now() + timedelta(minutes=5))  # the retry looks first and finds it
    assert zendesk.public_comments(ticket).count("Answer lost") == 1


def test_a_webhook_pull_that_fails_is_retried_and_loses_nothing(
    client, zendesk, ticket, case, django_capture_on_commit_callbacks
):
    from cases.channels.zendesk.inbound import retry_webhook_events

    zendesk.requester_comment(ticket, "Are you there?")
    zendesk.fail_next(1, 500)
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(client, URL, {"id": "evt-9", "detail": {"id": ticket}}).status_code == 200
    event = ZendeskWebhookEvent.objects.get(event_id="evt-9")
    assert event.processed_at is None and event.attempts == 1
    assert retry_webhook_events() == 1
    assert case.interactions.filter(body="Are you there?").count() == 1


# --- fields ----------------------------------------------------------------------------------------------


def test_status_priority_subject_tags_and_requester_changed_in_zendesk_apply(zendesk, ticket, case, tenant_a, settings):
    other = RequesterFactory(tenant=tenant_a, email="sam@acme.example", name="Sam")
    zendesk.agent_update(
        ticket,
        status="open",
        priority="urgent",
        subject="Checkout 500 on EU",
        tags=["eu", "vip"],
        requester_email="sam@acme.example",
    )
    with client_for(settings) as api:
        result = pull_ticket(ticket_id=ticket, client=api)
    case.refresh_from_db()
    assert result.refused == []
    assert case.status == Status.IN_PROGRESS  # new → triage → in progress, through the lifecycle
    assert case.priority == Priority.CRITICAL and case.subject == "Checkout 500 on EU"
    assert sorted(case.tags.values_list("name", flat=True)) == ["eu", "vip"]
    assert case.requester_id == other.pk
    transitions = case.interactions.filter(kind=Kind.STATUS)
    assert transitions.count() == 2 and all("Zendesk" in t.body for t in transitions)
    assert not ZendeskChange.objects.filter(case=case, state="pending").exists()  # not sent back
    # Pending in Zendesk: waiting on the customer (what for: "set in Zendesk").
    zendesk.agent_update(ticket, status="pending")
    with client_for(settings) as api:
        pull_ticket(ticket_id=ticket, client=api)
    case.refresh_from_db()
    assert case.status == Status.WAITING_ON_CUSTOMER and case.waiting_note == "set in Zendesk"


def test_a_change_our_rules_refuse_is_noted_and_our_state_sent_back(zendesk, ticket, case, settings):
    zendesk.agent_update(ticket, status="solved")  # the case is unclassified: it cannot be resolved
    with client_for(settings) as api:
        result = pull_ticket(ticket_id=ticket, client=api)
    case.refresh_from_db()
    assert result.refused and case.status != Status.RESOLVED
    note = case.interactions.filter(kind=Kind.NOTE).last()
    assert "not applied" in note.body and not note.public
    drain()
    assert zendesk.tickets[ticket]["status"] != "solved"  # CompanyOS is the system of record


# --- the incremental export (catch-up) -----------------------------------------------------------------


def test_the_export_catches_up_after_missed_webhooks_once(zendesk, ticket, case, tenant_a, settings):
    second = CaseFactory(tenant=tenant_a, subject="Second")
    zd.zendesk_link_case(case_id=second.pk, actor=roles.system_user())
    drain()
    ticket2 = ZendeskLink.objects.get(case=second).ticket_id
    for i in range(3):
        zendesk.requester_comment(ticket, f"Missed {i}")
    zendesk.agent_update(ticket2, priority="low")
    result = run_export()
    assert result.pulled >= 2
    assert [b for _, _, b in entries(case, Kind.INBOUND)] == ["Missed 0", "Missed 1", "Missed 2"]
    second.refresh_from_db()
    assert second.priority == Priority.LOW
    # Run again: the cursor moved on, nothing is applied twice.
    again = run_export()
    assert again.pulled == 0
    assert case.interactions.filter(body__startswith="Missed").count() == 3
    # A later change is found from the saved cursor.
    zendesk.requester_comment(ticket, "Later")
    assert run_export().pulled == 1
    assert case.interactions.filter(body="Later").count() == 1


def test_a_webhook_and_the_export_bringing_the_same_comment_land_it_once(
    client, zendesk, ticket, case, django_capture_on_commit_callbacks
):
    zendesk.requester_comment(ticket, "Both paths")
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, {"id": "evt-x", "detail": {"id": ticket}})
    run_export()
    assert case.interactions.filter(body="Both paths").count() == 1


def test_an_unlinked_ticket_is_ignored(client, zendesk, django_capture_on_commit_callbacks, settings):
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(client, URL, {"id": "evt-u", "detail": {"id": 999999}}).status_code == 200
    assert ZendeskWebhookEvent.objects.get(event_id="evt-u").processed_at is not None
    assert timezone.now()


def test_trigger_deliveries_with_the_same_body_are_not_taken_for_one(
    client, zendesk, ticket, case, django_capture_on_commit_callbacks
):
    zendesk.requester_comment(ticket, "First")
    at = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, URL, {"ticket_id": str(ticket)}, at=at)
    zendesk.requester_comment(ticket, "Second")
    with django_capture_on_commit_callbacks(execute=True):
        second = signed_post(client, URL, {"ticket_id": str(ticket)}, at=at + timedelta(seconds=2))
    assert second.json()["duplicate"] is False
    assert [b for _, _, b in entries(case, Kind.INBOUND)] == ["First", "Second"]


def test_a_requester_who_is_no_contact_of_the_tenant_is_refused_and_ours_sent_back(zendesk, ticket, case, settings):
    zendesk.agent_update(ticket, requester_email="stranger@elsewhere.example")
    with client_for(settings) as api:
        result = pull_ticket(ticket_id=ticket, client=api)
    case.refresh_from_db()
    assert any("not a contact" in r for r in result.refused)
    assert case.requester.email == "jo@acme.example"
    drain()
    assert zendesk.users[zendesk.tickets[ticket]["requester_id"]]["email"] == "jo@acme.example"
