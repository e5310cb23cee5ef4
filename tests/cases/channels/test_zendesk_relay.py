"""The outbound half of the Zendesk sync against a fake Zendesk on 127.0.0.1 (pytest-httpserver):
the outbox written with the change, the ticket created once, comments in order with their
visibility, 429 + Retry-After, 500s, timeouts, an outage, dead letters and the stuck alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.channels.zendesk import services as zd
from cases.channels.zendesk.models import ZendeskChange, ZendeskComment, ZendeskLink, ZendeskSyncState
from cases.channels.zendesk.relay import alert_stuck, relay
from cases.choices import Priority, Status
from cases.models import Notification
from companyos import roles
from tests.factories import CaseFactory, RequesterFactory, UserFactory

from .zendesk_helpers import drain

pytestmark = pytest.mark.django_db
State = ZendeskChange.State


@pytest.fixture
def case(tenant_a):
    requester = RequesterFactory(tenant=tenant_a, name="Jo Doe", email="jo@acme.example")
    case = CaseFactory(tenant=tenant_a, requester=requester, subject="Checkout returns 500", priority=Priority.HIGH)
    services.case_tag(case_id=case.pk, actor=roles.system_user(), add=["billing"])
    return case


def linked(case, fake_zendesk):
    zd.zendesk_link_case(case_id=case.pk, actor=roles.system_user())
    drain()
    link = ZendeskLink.objects.get(case=case)
    assert link.ticket_id in fake_zendesk.tickets
    return link


def test_linking_creates_the_ticket_with_the_mapped_fields(zendesk, case):
    link = linked(case, zendesk)
    ticket = zendesk.tickets[link.ticket_id]
    assert ticket["subject"] == "Checkout returns 500"
    assert ticket["status"] == "new" and ticket["priority"] == "high"
    assert ticket["tags"] == ["billing"]
    assert ticket["external_id"] == f"companyos:{case.key}"
    assert zendesk.users[ticket["requester_id"]]["email"] == "jo@acme.example"
    # The description is the ticket's first comment, recorded as ours (its echo is no new entry).
    assert ZendeskComment.objects.filter(link=link, direction="out").count() == 1


def test_the_outbox_row_is_written_with_the_change_and_only_for_linked_cases(zendesk, case, tenant_a, agent):
    other = CaseFactory(tenant=tenant_a)
    with CaptureQueriesContext(connection) as queries:
        services.case_reply(case_id=other.pk, actor=agent, body="Hello", public=True)
    assert not ZendeskChange.objects.filter(case=other).exists()
    lookups = [q for q in queries.captured_queries if "zendesk" in q["sql"].lower()]
    assert len(lookups) == 1  # one link look-up for an unlinked case
    linked(case, zendesk)
    services.case_reply(case_id=case.pk, actor=agent, body="Looking now", public=True)
    assert ZendeskChange.objects.filter(case=case, kind="comment", state=State.PENDING).count() == 1


def test_the_listener_costs_nothing_with_the_sync_off(settings, case, agent):
    settings.ZENDESK_API_TOKEN = ""
    with CaptureQueriesContext(connection) as queries:
        services.case_reply(case_id=case.pk, actor=agent, body="Hello", public=True)
    assert not [q for q in queries.captured_queries if "zendesk" in q["sql"].lower()]


def test_a_rolled_back_change_leaves_no_outbox_row(zendesk, case, agent):
    from django.db import transaction

    linked(case, zendesk)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.case_reply(case_id=case.pk, actor=agent, body="never sent", public=True)
        raise RuntimeError
    assert not ZendeskChange.objects.filter(case=case, kind="comment").exists()


def test_comments_keep_order_and_visibility(zendesk, case, agent):
    link = linked(case, zendesk)
    services.case_reply(case_id=case.pk, actor=agent, body="First public", public=True)
    services.case_reply(case_id=case.pk, actor=agent, body="A private note", public=False)
    services.case_reply(case_id=case.pk, actor=agent, body="Second public", public=True)
    drain()
    comments = zendesk.comments[link.ticket_id]
    assert [(c["body"], c["public"]) for c in comments[1:]] == [
        ("First public", True),
        ("A private note", False),
        ("Second public", True),
    ]


def test_status_priority_and_tags_go_out(zendesk, case, agent):
    link = linked(case, zendesk)
    system = roles.system_user()
    services.case_transition(case_id=case.pk, actor=system, to=Status.TRIAGE)
    services.case_transition(case_id=case.pk, actor=system, to=Status.IN_PROGRESS)
    services.case_classify(case_id=case.pk, actor=system, priority=Priority.CRITICAL)
    services.case_tag(case_id=case.pk, actor=system, add=["vip"], remove=["billing"])
    results = drain()
    ticket = zendesk.tickets[link.ticket_id]
    assert (ticket["status"], ticket["priority"], ticket["tags"]) == ("open", "urgent", ["vip"])
    assert sum(r.coalesced for r in results) >= 1  # consecutive updates go out as one PUT


def test_a_retried_create_never_makes_two_tickets(zendesk, case):
    zendesk.apply_then_fail(1)  # Zendesk makes the ticket, the answer is lost
    zd.zendesk_link_case(case_id=case.pk, actor=roles.system_user())
    first = relay()
    assert first.failed == 1 and len(zendesk.tickets) == 1
    change = ZendeskChange.objects.get(case=case, kind="create")
    assert change.maybe_applied and change.state == State.PENDING
    drain(start=timezone.now() + timedelta(seconds=30))
    assert len(zendesk.tickets) == 1
    assert ZendeskLink.objects.get(case=case).ticket_id == next(iter(zendesk.tickets))


def test_a_timed_out_create_is_found_by_external_id(zendesk, case):
    zendesk.slow_next(1, 1.0)  # longer than the client's 0.5 s timeout; Zendesk still makes it
    zd.zendesk_link_case(case_id=case.pk, actor=roles.system_user())
    assert relay().failed == 1
    drain(start=timezone.now() + timedelta(seconds=30))
    assert len(zendesk.tickets) == 1


def test_a_lost_comment_answer_is_not_sent_twice(zendesk, case, agent):
    link = linked(case, zendesk)
    services.case_reply(case_id=case.pk, actor=agent, body="Only once", public=True)
    zendesk.apply_then_fail(1)
    drain()
    assert zendesk.public_comments(link.ticket_id).count("Only once") == 1


def test_429_pauses_the_relay_until_retry_after(zendesk, case, agent):
    link = linked(case, zendesk)
    services.case_reply(case_id=case.pk, actor=agent, body="Rate limited", public=True)
    zendesk.fail_next(1, 429, retry_after="30")
    now = timezone.now()
    result = relay(now=now)
    assert result.paused_until is not None and 29 <= (result.paused_until - now).total_seconds() <= 31
    change = ZendeskChange.objects.get(case=case, kind="comment")
    assert change.attempts == 0  # a 429 is not the change's fault
    requests = len(zendesk.requests)
    assert relay(now=now + timedelta(seconds=10)).sent == 0
    assert len(zendesk.requests) == requests  # paused: nothing was asked
    assert relay(now=now + timedelta(seconds=31)).sent == 1
    assert zendesk.public_comments(link.ticket_id)[-1] == "Rate limited"


def test_500s_back_off_exponentially_then_succeed(zendesk, case, agent):
    linked(case, zendesk)
    services.case_reply(case_id=case.pk, actor=agent, body="Flaky", public=True)
    zendesk.fail_next(2, 500)
    now = timezone.now()
    relay(now=now)
    change = ZendeskChange.objects.get(case=case, kind="comment")
    first_wait = (change.next_attempt_at - now).total_seconds()
    assert change.attempts == 1 and 4 <= first_wait <= 6
    relay(now=change.next_attempt_at)
    change.refresh_from_db()
    assert change.attempts == 2 and 9 <= (change.next_attempt_at - now).total_seconds() - first_wait <= 12
    relay(now=change.next_attempt_at)
    change.refresh_from_db()
    assert change.state == State.DONE


def test_an_outage_loses_nothing_duplicates_nothing_and_keeps_order(zendesk, case, agent):
    link = linked(case, zendesk)
    server = zendesk.httpserver
    server.stop()
    bodies = [f"Update {i}" for i in range(12)]
    for body in bodies:
        services.case_reply(case_id=case.pk, actor=agent, body=body, public=True)
    services.case_transition(case_id=case.pk, actor=roles.system_user(), to=Status.TRIAGE)
    now = timezone.now()
    for minute in range(0, 120, 10):  # two hours down: paused, nothing counted, nothing dead
        relay(now=now + timedelta(minutes=minute))
    assert not ZendeskChange.objects.filter(state=State.DEAD).exists()
    assert ZendeskChange.objects.filter(case=case, state=State.PENDING).count() == 13
    state = ZendeskSyncState.objects.get(pk=1)
    assert state.unreachable_since is not None and state.paused_until is not None
    server.start()  # back on the same port
    drain(start=now + timedelta(hours=3))
    assert zendesk.public_comments(link.ticket_id)[1:] == bodies
    assert zendesk.tickets[link.ticket_id]["status"] == "open"
    assert ZendeskSyncState.objects.get(pk=1).paused_until is None


def test_a_change_that_keeps_failing_is_dead_lettered_alerts_admins_and_holds_its_case(zendesk, case, agent):
    UserFactory(username="adm", role="admin", email="admin@companyos.example")
    link = linked(case, zendesk)
    zendesk.agent_update(link.ticket_id, status="closed")  # Zendesk refuses updates of a closed ticket (422)
    services.case_reply(case_id=case.pk, actor=agent, body="Refused", public=True)
    services.case_reply(case_id=case.pk, actor=agent, body="After it", public=True)
    now = timezone.now()
    for i in range(6):
        relay(now=now + timedelta(minutes=5 * i))
    dead = ZendeskChange.objects.get(case=case, state=State.DEAD)
    assert dead.attempts == 4 and "422" in dead.last_error
    later = ZendeskChange.objects.get(case=case, kind="comment", interaction__body="After it")
    assert later.state == State.PENDING and later.attempts == 0  # held behind the dead one: order kept
    note = Notification.objects.get(case=case, recipient="admin@companyos.example")
    assert "gave up" in note.subject
    # Reopened in Zendesk, the admin retries: both go out, in order.
    zendesk.agent_update(link.ticket_id, status="open")
    admin = UserFactory(username="adm2", role="admin")
    zd.zendesk_change_retry(change_id=dead.pk, actor=admin)
    drain(start=now + timedelta(hours=1))
    assert zendesk.public_comments(link.ticket_id)[-2:] == ["Refused", "After it"]


def test_a_change_pending_past_the_threshold_alerts_once(zendesk, case, agent, settings):
    UserFactory(username="adm", role="admin", email="admin@companyos.example")
    linked(case, zendesk)
    zendesk.httpserver.stop()
    services.case_reply(case_id=case.pk, actor=agent, body="Stuck", public=True)
    ZendeskChange.objects.filter(kind="comment").update(created_at=timezone.now() - timedelta(hours=1))
    assert alert_stuck() == 1
    assert alert_stuck() == 0
    assert Notification.objects.filter(case=case, subject__contains="stuck").count() == 1
    zendesk.httpserver.start()


def test_only_admins_retry_or_discard(zendesk, case, agent):
    linked(case, zendesk)
    services.case_reply(case_id=case.pk, actor=agent, body="x", public=True)
    change = ZendeskChange.objects.get(kind="comment")
    from cases.errors import NotPermitted

    with pytest.raises(NotPermitted):
        zd.zendesk_change_retry(change_id=change.pk, actor=agent)
