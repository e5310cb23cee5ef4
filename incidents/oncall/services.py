"""Writes of on-call and paging: schedules, layers, overrides, chains; pages opened, acknowledged
and resolved. Keyword-only, one transaction, rows locked, refusals as OnCallError with a message fit
to show. A page's chain steps are fired by `fire_due_step` (the sweep and `page_open`), exactly once
per (page, round, position) by PageStep's unique constraint; notifications go through the SLA
engine's outbox (cases.Notification), written in the same transaction."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, Notification, Team
from companyos import roles

from ..choices import ACTIVE
from .models import (
    EscalationChain,
    EscalationStep,
    LayerParticipant,
    Page,
    PageEntry,
    PageNotice,
    PageStep,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)

User = get_user_model()
OPEN = [Page.Status.TRIGGERED, Page.Status.ACKNOWLEDGED]


class OnCallError(Exception):
    pass


class LinkUsed(OnCallError):
    pass


def _who(user) -> str:
    if user is None:
        return "nobody"
    if roles.is_system(user):
        return "the system"
    return user.get_full_name() or user.get_username()


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise OnCallError(f"{name or 'That'!r} is not a time zone (e.g. Europe/Oslo).") from error
    return name


# --- schedules ---------------------------------------------------------------------------------------


@transaction.atomic
def schedule_create(
    *, actor, name: str, timezone_name: str = "Europe/Oslo", team: Team | None = None, description: str = ""
) -> Schedule:
    name = (name or "").strip()
    if not name:
        raise OnCallError("A schedule needs a name.")
    if Schedule.objects.filter(name__iexact=name).exists():
        raise OnCallError(f"There is already a schedule named {name}.")
    return Schedule.objects.create(name=name, timezone=_zone(timezone_name), team=team, description=description)


@transaction.atomic
def layer_add(
    *,
    actor,
    schedule_id: int,
    participants: list,
    start_date: date,
    handoff_time: time = time(9, 0),
    handoff_weekday: int | None = 0,
    length: int = 7,
    unit: str = ScheduleLayer.Unit.DAYS,
    name: str = "",
    end_at: datetime | None = None,
) -> ScheduleLayer:
    schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
    if not participants:
        raise OnCallError("A layer needs at least one participant.")
    if unit not in ScheduleLayer.Unit.values or length < 1:
        raise OnCallError("A rotation length is a whole number of days or hours, at least one.")
    if handoff_weekday is not None and not 0 <= handoff_weekday <= 6:
        raise OnCallError("The hand-off day is Monday (0) to Sunday (6).")
    position = schedule.layers.count()
    layer = ScheduleLayer.objects.create(
        schedule=schedule,
        name=(name or "").strip() or ("Primary" if position == 0 else f"Layer {position + 1}"),
        position=position,
        start_date=start_date,
        handoff_time=handoff_time,
        handoff_weekday=handoff_weekday,
        length=length,
        unit=unit,
        end_at=end_at,
    )
    LayerParticipant.objects.bulk_create(
        LayerParticipant(layer=layer, user=user, position=i) for i, user in enumerate(participants)
    )
    _bump(schedule)
    return layer


@transaction.atomic
def override_add(
    *, actor, schedule_id: int, user, start: datetime, end: datetime, reason: str = ""
) -> ScheduleOverride:
    schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
    if start is None or end is None or end <= start:
        raise OnCallError("An override ends after it starts.")
    if end - start > timedelta(days=90):
        raise OnCallError("An override covers at most 90 days; add a layer for longer.")
    override = ScheduleOverride.objects.create(
        schedule=schedule, user=user, start=start, end=end, reason=(reason or "")[:200], created_by=actor
    )
    _bump(schedule)
    return override


@transaction.atomic
def override_remove(*, actor, override_id: int) -> None:
    override = ScheduleOverride.objects.select_for_update().filter(pk=override_id).first()
    if override is None:
        raise OnCallError("That override no longer exists.")
    schedule = Schedule.objects.select_for_update().get(pk=override.schedule_id)
    override.delete()
    _bump(schedule)


def _bump(schedule: Schedule) -> None:
    schedule.version += 1
    schedule.save(update_fields=["version"])


# --- chains ------------------------------------------------------------------------------------------


@transaction.atomic
def chain_create(
    *,
    actor,
    name: str,
    steps: list[dict],
    repeat: int = 1,
    team: Team | None = None,
    fallback_user=None,
    fallback_team: Team | None = None,
    is_default: bool = False,
) -> EscalationChain:
    """`steps`: [{"target": "schedule"|"user"|"team", "schedule"|"user"|"team": …, "wait_minutes": N}]."""
    if not steps:
        raise OnCallError("A chain needs at least one step.")
    chain = EscalationChain.objects.create(
        name=name.strip(),
        repeat=repeat,
        team=team,
        fallback_user=fallback_user,
        fallback_team=fallback_team,
        is_default=is_default,
    )
    for i, step in enumerate(steps):
        target = step.get("target", EscalationStep.Target.SCHEDULE)
        if not step.get(target):
            raise OnCallError(f"Step {i + 1} names no {target}.")
        EscalationStep.objects.create(
            chain=chain,
            position=i,
            target=target,
            wait_minutes=int(step.get("wait_minutes", 15)),
            **{target: step[target]},
        )
    return chain


def chain_for_team(team_id: int | None) -> EscalationChain | None:
    """The chain a page for a team runs: the team's own, else the default one."""
    chains = (
        EscalationChain.objects.filter(Q(team_id=team_id) | Q(is_default=True))
        if team_id
        else (EscalationChain.objects.filter(is_default=True))
    )
    return sorted(chains, key=lambda c: (c.team_id != team_id, c.pk))[0] if chains else None


