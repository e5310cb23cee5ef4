"""The field mapping's pure rules (no database): what a ticket says for a case, and which of our
fields a ticket's change touches — the three-way comparison that makes an echo no change."""

from cases.channels.zendesk import mapping as m
from cases.channels.zendesk.client import parse_retry_after
from cases.channels.zendesk.models import (
    default_priority_in,
    default_priority_out,
    default_status_in,
    default_status_out,
)
from cases.choices import PRIORITY_SLUG_CHOICES, Status

MAPPING = {
    "status_out": default_status_out(),
    "status_in": default_status_in(),
    "priority_out": default_priority_out(),
    "priority_in": default_priority_in(),
    "custom_fields": {"case_key": 11, "category": 12},
    "sync_tags": True,
}
CASE = {
    "key": "CS-7",
    "status": "waiting_on_customer",
    "priority": "critical",
    "subject": "S",
    "tags": ["b", "a"],
    "category": "performance",
    "issue_type": "bug",
    "environment": "production",
}


def test_ticket_fields_follow_the_mapping():
    fields = m.ticket_fields(CASE, MAPPING)
    assert fields == {
        "subject": "S",
        "status": "pending",
        "priority": "urgent",
        "tags": ["a", "b"],
        "custom_fields": [{"id": 11, "value": "CS-7"}, {"id": 12, "value": "performance"}],
    }
    assert "tags" not in m.ticket_fields(CASE, {**MAPPING, "sync_tags": False})


def test_the_echo_of_our_push_is_no_change():
    fields = m.ticket_fields(CASE, MAPPING)
    seen = m.seen_from_fields(fields, requester_id=5)
    ticket = {"id": 1, **fields, "requester_id": 5}
    assert m.inbound_changes(ticket, seen, MAPPING) == {}


def test_changes_made_in_zendesk_are_named_in_our_terms():
    seen = m.seen_from_fields(m.ticket_fields(CASE, MAPPING), requester_id=5)
    ticket = {
        "id": 1,
        "subject": "New",
        "status": "open",
        "priority": "low",
        "tags": ["a", "c"],
        "requester_id": 6,
        "custom_fields": [{"id": 11, "value": "CS-7"}, {"id": 12, "value": "integration"}],
    }
    assert m.inbound_changes(ticket, seen, MAPPING) == {
        "subject": "New",
        "status": "in_progress",
        "priority": "low",
        "tags_added": ["c"],
        "tags_removed": ["b"],
        "requester_id": 6,
        "category": "integration",
    }


def test_a_zendesk_status_mapped_to_leave_changes_nothing():
    seen = {"status": "open"}
    assert "status" not in m.inbound_changes({"id": 1, "status": "new"}, seen, MAPPING)


def test_validate_mapping_names_each_problem():
    statuses, priorities = list(Status.values), [s for s, _ in PRIORITY_SLUG_CHOICES]
    assert m.validate_mapping(MAPPING, our_statuses=statuses, our_priorities=priorities) == []
    bad = {**MAPPING, "status_out": {**MAPPING["status_out"], "new": "bogus"}, "custom_fields": {"a": 1, "b": 1}}
    problems = m.validate_mapping(bad, our_statuses=statuses, our_priorities=priorities)
    assert any("Status new" in p for p in problems) and any("two of our fields" in p for p in problems)


def test_retry_after_as_seconds_or_a_date():
    assert parse_retry_after("30") == 30
    assert parse_retry_after(None, default=60) == 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after("soon", default=7) == 7
