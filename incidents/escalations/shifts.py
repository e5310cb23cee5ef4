"""The shift handoff report (issue 14 point 10; seed 002 "Handoff Procedures — Between Support
Shifts"): open critical and high cases with their status, cases waiting on the customer for more than
24 h, emerging patterns (several cases of one category or tag in a short window), active incidents,
and the sections higher apps register (incidents.escalations.handoff_sections: the known issues of
`runbooks`, which lives above this app; none registered, the report has its own four).

The report is a page (`/incidents/escalations/handoff/`, what the viewer may see) and an e-mail at
each shift change (SupportShift: a team's start time at local wall clock, DST-safe through zoneinfo).
Beat's `shift-handoff` (every minute) finds the changes of the last hour not yet sent, writes the
ShiftHandoff row (unique shift × change: INSERT … ON CONFLICT DO NOTHING, so two beats send once) and,
in the same transaction, one e-mail per team member with their own report (scoped to the tenants they
see) on the notification outbox (cases.Notification, no case): the relay (beat's send-notifications)
sends it with retries, and a sweep that fails before its commit leaves neither the row nor a mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from cases.choices import OPEN_STATUSES, Priority, Status
from cases.models import Notification
from cases.selectors import case_visible_to
from incidents.models import Incident

from .handoff_sections import build_sections
from .models import ShiftHandoff, SupportShift

WAITING_TOO_LONG = timedelta(hours=24)
PATTERN_WINDOW = timedelta(hours=4)
PATTERN_MIN = 3
ROWS = 50
LATE = timedelta(hours=1)  # a change older than this when beat sees it is skipped, not sent late


def changes_between(shift: SupportShift, start: datetime, end: datetime) -> list[datetime]:
    """The shift's change instants in (start, end], UTC: its local start time on its weekdays, in its
    zone (a DST change keeps the wall-clock time)."""
    zone = ZoneInfo(shift.timezone or "UTC")
    days = set(shift.weekdays or range(7))
    out = []
    day: date = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in days:
            instant = datetime.combine(day, shift.starts_at, tzinfo=zone).astimezone(UTC)
            if start < instant <= end:
                out.append(instant)
        day += timedelta(days=1)
    return out


def handoff_report(user, *, team=None, now: datetime | None = None) -> dict:
    """The report for `user` (the cases they may see), for one team's cases or every team's."""
    now = now or timezone.now()
    cases = case_visible_to(user)
    if team is not None:
        cases = cases.filter(team=team)
    fields = (
        "id",
        "subject",
        "status",
        "priority",
        "tenant__name",
        "owner__username",
        "sla_due_at",
        "status_changed_at",
    )
    urgent = list(
        cases.filter(status__in=OPEN_STATUSES, priority__in=[Priority.CRITICAL, Priority.HIGH])
        .select_related("tenant", "owner")
        .only(*fields)
        .order_by("priority", "sla_due_at", "id")[:ROWS]
    )
    waiting = list(
        cases.filter(status=Status.WAITING_ON_CUSTOMER, status_changed_at__lte=now - WAITING_TOO_LONG)
        .select_related("tenant", "owner")
        .only(*fields)
        .order_by("status_changed_at")[:ROWS]
    )
    recent = cases.filter(created_at__gte=now - PATTERN_WINDOW)
    by_category = list(
        recent.exclude(category="other")
        .values("category")
        .annotate(n=Count("id"), customers=Count("tenant", distinct=True))
        .filter(n__gte=PATTERN_MIN)
        .order_by("-n")
    )
    by_tag = list(
        recent.filter(tags__isnull=False)
        .values("tags__name")
        .annotate(n=Count("id"), customers=Count("tenant", distinct=True))
        .filter(n__gte=PATTERN_MIN)
        .order_by("-n")
    )
    patterns = [{"what": f"category {r['category']}", "n": r["n"], "customers": r["customers"]} for r in by_category]
    patterns += [{"what": f"tag {r['tags__name']}", "n": r["n"], "customers": r["customers"]} for r in by_tag]
    from incidents.selectors import incident_visible_to

    incidents = list(
        incident_visible_to(user)
        .filter(status__in=Incident.ACTIVE)
        .select_related("commander")
        .order_by("severity")[:20]
    )
    return {
        "at": now,
        "urgent": urgent,
        "waiting": waiting,
        "patterns": patterns,
        "incidents": incidents,
        "sections": build_sections(user, team=team, now=now),
    }


def report_text(report: dict, *, title: str) -> str:
    lines = [title, ""]
    lines.append(f"Open critical and high cases ({len(report['urgent'])}):")
    lines += [
        f"  CS-{c.pk} [{Priority(c.priority).label}] {Status(c.status).label} · {c.tenant.name} · "
        f"{c.owner.username if c.owner else 'unassigned'} — {c.subject[:100]}"
        for c in report["urgent"]
    ] or ["  none"]
    lines.append(f"Waiting on the customer more than 24 h ({len(report['waiting'])}):")
    lines += [
        f"  CS-{c.pk} since {c.status_changed_at:%Y-%m-%d %H:%M} UTC — {c.subject[:100]}" for c in report["waiting"]
    ] or ["  none"]
    lines.append("Emerging patterns (last 4 h):")
    lines += [f"  {p['what']}: {p['n']} cases, {p['customers']} customer(s)" for p in report["patterns"]] or ["  none"]
    lines.append("Active incidents:")
    lines += [f"  {i.key} {i.severity} {i.get_status_display()} — {i.title[:100]}" for i in report["incidents"]] or [
        "  none"
    ]
    for section in report.get("sections", ()):
        lines.append(f"{section.title} ({len(section.items)}):")
        for item in section.items:
            lines.append(f"  {item.text}" + (f" — {item.detail}" if item.detail else ""))
            if item.url:
                lines.append(f"    {_absolute(item.url)}")
        if not section.items:
            lines.append(f"  {section.empty}")
    return "\n".join(lines)


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path if path.startswith("/") else path


def shift_handoff_sweep(*, now: datetime | None = None) -> dict:
    """Send the handoff report of each shift change of the last hour not yet sent, once."""
    now = now or timezone.now()
    sent = changes = 0
    table = ShiftHandoff._meta.db_table
    for shift in SupportShift.objects.select_related("team"):
        for change in changes_between(shift, now - LATE, now):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {table} (shift_id, change_at, recipients, created_at) VALUES (%s, %s, 0, %s) "
                        "ON CONFLICT (shift_id, change_at) DO NOTHING RETURNING id",
                        [shift.pk, change, now],
                    )
                    row = cursor.fetchone()
                if row is None:
                    continue
                changes += 1
                members = list(shift.team.members.filter(is_active=True).exclude(email=""))
                title = f"Shift handoff: {shift.team.name} · {shift.name} ({change:%Y-%m-%d %H:%M} UTC)"
                mails = [
                    Notification(
                        channel=Notification.Channel.EMAIL,
                        recipient=member.email,
                        subject=title[:300],
                        body=report_text(handoff_report(member, team=shift.team, now=now), title=title),
                        send_after=now,
                    )
                    for member in members
                ]
                Notification.objects.bulk_create(mails)  # the outbox: sent by the relay, with retries
                ShiftHandoff.objects.filter(pk=row[0]).update(recipients=len(mails))
                sent += len(mails)
    return {"changes": changes, "mails": sent}