# --- pages -------------------------------------------------------------------------------------------


def _entry(page: Page, kind: str, text: str, *, actor=None, at=None) -> PageEntry:
    return PageEntry.objects.create(page=page, kind=kind, text=text[:500], actor=actor, at=at or timezone.now())


def page_open(
    *,
    actor,
    title: str,
    body: str = "",
    source: str = Page.Source.MANUAL,
    chain: EscalationChain | None = None,
    case_id: int | None = None,
    incident_id: int | None = None,
    team_id: int | None = None,
    now: datetime | None = None,
) -> Page:
    """Open a page and fire its chain's first step now. A case with an open page is not paged twice:
    the open page gets a note and is returned. The case (and incident) timeline records the page."""
    now = now or timezone.now()
    title = " ".join((title or "").split())[:300]
    if not title:
        raise OnCallError("A page needs a title.")
    with transaction.atomic():
        if case_id is not None:
            existing = Page.objects.select_for_update().filter(case_id=case_id, status__in=OPEN).first()
            if existing is not None:
                _entry(
                    existing,
                    PageEntry.Kind.NOTE,
                    f"Paged again ({Page.Source(source).label}) by {_who(actor)}",
                    actor=actor,
                    at=now,
                )
                return existing
        chain = chain or chain_for_team(team_id)
        if chain is None:
            raise OnCallError("No escalation chain applies: create one (or mark one as the default).")
        try:
            with transaction.atomic():
                page = Page.objects.create(
                    title=title,
                    body=body[:5000],
                    source=source,
                    chain=chain,
                    case_id=case_id,
                    incident_id=incident_id,
                    created_by=actor,
                    created_at=now,
                    next_due_at=now,
                )
        except IntegrityError:  # another page for the case was opened at the same moment
            return Page.objects.get(case_id=case_id, status__in=OPEN)
        _entry(
            page,
            PageEntry.Kind.OPENED,
            f"Page opened by {_who(actor)} ({page.get_source_display()}), chain {chain.name}",
            actor=actor,
            at=now,
        )
        fire_due_step(page, now=now)
        system = roles.system_user()
        if case_id is not None:
            case_services.case_record_event(
                case_id=case_id,
                actor=system,
                body=f"Paged on-call: page #{page.pk} ({chain.name})",
                data={"page": page.pk},
            )
        if incident_id is not None:
            _incident_note(incident_id, f"Paged on-call: page #{page.pk} ({chain.name})", page)
    return page


def _incident_note(incident_id: int, body: str, page: Page) -> None:
    from ..services import incident_record_step  # the incident's timeline writer (same app)

    incident_record_step(incident_id=incident_id, actor=roles.system_user(), body=body, data={"page": page.pk})


