"""Every write of the engineering escalation. One call = one transaction = one task timeline entry
(and its audit rows: django-auditlog registers the task and the ownership map), the task row locked
(SELECT … FOR UPDATE) and what the user saw re-checked (`expected_version`); a refusal is an
EscalationError whose message is fit to show. The case's side goes through cases.services (its
timeline says it was escalated, and how engineering decided); notifications through the cases
outbox (cases.notify), in the same transaction.

The update cadence clock (seed 003: every 4 h for critical, daily for high) runs from the escalation
while the task is active; every engineering decision or update restarts it. `cadence_sweep` (beat)
warns before the due time and records the breach once per due time — the incident cadence clock's
shape: SKIP LOCKED rows, `INSERT … ON CONFLICT DO NOTHING RETURNING` on TaskCadenceMark.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import OuterRef
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, Tag
from cases.notify import queue_notifications
from companyos import roles
from incidents import selectors as incident_selectors
from tenants.selectors import can_see_tenant

from .choices import (
    ACTIVE_TASK,
    CADENCE_MINUTES,
    CADENCE_WARN_MINUTES,
    NEEDS_REASON,
    TEXT_MAX,
    TRANSITIONS,
    TaskEntryKind,
    TaskStatus,
)
from .models import Component, EngineeringTask, EngineeringTaskEntry, ProductFeedback, TaskCadenceMark
from .selectors import task_visible_to


class EscalationError(Exception):
    """A refused write; `str(error)` is the message the user sees."""


class EscalationConflict(EscalationError):
    pass


def _who(user) -> str:
    if user is None:
        return "nobody"
    if roles.is_system(user):
        return "the system"
    return user.get_full_name() or user.get_username()


def _text(value, name: str, *, required: bool = False, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise EscalationError(f"Write the {name}.")
    if len(value) > limit:
        raise EscalationError(f"The {name} is too long ({len(value):,} characters; at most {limit:,}).")
    return value


def may_decide(user, task: EngineeringTask) -> bool:
    """Engineering decides: engineers, SREs, managers, admins, and the members of the owning team."""
    if roles.is_system(user) or roles.role_names(user) & {roles.ENGINEER, roles.SRE, roles.MANAGER, roles.ADMIN}:
        return True
    return task.team_id is not None and task.team.members.filter(pk=user.pk).exists()


def _lock(task_id: int, actor, expected_version=None) -> EngineeringTask:
    if actor is None:
        raise TypeError("an escalation service needs an actor; system work passes companyos.roles.system_user()")
    task = EngineeringTask.objects.select_for_update(of=("self",)).select_related("team").filter(pk=task_id).first()
    if task is None or not (roles.is_system(actor) or task_visible_to(actor).filter(pk=task.pk).exists()):
        raise EscalationError("That engineering task does not exist or is not visible to you.")
    if expected_version not in (None, "") and task.version != int(expected_version):
        raise EscalationConflict(
            f"{task.key} was changed by someone else while you were looking at it. "
            "Nothing was changed; review the task and try again."
        )
    return task


def _restart_clock(task: EngineeringTask, now) -> None:
    active = task.status in ACTIVE_TASK and task.cadence_minutes
    task.update_due_at = now + timedelta(minutes=task.cadence_minutes) if active else None


def _save(task: EngineeringTask, now, *fields: str) -> None:
    task.updated_at = now
    task.version += 1
    task.save(update_fields=list(dict.fromkeys([*fields, "updated_at", "version"])))


def _entry(task: EngineeringTask, kind: str, *, actor, now, body: str = "", data=None) -> EngineeringTaskEntry:
    return EngineeringTaskEntry.objects.create(
        task=task, kind=kind, status=task.status, body=body, data=data or {}, actor=actor, created_at=now
    )


def _team_emails(task_or_component) -> list[str]:
    team = task_or_component.team
    if team is None:
        return []
    emails = list(team.members.filter(is_active=True).exclude(email="").values_list("email", flat=True))
    if team.manager_id and team.manager.email:
        emails.append(team.manager.email)
    return emails


def oncall_of(component: Component | None, *, now=None) -> tuple[list[str], str, int | None]:
    """Who "the owning team's on-call" is for a component, right now: the current on-call person of
    its on-call schedule (incidents.oncall: layers and overrides, DST-correct), else — no schedule,
    nobody on call, or the person has no e-mail address — every active member of the owning team and
    its manager. Returns their addresses, how the timeline names them, and the on-call person's id
    (None when the team is told)."""
    from incidents.oncall.selectors import on_call_user

    schedule = component.oncall_schedule if component is not None and component.oncall_schedule_id else None
    if schedule is not None:
        user = on_call_user(schedule, now or timezone.now())
        if user is not None and user.email:
            return [user.email], f"{_who(user)}, on call for {schedule.name}", user.pk
    emails = _team_emails(component) if component is not None else []
    team = component.team.name if component is not None and component.team_id else ""
    why = f"nobody on call for {schedule.name}" if schedule is not None else "no on-call schedule"
    return emails, (f"team {team} ({why})" if team else f"nobody: no team and {why}"), None


def notify_oncall(*, task: EngineeringTask, subject: str, body: str, now=None) -> dict:
    """Tell the owning team's on-call about `task`, through the cases outbox (in the caller's
    transaction): the component's on-call person by e-mail (the team when there is none, see
    `oncall_of`), and the Slack webhook. Returns the timeline entry's data: how the recipients are
    named (`notified`) and the on-call person's id (`notified_user`: the task is addressed to them,
    so they may open it — selectors.task_visible_to — even outside the team and its tenant)."""
    emails, label, user_id = oncall_of(task.component, now=now)
    queue_notifications(case_id=task.case_id, emails=emails, subject=subject, body=body, slack=True)
    return {"notified": label, **({"notified_user": user_id} if user_id else {})}


MAP_EDITORS = {roles.ADMIN, roles.MANAGER}


def may_edit_map(user) -> bool:
    return bool(user.is_superuser or roles.role_names(user) & MAP_EDITORS)


@transaction.atomic
def component_set_schedule(*, component_id: int, actor, schedule_id, expected_schedule_id="") -> Component:
    """Point a component of the ownership map at an on-call schedule ("" or None: none, the team is
    told). The row locked; `expected_schedule_id` is what the editor saw ("" for none): a change by
    someone else meanwhile is refused. Audited by django-auditlog (the map is registered)."""
    from incidents.oncall.models import Schedule

    if not may_edit_map(actor):
        raise EscalationError("Only admins and managers edit the component ownership map.")
    component = Component.objects.select_for_update().filter(pk=component_id).first()
    if component is None:
        raise EscalationError("That component does not exist.")
    if expected_schedule_id is not None and str(expected_schedule_id) != str(component.oncall_schedule_id or ""):
        raise EscalationConflict(
            f"{component.name}'s on-call schedule was changed by someone else meanwhile. Nothing was changed; "
            "review the map and try again."
        )
    schedule = None
    if schedule_id not in (None, ""):
        try:
            schedule = Schedule.objects.filter(pk=int(schedule_id)).first()
        except (TypeError, ValueError):
            schedule = None
        if schedule is None:
            raise EscalationError("Choose an existing on-call schedule (or none).")
    component.oncall_schedule = schedule
    component.save(update_fields=["oncall_schedule"])
    return component


def default_component(case: Case) -> Component | None:
    return Component.objects.filter(categories__contains=[case.category]).order_by("name").first()


@transaction.atomic
def task_escalate(
    *,
    case_id: int,
    actor,
    component_id: int,
    title: str,
    ticket: str,
    account: str,
    reproduction: str = "",
    errors: str = "",
    occurrences: str = "",
    affected_customers: int = 1,
    impact: str = "",
    tried: str = "",
) -> EngineeringTask:
    """Escalate a case to engineering: the task with the eight handoff items the agent confirmed,
    routed to the component's owning team and tracker project, its cadence clock started by the
    case's priority, the team's on-call told, the case's timeline saying so."""
    case = Case.objects.filter(pk=case_id).select_related("tenant").first()
    if case is None or not can_see_tenant(actor, case.tenant_id):
        raise EscalationError("That case does not exist or is not visible to you.")
    component = (
        Component.objects.select_related("team", "team__manager", "oncall_schedule").filter(pk=component_id).first()
    )
    if component is None:
        raise EscalationError("Choose the component (the ownership map routes the task to its team).")
    if EngineeringTask.objects.filter(case=case, component=component, status__in=ACTIVE_TASK).exists():
        raise EscalationError(f"{case.key} is already escalated to {component.name}; see its engineering task.")
    try:
        count = int(affected_customers)
    except (TypeError, ValueError):
        raise EscalationError("The number of affected customers is a whole number.") from None
    if count < 1:
        raise EscalationError("At least one customer is affected: this case's.")
    now = timezone.now()
    minutes = CADENCE_MINUTES.get(case.priority)
    task = EngineeringTask.objects.create(
        case=case,
        tenant=case.tenant,
        component=component,
        team=component.team,
        tracker_project=component.tracker_project,
        title=_text(title, "title", required=True, limit=250),
        priority=case.priority,
        ticket=_text(ticket, "ticket id and link", required=True, limit=300),
        account=_text(account, "customer account", required=True),
        reproduction=_text(reproduction, "reproduction steps"),
        errors=_text(errors, "error messages and logs"),
        occurrences=_text(occurrences, "timestamps"),
        affected_customers=count,
        impact=_text(impact, "impact assessment"),
        tried=_text(tried, "what has been tried"),
        cadence_minutes=minutes,
        update_due_at=now + timedelta(minutes=minutes) if minutes else None,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    team = component.team.name if component.team else "no team"
    told = notify_oncall(
        task=task,
        subject=f"[{task.key}] Escalation from {case.key}: {task.title}"[:300],
        body=(
            f"{_who(actor)} escalated {case.key} to {component.name}.\n"
            f"Customer: {case.tenant.name}; {count} customer(s) affected.\n"
            + (f"An update is due every {minutes // 60} h.\n" if minutes else "")
            + f"Task: {task.get_absolute_url()}"
        ),
        now=now,
    )
    _entry(
        task,
        TaskEntryKind.CREATED,
        actor=actor,
        now=now,
        body=f"Escalated from {case.key} to {component.name} ({team}); notified {told['notified']}",
        data=told,
    )
    case_services.case_record_event(
        case_id=case.pk,
        actor=actor,
        body=f"Escalated to engineering: {task.key} ({component.name}, {team})",
        data={"engineering_task": task.pk},
    )
    return task


@transaction.atomic
def task_decide(*, task_id: int, actor, to: str, reason: str = "", expected_version=None) -> EngineeringTask:
    """Engineering's decision: accept, ask for more information (the question), reject (the reason),
    or mark done. The case's timeline says so; the agent who escalated and the case owner are told."""
    task = _lock(task_id, actor, expected_version)
    if not may_decide(actor, task):
        raise EscalationError("Only engineering (the owning team, engineers, SRE, managers) decides on an escalation.")
    if to not in TRANSITIONS.get(task.status, ()):
        allowed = ", ".join(TaskStatus(s).label.lower() for s in TRANSITIONS.get(task.status, ())) or "nothing"
        raise EscalationError(f"{task.key} is {task.get_status_display().lower()}: it can move to {allowed}.")
    reason = _text(reason, "reason", required=to in NEEDS_REASON)
    now, was = timezone.now(), task.status
    task.status = to
    task.reason = reason
    task.decided_by = actor
    fields = ["status", "reason", "decided_by", "update_due_at"]
    if task.decided_at is None and to in (TaskStatus.ACCEPTED, TaskStatus.REJECTED):
        task.decided_at = now
        fields.append("decided_at")
    _restart_clock(task, now)
    _save(task, now, *fields)
    label = TaskStatus(to).label
    _entry(task, TaskEntryKind.DECISION, actor=actor, now=now, body=reason, data={"from": was, "to": to})
    # Written by the system for the engineer, who may not see the case's tenant (a team member).
    case_services.case_record_event(
        case_id=task.case_id,
        actor=roles.system_user(),
        body=f"{task.key}: {label.lower()} by {_who(actor)}" + (f" — {reason[:300]}" if reason else ""),
        data={"engineering_task": task.pk, "decision": to, "by": actor.pk},
    )
    case = Case.objects.select_related("owner").only("owner__email", "id").get(pk=task.case_id)
    emails = [e for e in (case.owner.email if case.owner else "", task.created_by.email if task.created_by else "")]
    queue_notifications(
        case_id=task.case_id,
        emails=emails,
        subject=f"[{task.key}] {label}: {task.title}"[:300],
        body=f"{_who(actor)}: {label.lower()}."
        + (f"\n\n{reason}" if reason else "")
        + f"\n\n{task.get_absolute_url()}",
    )
    return task


@transaction.atomic
def task_update(*, task_id: int, actor, body: str) -> EngineeringTask:
    """Engineering's progress update: restarts the cadence clock."""
    task = _lock(task_id, actor)
    if not may_decide(actor, task):
        raise EscalationError("Only engineering posts updates on the task; add information instead.")
    if task.status not in ACTIVE_TASK:
        raise EscalationError(f"{task.key} is {task.get_status_display().lower()}: no more updates are due.")
    body = _text(body, "update", required=True)
    now = timezone.now()
    _restart_clock(task, now)
    _save(task, now, "update_due_at")
    _entry(task, TaskEntryKind.UPDATE, actor=actor, now=now, body=body)
    return task


@transaction.atomic
def task_answer(*, task_id: int, actor, body: str) -> EngineeringTask:
    """Support adds information (an answer to "more information", or anything new): a task waiting
    for information goes back to engineering (open, or accepted if it was accepted before)."""
    task = _lock(task_id, actor)
    if task.status not in ACTIVE_TASK:
        raise EscalationError(f"{task.key} is {task.get_status_display().lower()}: escalate again instead.")
    body = _text(body, "information", required=True)
    now = timezone.now()
    fields = []
    if task.status == TaskStatus.INFO_REQUESTED:
        task.status = TaskStatus.ACCEPTED if task.decided_at else TaskStatus.OPEN
        fields.append("status")
    _save(task, now, *fields)
    told = notify_oncall(task=task, subject=f"[{task.key}] Information added: {task.title}"[:300], body=body[:4000])
    _entry(task, TaskEntryKind.ANSWER, actor=actor, now=now, body=body, data=told)
    return task


# --- the update cadence sweep (beat) -------------------------------------------------------------------


def cadence_sweep(*, now=None, limit: int = 500) -> dict:
    """Warn the owning team before an engineering update is due and record the breach when it
    passes (the task's and the case's timelines, the team and the case owner told), each once per
    due time: SKIP LOCKED rows, and the TaskCadenceMark unique constraint makes a second sweep over
    the same due time a no-op. Returns the counts written."""
    now = now or timezone.now()
    system = roles.system_user()
    warned = breached = 0
    marks = TaskCadenceMark.objects.filter(task_id=OuterRef("pk"), due_at=OuterRef("update_due_at"))
    with roles.acting_as(system), transaction.atomic():
        due = list(
            EngineeringTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=ACTIVE_TASK, update_due_at__isnull=False)
            .filter(incident_selectors.cadence_due(marks, now, warn_minutes=CADENCE_WARN_MINUTES))
            .select_related("team", "team__manager", "case__owner")
            .order_by("update_due_at")[:limit]
        )
        table = TaskCadenceMark._meta.db_table
        for task in due:
            kind = TaskCadenceMark.Kind.BREACH if task.update_due_at <= now else TaskCadenceMark.Kind.WARNING
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (task_id, due_at, kind, created_at) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (task_id, due_at, kind) DO NOTHING RETURNING id",
                    [task.pk, task.update_due_at, kind, now],
                )
                if cursor.fetchone() is None:
                    continue
            due_text = f"{task.update_due_at:%Y-%m-%d %H:%M} UTC"
            if kind == TaskCadenceMark.Kind.BREACH:
                body = f"Engineering update overdue: the next update on {task.key} was due at {due_text}"
                breached += 1
            else:
                body = f"Engineering update on {task.key} due at {due_text}"
                warned += 1
            _entry(
                task,
                TaskEntryKind.CADENCE,
                actor=system,
                now=now,
                body=body,
                data={"kind": kind, "due_at": task.update_due_at.isoformat()},
            )
            emails = _team_emails(task)
            if kind == TaskCadenceMark.Kind.BREACH:
                case_services.case_record_event(
                    case_id=task.case_id,
                    actor=system,
                    body=body,
                    data={"engineering_task": task.pk, "cadence": "breach"},
                )
                emails.append(task.case.owner.email if task.case.owner else "")
            queue_notifications(
                case_id=task.case_id,
                emails=emails,
                subject=f"[{task.key}] {body}"[:300],
                body=f"{task.title}\n{task.get_absolute_url()}",
                slack=kind == TaskCadenceMark.Kind.BREACH,
            )
    return {"warned": warned, "breached": breached}


