"""The outbound half's writes: the change listener that fills the outbox (inside the transaction
that writes the timeline entry), linking a case (which queues the ticket's create), and the
admin's retry and discard of a stuck change.

The listener runs on every timeline entry of every case: with the sync off it returns before any
query, and otherwise it costs one primary-key lookup of the case's link (most cases have none).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from companyos import roles
from tenants.selectors import can_see_tenant

from ...errors import CaseConflict, CaseError, NotPermitted
from . import origin
from .models import ZendeskChange, ZendeskLink, ZendeskMapping, ZendeskSyncState

# The FIELDS changes the ticket carries (an owner, team or resources change does not).
SYNCED_FIELDS = {"priority", "category", "issue_type", "environment", "subject", "requester"}


def sync_enabled() -> bool:
    return bool(settings.ZENDESK_BASE_URL and settings.ZENDESK_API_TOKEN)


def _change_kind(interaction) -> str | None:
    from ...models import Interaction

    kind = interaction.kind
    if kind in (Interaction.Kind.REPLY, Interaction.Kind.NOTE, Interaction.Kind.INBOUND):
        return ZendeskChange.Kind.COMMENT
    if kind in (Interaction.Kind.STATUS, Interaction.Kind.TAGS):
        return ZendeskChange.Kind.UPDATE
    if kind == Interaction.Kind.FIELDS and set((interaction.data or {}).get("changes") or {}) & SYNCED_FIELDS:
        return ZendeskChange.Kind.UPDATE
    return None


def on_timeline_entry(interaction) -> None:
    """`cases.changes` listener: queue the entry for Zendesk if its case is linked."""
    if not sync_enabled() or origin.current() is not None or origin.is_from_zendesk(interaction.data):
        return
    kind = _change_kind(interaction)
    if kind is None or (kind == ZendeskChange.Kind.COMMENT and not (interaction.body or "").strip()):
        return
    link_id = ZendeskLink.objects.filter(case_id=interaction.case_id).values_list("pk", flat=True).first()
    if link_id is None:
        return
    ZendeskChange.objects.create(case_id=interaction.case_id, link_id=link_id, kind=kind, interaction=interaction)


def enqueue_update(*, link: ZendeskLink) -> ZendeskChange:
    """Push the case's current state again (an inbound change we refused: we are the record)."""
    return ZendeskChange.objects.create(case_id=link.case_id, link=link, kind=ZendeskChange.Kind.UPDATE)


@transaction.atomic
def zendesk_link_case(*, case_id: int, actor) -> ZendeskLink:
    """Link a case to a new Zendesk ticket: the link and the ticket's create go in one transaction
    (the create is sent by the relay; a retried create never makes a second ticket: it carries the
    link's `external_id`, looked up before creating, and an Idempotency-Key)."""
    from ...models import Case

    if not sync_enabled():
        raise CaseError("The Zendesk sync is not configured (ZENDESK_BASE_URL and ZENDESK_API_TOKEN).")
    case = Case.objects.select_for_update().filter(pk=case_id).only("id", "tenant_id").first()
    if case is None or not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
        raise NotPermitted("That case does not exist or is not visible to you.")
    if ZendeskLink.objects.filter(case_id=case_id).exists():
        raise CaseError(f"{case.key} is already linked to Zendesk.")
    link = ZendeskLink.objects.create(case=case, external_id=f"companyos:{case.key}", linked_by=actor)
    ZendeskChange.objects.create(case=case, link=link, kind=ZendeskChange.Kind.CREATE)
    return link


def _locked_change(change_id: int, actor) -> ZendeskChange:
    if not roles.is_admin(actor):
        raise NotPermitted("Only admins can retry or discard Zendesk changes.")
    change = ZendeskChange.objects.select_for_update().filter(pk=change_id).first()
    if change is None:
        raise NotPermitted("That change does not exist.")
    return change


@transaction.atomic
def zendesk_change_retry(*, change_id: int, actor) -> ZendeskChange:
    """Send a dead or waiting change again now, with a fresh count of attempts (and the relay's pause lifted)."""
    change = _locked_change(change_id, actor)
    if change.state not in (ZendeskChange.State.DEAD, ZendeskChange.State.PENDING):
        raise CaseError("Only a pending or dead change can be retried.")
    change.state = ZendeskChange.State.PENDING
    change.last_error = f"{change.last_error}\nretried by {actor.get_username()}".strip()[-2000:]
    change.attempts = 0
    change.next_attempt_at = timezone.now()
    change.lease_until = None
    change.stuck_alerted_at = None
    change.save(update_fields=["state", "last_error", "attempts", "next_attempt_at", "lease_until", "stuck_alerted_at"])
    # "Now" means now: the relay's pause (a 429's Retry-After, or probing while Zendesk was away) is
    # lifted too; if Zendesk is still away the next run pauses again after one request.
    ZendeskSyncState.objects.filter(pk=1).update(paused_until=None)
    return change


@transaction.atomic
def zendesk_change_discard(*, change_id: int, actor) -> ZendeskChange:
    """Give up on a dead change, so the case's later changes go out. (A discarded create leaves the
    case unlinked in effect: its ticket is never made; a discarded comment never reaches Zendesk.)"""
    change = _locked_change(change_id, actor)
    if change.state != ZendeskChange.State.DEAD:
        raise CaseError("Only a dead change can be discarded; retry a pending one instead.")
    change.state = ZendeskChange.State.DISCARDED
    change.last_error = f"{change.last_error}\ndiscarded by {actor.get_username()}".strip()
    change.save(update_fields=["state", "last_error"])
    return change


@transaction.atomic
def zendesk_mapping_save(*, actor, data: dict, expected_version: int) -> ZendeskMapping:
    """Save the admin's field mapping (`data`: status_out, status_in, priority_out, priority_in,
    custom_fields, sync_tags). A save over someone else's newer save is refused."""
    from ...choices import PRIORITY_SLUG_CHOICES, Status
    from . import mapping as fieldmap

    if not roles.is_admin(actor):
        raise NotPermitted("Only admins can change the Zendesk field mapping.")
    row = ZendeskMapping.objects.select_for_update().get_or_create(pk=1)[0]
    if row.version != expected_version:
        raise CaseConflict("Someone else saved the mapping while you were editing it. Reload to see their values.")
    problems = fieldmap.validate_mapping(
        data, our_statuses=list(Status.values), our_priorities=[slug for slug, _ in PRIORITY_SLUG_CHOICES]
    )
    if problems:
        raise CaseError(" ".join(problems))
    for name in ("status_out", "status_in", "priority_out", "priority_in", "custom_fields", "sync_tags"):
        setattr(row, name, data[name])
    row.version += 1
    row.updated_by = actor
    row.updated_at = timezone.now()
    row.save()
    return row


def webhook_record(*, event_id: str, ticket_id: int | None, event_type: str):
    """Record a webhook delivery once; a new one is pulled after commit (a redelivery is not)."""
    from .models import ZendeskWebhookEvent

    with transaction.atomic():
        event, created = ZendeskWebhookEvent.objects.get_or_create(
            event_id=event_id, defaults={"ticket_id": ticket_id, "event_type": event_type}
        )
        if created:
            pk = event.pk

            def pull():
                from .tasks import zendesk_webhook_task

                zendesk_webhook_task.delay(pk)

            transaction.on_commit(pull)
    return event, created