def _targets(step: EscalationStep | None, chain: EscalationChain, now: datetime) -> tuple[list, str]:
    """Who a step notifies, and how the timeline names it. The fallback is step None."""
    from .selectors import on_call_user  # reads the rotation

    if step is None:
        users = []
        if chain.fallback_user_id:
            users.append(chain.fallback_user)
        if chain.fallback_team_id:
            users += list(chain.fallback_team.members.filter(is_active=True))
        return users, "the fallback"
    if step.target == EscalationStep.Target.SCHEDULE:
        user = on_call_user(step.schedule, now)
        return ([user] if user else []), f"{step.schedule.name}'s on-call"
    if step.target == EscalationStep.Target.USER:
        return [step.user], _who(step.user)
    return list(step.team.members.filter(is_active=True)), f"team {step.team.name}"


def fire_due_step(page: Page, *, now: datetime, cache: dict | None = None) -> bool:
    """Fire the page's due step (the caller holds the page row locked): record it once, notify its
    people, move the timer on. False if that step had fired already (another sweep won). `cache`
    (the sweep's, for one `now`) keeps each chain's steps and each step's people once per sweep."""
    from django.conf import settings

    from .links import ack_url

    cache = {} if cache is None else cache
    chain = page.chain
    if ("steps", chain.pk) not in cache:
        cache["steps", chain.pk] = list(chain.steps.select_related("schedule", "user", "team"))
    steps = cache["steps", chain.pk]
    last_round = chain.repeat
    fallback = page.next_position == len(steps)  # after the last round: the fallback
    position = -1 if fallback else page.next_position
    due_at = page.next_due_at or now
    # INSERT … ON CONFLICT DO NOTHING: the exactly-once guard, in one statement
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PageStep._meta.db_table} (page_id, round, position, due_at, fired_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (page_id, round, position) DO NOTHING RETURNING id",
            [page.pk, page.next_round, position, due_at, now],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    step_id = row[0]
    entries = []

    def entry(kind, text, at=now):
        entries.append(PageEntry(page=page, kind=kind, text=text[:500], at=at))

    if page.next_round or page.next_position:  # the previous step timed out
        entry(PageEntry.Kind.TIMEOUT, "No acknowledgement in time: escalating", due_at)
    step = None if fallback else steps[position]
    key = ("targets", chain.pk, position)
    if key not in cache:
        cache[key] = _targets(step, chain, now)
    users, label = cache[key]
    if fallback:
        entry(PageEntry.Kind.FALLBACK, f"Chain exhausted: notifying {label}")
    else:
        entry(PageEntry.Kind.STEP, f"Round {page.next_round + 1}, step {position + 1}: notifying {label}")
    if not users:
        entry(PageEntry.Kind.DELIVERY, f"Nobody to notify for {label}")
    subject = f"PAGE #{page.pk}: {page.title}"
    notices, notes = [], []
    for user in users:
        notice = PageNotice(page=page, step_id=step_id, user=user, created_at=now, nonce=secrets.token_urlsafe(24))
        notices.append(notice)
        if user.email:
            notes.append(
                Notification(
                    case_id=page.case_id,
                    channel=Notification.Channel.EMAIL,
                    recipient=user.email,
                    subject=subject,
                    body=f"{page.body}\n\nAcknowledge (one click, no sign-in): {ack_url(notice.nonce)}\n",
                    send_after=now,
                )
            )
            entry(PageEntry.Kind.DELIVERY, f"E-mail to {_who(user)} queued")
        else:
            notes.append(None)
            entry(PageEntry.Kind.DELIVERY, f"{_who(user)} has no e-mail address")
    slack = None
    if settings.SLACK_WEBHOOK_URL and users:
        slack = Notification(
            case_id=page.case_id,
            channel=Notification.Channel.SLACK,
            recipient=settings.SLACK_WEBHOOK_URL,
            subject=subject,
            body=f"{page.body}\nPaging {', '.join(_who(u) for u in users)}",
            send_after=now,
        )
        entry(PageEntry.Kind.DELIVERY, "Posted to Slack")
    written = [n for n in [*notes, slack] if n is not None]
    if written:
        Notification.objects.bulk_create(written)
    for notice, note in zip(notices, notes, strict=True):
        notice.notification_id = note.pk if note is not None else None
    if notices:
        PageNotice.objects.bulk_create(notices)
    PageEntry.objects.bulk_create(entries)
    # the timer moves on: the next step after this one's wait, the next round, then the fallback
    if fallback:
        page.next_due_at = None
    else:
        page.next_due_at = now + timedelta(minutes=step.wait_minutes)
        if position + 1 < len(steps):
            page.next_position = position + 1
        elif page.next_round < last_round:
            page.next_round, page.next_position = page.next_round + 1, 0
        elif chain.fallback_user_id or chain.fallback_team_id:
            page.next_position = len(steps)
        else:
            page.next_due_at = None
    # the timer's bookkeeping (the step itself is on the page's timeline): one UPDATE, no audit row
    Page.objects.filter(pk=page.pk).update(
        next_due_at=page.next_due_at, next_round=page.next_round, next_position=page.next_position
    )
    return True


def _lock_page(page_id: int) -> Page:
    page = Page.objects.select_for_update().filter(pk=page_id).first()
    if page is None:
        raise OnCallError("That page does not exist.")
    return page


@transaction.atomic
def page_acknowledge(*, page_id: int, actor, via: str = "the console", notice: PageNotice | None = None) -> Page:
    page = _lock_page(page_id)
    if page.status != Page.Status.TRIGGERED:
        raise OnCallError(
            f"Page #{page.pk} was already {page.get_status_display().lower()}"
            + (f" by {_who(page.acknowledged_by)}." if page.acknowledged_by_id else ".")
        )
    now = timezone.now()
    page.status, page.acknowledged_by, page.acknowledged_at, page.next_due_at = (
        Page.Status.ACKNOWLEDGED,
        actor,
        now,
        None,
    )
    page.version += 1
    page.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "next_due_at", "version"])
    _entry(page, PageEntry.Kind.ACK, f"Acknowledged by {_who(actor)} via {via}", actor=actor, at=now)
    text = f"Page #{page.pk} acknowledged by {_who(actor)}"
    if page.case_id:
        case_services.case_record_event(
            case_id=page.case_id, actor=roles.system_user(), body=text, data={"page": page.pk}
        )
    if page.incident_id:
        _incident_note(page.incident_id, text, page)
    return page