# --- corrective actions of incidents (issue 13 point 1) -------------------------------------------------


@transaction.atomic
def action_link_task(*, action_id: int, actor, task_key: str) -> None:
    """Link an incident's corrective action to the engineering task doing it ("" unlinks)."""
    from incidents import services as incident_services
    from incidents.choices import EntryKind
    from incidents.models import CorrectiveAction

    from .selectors import parse_task_key

    action = CorrectiveAction.objects.select_for_update().filter(pk=action_id).first()
    if action is None:
        raise EscalationError("That corrective action does not exist.")
    incident = incident_services._lock(action.incident_id, actor)  # the incident visible, and ordering
    task = None
    if (task_key or "").strip():
        pk = parse_task_key(task_key)
        task = EngineeringTask.objects.filter(pk=pk).first() if pk else None
        if task is None or not can_see_tenant(actor, task.tenant_id):
            raise EscalationError(f"{task_key.strip()[:40]} is not an engineering task you can see (e.g. ENG-12).")
    action.engineering_task = task
    action.version += 1
    action.save(update_fields=["engineering_task", "version"])
    now = timezone.now()
    incident_services._touch(incident, now, bump=False)
    incident_services._entry(
        incident,
        EntryKind.ACTION,
        actor=actor,
        now=now,
        body=f"Corrective action “{action.title}” "
        + (f"linked to {task.key}" if task else "unlinked from its engineering task"),
        data={"action": action.pk, "engineering_task": task.pk if task else None},
    )


