"""The inbound half: a ticket's changes in Zendesk applied to its case through the case services.

Both inbound paths end in `pull_ticket`: a webhook says "ticket N changed" (its body is not
trusted for content: it is a signed poke), the incremental export says the same for every ticket
changed since its cursor (the catch-up after downtime, or after a webhook we never got). The ticket
and its comments are read from the API with no transaction open, then applied under a lock on the
link:

- **comments**, oldest first (Zendesk's order): each comment id lands once (`ZendeskComment` is
  unique on it, written in the same transaction as the timeline entry); a comment carrying our
  marker (`metadata.custom.companyos_change`) or made by one of our audits is our own echo and is
  only recorded. Public stays public, private stays an internal note; the requester's own comment
  is a customer message.
- **fields** (status, priority, subject, requester, tags, mapped custom fields): applied when
  Zendesk's value differs from what we last knew it to be (`ZendeskLink.last_seen`), so the echo of
  our own push is no change. A change our rules refuse (a status move not allowed, resolving an
  unclassified case, a requester who is no contact of the tenant) is noted on the case and our
  state is pushed back: CompanyOS is the system of record.

Everything is applied inside `origin.applying(...)`, so the outbox listener does not send it back.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from companyos import roles
from tenants.models import Requester

from ... import services
from ...choices import TRANSITIONS, Priority, Status, WaitingFor
from ...errors import CaseError
from ...models import Case
from . import mapping as fieldmap
from . import origin
from .client import ZendeskClient, ZendeskError, client_from_settings
from .models import ZendeskChange, ZendeskComment, ZendeskLink, ZendeskSyncState, ZendeskWebhookEvent
from .relay import MARKER, mapping_dict, sync_state
from .services import enqueue_update

log = logging.getLogger(__name__)


@dataclass
class PullResult:
    comments: int = 0
    echoes: int = 0
    fields: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __str__(self):
        return f"{self.comments} comment(s), {self.echoes} echo(es), fields {self.fields}, refused {self.refused}"


def parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _path(frm: str, to: str) -> list[str] | None:
    """The shortest allowed sequence of moves from `frm` to `to` (at most two), or None."""
    queue, seen = deque([(frm, [])]), {frm}
    while queue:
        status, path = queue.popleft()
        if status == to:
            return path
        if len(path) >= 2:
            continue
        for nxt in TRANSITIONS.get(status, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, [*path, nxt]))
    return None


def pull_ticket(*, ticket_id: int, client: ZendeskClient, ticket: dict | None = None) -> PullResult | None:
    """Bring ticket `ticket_id`'s changes to its case (None: the ticket is not linked to one)."""
    if not ZendeskLink.objects.filter(ticket_id=ticket_id).exists():
        return None
    ticket = client.show_ticket(ticket_id) if ticket is None else ticket
    comments = client.list_comments(ticket_id)
    link = ZendeskLink.objects.get(ticket_id=ticket_id)
    requester_email = None
    if ticket.get("requester_id") and ticket["requester_id"] != (link.last_seen or {}).get("requester_id"):
        if (link.last_seen or {}).get("requester_id"):
            requester_email = (client.show_user(ticket["requester_id"]).get("email") or "").lower()
    system = roles.system_user()
    result = PullResult()
    with transaction.atomic(), roles.acting_as(system):
        link = ZendeskLink.objects.select_for_update().get(pk=link.pk)
        ours = {str(u) for u in ZendeskChange.objects.filter(link=link).values_list("uuid", flat=True)}
        our_audits = set(
            ZendeskChange.objects.filter(link=link, audit_id__isnull=False).values_list("audit_id", flat=True)
        )
        known = set(ZendeskComment.objects.filter(link=link).values_list("comment_id", flat=True))
        for comment in sorted(comments, key=lambda c: (str(c.get("created_at") or ""), int(c["id"]))):
            comment_id = int(comment["id"])
            if comment_id in known:
                continue
            custom = (comment.get("metadata") or {}).get("custom") or {}
            if custom.get(MARKER) in ours or (comment.get("audit_id") and comment["audit_id"] in our_audits):
                ZendeskComment.objects.create(link=link, comment_id=comment_id, direction=ZendeskComment.Direction.OUT)
                result.echoes += 1
                continue
            with origin.applying(ticket_id=ticket_id, audit_id=comment.get("audit_id")):
                interaction = services.case_external_message(
                    case_id=link.case_id,
                    actor=system,
                    body=comment.get("plain_body") or comment.get("body") or "",
                    public=bool(comment.get("public")),
                    from_requester=bool(ticket.get("requester_id"))
                    and comment.get("author_id") == ticket.get("requester_id"),
                    source=origin.marker(ticket_id=ticket_id, comment_id=comment_id, audit_id=comment.get("audit_id")),
                )
            ZendeskComment.objects.create(
                link=link, comment_id=comment_id, interaction=interaction, direction=ZendeskComment.Direction.IN
            )
            known.add(comment_id)
            result.comments += 1
        _apply_fields(link, ticket, result, system=system, requester_email=requester_email)
        seen = {**(link.last_seen or {}), **fieldmap.seen_from_ticket(ticket)}
        if any(r.startswith("requester") for r in result.refused):
            seen.pop("requester_email", None)  # so the push back names our requester again
        link.last_seen = seen
        link.synced_updated_at = parse_time(ticket.get("updated_at")) or link.synced_updated_at
        link.requester_zendesk_id = ticket.get("requester_id") or link.requester_zendesk_id
        link.save(update_fields=["last_seen", "synced_updated_at", "requester_zendesk_id"])
        if result.refused:
            enqueue_update(link=link)
    return result