@transaction.atomic
def page_acknowledge_by_link(*, nonce: str) -> Page:
    """The one-click link: works once, for the person it was sent to."""
    notice = PageNotice.objects.select_for_update().select_related("user").filter(nonce=nonce).first()
    if notice is None:
        raise OnCallError("This link is not valid.")
    if notice.used_at is not None:
        raise LinkUsed("This link was used already.")
    notice.used_at = timezone.now()
    notice.save(update_fields=["used_at"])
    return page_acknowledge(page_id=notice.page_id, actor=notice.user, via="the e-mail link", notice=notice)


@transaction.atomic
def page_resolve(*, page_id: int, actor, reason: str = "") -> Page:
    page = _lock_page(page_id)
    if page.status == Page.Status.RESOLVED:
        raise OnCallError(f"Page #{page.pk} is resolved already.")
    now = timezone.now()
    page.status, page.resolved_at, page.next_due_at = Page.Status.RESOLVED, now, None
    page.version += 1
    page.save(update_fields=["status", "resolved_at", "next_due_at", "version"])
    _entry(
        page,
        PageEntry.Kind.RESOLVED,
        f"Resolved by {_who(actor)}" + (f": {reason}" if reason else ""),
        actor=actor,
        at=now,
    )
    return page


def page_from_case(*, case: Case, actor, source: str = Page.Source.CASE, reason: str = "") -> Page:
    body = (
        f"{case.key} · {case.get_priority_display()} · {case.tenant.name}\n{case.subject}\n"
        + (f"\n{reason}\n" if reason else "")
        + f"\nCase: {_public(case.get_absolute_url())}"
    )
    # the case's active incident, if it is on one: the page and its acknowledgement go on its timeline too
    incident_id = case.incidents.filter(status__in=ACTIVE).order_by("-started_at").values_list("pk", flat=True).first()
    return page_open(
        actor=actor,
        title=f"{case.key}: {case.subject}",
        body=body,
        source=source,
        case_id=case.pk,
        team_id=case.team_id,
        incident_id=incident_id,
    )


def _public(path: str) -> str:
    from django.conf import settings

    return settings.PUBLIC_BASE_URL.rstrip("/") + path
