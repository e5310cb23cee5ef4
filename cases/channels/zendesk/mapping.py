"""Our fields ↔ Zendesk's, as plain functions on plain values (no ORM): what a ticket should say
for a case (outbound), and which of our fields a ticket's change touches (inbound).

A case's state is a dict: `status`, `priority` (our slug), `subject`, `tags`, `category`,
`issue_type`, `environment`, `key`. A ticket's "seen" state is what the sync last knew Zendesk to
hold, in Zendesk's terms: `status`, `priority`, `subject`, `tags`, `requester_id`, `custom`
(custom field id, as a string → value). The mapping is the admin's `ZendeskMapping` as a dict.
"""

from __future__ import annotations

ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
ZENDESK_PRIORITIES = ("urgent", "high", "normal", "low")
# Our fields a custom field can carry (the case key goes out only; the others both ways).
CUSTOM_FIELD_CHOICES = {
    "case_key": "Case key (CS-…), outbound only",
    "category": "Category",
    "issue_type": "Issue type",
    "environment": "Environment",
}
INBOUND_CUSTOM = ("category", "issue_type", "environment")


def ticket_fields(case: dict, mapping: dict) -> dict:
    """The ticket fields a case maps to (the body of a create or update, without the comment)."""
    fields = {
        "subject": case["subject"],
        "status": mapping["status_out"].get(case["status"], "open"),
        "priority": mapping["priority_out"].get(case["priority"], "normal"),
    }
    if mapping.get("sync_tags", True):
        fields["tags"] = sorted(case.get("tags") or [])
    custom = []
    for ours, field_id in sorted((mapping.get("custom_fields") or {}).items()):
        if ours in CUSTOM_FIELD_CHOICES and field_id:
            custom.append({"id": int(field_id), "value": case.get("key") if ours == "case_key" else case.get(ours)})
    if custom:
        fields["custom_fields"] = custom
    return fields


def seen_from_fields(fields: dict, *, requester_id=None) -> dict:
    """The "seen" state after we pushed `fields` (what Zendesk now holds, as far as we know)."""
    seen = {k: fields[k] for k in ("status", "priority", "subject") if k in fields}
    if "tags" in fields:
        seen["tags"] = sorted(fields["tags"])
    if "custom_fields" in fields:
        seen["custom"] = {str(c["id"]): c["value"] for c in fields["custom_fields"]}
    if requester_id is not None:
        seen["requester_id"] = requester_id
    return seen


def seen_from_ticket(ticket: dict) -> dict:
    """The "seen" state of a ticket as Zendesk shows it (show, webhook re-read, incremental export)."""
    return {
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "subject": ticket.get("subject") or "",
        "tags": sorted(ticket.get("tags") or []),
        "requester_id": ticket.get("requester_id"),
        "custom": {str(c["id"]): c.get("value") for c in ticket.get("custom_fields") or [] if "id" in c},
    }


def inbound_changes(ticket: dict, seen: dict, mapping: dict) -> dict:
    """What changed in Zendesk since we last knew it, in our terms. Keys: `status` (our status, or
    absent when the mapping says leave it), `priority` (our slug), `subject`, `tags_added`,
    `tags_removed`, `requester_id` (theirs, to look up), and classification fields from mapped
    custom fields. A field equal to what we last saw (the echo of our own push) is not a change."""
    now = seen_from_ticket(ticket)
    out: dict = {}
    if now["status"] and now["status"] != seen.get("status"):
        ours = mapping["status_in"].get(now["status"], "")
        if ours:
            out["status"] = ours
    if now["priority"] and now["priority"] != seen.get("priority"):
        ours = mapping["priority_in"].get(now["priority"], "")
        if ours:
            out["priority"] = ours
    if now["subject"] and now["subject"] != seen.get("subject"):
        out["subject"] = now["subject"]
    if mapping.get("sync_tags", True) and "tags" in seen and now["tags"] != seen.get("tags"):
        before, after = set(seen.get("tags") or []), set(now["tags"])
        out["tags_added"], out["tags_removed"] = sorted(after - before), sorted(before - after)
    elif mapping.get("sync_tags", True) and "tags" not in seen and now["tags"]:
        out["tags_added"], out["tags_removed"] = now["tags"], []
    if now["requester_id"] and seen.get("requester_id") and now["requester_id"] != seen["requester_id"]:
        out["requester_id"] = now["requester_id"]
    custom_seen = seen.get("custom") or {}
    for ours, field_id in (mapping.get("custom_fields") or {}).items():
        if ours in INBOUND_CUSTOM and field_id:
            key = str(field_id)
            if key in now["custom"] and now["custom"][key] != custom_seen.get(key) and now["custom"][key]:
                out[ours] = now["custom"][key]
    return out


def validate_mapping(data: dict, *, our_statuses, our_priorities) -> list[str]:
    """The problems of a mapping an admin submits (an empty list: fine)."""
    problems = []
    for ours in our_statuses:
        if data["status_out"].get(ours) not in ZENDESK_STATUSES:
            problems.append(f"Status {ours}: choose a Zendesk status.")
    for theirs in ZENDESK_STATUSES:
        if data["status_in"].get(theirs, "") not in ("", *our_statuses):
            problems.append(f"Zendesk status {theirs}: choose one of ours or leave it.")
    for ours in our_priorities:
        if data["priority_out"].get(ours) not in ZENDESK_PRIORITIES:
            problems.append(f"Priority {ours}: choose a Zendesk priority.")
    for theirs in ZENDESK_PRIORITIES:
        if data["priority_in"].get(theirs, "") not in ("", *our_priorities):
            problems.append(f"Zendesk priority {theirs}: choose one of ours or leave it.")
    ids = [v for v in (data.get("custom_fields") or {}).values() if v]
    if len(ids) != len(set(ids)):
        problems.append("One Zendesk custom field cannot carry two of our fields.")
    return problems