def _apply_fields(link: ZendeskLink, ticket: dict, result: PullResult, *, system, requester_email) -> None:
    changes = fieldmap.inbound_changes(ticket, link.last_seen or {}, mapping_dict())
    if not changes:
        return
    ticket_id = int(ticket["id"])
    source = origin.marker(ticket_id=ticket_id, updated_at=ticket.get("updated_at"))
    refused = []

    def attempt(name: str, fn):
        try:
            with transaction.atomic(), origin.applying(ticket_id=ticket_id):
                fn()
            result.fields.append(name)
        except CaseError as error:
            refused.append(f"{name}: {error}")

    case = Case.objects.get(pk=link.case_id)
    if "subject" in changes and changes["subject"] != case.subject:
        attempt(
            "subject",
            lambda: services.case_external_update(
                case_id=case.pk, actor=system, subject=changes["subject"], source=source
            ),
        )
    if "requester_id" in changes:
        requester = (
            Requester.objects.filter(tenant_id=case.tenant_id, email__iexact=requester_email).first()
            if requester_email
            else None
        )
        if requester is None:
            refused.append(f"requester: {requester_email or 'that user'} is not a contact of this tenant")
        elif requester.pk != case.requester_id:
            attempt(
                "requester",
                lambda: services.case_external_update(
                    case_id=case.pk, actor=system, requester=requester, source=source
                ),
            )
    classify = {}
    if "priority" in changes and Priority.from_slug(changes["priority"]) != case.priority:
        classify["priority"] = int(Priority.from_slug(changes["priority"]))
    for name in fieldmap.INBOUND_CUSTOM:
        if name in changes and changes[name] != getattr(case, name):
            classify[name] = changes[name]
    if classify:
        attempt(
            "classification",
            lambda: services.case_classify(case_id=case.pk, actor=system, reason="changed in Zendesk", **classify),
        )
    if changes.get("tags_added") or changes.get("tags_removed"):
        attempt(
            "tags",
            lambda: services.case_tag(
                case_id=case.pk, actor=system, add=changes.get("tags_added", []), remove=changes.get("tags_removed", [])
            ),
        )
    target = changes.get("status")
    case.refresh_from_db(fields=["status"])
    if target and target != case.status:
        path = _path(case.status, target)
        if path is None:
            refused.append(f"status: {Status(case.status).label} cannot move to {Status(target).label} here")
        else:

            def move():
                for step in path:
                    services.case_transition(
                        case_id=case.pk,
                        actor=system,
                        to=step,
                        reason=f"changed in Zendesk (ticket #{ticket_id})",
                        waiting_for=WaitingFor.OTHER if step == Status.WAITING_ON_CUSTOMER else "",
                        waiting_note="set in Zendesk" if step == Status.WAITING_ON_CUSTOMER else "",
                    )

            attempt("status", move)
    if refused:
        result.refused.extend(refused)
        with origin.applying(ticket_id=ticket_id):
            services.case_external_message(
                case_id=case.pk,
                actor=system,
                public=False,
                from_requester=False,
                body="Changes made in Zendesk were not applied; CompanyOS's values were sent back:\n"
                + "\n".join(f"- {r}" for r in refused),
                source=source,
            )


