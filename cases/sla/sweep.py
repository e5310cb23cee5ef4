"""The SLA sweep: find clocks past due or at risk, mark them, and run the policy's escalation
exactly once per clock per level; and the notification outbox. What a breach does beyond notifying
is the policy's breach action (cases.sla.actions, a registry other apps extend).

Everything is re-derived from PostgreSQL on every run: the clocks' `due_at`/`at_risk_at` columns say
what is due, `SLAEscalation`'s unique (clock, level) says what already ran. A sweep killed half way
rolls its batch back and the next sweep does it; two sweeps at once skip each other's locked rows
(`SKIP LOCKED`) and the unique constraint stops a second escalation even if they did not.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from companyos import roles, timefmt
from companyos.db import copy_rows

from .. import services
from ..channels.slack import api as slack_api
from ..channels.slack import blocks as slack_blocks
from ..choices import Priority
from ..models import Case, Notification, SLAClock, SLAEscalation, calendar_from_snapshot
from . import calendar as sla
from .actions import Breach, breach_action

log = logging.getLogger(__name__)
User = get_user_model()
Level = SLAEscalation.Level


@dataclass
class SweepResult:
    breached: int = 0
    at_risk: int = 0
    escalations: int = 0
    actions: list[str] = field(default_factory=list)

    def __str__(self):
        return f"{self.breached} breached, {self.at_risk} at risk, {self.escalations} escalations"


def _lockable(qs):
    features = connection.features
    if features.has_select_for_update:
        return qs.select_for_update(skip_locked=features.has_select_for_update_skip_locked, of=("self",))
    return qs


def sla_sweep(*, now: datetime | None = None, batch: int = 1000, case_id: int | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    for level in (Level.BREACHED, Level.AT_RISK):
        while True:
            with transaction.atomic():
                qs = SLAClock.objects.filter(state=SLAClock.State.RUNNING, breached_at__isnull=True)
                if level == Level.BREACHED:
                    qs = qs.filter(due_at__lt=now).order_by("due_at", "id")
                else:
                    qs = qs.filter(at_risk_marked_at__isnull=True, at_risk_at__lte=now, due_at__gte=now).order_by(
                        "at_risk_at", "id"
                    )
                if case_id is not None:
                    qs = qs.filter(case_id=case_id)
                clocks = list(_lockable(qs.only("id", "case_id", "kind", "window", "due_at"))[:batch])
                if not clocks:
                    break
                ids = [c.pk for c in clocks]
                if level == Level.BREACHED:
                    SLAClock.objects.filter(pk__in=ids).update(breached_at=F("due_at"))
                    result.breached += len(ids)
                else:
                    SLAClock.objects.filter(pk__in=ids).update(at_risk_marked_at=now)
                    result.at_risk += len(ids)
                fresh = _insert_escalations(ids, level, now)
                result.escalations += len(fresh)
                _escalate([c for c in clocks if c.pk in fresh], level, now, result)
            if len(clocks) < batch:
                break
    return result


def _insert_escalations(clock_ids: list[int], level: str, now: datetime) -> set[int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the clocks whose escalation at `level` is new."""
    if not clock_ids:
        return set()
    table = SLAEscalation._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(clock_ids))
    params: list = []
    for pk in clock_ids:
        params += [pk, level, now, "[]"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (clock_id, level, created_at, actions) VALUES {rows} "
            f"ON CONFLICT (clock_id, level) DO NOTHING RETURNING clock_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def _escalate(clocks: list[SLAClock], level: str, now: datetime, result: SweepResult) -> None:
    """Timeline entries, notifications and policy actions for freshly escalated clocks. Reads only
    the columns and snapshot keys it needs: a sweep may handle ten thousand clocks."""
    if not clocks:
        return
    cases = {
        row["pk"]: row
        for row in Case.objects.filter(pk__in={k.case_id for k in clocks}).values(
            "pk",
            "subject",
            "priority",
            "owner__email",
            "owner__username",
            "team__manager__email",
            "tenant__name",
            escalation=KT("sla_snapshot__escalation"),
            business_hours_only=KT("sla_snapshot__notify_business_hours_only"),
            risk_percent=KT("sla_snapshot__at_risk_percent"),
            escalation_team=KT("sla_snapshot__escalation_team_id"),
        )
    }
    escalations = dict(
        SLAEscalation.objects.filter(clock_id__in=[c.pk for c in clocks], level=level).values_list("clock_id", "pk")
    )
    managers = None
    batch: dict = {}  # lookups the breach actions make once per batch
    slack = getattr(settings, "SLACK_WEBHOOK_URL", "")
    prefix = settings.CASE_KEY_PREFIX
    entries, notifications, follow_ups = [], [], []
    for clock in clocks:
        case = cases[clock.case_id]
        key = f"{prefix}-{case['pk']}"
        escalation_id = escalations.get(clock.pk)
        label = SLAClock.Kind(clock.kind).label.lower()
        what = "breached" if level == Level.BREACHED else f"at risk ({case['risk_percent'] or 80}% of target elapsed)"
        due = timefmt.instant_token(clock.due_at) if clock.due_at else "—"  # rendered in the reader's zone
        headline = f"{key}: {label} SLA {what} — due {due}"
        actions = []
        recipients = [email for email in (case["owner__email"], case["team__manager__email"]) if email]
        if not recipients:
            if managers is None:
                managers = list(
                    User.objects.filter(groups__name=roles.MANAGER, is_active=True)
                    .exclude(email="")
                    .values_list("email", flat=True)
                )
            recipients = managers
        send_after = now
        if level == Level.AT_RISK and str(case["business_hours_only"]).lower() in {"true", "1"}:
            cal = calendar_from_snapshot(Case.objects.values_list("sla_snapshot", flat=True).get(pk=case["pk"]))
            if cal is not None:
                send_after = sla.next_open(now, cal)
        body = (
            f"{headline}\n\nCase: {key} {case['subject']}\nTenant: {case['tenant__name']}\n"
            f"Priority: {Priority(case['priority']).label}\nOwner: {case['owner__username'] or 'unassigned'}\n"
        )
        for email in dict.fromkeys(recipients):
            notifications.append(
                Notification(
                    case_id=case["pk"],
                    escalation_id=escalation_id,
                    channel=Notification.Channel.EMAIL,
                    recipient=email,
                    subject=headline,
                    body=body,
                    send_after=send_after,
                )
            )
            actions.append(f"notified {email}")
        if slack:
            notifications.append(
                Notification(
                    case_id=case["pk"],
                    escalation_id=escalation_id,
                    channel=Notification.Channel.SLACK,
                    recipient=slack,
                    subject=headline,
                    body=body,
                    send_after=send_after,
                )
            )
            actions.append("posted to Slack")
        if level == Level.BREACHED:
            action = breach_action(case["escalation"])
            if action is not None:
                breach = Breach(
                    case=case, key=key, headline=headline, body=body, escalation_id=escalation_id, now=now, batch=batch
                )
                actions.extend(action(breach))
                notifications.extend(breach.notifications)
                follow_ups.extend(breach.follow_ups)
        entries.append(
            {
                "case_id": case["pk"],
                "body": headline,
                "created_at": now,
                "data": {
                    "escalation": level,
                    "clock": clock.kind,
                    "window": clock.window,
                    "due_at": clock.due_at.isoformat() if clock.due_at else None,
                    "actions": actions,
                },
            }
        )
        result.actions.extend(actions)
    services.record_system_entries(entries)  # by COPY; the version rule for system rows is in its docstring
    copy_rows(
        Notification,
        notifications,
        [
            "case_id",
            "escalation_id",
            "channel",
            "recipient",
            "subject",
            "body",
            "send_after",
            "attempts",
            "last_error",
            "created_at",
        ],
    )
    for follow_up in follow_ups:
        follow_up()


# --- the outbox --------------------------------------------------------------------------------------


def enqueue_notifications(
    *,
    recipients,
    subject: str,
    body: str,
    case_id: int | None = None,
    slack: bool = True,
    send_after: datetime | None = None,
) -> list[str]:
    """Write notifications into the outbox in the caller's transaction, as the SLA escalations do:
    one e-mail per distinct address in `recipients` (none given: the active managers), and with
    `slack` one post to settings.SLACK_WEBHOOK_URL when it is set. The caller's exactly-once guard
    (a unique row written in the same transaction, e.g. the incidents' CadenceMark) makes them go out
    once. Times in `subject` / `body` as `timefmt.instant_token` are written in each reader's zone
    when sent. Returns what was done, for the timeline ("notified x@…", "posted to Slack")."""
    emails = [e for e in dict.fromkeys(recipients or ()) if e]
    if not emails:
        emails = list(
            User.objects.filter(groups__name=roles.MANAGER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    send_after = send_after or timezone.now()
    common = {"case_id": case_id, "subject": subject[:300], "body": body, "send_after": send_after}
    notes = [Notification(channel=Notification.Channel.EMAIL, recipient=email, **common) for email in emails]
    actions = [f"notified {email}" for email in emails]
    webhook = getattr(settings, "SLACK_WEBHOOK_URL", "")
    if slack and webhook:
        notes.append(Notification(channel=Notification.Channel.SLACK, recipient=webhook, **common))
        actions.append("posted to Slack")
    Notification.objects.bulk_create(notes)
    return actions


OUTBOX_LEASE = timedelta(minutes=5)  # a claim older than this is a crashed sender's: send it again
MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(minutes=1)


def send_pending_notifications(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send what is due: e-mail through Django's mail backend, Slack through its webhook (JSON
    `{"text": …}`). A failure is recorded and retried after 1, 2, 4 and 8 minutes, up to 5 attempts.

    Each notification is claimed in its own short transaction (`SELECT … FOR UPDATE SKIP LOCKED`,
    marked *sending* with a lease), sent with no transaction open, then marked sent. A sender killed
    mid-batch has sent and marked everything before the one in flight; that one's lease runs out
    and the next run sends it again, so a crash re-sends at most one message. Two senders at once
    take different rows."""
    now = now or timezone.now()
    sent = 0
    for _ in range(limit):
        note = _claim_next(now)
        if note is None:
            break
        try:
            tz = _reader_zone(note)
            subject, body = timefmt.render_instants(note.subject, tz), timefmt.render_instants(note.body, tz)
            if note.channel == Notification.Channel.EMAIL:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [note.recipient], fail_silently=False)
            else:
                post_slack(note.recipient, f"*{subject}*\n{body}", blocks=slack_blocks.notification(subject, body))
        except Exception as error:  # noqa: BLE001 — any transport failure is retried
            retry_after = getattr(error, "retry_after", None)  # Slack's 429 says how long to wait
            Notification.objects.filter(pk=note.pk).update(
                lease_until=None,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                send_after=now + timedelta(seconds=retry_after)
                if retry_after is not None
                else now + RETRY_BACKOFF * 2 ** (note.attempts - 1),  # 1, 2, 4, 8 minutes
                # A refusal that will not change (Slack 4xx but 429: a revoked webhook, a bad payload)
                # is failed at once rather than retried.
                **({"attempts": MAX_ATTEMPTS} if getattr(error, "retryable", True) is False else {}),
            )
        else:
            Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now(), lease_until=None, last_error="")
            sent += 1
    return sent


def _reader_zone(note: Notification) -> tzinfo:
    """The zone a notification's times are written in when it is sent: the recipient's own (their
    profile's, found by e-mail address), else the console's default (TIME_ZONE)."""
    name = None
    if note.channel == Notification.Channel.EMAIL:
        name = (
            User.objects.filter(email__iexact=note.recipient, profile__isnull=False)
            .values_list("profile__timezone", flat=True)
            .first()
        )
    try:
        return zoneinfo.ZoneInfo(name) if name else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def _claim_next(now: datetime) -> Notification | None:
    """Take the next due notification nobody is sending: one row, locked only while it is marked."""
    due = Notification.objects.filter(sent_at__isnull=True, send_after__lte=now, attempts__lt=MAX_ATTEMPTS).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    with transaction.atomic():
        note = _lockable(due.order_by("send_after", "id")).first()
        if note is None:
            return None
        note.attempts += 1
        note.lease_until = now + OUTBOX_LEASE
        note.save(update_fields=["attempts", "lease_until"])
    return note


def post_slack(webhook_url: str, text: str, *, blocks: list | None = None) -> None:
    """POST a Slack incoming-webhook message: application/json `{"text": …, "blocks": […]}`, answered
    200 `ok` (cases.channels.slack.api: a 429's Retry-After and a permanent refusal are on the error)."""
    slack_api.post_webhook(webhook_url, text=text, blocks=blocks)
