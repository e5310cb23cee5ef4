"""The outbox relay: send pending changes to Zendesk, in order per case, exactly once.

Each change is claimed in its own short transaction (`SELECT … FOR UPDATE SKIP LOCKED`, a lease),
sent with no transaction open, then marked. Only a case's oldest open change is eligible (a later
one waits while an earlier one is pending or dead), so comments reach Zendesk in timeline order and
a dead change holds its case's queue until an admin retries or discards it.

Failures (`client.ZendeskError.kind`):
- `unreachable` / `rate_limited`: not the change's fault. The relay pauses as a whole — until the
  429's `Retry-After`, or with exponential backoff while Zendesk is down — and the attempt is not
  counted, so an outage of any length loses nothing and dead-letters nothing.
- `timeout` / `server` (5xx): counted, retried with exponential backoff (`ZENDESK_BACKOFF_SECONDS`
  doubling up to `ZENDESK_BACKOFF_MAX_SECONDS`); the request may have been applied, so the next
  attempt looks first (`maybe_applied`): a create by its external_id, a comment by its marker.
- `client` (other 4xx): counted the same way; after `ZENDESK_MAX_ATTEMPTS` the change is dead.
A crash mid-send leaves the lease to run out and `maybe_applied` set: the retry looks first too.

Idempotency: a create carries the link's `external_id` (looked up before a possibly repeated create)
and the change's uuid as `Idempotency-Key`; comments and updates carry the uuid in the audit's
custom metadata (`companyos_change`), which also lets the inbound side recognise their echo.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from companyos import roles

from ...models import Case, Interaction, Notification
from . import mapping as fieldmap
from .client import ZendeskClient, ZendeskError, client_from_settings
from .models import ZendeskChange, ZendeskComment, ZendeskLink, ZendeskMapping, ZendeskSyncState

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
PROBE_MAX = timedelta(seconds=30)
BATCH = 50  # changes claimed per transaction (heads of 50 different cases)
MARKER = "companyos_change"
State, Kind = ZendeskChange.State, ZendeskChange.Kind


@dataclass
class RelayResult:
    sent: int = 0
    coalesced: int = 0
    failed: int = 0
    dead: int = 0
    paused_until: datetime | None = None
    errors: list[str] = field(default_factory=list)

    def __str__(self):
        paused = f", paused until {self.paused_until:%H:%M:%S}" if self.paused_until else ""
        return f"{self.sent} sent, {self.coalesced} coalesced, {self.failed} failed, {self.dead} dead{paused}"


def sync_state() -> ZendeskSyncState:
    return ZendeskSyncState.objects.get_or_create(pk=1)[0]


def mapping_dict() -> dict:
    row = ZendeskMapping.objects.get_or_create(pk=1)[0]
    return {
        "status_out": row.status_out,
        "status_in": row.status_in,
        "priority_out": row.priority_out,
        "priority_in": row.priority_in,
        "custom_fields": row.custom_fields or {},
        "sync_tags": row.sync_tags,
    }


def backoff(attempt: int) -> timedelta:
    """5 s, 10 s, 20 s, … up to the cap, with ±10 % jitter so a backlog does not retry in lockstep."""
    base = settings.ZENDESK_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0)
    seconds = min(base, settings.ZENDESK_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def _lockable(qs):
    features = connection.features
    if features.has_select_for_update:
        return qs.select_for_update(skip_locked=features.has_select_for_update_skip_locked, of=("self",))
    return qs


def _claim(now: datetime, size: int) -> list[ZendeskChange]:
    """Claim up to `size` due changes, each the oldest open change of its case (so no two of one
    case), in one short transaction: locked, leased, marked `maybe_applied` (from here until we
    know better, each request may have gone out), then sent with no transaction open."""
    earlier_open = ZendeskChange.objects.filter(
        case_id=OuterRef("case_id"), id__lt=OuterRef("id"), state__in=[State.PENDING, State.DEAD]
    )
    due = (
        ZendeskChange.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(~Exists(earlier_open))
        .select_related("link", "interaction")
    )
    with transaction.atomic():
        changes = list(_lockable(due.order_by("next_attempt_at", "id"))[:size])
        if changes:
            ZendeskChange.objects.filter(pk__in=[c.pk for c in changes]).update(
                lease_until=now + LEASE, maybe_applied=True
            )
    for change in changes:
        change.prior_maybe_applied = change.maybe_applied
        change.maybe_applied = True
    return changes


def _release(changes: list[ZendeskChange]) -> None:
    """Give back claimed changes the run did not get to (it stopped early)."""
    for change in changes:
        ZendeskChange.objects.filter(pk=change.pk, state=State.PENDING).update(
            lease_until=None, maybe_applied=change.prior_maybe_applied
        )


def relay(*, client: ZendeskClient | None = None, now: datetime | None = None, limit: int = 500) -> RelayResult:
    """Send up to `limit` due changes. Returns early while the relay is paused."""
    result = RelayResult()
    now = now or timezone.now()
    state = sync_state()
    if state.paused_until and state.paused_until > now:
        result.paused_until = state.paused_until
        return result
    own_client = client is None
    client = client or client_from_settings()
    if client is None:
        return result
    mapping = mapping_dict()
    consecutive = 0
    try:
        while result.sent + result.failed < limit:
            batch = _claim(now, min(BATCH, limit - result.sent - result.failed))
            if not batch:
                break
            stop = False
            for index, change in enumerate(batch):
                if stop:
                    _release(batch[index:])
                    break
                try:
                    covered = _send(change, client, mapping)
                except ZendeskError as error:
                    result.failed += 1
                    result.errors.append(str(error))
                    consecutive += 1
                    # A pause stops the run; so do three failures in a row (Zendesk is struggling).
                    stop = _failed(change, error, now, result) or consecutive >= 3
                    continue
                except Exception as error:  # noqa: BLE001 — a bug must not wedge the queue: count it like a 4xx
                    log.exception("zendesk relay: change %s", change.pk)
                    result.failed += 1
                    _failed(change, ZendeskError("client", f"{type(error).__name__}: {error}"), now, result)
                    continue
                consecutive = 0
                result.sent += 1
                result.coalesced += covered
                if state.failures or state.paused_until:
                    ZendeskSyncState.objects.filter(pk=1).update(
                        failures=0, paused_until=None, unreachable_since=None, last_error=""
                    )
                    state.failures, state.paused_until = 0, None
            if stop:
                break
            now = timezone.now()
    finally:
        if own_client:
            client.close()
    return result


def _failed(change: ZendeskChange, error: ZendeskError, now: datetime, result: RelayResult) -> bool:
    """Record a failed send. Returns True when the whole relay should stop (pause)."""
    maybe = change.prior_maybe_applied_after_lookup or error.maybe_applied
    message = f"{error.kind}: {error}"[:2000]
    if error.kind in ("unreachable", "rate_limited"):
        state = sync_state()
        # While Zendesk is unreachable the relay probes with one request at growing intervals, but
        # never less often than every 30 s: a backlog starts draining soon after it is back.
        pause = (
            timedelta(seconds=60 if error.retry_after is None else error.retry_after)
            if error.kind == "rate_limited"
            else min(backoff(state.failures + 1), PROBE_MAX)
        )
        ZendeskSyncState.objects.filter(pk=1).update(
            paused_until=now + pause,
            failures=state.failures + 1,
            unreachable_since=state.unreachable_since or (now if error.kind == "unreachable" else None),
            last_error=message,
        )
        ZendeskChange.objects.filter(pk=change.pk).update(
            lease_until=None, maybe_applied=maybe, last_error=message, next_attempt_at=now + pause
        )
        result.paused_until = now + pause
        return True
    attempts = change.attempts + 1
    if attempts >= settings.ZENDESK_MAX_ATTEMPTS:
        ZendeskChange.objects.filter(pk=change.pk).update(
            state=State.DEAD, attempts=attempts, lease_until=None, maybe_applied=maybe, last_error=message
        )
        result.dead += 1
        alert(changes=[change.pk], reason="dead", now=now)
    else:
        ZendeskChange.objects.filter(pk=change.pk).update(
            attempts=attempts,
            lease_until=None,
            maybe_applied=maybe,
            last_error=message,
            next_attempt_at=now + backoff(attempts),
        )
    return False


# --- what each change sends -------------------------------------------------------------------------


def case_state(case: Case) -> dict:
    return {
        "key": case.key,
        "status": case.status,
        "priority": case.priority_slug,
        "subject": case.subject,
        "tags": list(case.tags.values_list("name", flat=True)),
        "category": case.category,
        "issue_type": case.issue_type,
        "environment": case.environment,
    }


def _audit_comment_id(audit: dict) -> int | None:
    for event in (audit or {}).get("events") or []:
        if event.get("type") == "Comment" and event.get("id"):
            return int(event["id"])
    return None


def _send(change: ZendeskChange, client: ZendeskClient, mapping: dict) -> int:
    """Send one change; returns how many later changes it covered (coalesced updates)."""
    change.prior_maybe_applied_after_lookup = change.prior_maybe_applied
    link = change.link
    if change.kind == Kind.CREATE:
        _send_create(change, link, client, mapping)
        return 0
    if link.ticket_id is None:  # its create was discarded: nothing to update
        _done(change, note="no ticket (its create was discarded)")
        return 0
    if change.kind == Kind.COMMENT:
        _send_comment(change, link, client)
        return 0
    return _send_update(change, link, client, mapping)


def _done(change: ZendeskChange, *, audit_id=None, note: str = "") -> None:
    ZendeskChange.objects.filter(pk=change.pk).update(
        state=State.DONE, sent_at=timezone.now(), lease_until=None, audit_id=audit_id, last_error=note
    )


def _send_create(change: ZendeskChange, link: ZendeskLink, client: ZendeskClient, mapping: dict) -> None:
    case = Case.objects.select_related("requester").get(pk=change.case_id)
    fields = fieldmap.ticket_fields(case_state(case), mapping)
    found = None
    if change.prior_maybe_applied:
        found = client.find_by_external_id(link.external_id)
        change.prior_maybe_applied_after_lookup = False
    if found is None:
        found_ticket = None
        answer = client.create_ticket(
            {
                **fields,
                "external_id": link.external_id,
                "requester": {"name": case.requester.name, "email": case.requester.email},
                "comment": {"body": case.description or case.subject, "public": True},
                "metadata": {MARKER: str(change.uuid)},
            },
            idempotency_key=str(change.uuid),
        )
        found_ticket, audit = answer["ticket"], answer.get("audit") or {}
    else:
        found_ticket, audit = found, {}
    ticket_id = int(found_ticket["id"])
    first = (
        Interaction.objects.filter(case_id=case.pk, kind=Interaction.Kind.INBOUND).order_by("created_at", "id").first()
    )
    with transaction.atomic():
        seen = fieldmap.seen_from_fields(fields, requester_id=found_ticket.get("requester_id"))
        seen["requester_email"] = case.requester.email.lower()
        ZendeskLink.objects.filter(pk=link.pk).update(
            ticket_id=ticket_id, requester_zendesk_id=found_ticket.get("requester_id"), last_seen=seen
        )
        comment_id = _audit_comment_id(audit)
        if comment_id:
            ZendeskComment.objects.get_or_create(
                comment_id=comment_id,
                defaults={"link": link, "interaction": first, "direction": ZendeskComment.Direction.OUT},
            )
        _done(change, audit_id=audit.get("id"), note="" if found is None else "found by external_id")


def _send_comment(change: ZendeskChange, link: ZendeskLink, client: ZendeskClient) -> None:
    interaction = change.interaction
    if interaction is None:
        _done(change, note="the timeline entry is gone")
        return
    if change.prior_maybe_applied:
        for comment in client.list_comments(link.ticket_id, newest_first=True, pages=2):
            custom = (comment.get("metadata") or {}).get("custom") or {}
            if custom.get(MARKER) == str(change.uuid):
                _comment_sent(change, link, interaction, int(comment["id"]), comment.get("audit_id"))
                return
        change.prior_maybe_applied_after_lookup = False
    comment = {"body": interaction.body, "public": bool(interaction.public)}
    if interaction.kind == Interaction.Kind.INBOUND and link.requester_zendesk_id:
        comment["author_id"] = link.requester_zendesk_id  # the customer's own message, from another channel
    answer = client.update_ticket(link.ticket_id, {"comment": comment, "metadata": {MARKER: str(change.uuid)}})
    audit = answer.get("audit") or {}
    _comment_sent(change, link, interaction, _audit_comment_id(audit), audit.get("id"))


def _comment_sent(change, link, interaction, comment_id, audit_id) -> None:
    with transaction.atomic():
        if comment_id:  # ON CONFLICT DO NOTHING: its echo may have been recorded by a pull already
            ZendeskComment.objects.bulk_create(
                [ZendeskComment(link=link, comment_id=comment_id, interaction=interaction, direction="out")],
                ignore_conflicts=True,
            )
        _done(change, audit_id=audit_id)


def _send_update(change: ZendeskChange, link: ZendeskLink, client: ZendeskClient, mapping: dict) -> int:
    # The consecutive updates queued behind this one are covered by the state read after them.
    covered = []
    for pk, kind in (
        ZendeskChange.objects.filter(case_id=change.case_id, state=State.PENDING, id__gt=change.pk)
        .order_by("id")
        .values_list("pk", "kind")[:500]
    ):
        if kind != Kind.UPDATE:
            break
        covered.append(pk)
    case = Case.objects.select_related("requester").get(pk=change.case_id)
    fields = fieldmap.ticket_fields(case_state(case), mapping)
    body = {**fields, "metadata": {MARKER: str(change.uuid)}}
    email = case.requester.email.lower()
    if email != (link.last_seen or {}).get("requester_email"):
        body["requester"] = {"name": case.requester.name, "email": case.requester.email}
    answer = client.update_ticket(link.ticket_id, body)
    ticket, audit = answer.get("ticket") or {}, answer.get("audit") or {}
    with transaction.atomic():
        link = ZendeskLink.objects.select_for_update().get(pk=link.pk)
        seen = {**(link.last_seen or {}), **fieldmap.seen_from_fields(fields, requester_id=ticket.get("requester_id"))}
        seen["requester_email"] = email
        link.last_seen = seen
        update = ["last_seen"]
        if ticket.get("requester_id"):
            link.requester_zendesk_id = ticket["requester_id"]
            update.append("requester_zendesk_id")
        link.save(update_fields=update)
        _done(change, audit_id=audit.get("id"))
        if covered:
            ZendeskChange.objects.filter(pk__in=covered, state=State.PENDING).filter(
                Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())
            ).update(state=State.DONE, sent_at=timezone.now(), last_error=f"covered by change {change.pk}")
    return len(covered)


# --- stuck changes: alerts --------------------------------------------------------------------------------


def stuck_changes(now: datetime | None = None):
    """Changes dead, or pending for longer than ZENDESK_STUCK_AFTER_SECONDS."""
    now = now or timezone.now()
    threshold = now - timedelta(seconds=settings.ZENDESK_STUCK_AFTER_SECONDS)
    return ZendeskChange.objects.filter(Q(state=State.DEAD) | Q(state=State.PENDING, created_at__lt=threshold))


def alert_stuck(*, now: datetime | None = None, limit: int = 500) -> int:
    """Alert the admins once per stuck change (one notification per case and admin)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            _lockable(stuck_changes(now).filter(stuck_alerted_at__isnull=True).order_by("id")).values_list(
                "pk", flat=True
            )[:limit]
        )
        if ids:
            alert(changes=ids, reason="stuck", now=now)
    return len(ids)