# --- webhooks ---------------------------------------------------------------------------------------------


def process_webhook_event(*, event_id: int, client: ZendeskClient | None = None) -> bool:
    """Pull the ticket a webhook delivery named. True when done (or nothing to do)."""
    event = ZendeskWebhookEvent.objects.filter(pk=event_id, processed_at__isnull=True).first()
    if event is None:
        return True
    if event.ticket_id is None:
        ZendeskWebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
        return True
    own = client is None
    client = client or client_from_settings()
    if client is None:
        return False
    try:
        pull_ticket(ticket_id=event.ticket_id, client=client)
    except ZendeskError as error:
        ZendeskWebhookEvent.objects.filter(pk=event.pk).update(
            attempts=event.attempts + 1, last_error=str(error)[:2000]
        )
        return False
    finally:
        if own:
            client.close()
    ZendeskWebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), last_error="")
    return True


def retry_webhook_events(*, client: ZendeskClient | None = None, limit: int = 100) -> int:
    """The deliveries whose pull failed (Zendesk was down), oldest first."""
    done = 0
    for pk in (
        ZendeskWebhookEvent.objects.filter(processed_at__isnull=True, attempts__lt=20)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    ):
        if not process_webhook_event(event_id=pk, client=client):
            break
        done += 1
    return done


# --- the incremental export (catch-up) ---------------------------------------------------------------


@dataclass
class ExportResult:
    pages: int = 0
    tickets: int = 0
    pulled: int = 0

    def __str__(self):
        return f"{self.pages} page(s), {self.tickets} ticket(s) seen, {self.pulled} pulled"


def run_export(*, client: ZendeskClient | None = None, max_pages: int = 50) -> ExportResult:
    """Walk /api/v2/incremental/tickets/cursor.json from the saved cursor (first time: from the
    oldest link) and pull every linked ticket changed since we last applied it. The cursor is saved
    after each page's tickets are applied, so a crash re-reads at most one page (a re-read is
    harmless: comments land once, fields compare to what we saw)."""
    result = ExportResult()
    own = client is None
    client = client or client_from_settings()
    if client is None:
        return result
    state = sync_state()
    cursor, start = state.export_cursor, state.export_start_time
    if not cursor and start is None:
        first = ZendeskLink.objects.order_by("created_at").values_list("created_at", flat=True).first()
        if first is None:
            return result
        start = int(first.timestamp()) - 60
    try:
        for _ in range(max_pages):
            page = client.incremental_tickets(cursor=cursor, start_time=start)
            result.pages += 1
            tickets = page.get("tickets") or []
            result.tickets += len(tickets)
            linked = dict(
                ZendeskLink.objects.filter(ticket_id__in=[t["id"] for t in tickets]).values_list(
                    "ticket_id", "synced_updated_at"
                )
            )
            for ticket in tickets:
                if ticket["id"] not in linked:
                    continue
                applied, updated = linked[ticket["id"]], parse_time(ticket.get("updated_at"))
                if applied is not None and updated is not None and updated <= applied:
                    continue
                pull_ticket(ticket_id=ticket["id"], client=client, ticket=ticket)
                result.pulled += 1
            cursor = page.get("after_cursor") or cursor
            ZendeskSyncState.objects.filter(pk=state.pk).update(
                export_cursor=cursor or "", export_start_time=start, export_ran_at=timezone.now()
            )
            if page.get("end_of_stream", True) or not tickets:
                break
    finally:
        if own:
            client.close()
    return result
