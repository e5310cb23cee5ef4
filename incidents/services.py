"""Every write to an incident. One call = one transaction = one timeline entry (and its audit rows,
django-auditlog registers Incident, its entries and corrective actions).

Each service locks the incident row (SELECT … FOR UPDATE), re-checks what the caller saw
(`expected_version`, `expected_status`) and refuses with an IncidentError whose message is fit to
show. Case writes go through cases.services only (a case's timeline says when it was linked,
unlinked, told or resolved). Customer updates to many cases are sent after commit by a task, one
case_reply per case, guarded exactly once per (update, case) by CustomerDelivery.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases import services as case_services
from cases.choices import OPEN_STATUSES, Priority
from cases.choices import Status as CaseStatus
from cases.errors import CaseError
from cases.models import Case
from cases.sla import sweep as sla_sweep
from companyos import customer_text, roles, timefmt
from tenants.models import Tenant
from tenants.selectors import can_see_tenant

from . import selectors
from .choices import (
    ACTIVE,
    CADENCE_WARN_MINUTES,
    DEFAULT_CADENCE_MINUTES,
    TEXT_MAX,
    TITLE_MAX,
    TRANSITIONS,
    ActionStatus,
    EntryKind,
    Role,
    Severity,
    Status,
)
from .customer_templates import TEMPLATES, VARIABLES
from .models import CadenceMark, CorrectiveAction, CustomerDelivery, Incident, IncidentEntry

User = get_user_model()


class IncidentError(Exception):
    """A refused write; `str(error)` is the message the user sees."""


class IncidentConflict(IncidentError):
    """Someone changed the incident between the user's page load and their action."""


class IncidentNotPermitted(IncidentError):
    pass


