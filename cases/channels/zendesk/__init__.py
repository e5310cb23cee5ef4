"""Bi-directional Zendesk sync (issue 11, points 7–9). CompanyOS is the system of record.

Map:
- `models`     the link of a case to its ticket, the outbox (`ZendeskChange`), the comment map,
               the admin's field mapping, the relay/export state, webhook deliveries.
- `mapping`    our fields ↔ Zendesk's, pure functions (status, priority, subject, tags, custom fields).
- `client`     the Zendesk Support API subset, over httpx, failures classified for the relay.
- `services`   the outbox listener (`cases.changes`), linking a case, retry/discard, the mapping.
- `relay`      the outbox relay: in order per case, backoff, Retry-After, idempotency, dead letters,
               stuck alerts (`cases.Notification`).
- `inbound`    webhooks and the incremental export both end in `pull_ticket`: comments once and in
               order, fields by three-way comparison, through the case services.
- `origin`     loop prevention: the marker on what came from Zendesk.
- `webhook`    the webhook signature (base64 HMAC-SHA256 of timestamp + body).
- `selectors`, `views`, `urls`, `tasks`: the pages (field mapping, sync problems), the case badge,
               the webhook endpoint, the beat tasks.
"""


def register() -> None:
    """Called from `CasesConfig.ready()`: the outbox listener and the audit registrations."""
    from auditlog.registry import auditlog

    from ...changes import register_change_listener
    from .models import ZendeskLink, ZendeskMapping
    from .services import on_timeline_entry

    register_change_listener(on_timeline_entry)
    auditlog.register(ZendeskLink, exclude_fields=["last_seen", "synced_updated_at"])
    auditlog.register(ZendeskMapping)