# --- product escalation (seed 002 "To Product") ----------------------------------------------------------


@transaction.atomic
def feedback_log(
    *,
    case_id: int,
    actor,
    theme_id: int,
    title: str,
    segment: str,
    tier: str,
    use_case: str,
    business_impact: str,
    industry: str = "",
    workaround: str = "",
    similar_requests: int = 0,
) -> ProductFeedback:
    """Log a product feedback item from a case, filed under a theme (a taxonomy tag), with the
    tenant's annual contract value as it stands (ARR at risk). Once per case and theme."""
    case = Case.objects.filter(pk=case_id).select_related("tenant").first()
    if case is None or not can_see_tenant(actor, case.tenant_id):
        raise EscalationError("That case does not exist or is not visible to you.")
    theme = Tag.objects.filter(pk=theme_id).first() if theme_id else None
    if theme is None:
        raise EscalationError("Choose the theme (a taxonomy tag) the feedback belongs to.")
    if ProductFeedback.objects.filter(case=case, theme=theme).exists():
        raise EscalationError(f"{case.key} is already in the product backlog under “{theme.name}”.")
    try:
        similar = int(similar_requests or 0)
    except (TypeError, ValueError):
        raise EscalationError("The count of similar requests is a whole number.") from None
    if similar < 0:
        raise EscalationError("The count of similar requests cannot be negative.")
    now = timezone.now()
    item = ProductFeedback.objects.create(
        case=case,
        tenant=case.tenant,
        theme=theme,
        title=_text(title, "title", required=True, limit=250),
        segment=_text(segment, "customer segment", required=True, limit=40),
        tier=_text(tier, "tier", required=True, limit=40),
        industry=_text(industry, "industry", limit=80),
        use_case=_text(use_case, "use case", required=True),
        workaround=_text(workaround, "workaround"),
        business_impact=_text(business_impact, "business impact", required=True),
        similar_requests=similar,
        arr=case.tenant.annual_contract_value,
        created_by=actor,
        created_at=now,
    )
    case_services.case_record_event(
        case_id=case.pk,
        actor=actor,
        body=f"Logged to the product backlog under “{theme.name}”: {item.title}",
        data={"product_feedback": item.pk, "theme": theme.name},
    )
    return item