def _atomic(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        actor = kwargs.get("actor")
        with roles.acting_as(actor) if actor is not None and roles.is_system(actor) else nullcontext():
            with transaction.atomic():
                return fn(*args, **kwargs)

    return wrapper


def _who(user) -> str:
    if user is None:
        return "nobody"
    if roles.is_system(user):
        return "the system"
    return user.get_full_name() or user.get_username()


def _text(value: str, name: str, *, limit: int = TEXT_MAX, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise IncidentError(f"Write the {name}.")
    if len(value) > limit:
        raise IncidentError(f"The {name} is too long ({len(value):,} characters; at most {limit:,}).")
    return value


def _severity(value: str) -> str:
    value = (value or "").strip().upper()
    if value not in Severity.values:
        raise IncidentError(f"{value or 'That'!s} is not a severity: choose SEV1, SEV2 or SEV3.")
    return value


def _sees(actor, incident_id: int) -> bool:
    return roles.is_system(actor) or selectors.can_see_incident(actor, incident_id)


def _lock(incident_id: int, actor, expected_version: int | None = None) -> Incident:
    if actor is None:
        raise TypeError("an incident service needs an actor; system work passes companyos.roles.system_user()")
    incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None or not _sees(actor, incident.pk):
        raise IncidentNotPermitted("That incident does not exist or is not visible to you.")
    if expected_version is not None and incident.version != int(expected_version):
        raise IncidentConflict(
            f"{incident.key} was changed by someone else while you were looking at it. "
            "Nothing was changed; review the incident and try again."
        )
    return incident


def _touch(incident: Incident, now, *fields: str, bump: bool = True) -> None:
    """Save the changed fields and `updated_at`; `bump` (a change of what a form shows and sends
    back: status, severity, roles, text) makes open forms stale. A timeline-only change (an update,
    a link, an action) keeps the version, so a commander's open form is not refused for it."""
    incident.updated_at = now
    if bump:
        incident.version += 1
    incident.save(update_fields=list(dict.fromkeys([*fields, "updated_at", *(["version"] if bump else [])])))


def _entry(incident: Incident, kind: str, *, actor, now, body: str = "", public: bool = False, data=None):
    return IncidentEntry.objects.create(
        incident=incident,
        kind=kind,
        public=public,
        status=incident.status,
        body=body,
        data=data or {},
        actor=actor,
        created_at=now,
    )


def _cadence(severity: str) -> int | None:
    return DEFAULT_CADENCE_MINUTES.get(severity)


def _restart_clock(incident: Incident, now) -> list[str]:
    """The next update is due one cadence from now (none once resolved or without a cadence)."""
    minutes = incident.update_cadence_minutes
    incident.update_due_at = now + timedelta(minutes=minutes) if minutes and incident.active else None
    return ["update_due_at"]


# --- declare -------------------------------------------------------------------------------------------


@_atomic
def incident_declare(
    *,
    actor,
    title: str,
    severity: str,
    summary: str = "",
    commander=None,
    comms_channel: str = "",
    tenants=(),
    resources=(),
    detected_at=None,
    declared_from: Case | None = None,
    cadence_minutes: int | None = None,
) -> Incident:
    """Declare an incident. An agent may declare only for tenants they see (the incident is then
    visible to them through those tenants); the commander defaults to the declarer."""
    if actor is None:
        raise TypeError("an incident service needs an actor")
    title = _text(title, "title", limit=TITLE_MAX, required=True)
    summary = _text(summary, "summary")
    severity = _severity(severity)
    comms_channel = _text(comms_channel, "comms channel", limit=100)
    tenants, resources = list(tenants), list(resources)
    for tenant in tenants:
        if not (roles.is_system(actor) or can_see_tenant(actor, tenant.pk)):
            raise IncidentNotPermitted("You cannot declare incidents for that tenant.")
    for resource in resources:
        if not (roles.is_system(actor) or can_see_tenant(actor, resource.tenant_id)):
            raise IncidentNotPermitted("You cannot declare incidents on that resource.")
    if not tenants and not resources and not roles.sees_all_tenants(actor) and not roles.is_system(actor):
        raise IncidentError("Name at least one affected tenant or resource.")
    now = timezone.now()
    incident = Incident.objects.create(
        title=title,
        summary=summary,
        severity=severity,
        commander=commander or (None if roles.is_system(actor) else actor),
        comms_channel=comms_channel,
        started_at=now,
        detected_at=detected_at or now,
        updated_at=now,
        declared_from=declared_from,
        update_cadence_minutes=cadence_minutes if cadence_minutes is not None else _cadence(severity),
    )
    if not incident.comms_channel:
        incident.comms_channel = f"#inc-{incident.pk}"
    _restart_clock(incident, now)
    incident.save(update_fields=["comms_channel", "update_due_at"])
    if tenants:
        incident.tenants.set(tenants)
    if resources:
        incident.resources.set(resources)
    _entry(
        incident,
        EntryKind.DECLARED,
        actor=actor,
        now=now,
        body=summary,
        data={
            "severity": severity,
            "commander": _who(incident.commander),
            "tenants": sorted(t.name for t in tenants),
            "resources": sorted(r.external_id for r in resources),
            **({"from_case": declared_from.key} if declared_from else {}),
        },
    )
    return incident


# --- lifecycle ----------------------------------------------------------------------------------------

STAMPS = {Status.IDENTIFIED: "acknowledged_at", Status.MITIGATING: "acknowledged_at", Status.MONITORING: "mitigated_at"}


@_atomic
def incident_update_status(
    *,
    incident_id: int,
    actor,
    to: str,
    expected_version: int | None = None,
    expected_status: str | None = None,
    note: str = "",
    public: bool = False,
) -> Incident:
    """Move an incident along its lifecycle (choices.TRANSITIONS). Stamps acknowledged / mitigated /
    resolved times the first time they are reached; a reopen clears resolved_at and restarts the
    update clock. `note` becomes the entry's text; `public` publishes it (status page)."""
    incident = _lock(incident_id, actor, expected_version)
    if to not in Status.values:
        raise IncidentError(f"Unknown status {to!r}.")
    if expected_status and incident.status != expected_status:
        raise IncidentConflict(
            f"{incident.key} is now {Status(incident.status).label} (you saw {Status(expected_status).label}). "
            "Nothing was changed."
        )
    if to not in TRANSITIONS[incident.status]:
        allowed = ", ".join(Status(s).label for s in TRANSITIONS[incident.status])
        raise IncidentError(
            f"{incident.key} cannot move from {Status(incident.status).label} to {Status(to).label}. "
            f"Allowed: {allowed}."
        )
    note = _text(note, "note")
    now, was = timezone.now(), incident.status
    incident.status = to
    fields = ["status"]
    stamp = STAMPS.get(to)
    if stamp and getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
        fields.append(stamp)
    if to == Status.RESOLVED:
        incident.resolved_at = now
        incident.mitigated_at = incident.mitigated_at or now
        incident.acknowledged_at = incident.acknowledged_at or now
        fields += ["resolved_at", "mitigated_at", "acknowledged_at"]
    if was == Status.RESOLVED:
        incident.resolved_at = None
        fields.append("resolved_at")
    fields += _restart_clock(incident, now)
    _touch(incident, now, *fields)
    _entry(
        incident,
        EntryKind.STATUS,
        actor=actor,
        now=now,
        body=note,
        public=public,
        data={"from": was, "to": to, "reopened": was == Status.RESOLVED},
    )
    return incident


@_atomic
def incident_set_severity(
    *, incident_id: int, actor, severity: str, expected_version=None, reason: str = ""
) -> Incident:
    """Change the severity; the update cadence follows it (seed 004's default for the new severity)."""
    incident = _lock(incident_id, actor, expected_version)
    severity = _severity(severity)
    if severity == incident.severity:
        return incident
    now, was = timezone.now(), incident.severity
    incident.severity = severity
    incident.update_cadence_minutes = _cadence(severity)
    fields = ["severity", "update_cadence_minutes", *_restart_clock(incident, now)]
    _touch(incident, now, *fields)
    _entry(
        incident,
        EntryKind.SEVERITY,
        actor=actor,
        now=now,
        body=_text(reason, "reason"),
        data={"from": was, "to": severity},
    )
    return incident


@_atomic
def incident_assign_role(*, incident_id: int, actor, role: str, user, expected_version=None) -> Incident:
    """Name the incident commander or the communications lead (None: nobody)."""
    if role not in Role.values:
        raise IncidentError(f"Unknown role {role!r}.")
    incident = _lock(incident_id, actor, expected_version)
    if user is not None and not user.is_active:
        raise IncidentError(f"{_who(user)} is not an active user.")
    field_name = "commander" if role == Role.COMMANDER else "comms_lead"
    current = getattr(incident, field_name)
    if (current.pk if current else None) == (user.pk if user else None):
        return incident
    now = timezone.now()
    setattr(incident, field_name, user)
    fields = [field_name]
    if role == Role.COMMANDER and incident.acknowledged_at is None and user is not None:
        incident.acknowledged_at = now
        fields.append("acknowledged_at")
    _touch(incident, now, *fields)
    _entry(
        incident,
        EntryKind.ROLE,
        actor=actor,
        now=now,
        data={"role": role, "label": Role(role).label, "from": _who(current), "to": _who(user)},
    )
    return incident


EDITABLE = {
    "title": TITLE_MAX,
    "summary": TEXT_MAX,
    "comms_channel": 100,
    "current_mitigation": TEXT_MAX,
    "postmortem": TEXT_MAX * 5,
}


@_atomic
def incident_edit(*, incident_id: int, actor, expected_version=None, **values) -> Incident:
    """Edit the incident's text fields (title, summary, comms channel, current mitigation,
    postmortem). A stale form is a conflict."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise IncidentError(f"Cannot change {', '.join(sorted(unknown))} here.")
    incident = _lock(incident_id, actor, expected_version)
    changes = {}
    for name, value in values.items():
        value = _text(value, name.replace("_", " "), limit=EDITABLE[name], required=name == "title")
        if value != getattr(incident, name):
            changes[name] = value
            setattr(incident, name, value)
    if not changes:
        return incident
    now = timezone.now()
    _touch(incident, now, *changes)
    kind = EntryKind.POSTMORTEM if set(changes) == {"postmortem"} else EntryKind.FIELDS
    _entry(incident, kind, actor=actor, now=now, data={"changed": sorted(changes)})
    return incident


# --- updates ------------------------------------------------------------------------------------------


@_atomic
def incident_post_update(*, incident_id: int, actor, body: str, public: bool) -> IncidentEntry:
    """Post an update: public (published on the status page and the case panels; it restarts the
    update cadence clock) or an internal note. No version check: two commanders posting at once both
    keep their updates (the row lock orders them). A resolved incident takes no public update."""
    body = _text(body, "update", required=True)
    incident = _lock(incident_id, actor)
    if public and not incident.active:
        raise IncidentError(f"{incident.key} is resolved: reopen it before publishing an update.")
    now = timezone.now()
    fields = _restart_clock(incident, now) if public else []
    _touch(incident, now, *fields, bump=False)
    return _entry(
        incident, EntryKind.UPDATE if public else EntryKind.NOTE, actor=actor, now=now, body=body, public=public
    )


def incident_record_step(*, incident_id: int, actor, body: str, data: dict) -> IncidentEntry | None:
    """An internal timeline entry for a runbook step run on one of the incident's cases (the runbooks
    app): shown on the case panels as "runbook steps run". None when `actor` may not see the incident
    (a case of theirs linked to another tenants' incident is not theirs to write on)."""
    with transaction.atomic():
        try:
            incident = _lock(incident_id, actor)
        except IncidentError:
            return None
        return _entry(incident, EntryKind.NOTE, actor=actor, now=timezone.now(), body=_text(body, "step"), data=data)


# --- linking ------------------------------------------------------------------------------------------


@dataclass
class LinkResult:
    changed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        text = f"{len(self.changed)} case{'s' if len(self.changed) != 1 else ''} linked"
        if self.skipped:
            text += (
                f"; {len(self.skipped)} skipped ("
                + "; ".join(f"{k}: {v}" for k, v in list(self.skipped.items())[:5])
                + ")"
            )
        return text


@_atomic
def incident_link_cases(*, incident_id: int, actor, case_ids, note: str = "") -> LinkResult:
    """Link cases to the incident (from the case page, the incident page or the queue's bulk bar).
    Each case the actor may see gets a timeline entry saying so; one the actor may not see, or
    already linked, is skipped with the reason."""
    incident = _lock(incident_id, actor)
    case_ids = sorted({int(pk) for pk in case_ids})
    if len(case_ids) > 5000:
        raise IncidentError("Link at most 5,000 cases at a time.")
    already = set(incident.cases.filter(pk__in=case_ids).values_list("pk", flat=True))
    # Locked (in key order, as every case write is): a linked case's affected resources cannot change
    # between reading them for the incident's reach and the link becoming visible.
    cases = {
        c.pk: c for c in Case.objects.filter(pk__in=case_ids).only("id", "tenant_id").order_by("pk").select_for_update()
    }
    result = LinkResult()
    now = timezone.now()
    to_link = []
    for pk in case_ids:
        case = cases.get(pk)
        key = f"CS-{pk}" if case is None else case.key
        if case is None or not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
            result.skipped[key] = "not visible to you or does not exist"
            continue
        if pk in already:
            result.skipped[key] = f"already linked to {incident.key}"
            continue
        to_link.append(case)
    if not to_link:
        return result
    incident.cases.add(*to_link)
    for case in to_link:
        case_services.case_record_event(
            case_id=case.pk,
            actor=actor,
            body=f"Linked to {incident.key} “{incident.title}” ({incident.severity}, {incident.get_status_display()})",
            data={"incident": incident.key, "incident_id": incident.pk, "linked": True},
        )
        result.changed.append(case.key)
    _touch(incident, now, bump=False)
    _entry(
        incident,
        EntryKind.LINK,
        actor=actor,
        now=now,
        body=_text(note, "note"),
        data={
            "cases": result.changed[:100],
            "count": len(result.changed),
            "tenants": {c.key: c.tenant_id for c in to_link[:100]},
        },
    )
    return result


@_atomic
def incident_unlink_case(*, incident_id: int, actor, case_id: int, reason: str = "") -> Incident:
    incident = _lock(incident_id, actor)
    case = Case.objects.filter(pk=case_id, incidents=incident).only("id", "tenant_id").first()
    if case is None or not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
        raise IncidentError(f"CS-{case_id} is not linked to {incident.key}.")
    reason = _text(reason, "reason", limit=500)
    incident.cases.remove(case)
    now = timezone.now()
    case_services.case_record_event(
        case_id=case.pk,
        actor=actor,
        body=f"Unlinked from {incident.key}" + (f": {reason}" if reason else ""),
        data={"incident": incident.key, "incident_id": incident.pk, "linked": False, "reason": reason},
    )
    _touch(incident, now, bump=False)
    _entry(
        incident,
        EntryKind.UNLINK,
        actor=actor,
        now=now,
        body=reason,
        data={"cases": [case.key], "count": 1, "tenants": {case.key: case.tenant_id}},
    )
    return incident


@_atomic
def incident_declare_from_case(
    *, case_id: int, actor, title: str = "", severity: str = "", summary: str = "", commander=None
) -> Incident:
    """Declare an incident from a case, prefilled from it: its subject as title, its tenant and
    affected resources, its latest context snapshot as evidence; the severity given, else the
    admins' mapping of the case's priority (SeverityMapping). The case is linked and its timeline
    says so."""
    case = Case.objects.select_related("tenant").filter(pk=case_id).first()
    if case is None or not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
        raise IncidentNotPermitted("That case does not exist or is not visible to you.")
    severity = severity or selectors.severity_for_case(case)
    context = case.contexts.order_by("-taken_at").first() if hasattr(case, "contexts") else None
    evidence = ""
    if context is not None:
        data = context.data or {}
        evidence = (
            f"\n\nEvidence from {case.key}'s context ({context.taken_at:%Y-%m-%d %H:%M} UTC): "
            f"{len(data.get('alerts', []))} alert(s) firing, health {data.get('health', {}).get('overall', '?')}, "
            f"{len(data.get('similar_cases', []))} similar case(s)."
        )
    incident = incident_declare(
        actor=actor,
        title=title or case.subject,
        severity=severity,
        summary=(summary or case.description[:2000]) + evidence,
        commander=commander,
        tenants=[case.tenant],
        resources=list(case.affected_resources.all()),
        declared_from=case,
    )
    incident_link_cases(incident_id=incident.pk, actor=actor, case_ids=[case.pk], note=f"declared from {case.key}")
    return incident


@_atomic
def incident_declare_and_link(*, case_ids, actor) -> tuple[Incident, LinkResult]:
    """ "Declare and link all" from a detection hint (the queue's or a case's): an incident declared
    from the earliest of the cases (prefilled as `incident_declare_from_case`), the others linked, in
    one transaction. A case the actor may not see is skipped with the reason, never linked."""
    ids = sorted({int(pk) for pk in case_ids})
    if not ids:
        raise IncidentError("Choose the cases to declare an incident for.")
    if len(ids) > 200:
        raise IncidentError("Declare for at most 200 cases at a time; link more from the incident page.")
    visible = [
        c.pk
        for c in Case.objects.filter(pk__in=ids).only("id", "tenant_id", "created_at").order_by("created_at", "pk")
        if roles.is_system(actor) or can_see_tenant(actor, c.tenant_id)
    ]
    if not visible:
        raise IncidentNotPermitted("Those cases do not exist or are not visible to you.")
    incident = incident_declare_from_case(case_id=visible[0], actor=actor)
    result = incident_link_cases(incident_id=incident.pk, actor=actor, case_ids=[pk for pk in ids if pk != visible[0]])
    return incident, result


# --- corrective actions -------------------------------------------------------------------------------


@_atomic
def corrective_action_add(
    *, incident_id: int, actor, title: str, owner=None, due_on=None, case_id=None
) -> CorrectiveAction:
    incident = _lock(incident_id, actor)
    title = _text(title, "action", limit=TITLE_MAX, required=True)
    case = None
    if case_id:
        case = Case.objects.filter(pk=case_id).only("id", "tenant_id").first()
        if case is None or not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
            raise IncidentError(f"CS-{case_id} does not exist or is not visible to you.")
    now = timezone.now()
    action = CorrectiveAction.objects.create(
        incident=incident, title=title, owner=owner, due_on=due_on, case=case, created_at=now
    )
    _touch(incident, now, bump=False)
    _entry(
        incident,
        EntryKind.ACTION,
        actor=actor,
        now=now,
        body=title,
        data={"action": action.pk, "owner": _who(owner), "due_on": due_on.isoformat() if due_on else None},
    )
    return action


@_atomic
def corrective_action_update(*, action_id: int, actor, status: str, expected_version=None) -> CorrectiveAction:
    if status not in ActionStatus.values:
        raise IncidentError(f"Unknown action status {status!r}.")
    action = CorrectiveAction.objects.select_for_update().filter(pk=action_id).first()
    if action is None:
        raise IncidentNotPermitted("That action does not exist or is not visible to you.")
    incident = _lock(action.incident_id, actor)
    if expected_version is not None and action.version != int(expected_version):
        raise IncidentConflict("That action was changed by someone else meanwhile. Nothing was changed.")
    if action.status == status:
        return action
    was = action.status
    action.status = status
    action.version += 1
    action.save(update_fields=["status", "version"])
    now = timezone.now()
    _touch(incident, now, bump=False)
    _entry(
        incident,
        EntryKind.ACTION,
        actor=actor,
        now=now,
        body=action.title,
        data={"action": action.pk, "from": was, "to": status},
    )
    return action


# --- telling the customers of every linked case ---------------------------------------------------------


def _cadence_text(minutes: int | None) -> str:
    if not minutes:
        return "as soon as we know more"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def case_variables(incident: Incident, case: Case, extra: dict) -> dict:
    """The values a template may use for one case (`VARIABLES`), plain values only."""
    due = incident.update_due_at
    return {
        "customer_name": case.requester.name if case.requester_id else "there",
        "tenant_name": case.tenant.name,
        "case_key": case.key,
        "case_subject": case.subject,
        "issue": incident.title,
        "status": incident.get_status_display(),
        "severity": Priority(case.priority).label,
        "incident_key": incident.key,
        "expected_update": f"{due:%Y-%m-%d %H:%M} UTC" if due else "when we know more",
        "cadence": _cadence_text(incident.update_cadence_minutes),
        "message": extra.get("message", ""),
        "root_cause": extra.get("root_cause", ""),
        "solution": extra.get("solution", ""),
        "verification": extra.get("verification", ""),
        "support_team": extra.get("support_team") or "CompanyOS Support",
    }


def check_template(text: str) -> str:
    text = _text(text, "message template", limit=customer_text.TEMPLATE_MAX_CHARS, required=True)
    try:
        customer_text.check(text, VARIABLES)
    except customer_text.CustomerTextError as error:
        raise IncidentError(str(error)) from None
    return text


def template_text(key: str, text: str = "") -> str:
    if text.strip():
        return check_template(text)
    if key not in TEMPLATES:
        raise IncidentError(f"Unknown template {key!r}: choose {', '.join(TEMPLATES)}.")
    return TEMPLATES[key].text


def preview_customer_update(*, incident: Incident, cases, text: str, extra: dict) -> list[tuple[Case, str]]:
    """Render the update for each case (no write): what the agent confirms before sending."""
    text = check_template(text)
    out = []
    for case in cases:
        try:
            out.append((case, customer_text.render(text, case_variables(incident, case, extra))))
        except customer_text.CustomerTextError as error:
            raise IncidentError(f"{case.key}: {error}") from None
    return out


@_atomic
def incident_customer_update(
    *, incident_id: int, actor, text: str, extra: dict, publish: str = "", template: str = ""
) -> IncidentEntry:
    """Queue one public reply per linked open case (rendered from `text` with that case's values),
    sent after commit by `send_customer_update` through case_reply (so through each case's channel,
    the reply outbox, and counting as the case's update for its SLA cadence). `publish`, when given,
    is also published as a public update (status page) and restarts the incident's cadence clock."""
    incident = _lock(incident_id, actor)
    if not incident.active and template != "resolution":
        raise IncidentError(f"{incident.key} is resolved: reopen it before sending an update.")
    text = check_template(text)
    extra = {k: _text(str(v), k.replace("_", " "), limit=4000) for k, v in (extra or {}).items() if k in VARIABLES}
    publish = _text(publish, "published update")
    now = timezone.now()
    targets = list(incident.cases.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    if not targets:
        raise IncidentError(f"{incident.key} has no open linked cases to update.")
    fields = _restart_clock(incident, now) if publish or incident.active else []
    _touch(incident, now, *fields, bump=False)
    if publish:
        _entry(incident, EntryKind.UPDATE, actor=actor, now=now, body=publish, public=True)
    entry = _entry(
        incident,
        EntryKind.CUSTOMERS,
        actor=actor,
        now=now,
        body=text,
        data={"template": template, "extra": extra, "cases": len(targets), "sent": 0, "skipped": {}},
    )
    entry_id, actor_id = entry.pk, actor.pk
    transaction.on_commit(lambda: _send_later(entry_id, actor_id))
    return entry


def _send_later(entry_id: int, actor_id: int) -> None:
    from .tasks import send_customer_update_task

    send_customer_update_task.delay(entry_id, actor_id)


def send_customer_update(*, entry_id: int, actor_id: int, batch: int = 100) -> dict:
    """Send a queued customer update: for each open linked case not yet told, one case_reply as the
    actor, `batch` cases per transaction (each case in its own savepoint, so one refusal costs only
    that case). The exactly-once guard is CustomerDelivery (a unique row per update and case) written
    with the reply: a batch either commits its replies and their rows together or neither, and a
    re-run (a crashed worker, a redelivered task) picks up the cases without a row. The cases are
    walked by key (keyset), so the cases refused are not retried in a loop. The entry's counters move
    after each batch (the incident page shows the progress). Returns {sent, skipped, not_visible}."""
    entry = IncidentEntry.objects.select_related("incident").get(pk=entry_id)
    actor = User.objects.get(pk=actor_id)
    incident = entry.incident
    extra = (entry.data or {}).get("extra", {})
    sent_total, skipped_total, hidden = 0, {}, 0
    told = CustomerDelivery.objects.filter(entry=entry, case_id=OuterRef("pk"))
    pending = (
        incident.cases.filter(status__in=OPEN_STATUSES)
        .filter(~Exists(told))
        .select_related("tenant", "requester")
        .order_by("pk")
    )
    after = 0
    while True:
        chunk = list(pending.filter(pk__gt=after)[:batch])
        if not chunk:
            break
        after = chunk[-1].pk
        sent, skipped = 0, {}
        with transaction.atomic():
            for case in chunk:
                if not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
                    hidden += 1  # another tenant's case: counted, never named to this sender
                    continue
                try:
                    body = customer_text.render(entry.body, case_variables(incident, case, extra))
                    with transaction.atomic():  # a savepoint: a refusal undoes this case only
                        delivery = CustomerDelivery.objects.create(entry=entry, case_id=case.pk)
                        reply = case_services.case_reply(
                            case_id=case.pk,
                            actor=actor,
                            body=body,
                            public=True,
                            data={"incident": incident.key, "incident_update": entry.pk},
                        )
                        delivery.interaction_id = reply.pk
                        delivery.save(update_fields=["interaction_id"])
                    sent += 1
                except IntegrityError:
                    continue  # told already, by a run racing this one
                except (CaseError, customer_text.CustomerTextError) as error:
                    skipped[case.key] = str(error)
            _count_sent(entry.pk, sent, skipped, hidden)
        sent_total += sent
        skipped_total.update(skipped)
    if not sent_total and not skipped_total:
        with transaction.atomic():
            _count_sent(entry.pk, 0, {}, hidden)
    return {"sent": sent_total, "skipped": skipped_total, "not_visible": hidden}


def _count_sent(entry_id: int, sent: int, skipped: dict, hidden: int) -> None:
    locked = IncidentEntry.objects.select_for_update().get(pk=entry_id)
    data = dict(locked.data or {})
    data["sent"] = data.get("sent", 0) + sent
    data["skipped"] = {**data.get("skipped", {}), **skipped}
    data["not_visible"] = hidden
    locked.data = data
    locked.save(update_fields=["data"])


# --- resolving with the cases ------------------------------------------------------------------------------


@dataclass
class ResolveResult:
    incident: Incident
    resolved: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    not_visible: int = 0  # linked open cases of tenants the actor may not see: left alone


def incident_resolve(
    *,
    incident_id: int,
    actor,
    expected_version=None,
    note: str = "",
    publish: bool = True,
    resolve_cases: bool = False,
    text: str = "",
    extra: dict | None = None,
) -> ResolveResult:
    """Resolve the incident; with `resolve_cases`, also move each linked open case to resolved with
    the resolution summary (seed 001's template, rendered per case) as a public reply, each case in
    its own transaction through the case services. A case that cannot move (not in progress yet,
    classification missing, not visible) is named with the reason and left as it was."""
    note = (note or "").strip() or ("This incident has been resolved." if publish else "")
    incident = incident_update_status(
        incident_id=incident_id,
        actor=actor,
        to=Status.RESOLVED,
        expected_version=expected_version,
        note=note,
        public=publish,
    )
    result = ResolveResult(incident=incident)
    if not resolve_cases:
        return result
    text = check_template(text or TEMPLATES["resolution"].text)
    extra = extra or {}
    cases = list(
        incident.cases.filter(status__in=OPEN_STATUSES).select_related("tenant", "requester").order_by("pk")[:5000]
    )
    for case in cases:
        if not (roles.is_system(actor) or can_see_tenant(actor, case.tenant_id)):
            result.not_visible += 1  # another tenant's case: counted, never named
            continue
        if case.status not in (CaseStatus.IN_PROGRESS, CaseStatus.WAITING_ON_CUSTOMER):
            result.skipped[case.key] = f"{CaseStatus(case.status).label}: start work on it before resolving"
            continue
        try:
            body = customer_text.render(text, case_variables(incident, case, extra))
            with transaction.atomic():
                case_services.case_reply(
                    case_id=case.pk,
                    actor=actor,
                    body=body,
                    public=True,
                    data={"incident": incident.key, "resolution": True},
                )
                case_services.case_transition(
                    case_id=case.pk,
                    to=CaseStatus.RESOLVED,
                    actor=actor,
                    reason=f"{incident.key} resolved",
                    expected_status=case.status,
                    # The resolution record critical and high cases need (cases.closure), from the incident.
                    resolution={
                        "summary": f"Resolved with {incident.key}: {incident.title}",
                        "evidence": body,
                        "preventive_actions": f"Corrective actions are tracked on {incident.key}.",
                    },
                )
            result.resolved.append(case.key)
        except (CaseError, customer_text.CustomerTextError) as error:
            result.skipped[case.key] = str(error)
    with transaction.atomic():
        locked = _lock(incident.pk, actor)
        _entry(
            locked,
            EntryKind.FIELDS,
            actor=actor,
            now=timezone.now(),
            body=f"{len(result.resolved)} linked case(s) resolved",
            data={
                "resolved": result.resolved[:200],
                "skipped": dict(list(result.skipped.items())[:200]),
                "not_visible": result.not_visible,
            },
        )
    return result


# --- the update cadence sweep (beat) -------------------------------------------------------------------


def cadence_sweep(*, now=None, limit: int = 500) -> dict:
    """Warn before an incident's next update is due and record the breach when it passes, each once
    per due time: the incidents are found by due time and locked SKIP LOCKED (two sweeps never take
    the same row), and the CadenceMark unique constraint (INSERT … ON CONFLICT DO NOTHING RETURNING)
    makes a later sweep over the same due time a no-op. Returns the counts written."""
    now = now or timezone.now()
    system = roles.system_user()
    warned = breached = 0
    marks = CadenceMark.objects.filter(incident_id=OuterRef("pk"), due_at=OuterRef("update_due_at"))
    with roles.acting_as(system), transaction.atomic():
        due = list(
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=ACTIVE, update_due_at__isnull=False)
            .filter(selectors.cadence_due(marks, now, warn_minutes=CADENCE_WARN_MINUTES))
            .select_related("commander", "comms_lead")
            .order_by("update_due_at")[:limit]
        )
        table = CadenceMark._meta.db_table
        for incident in due:
            kind = CadenceMark.Kind.BREACH if incident.update_due_at <= now else CadenceMark.Kind.WARNING
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (incident_id, due_at, kind, created_at) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (incident_id, due_at, kind) DO NOTHING RETURNING id",
                    [incident.pk, incident.update_due_at, kind, now],
                )
                if cursor.fetchone() is None:
                    continue
            body = (
                f"Update overdue: the next update was due at {incident.update_due_at:%H:%M} UTC"
                if kind == CadenceMark.Kind.BREACH
                else f"Update due at {incident.update_due_at:%H:%M} UTC: {_who(incident.commander)}, post an update"
            )
            actions = _warn_commander(incident, kind)
            _entry(
                incident,
                EntryKind.CADENCE,
                actor=system,
                now=now,
                body=body,
                data={"kind": kind, "due_at": incident.update_due_at.isoformat(), "actions": actions},
            )
            if kind == CadenceMark.Kind.BREACH:
                breached += 1
            else:
                warned += 1
    return {"warned": warned, "breached": breached}


def _warn_commander(incident: Incident, kind: str) -> list[str]:
    """The commander hears of a due / overdue update through the notification outbox (e-mail, and
    Slack when configured), written in the sweep's transaction beside the CadenceMark that makes it
    once; an overdue update also tells the communications lead. Nobody named (or no address): the
    managers, as for SLA escalations."""
    due = timefmt.instant_token(incident.update_due_at)  # written in each reader's zone when sent
    people = [incident.commander] + ([incident.comms_lead] if kind == CadenceMark.Kind.BREACH else [])
    recipients = [p.email for p in people if p is not None and p.is_active and p.email]
    if kind == CadenceMark.Kind.BREACH:
        subject = f"{incident.key}: customer update overdue (was due {due})"
    else:
        subject = f"{incident.key}: customer update due {due}"
    body = (
        f"{subject}\n\n{incident.key} {incident.title}\nSeverity: {incident.severity} · "
        f"{incident.get_status_display()}\nCommander: {_who(incident.commander)}\n"
        f"Comms channel: {incident.comms_channel or '—'}\n\nPost a public update (it restarts the clock): "
        f"{settings.PUBLIC_BASE_URL.rstrip('/')}{incident.get_absolute_url()}\n"
    )
    return sla_sweep.enqueue_notifications(recipients=recipients, subject=subject, body=body)


def ensure_status_page(*, tenant: Tenant, actor):
    """The tenant's own status page (created on first use)."""
    from .models import TenantStatusPage

    page, _ = TenantStatusPage.objects.get_or_create(tenant=tenant)
    return page