def alert(*, changes: list[int], reason: str, now: datetime) -> None:
    """Notifications (the existing outbox, `cases.Notification`) to every admin with an e-mail
    address, one per case, and the changes marked alerted."""
    User = get_user_model()
    rows = list(
        ZendeskChange.objects.filter(pk__in=changes, stuck_alerted_at__isnull=True).values_list(
            "pk", "case_id", "kind", "last_error"
        )
    )
    if not rows:
        return
    admins = list(
        User.objects.filter(groups__name=roles.ADMIN, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    admins += [email for _, email in settings.ADMINS if email not in admins]
    prefix = settings.CASE_KEY_PREFIX
    by_case: dict[int, list] = {}
    for pk, case_id, kind, error in rows:
        by_case.setdefault(case_id, []).append((pk, kind, error))
    notes = []
    for case_id, items in by_case.items():
        what = "gave up on" if reason == "dead" else "is stuck on"
        subject = f"{prefix}-{case_id}: the Zendesk sync {what} {len(items)} change(s)"
        body = "\n".join(f"- change {pk} ({kind}): {error or 'waiting'}" for pk, kind, error in items)
        body += "\n\nRetry or discard them on the Zendesk sync page (/zendesk/changes/)."
        for email in dict.fromkeys(admins):
            notes.append(
                Notification(
                    case_id=case_id,
                    channel=Notification.Channel.EMAIL,
                    recipient=email,
                    subject=subject[:300],
                    body=body,
                    send_after=now,
                )
            )
    Notification.objects.bulk_create(notes)
    ZendeskChange.objects.filter(pk__in=[r[0] for r in rows]).update(stuck_alerted_at=now)
