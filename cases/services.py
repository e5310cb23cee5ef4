"""Every write to a case. One call = one transaction = one timeline entry (and its audit rows).

Each service locks the case row (SELECT … FOR UPDATE), re-checks what the caller saw, and refuses
with a CaseError whose message is fit to show the user. Bulk actions loop over the same services.

This module is the only writer of the case row and of its timeline: `_touch` saves the case (the
changed fields, the SLA summary the clocks return, `updated_at` and `version`) in one UPDATE, and
`_timeline` creates every timeline entry (`record_system_entries` the sweep's, by COPY). The SLA
clock rules (`cases.sla.clocks`) write clocks only; the pure triage rules are in `cases.triage`,
the reads in `cases.selectors`. Also here: context capture and the priority decision, the SLA
re-apply, saved views. The errors are in `cases.errors`, bulk actions (which loop over these
services) in `cases.bulk`. System work passes `companyos.roles.system_user()` as the actor.
"""

from __future__ import annotations

import functools
import mimetypes
import os
from contextlib import nullcontext

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from companyos import residency, roles
from companyos.db import copy_rows
from tenants.models import Requester, Resource, Tenant
from tenants.selectors import can_see_tenant

from . import changes, selectors, triage
from .choices import (
    OPEN_STATUSES,
    REQUIRED_TO_RESOLVE,
    TRANSITIONS,
    Category,
    Environment,
    IssueType,
    Priority,
    Severity,
    Status,
    WaitingFor,
)
from .closure import rules as closure_rules
from .errors import CaseConflict, CaseError, InvalidTransition, NotPermitted
from .models import Attachment, Case, CaseContext, Interaction, SavedView, SLAPolicy, Tag, Team, bounded_filename
from .sla import clocks
from .sla.clocks import ClockImpact

User = get_user_model()


def _atomic(fn):
    """`transaction.atomic` for a service, with the audit entries of system work (the system user,
    or `actor=None` for customer intake) attributed to the system user in django-auditlog."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        actor = kwargs.get("actor")
        audit_as = roles.system_user() if actor is None else actor if roles.is_system(actor) else None
        with roles.acting_as(audit_as) if audit_as is not None else nullcontext(), transaction.atomic():
            return fn(*args, **kwargs)

    return wrapper


def _sees(actor, tenant_id: int) -> bool:
    """The system user sees every tenant; everyone else what tenants.selectors grants them."""
    return roles.is_system(actor) or can_see_tenant(actor, tenant_id)


def _lock(case_id: int, actor) -> Case:
    """Lock the case row and check that `actor` may see it. System work passes
    `companyos.roles.system_user()`, which sees every tenant."""
    if actor is None:
        raise TypeError("a case service needs an actor; system work passes companyos.roles.system_user()")
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None or not _sees(actor, case.tenant_id):
        raise NotPermitted("That case does not exist or is not visible to you.")
    return case


def _touch(case: Case, now, *fields: str, sla: ClockImpact | None = None) -> None:
    """Save a changed case in one UPDATE: `fields` (already set on `case`), the SLA summary the
    clocks returned (`sla.fields`), and a new `updated_at` and `version` (an open form that saw the
    old version is now stale)."""
    sla_fields = sla.fields if sla is not None else {}
    for name, value in sla_fields.items():
        setattr(case, name, value)
    case.updated_at = now
    case.version += 1
    case.save(update_fields=list(dict.fromkeys([*fields, *sla_fields, "updated_at", "version"])))


def _timeline(
    case: Case,
    kind: str,
    *,
    actor,
    now,
    body: str = "",
    data: dict | None = None,
    public: bool = False,
    channel: str = "",
    requester=None,
) -> Interaction:
    """Create one timeline entry: the only place an Interaction is created one by one. `actor` is the
    user who acted (the system user for system work); a customer's own message has a requester and
    no actor."""
    interaction = Interaction.objects.create(
        case=case,
        kind=kind,
        public=public,
        requester=requester,
        actor=actor,
        channel=channel,
        body=body,
        data=data if data is not None else {},
        created_at=now,
    )
    changes.notify(interaction)
    return interaction


SYSTEM_ENTRY_FIELDS = ["case_id", "kind", "public", "actor_id", "channel", "body", "data", "created_at"]


def record_system_entries(entries: list[dict]) -> int:
    """Write many timeline entries of system work at once, by COPY (the SLA sweep writes thousands
    per run; COPY is several times faster than a multi-row INSERT). Each entry is a dict with
    `case_id`, `body`, `data`, `created_at` and optionally `kind` (default AUTOMATION).

    The version rule for system rows, written down here once: a system timeline entry does NOT bump
    `Case.version` nor `updated_at`. It adds history without changing anything a user edits, so an
    agent's open form stays valid (a real change the system makes, e.g. a priority raised by the
    policy, goes through `case_classify` and so does bump it). The rows name the system user as their
    actor, fire no signals and so get no per-row audit entry. Returns the number written."""
    system = roles.system_user()
    rows = [
        Interaction(
            case_id=e["case_id"],
            kind=e.get("kind", Interaction.Kind.AUTOMATION),
            public=False,
            channel="",
            actor=system,
            body=e.get("body", ""),
            data=e.get("data", {}),
            created_at=e["created_at"],
        )
        for e in entries
    ]
    copy_rows(Interaction, rows, SYSTEM_ENTRY_FIELDS)
    return len(rows)


def _who(user) -> str:
    if user is None or roles.is_system(user):
        return "the system"
    return user.get_full_name() or user.get_username()


# --- intake ---------------------------------------------------------------------------------------


@_atomic
def case_create(
    *,
    actor,
    tenant: Tenant,
    requester: Requester,
    subject: str,
    description: str = "",
    priority: int = Priority.MEDIUM,
    category: str = Category.OTHER,
    issue_type: str = IssueType.QUESTION,
    environment: str = Environment.UNKNOWN,
    channel: str = "email",
    owner=None,
    team: Team | None = None,
    tags: list[str] | tuple[str, ...] = (),
    affected_resources: list[Resource] | tuple[Resource, ...] = (),
    unclassified: list[str] | tuple[str, ...] = (),
    channel_data: dict | None = None,
    files: list[UploadedFile] | None = None,
    data: dict | None = None,
    evidence: dict | None = None,
) -> Case:
    """Open a case. `affected_resources` are the tenant's resources the intake named (seed 004's
    "impacted components"); `unclassified` the classification fields the person left unset (their
    stored value is the default, which the priority suggestion then ignores and resolving refuses);
    `channel_data` what the channel knows of the message (Slack: workspace, channel, user, message
    ts, staffed hours), kept on the opening timeline entry. `files` are attached to the opening
    message; `data` is added to its timeline entry (a channel's facts, e.g. the e-mail's Message-ID).
    `evidence` what the reporter's product sent along (error ids, trace links: the API, the CLI), kept
    on the first timeline entry."""
    if actor is not None and not _sees(actor, tenant.pk):
        raise NotPermitted("You cannot open cases for that tenant.")
    if requester.tenant_id != tenant.pk:
        raise CaseError(f"{requester} is not a contact of {tenant}.")
    subject = subject.strip()
    if not subject:
        raise CaseError("A case needs a subject.")
    _check_resources(tenant.pk, affected_resources)
    unknown = set(unclassified) - set(REQUIRED_TO_RESOLVE)
    if unknown:
        raise CaseError(f"Cannot leave {', '.join(sorted(unknown))} unset.")
    files = files or []
    for upload in files:
        validate_upload(upload)
    now = timezone.now()
    case = Case(
        tenant=tenant,
        requester=requester,
        subject=subject,
        description=description,
        priority=int(priority),
        category=category,
        issue_type=issue_type,
        environment=environment,
        channel=channel,
        # The tenant's defaults by id: loading the default team's row was one more statement per create.
        owner_id=owner.pk if owner else tenant.default_owner_id,
        team_id=team.pk if team else tenant.default_team_id,
        unclassified=[f for f in REQUIRED_TO_RESOLVE if f in unclassified],
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    # The policy snapshot and SLA summary go in with the row (one INSERT), the first clock right after.
    impact = clocks.on_create(case, now)
    case.save(force_insert=True)
    clocks.save_pending(case, impact)
    tag_rows = _tags(tags) if tags else []
    if tag_rows:
        case.tags.set(tag_rows)
    if affected_resources:
        case.affected_resources.set(affected_resources)
    opening = _timeline(
        case,
        Interaction.Kind.INBOUND,
        actor=actor,
        now=now,
        public=True,
        requester=requester,
        channel=channel,
        body=description,
        data={
            "opened_by": _who(actor) if actor else "customer",
            "sla": impact.notes,
            "entitlement_flags": triage.entitlement_flags(tenant.entitlements, channel=channel),
            **({"resources": _resource_names(affected_resources)} if affected_resources else {}),
            **({"tags": [t.name for t in tag_rows]} if tag_rows else {}),  # (listeners read them from here)
            **({"channel_data": channel_data} if channel_data else {}),
            **(data or {}),
            **({"evidence": evidence} if evidence else {}),
        },
    )
    for upload in files:
        _store_attachment(case, upload, actor=actor, interaction=opening, now=now)
    case_id = case.pk
    transaction.on_commit(lambda: _enrich_later(case_id))
    return case


def _enrich_later(case_id: int) -> None:
    # Local import, the one reversed edge: tasks import services (a task calls one service), so the
    # services reach the tasks only at call time, after commit.
    from .tasks import enrich_case_task

    enrich_case_task.delay(case_id)


# --- lifecycle ------------------------------------------------------------------------------------


@_atomic
def case_transition(
    *,
    case_id: int,
    to: str,
    actor,
    reason: str = "",
    expected_status: str | None = None,
    waiting_for: str = "",
    waiting_note: str = "",
    resolution: dict | None = None,
    closed_how: str = "",
    feedback: str = "",
) -> Case:
    """Move a case along its lifecycle. `expected_status` is the status the user saw: if someone
    moved the case meanwhile, the move is refused as a conflict rather than applied to a state the
    user never saw. Waiting on the customer needs `waiting_for` (a WaitingFor; "other" with
    `waiting_note`), kept on the case until it leaves that status. Resolving needs the category,
    issue type and environment set (`Case.missing_classification`), and for a critical or high case
    a `resolution` (summary, evidence, preventive actions; root cause, solution and verification
    optional: `cases.closure.rules`), kept on the status entry. Closing records `closed_how`
    (confirmed by the customer, auto, or by default unconfirmed: an agent closing without the
    customer's confirmation, which the reports count) and the feedback emission (`feedback`: the
    backlog the agent confirmed, `cases.closure.rules.FEEDBACK`; none given: by the classification).
    The closure package listens to the entry (`cases.closure.listener`): the auto-close timer, the
    "is this solved?" question, the survey."""
    case = _lock(case_id, actor)
    if to not in Status.values:
        raise CaseError(f"Unknown status {to!r}.")
    if expected_status and case.status != expected_status:
        raise CaseConflict(
            f"{case.key} was moved to {Status(case.status).label} by someone else while you were looking at it "
            f"(you saw {Status(expected_status).label}). Nothing was changed; review the case and try again."
        )
    if to not in TRANSITIONS.get(case.status, []):
        raise InvalidTransition(case, to)
    waiting_note = " ".join((waiting_note or "").split())[:200]
    if to == Status.WAITING_ON_CUSTOMER:
        if waiting_for not in WaitingFor.values:
            raise CaseError(
                f"Say what {case.key} is waiting for (logs, approval, reproduction steps or other) "
                "before moving it to Waiting on customer."
            )
        if waiting_for == WaitingFor.OTHER and not waiting_note:
            raise CaseError("Waiting for something else: say what, in a few words.")
    if to == Status.RESOLVED and case.missing_classification:
        raise CaseError(f"{case.key} cannot be resolved yet: set its {_and(case.missing_classification)} first.")
    resolution = closure_rules.clean_resolution(resolution) if to == Status.RESOLVED else {}
    if to == Status.RESOLVED and not roles.is_system(actor):
        missing = closure_rules.resolution_problems(case.priority, resolution)
        if missing:
            raise CaseError(
                f"{case.key} is {Priority(case.priority).label.lower()} priority: write the "
                f"{_and(missing).lower()} before resolving it."
            )
    if closed_how and closed_how not in closure_rules.CLOSED_HOW:
        raise CaseError(f"Unknown way of closing {closed_how!r}.")
    if feedback and feedback not in closure_rules.FEEDBACK:
        raise CaseError(f"Unknown feedback backlog {feedback!r}.")
    closing = {}
    if to == Status.CLOSED:
        closing = {
            "closed_how": closed_how or closure_rules.UNCONFIRMED,
            "feedback": feedback or closure_rules.feedback_for(case.category, case.issue_type),
            "feedback_confirmed": bool(feedback),
        }
    now, was = timezone.now(), case.status
    reopened = was in (Status.RESOLVED, Status.CLOSED) and to == Status.IN_PROGRESS
    case.status = to
    case.status_changed_at = now
    fields = ["status", "status_changed_at"]
    waiting = {}
    if to == Status.WAITING_ON_CUSTOMER:
        case.waiting_for = waiting_for
        case.waiting_note = waiting_note if waiting_for == WaitingFor.OTHER else ""
        fields += ["waiting_for", "waiting_note"]
        waiting = {"waiting_for": waiting_for, "waiting_note": case.waiting_note, "waiting_text": case.waiting_for_text}
    elif case.waiting_for or case.waiting_note:
        case.waiting_for, case.waiting_note = "", ""
        fields += ["waiting_for", "waiting_note"]
    if to == Status.TRIAGE and case.triaged_at is None:
        case.triaged_at = now
        fields.append("triaged_at")
    if to == Status.RESOLVED:
        case.resolved_at = now
        fields.append("resolved_at")
    if to == Status.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    if reopened:
        case.resolved_at = None
        case.closed_at = None
        fields += ["resolved_at", "closed_at"]
    impact = clocks.on_transition(case, was, to, now)
    _touch(case, now, *fields, sla=impact)
    _timeline(
        case,
        Interaction.Kind.STATUS,
        actor=actor,
        now=now,
        body="\n\n".join(t for t in (reason, closure_rules.resolution_text(resolution)) if t),
        data={
            "from": was,
            "to": to,
            "reason": reason,
            "reopened": reopened,
            "sla": impact.notes,
            **waiting,
            **({"resolution": resolution} if resolution else {}),
            **closing,
        },
    )
    _check_sla_soon(case)
    return case


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# --- conversation ---------------------------------------------------------------------------------


@_atomic
def case_reply(
    *,
    case_id: int,
    actor,
    body: str,
    public: bool,
    files: list[UploadedFile] | None = None,
    data: dict | None = None,
    automated: str = "",
) -> Interaction:
    """A public reply to the customer or an internal note. The first public reply by an agent sets
    `first_response_at`; a note never does. `data` is kept on the entry (e.g. the incident whose
    customer update this reply is). `automated` names a message the system sends by itself
    ("solved_question", "survey"): it leaves like any public reply but is not a response by anyone,
    so it neither sets the first response nor counts as an update on the clocks."""
    body = (body or "").strip()
    if not body:
        raise CaseError("Write something before sending." if public else "An empty note cannot be saved.")
    files = files or []
    for upload in files:
        validate_upload(upload)
    case = _lock(case_id, actor)
    now = timezone.now()
    fields = []
    if public and case.first_response_at is None and not automated:
        case.first_response_at = now
        fields.append("first_response_at")
    impact = clocks.on_public_reply(case, now) if public and not automated else ClockImpact()
    _touch(case, now, *fields, sla=impact)
    interaction = _timeline(
        case,
        Interaction.Kind.REPLY if public else Interaction.Kind.NOTE,
        actor=actor,
        now=now,
        public=public,
        channel=case.channel if public else "",
        body=body,
        data={
            **(data or {}),
            "first_response": bool(fields),
            "sla": impact.notes,
            **({"automated": automated} if automated else {}),
        },
    )
    for upload in files:
        _store_attachment(case, upload, actor=actor, interaction=interaction, now=now)
    return interaction


@_atomic
def case_customer_message(
    *,
    case_id: int,
    requester: Requester,
    body: str,
    channel: str,
    data: dict | None = None,
    files: list[UploadedFile] | None = None,
    reopen: bool = False,
) -> Interaction:
    """A customer's message on an existing case (an e-mail reply, a Slack thread reply): a public
    INBOUND entry with the requester and no actor. A case waiting on the customer goes back to in
    progress (its resolution clock resumes); a resolved or closed one is reopened when `reopen`
    (the channel decided it is within its reopen window), else refused. The moves are
    `case_transition`'s, done as the system user, in this transaction."""
    files = files or []
    for upload in files:
        validate_upload(upload)
    system = roles.system_user()
    case = _lock(case_id, system)
    if requester.tenant_id != case.tenant_id:
        raise CaseError(f"{requester} is not a contact of {case.tenant}.")
    how = f"the customer wrote by {channel}"
    if case.status in (Status.RESOLVED, Status.CLOSED):
        if not reopen:
            raise CaseError(f"{case.key} is {Status(case.status).label}: a message cannot be added to it.")
        case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=system, reason=f"Reopened: {how}.")
    elif case.status == Status.WAITING_ON_CUSTOMER:
        case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=system, reason=f"Resumed: {how}.")
    case = _lock(case_id, system)  # the moves above saved a newer version
    now = timezone.now()
    _touch(case, now)
    interaction = _timeline(
        case,
        Interaction.Kind.INBOUND,
        actor=None,
        now=now,
        public=True,
        requester=requester,
        channel=channel,
        body=(body or "").strip(),
        data=data or {},
    )
    for upload in files:
        _store_attachment(case, upload, actor=None, interaction=interaction, now=now)
    return interaction


@_atomic
def case_customer_confirmation(
    *, case_id: int, requester: Requester, solved: bool, resolved_at, comment: str = ""
) -> Case:
    """The customer's answer to "is this solved?" (a signed link, cases.closure.links): a public
    CONFIRMATION entry with the requester, then *yes* closes the case as confirmed and *no* reopens
    it (a new resolution window), as the system user, in this transaction. `resolved_at` is the
    resolution the question was about: an answer to an earlier one is refused as a conflict."""
    system = roles.system_user()
    case = _lock(case_id, system)
    if requester.tenant_id != case.tenant_id:
        raise CaseError(f"{requester} is not a contact of {case.tenant}.")
    if case.status != Status.RESOLVED or case.resolved_at != resolved_at:
        raise CaseConflict(f"{case.key} has changed since this question was asked: nothing was changed.")
    comment = (comment or "").strip()[:2000]
    now = timezone.now()
    _touch(case, now)
    answer = "Yes, solved" if solved else "No, not solved"
    _timeline(
        case,
        Interaction.Kind.CONFIRMATION,
        actor=None,
        now=now,
        public=True,
        requester=requester,
        channel=case.channel,
        body=f"{answer}." + (f"\n\n{comment}" if comment else ""),
        data={"solved": solved, "resolved_at": resolved_at.isoformat()},
    )
    if solved:
        return case_transition(
            case_id=case.pk,
            to=Status.CLOSED,
            actor=system,
            reason="Closed: the customer confirmed it is solved.",
            closed_how=closure_rules.CONFIRMED,
        )
    return case_transition(
        case_id=case.pk, to=Status.IN_PROGRESS, actor=system, reason="Reopened: the customer says it is not solved."
    )


@_atomic
def case_root_cause(
    *, case_id: int, actor, root_cause: str, timeline: str, expected_version: int | None = None
) -> Interaction:
    """Record "root cause identified, timeline communicated" (seed 002): a public reply telling the
    customer the root cause and the timeline of the fix; where the case's SLA policy has the option
    (`SLAPolicy.root_cause_stops_resolution`, off by default) the resolution clock stops with the
    statement kept on it (`cases.sla.clocks.on_root_cause`). Refused without the option, on a case
    that is not being worked, or without both texts."""
    case = _lock(case_id, actor)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(f"{case.key} changed while you were looking at it. Nothing was changed; review and retry.")
    root_cause, timeline = " ".join((root_cause or "").split())[:2000], " ".join((timeline or "").split())[:2000]
    if not root_cause or not timeline:
        raise CaseError("Write both the root cause and the timeline communicated to the customer.")
    if case.status not in (Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
        raise CaseError(f"{case.key} is {Status(case.status).label}: the root cause is recorded while it is worked on.")
    policy = SLAPolicy.objects.filter(pk=case.sla_policy_id).first() if case.sla_policy_id else None
    if policy is None or not policy.root_cause_stops_resolution:
        raise CaseError(
            f"The SLA policy of {case.key} does not stop the resolution clock on a root cause with timeline."
        )
    now = timezone.now()
    body = f"Root cause identified: {root_cause}\n\nTimeline: {timeline}"
    impact = clocks.on_root_cause(case, now, body)
    fields = []
    if case.first_response_at is None:
        case.first_response_at = now
        fields.append("first_response_at")
    _touch(case, now, *fields, sla=impact)
    return _timeline(
        case,
        Interaction.Kind.REPLY,
        actor=actor,
        now=now,
        public=True,
        channel=case.channel,
        body=body,
        data={"root_cause": root_cause, "timeline": timeline, "sla": impact.notes, "first_response": bool(fields)},
    )


@_atomic
def case_mark_mitigated(*, case_id: int, actor, note: str = "", expected_version: int | None = None) -> Interaction:
    """Record that the customer's impact is mitigated (seed 004 "time to mitigate": a workaround,
    a configuration change, a retry or patch in place; the case stays open until it is resolved).
    Sets `mitigated_at` once, stops the time-to-mitigate clock when the case's severity runs one
    (`cases.sla.clocks.on_mitigated`, met or breached) and writes a timeline entry with the
    mitigation steps (`note`, seed 004 "document them in the ticket"). Refused on a case that
    is not being worked, already mitigated, or a stale form."""
    case = _lock(case_id, actor)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(f"{case.key} changed while you were looking at it. Nothing was changed; review and retry.")
    if case.status not in (Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
        raise CaseError(f"{case.key} is {Status(case.status).label}: mitigation is recorded while it is worked on.")
    if case.mitigated_at is not None:
        raise CaseError(f"{case.key} was already marked mitigated.")
    note = (note or "").strip()
    if len(note) > 4000:
        raise CaseError(f"The mitigation steps are too long ({len(note):,} characters; at most 4,000).")
    now = timezone.now()
    case.mitigated_at = now
    impact = clocks.on_mitigated(case, now)
    _touch(case, now, "mitigated_at", sla=impact)
    return _timeline(
        case,
        Interaction.Kind.FIELDS,
        actor=actor,
        now=now,
        body=note,
        data={"changes": {"mitigation": ["not mitigated", "mitigated"]}, "mitigated": True, "sla": impact.notes},
    )


def case_record_event(*, case_id: int, actor, body: str, data: dict | None = None) -> Interaction:
    """An AUTOMATION entry on the case's timeline for something an app above cases did about the
    case (an incident linked or unlinked, an incident declared from it). Nothing a form edits
    changed, so the version stays (as `record_system_entries`' rule); the case row is locked so the
    entry is ordered with the case's other writes."""
    case = _lock(case_id, actor)
    return _timeline(
        case, Interaction.Kind.AUTOMATION, actor=actor, now=timezone.now(), body=body[:2000], data=data or {}
    )


# --- steps done on a case by other apps (a macro applied, a runbook step executed) -------------------


def case_lock(*, case_id: int, actor, expected_version: int | None = None) -> Case:
    """Lock the case row for a write made of several service calls (runbooks' `macro_apply`), inside
    the caller's `transaction.atomic`, and refuse if `actor` may not see it or the version moved on
    since the user looked (`expected_version`). Writes nothing."""
    if not transaction.get_connection().in_atomic_block:
        raise TypeError("case_lock is called inside the caller's transaction.atomic")
    case = _lock(case_id, actor)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            f"{case.key} was changed by someone else since you opened it. "
            "Reload to see the current values; nothing was changed."
        )
    return case


@_atomic
def case_record_step(*, case_id: int, actor, body: str, data: dict | None = None) -> Interaction:
    """One AUTOMATION timeline entry for a step a person (or the system) did on the case through
    another app: a macro applied with what it did, a runbook step executed. `data` says what (kept
    on the entry; the timeline shows `data["actions"]` as its lines). Bumps the version: the case
    changed."""
    body = " ".join((body or "").split())[:2000]
    if not body:
        raise CaseError("A step needs a description.")
    case = _lock(case_id, actor)
    now = timezone.now()
    _touch(case, now)
    return _timeline(case, Interaction.Kind.AUTOMATION, actor=actor, now=now, body=body, data=data or {})


# --- ownership ------------------------------------------------------------------------------------


NO_CHANGE = object()


@_atomic
def case_assign(*, case_id: int, actor, owner=NO_CHANGE, team=NO_CHANGE, expected_owner_id=NO_CHANGE) -> Case:
    """Give a case an owner and/or a team. `expected_owner_id` is the owner the user saw (None for
    unassigned): taking a case someone else took a moment ago is a conflict, not a silent steal."""
    case = _lock(case_id, actor)
    if expected_owner_id is not NO_CHANGE and case.owner_id != expected_owner_id:
        current = _who(case.owner) if case.owner_id else "nobody"
        raise CaseConflict(
            f"{case.key} is now owned by {current}; it changed while you were looking. Nothing was changed."
        )
    changes: dict[str, list] = {}
    fields = []
    if owner is not NO_CHANGE and (owner.pk if owner else None) != case.owner_id:
        if owner is not None and not (owner.is_active and can_see_tenant(owner, case.tenant_id)):
            raise CaseError(f"{_who(owner)} cannot see {case.tenant} and so cannot own {case.key}.")
        changes["owner"] = [_who(case.owner) if case.owner_id else None, _who(owner) if owner else None]
        case.owner = owner
        fields.append("owner")
    if team is not NO_CHANGE and (team.pk if team else None) != case.team_id:
        changes["team"] = [case.team.name if case.team_id else None, team.name if team else None]
        case.team = team
        fields.append("team")
    if not fields:
        return case
    now = timezone.now()
    _touch(case, now, *fields)
    _timeline(case, Interaction.Kind.ASSIGNMENT, actor=actor, now=now, data={"changes": changes})
    return case


# --- classification and tags ------------------------------------------------------------------------


CLASSIFICATION_FIELDS = ("priority", "category", "issue_type", "environment", "severity")


@_atomic
def case_classify(*, case_id: int, actor, expected_version: int | None = None, reason: str = "", **values) -> Case:
    """Change priority, category, issue type or environment. A stale form (version moved on) is a
    conflict: the user sees what changed instead of overwriting it. A value given for a field that
    was unset (`Case.unclassified`) sets it, also when it equals the stored default."""
    unknown = set(values) - set(CLASSIFICATION_FIELDS)
    if unknown:
        raise CaseError(f"Cannot change {', '.join(sorted(unknown))} here.")
    case = _lock(case_id, actor)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            f"{case.key} was changed by someone else since you opened it. "
            "Reload to see the current values; nothing was changed."
        )
    valid = {
        "priority": Priority.values,
        "category": Category.values,
        "issue_type": IssueType.values,
        "environment": Environment.values,
        "severity": [*Severity.values, ""],
    }
    changes = {}
    for name, value in values.items():
        if name == "priority":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise CaseError(f"{value!r} is not a valid priority.") from None
        if value not in valid[name]:
            raise CaseError(f"{value!r} is not a valid {name.replace('_', ' ')}.")
        old = getattr(case, name)
        unset = name in (case.unclassified or ())
        if old != value or unset:
            changes[name] = ["not set" if unset else _label(name, old), _label(name, value)]
            setattr(case, name, value)
    if not changes:
        return case
    fields = list(changes)
    if set(changes) & set(case.unclassified or ()):
        case.unclassified = [f for f in case.unclassified if f not in changes]
        fields.append("unclassified")
    now = timezone.now()
    impact = clocks.on_priority_change(case, now) if "priority" in changes else ClockImpact()
    if "severity" in changes:  # seed 004's time to acknowledge / mitigate key on it
        by_severity = clocks.on_severity_change(case, now)
        impact = ClockImpact(notes=impact.notes + by_severity.notes, fields=by_severity.fields or impact.fields)
    _touch(case, now, *fields, sla=impact)
    _timeline(
        case, Interaction.Kind.FIELDS, actor=actor, now=now, body=reason, data={"changes": changes, "sla": impact.notes}
    )
    _check_sla_soon(case)
    return case


def _check_sla_soon(case: Case) -> None:
    """A write can make a clock past due or at risk at once (a raised priority): escalate right after
    commit instead of waiting for the next beat sweep. The sweep would find it anyway."""
    if case.sla_risk_at and case.sla_risk_at <= timezone.now():
        from .tasks import sla_check_case

        case_id = case.pk
        transaction.on_commit(lambda: sla_check_case.delay(case_id))


def _label(name: str, value) -> str:
    if name == "severity" and not value:
        return "not set"
    enum = {
        "severity": Severity,
        "priority": Priority,
        "category": Category,
        "issue_type": IssueType,
        "environment": Environment,
    }[name]
    return str(enum(value).label)


def _tag_name(name: str) -> str:
    return name.strip().lower().replace(" ", "-")


def _tags(names) -> list[Tag]:
    cleaned = sorted({_tag_name(n) for n in names if n and n.strip()})
    tags = []
    for name in cleaned:
        if len(name) > 50:
            raise CaseError(f"Tag {name[:20]}… is longer than 50 characters.")
        tags.append(Tag.objects.get_or_create(name=name)[0])
    return tags


@_atomic
def case_tag(*, case_id: int, actor, add: list[str] = (), remove: list[str] = ()) -> Case:
    case = _lock(case_id, actor)
    current = set(case.tags.values_list("name", flat=True))
    to_add = [t for t in _tags(add) if t.name not in current]
    to_remove = [t for t in Tag.objects.filter(name__in=[_tag_name(r) for r in remove if r]) if t.name in current]
    if not to_add and not to_remove:
        return case
    case.tags.add(*to_add)
    case.tags.remove(*to_remove)
    now = timezone.now()
    _touch(case, now)
    _timeline(
        case,
        Interaction.Kind.TAGS,
        actor=actor,
        now=now,
        data={"added": [t.name for t in to_add], "removed": [t.name for t in to_remove]},
    )
    return case


# --- duplicates -------------------------------------------------------------------------------------


@_atomic
def case_mark_duplicate(*, case_id: int, actor, duplicate_of_id: int | None) -> Case:
    """Mark a case a duplicate of another case of the same tenant (None: not a duplicate). The
    model's `clean` and a constraint trigger (migration 0050) hold the same rule."""
    case = _lock(case_id, actor)
    if duplicate_of_id == case.duplicate_of_id:
        return case
    original = None
    if duplicate_of_id is not None:
        original = Case.objects.filter(pk=duplicate_of_id).only("id", "tenant_id", "duplicate_of_id").first()
        if original is None or not _sees(actor, original.tenant_id):
            raise NotPermitted("That case does not exist or is not visible to you.")
        if original.pk == case.pk:
            raise CaseError(f"{case.key} cannot be a duplicate of itself.")
        if original.tenant_id != case.tenant_id:
            raise CaseError(f"{case.key} can only be a duplicate of a case of the same tenant; {original.key} is not.")
        if original.duplicate_of_id == case.pk:
            raise CaseError(f"{original.key} is already a duplicate of {case.key}.")
    was = f"{settings.CASE_KEY_PREFIX}-{case.duplicate_of_id}" if case.duplicate_of_id else "—"
    case.duplicate_of = original
    now = timezone.now()
    _touch(case, now, "duplicate_of")
    _timeline(
        case,
        Interaction.Kind.FIELDS,
        actor=actor,
        now=now,
        data={"changes": {"duplicate_of": [was, original.key if original else "—"]}},
    )
    return case


# --- affected resources -----------------------------------------------------------------------------


def _check_resources(tenant_id: int, resources) -> None:
    foreign = [r for r in resources if r.tenant_id != tenant_id]
    if foreign:
        raise CaseError(f"{_resource_names(foreign)[0]} is not a resource of this case's tenant.")


def _resource_names(resources) -> list[str]:
    return sorted(r.external_id for r in resources)


@_atomic
def case_set_resources(*, case_id: int, actor, resources, expected_version: int | None = None) -> Case:
    """Set the case's affected resources (seed 003/004: the impacted components), chosen from its
    tenant's resources. One FIELDS timeline entry naming what was added and removed; the change is
    in the audit log (the m2m is registered with django-auditlog)."""
    case = _lock(case_id, actor)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            f"{case.key} was changed by someone else since you opened it. "
            "Reload to see the current values; nothing was changed."
        )
    resources = list(resources)
    _check_resources(case.tenant_id, resources)
    current = list(case.affected_resources.all())
    if {r.pk for r in current} == {r.pk for r in resources}:
        return case
    case.affected_resources.set(resources)
    now = timezone.now()
    _touch(case, now)
    before, after = {r.pk for r in current}, {r.pk for r in resources}
    was, now_named = ", ".join(_resource_names(current)), ", ".join(_resource_names(resources))
    _timeline(
        case,
        Interaction.Kind.FIELDS,
        actor=actor,
        now=now,
        data={
            "changes": {"resources": [was or "none", now_named or "none"]},
            "resources": {
                "added": _resource_names([r for r in resources if r.pk not in before]),
                "removed": _resource_names([c for c in current if c.pk not in after]),
            },
        },
    )
    return case


# --- attachments ------------------------------------------------------------------------------------


def validate_upload(upload: UploadedFile) -> str:
    """Return the content type to store, or refuse the file with a message saying why."""
    name = os.path.basename(upload.name or "")
    ext = os.path.splitext(name)[1].lower()
    allowed = settings.ATTACHMENT_ALLOWED_TYPES
    if ext not in allowed:
        raise CaseError(
            f"{name or 'That file'}: files of type {ext or '(none)'} are not accepted. "
            f"Allowed: {', '.join(sorted(allowed))}."
        )
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise CaseError(
            f"{name} is {upload.size / 1048576:.1f} MB; the limit is {settings.ATTACHMENT_MAX_BYTES / 1048576:.0f} MB."
        )
    if upload.size == 0:
        raise CaseError(f"{name} is empty.")
    return allowed[ext]


def _region(case: Case) -> str:
    """The data region the case's files go to (its tenant's residency); refused when that region has
    no storage configured (companyos.residency): nothing is stored anywhere else."""
    try:
        return residency.check(case.tenant)
    except residency.ResidencyError as error:
        raise CaseError(f"{case.tenant} keeps its data in {residency.region_of(case.tenant)}. {error}") from None


def _store_attachment(case: Case, upload: UploadedFile, *, actor, interaction=None, now=None) -> Attachment:
    content_type = validate_upload(upload)
    return Attachment.objects.create(
        case=case,
        interaction=interaction,
        region=_region(case),
        file=upload,
        filename=bounded_filename(upload.name, 100, ascii_only=True),
        original_name=bounded_filename(upload.name, 1000),
        content_type=content_type or mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
        size=upload.size,
        uploaded_by=actor,
        created_at=now or timezone.now(),
    )


@_atomic
def case_attach(*, case_id: int, actor, upload: UploadedFile) -> Attachment:
    validate_upload(upload)
    case = _lock(case_id, actor)
    now = timezone.now()
    _touch(case, now)
    interaction = _timeline(
        case,
        Interaction.Kind.ATTACHMENT,
        actor=actor,
        now=now,
        data={"filename": bounded_filename(upload.name, 1000), "size": upload.size},
    )
    return _store_attachment(case, upload, actor=actor, interaction=interaction, now=now)


# --- SLA: re-apply and replay ------------------------------------------------------------------------


@_atomic
def case_reapply_policy(*, case_id: int, policy: SLAPolicy, actor) -> Case:
    """Take `policy`'s current version onto the case and re-target its running clocks (the admin's
    explicit re-apply, case by case). One AUTOMATION timeline entry; bumps the version like any
    change of the case, so an open form sees it."""
    case = _lock(case_id, actor)
    now = timezone.now()
    impact = clocks.reapply_policy(case, policy, now)
    _touch(case, now, sla=impact)
    _timeline(
        case,
        Interaction.Kind.AUTOMATION,
        actor=actor,
        now=now,
        body="SLA policy re-applied",
        data={"sla": impact.notes},
    )
    return case


def case_replay_clocks(*, case: Case) -> Case:
    """Rebuild the clocks of an imported or back-dated case from its timeline (clocks.replay) and
    save its policy, snapshot and SLA summary. For loaders: no lock, no timeline entry, no version
    bump (the case is being built, nobody has it open). Runs in the caller's transaction."""
    impact = clocks.replay(case)
    if impact.fields:
        case.save(update_fields=list(impact.fields))
    return case


# --- context capture and the priority decision -----------------------------------------------------------


@_atomic
def case_capture_context(*, case_id: int, actor) -> CaseContext:
    """Take a context snapshot of the case now (a refresh adds a newer one): what the selectors and
    the registered context providers read, the suggested priority with its reasons (cases.triage),
    and one AUTOMATION timeline entry. Locks the case; the version stays (nothing a form edits
    changed)."""
    case = _lock(case_id, actor)
    now = timezone.now()
    signals, data = selectors.context_snapshot(case, now)
    priority, reasons = triage.suggest_priority(
        subject=case.subject,
        description=case.description,
        environment=case.environment,
        issue_type=case.issue_type,
        signals=signals,
        unset=frozenset(case.unclassified or ()),
    )
    context = CaseContext.objects.create(
        case=case, taken_at=now, data=data, suggested_priority=priority, reasons=reasons
    )
    summary = (
        f"context captured: {len(data['alerts'])} alert(s) firing, health {data['health']['overall']}, "
        f"{len(data['incidents'])} active incident(s), {len(data['similar_cases'])} similar case(s); "
        f"suggested {Priority(priority).label}"
    )
    _timeline(
        case,
        Interaction.Kind.AUTOMATION,
        actor=actor,
        now=now,
        body=summary,
        data={"context": context.pk, "suggested_priority": Priority(priority).slug, "reasons": reasons},
    )
    return context


@_atomic
def case_decide_priority(*, context_id: int, actor, priority: int) -> CaseContext:
    """The agent accepts the suggestion (same priority) or overrides it; a change of the case's
    priority goes through case_classify (row lock, timeline, SLA re-target)."""
    context = CaseContext.objects.select_for_update().select_related("case").get(pk=context_id)
    case = _lock(context.case_id, actor)
    if case.status not in OPEN_STATUSES:
        raise CaseError("The case is no longer open.")
    priority = int(priority)
    context.decision = (
        CaseContext.Decision.ACCEPTED if priority == context.suggested_priority else CaseContext.Decision.OVERRIDDEN
    )
    context.decided_priority = priority
    context.decided_by = actor
    context.decided_at = timezone.now()
    context.save(update_fields=["decision", "decided_priority", "decided_by", "decided_at"])
    if case.priority != priority:
        verb = (
            "accepted the suggested" if context.decision == CaseContext.Decision.ACCEPTED else "overrode the suggested"
        )
        case_classify(
            case_id=case.pk,
            actor=actor,
            priority=priority,
            reason=f"{verb} priority ({Priority(context.suggested_priority).label})",
        )
    return context


# --- merging duplicates -----------------------------------------------------------------------------


def _merge_target(case: Case, into: Case) -> None:
    """The rules of a merge, checked on the locked rows."""
    if into.pk == case.pk:
        raise CaseError(f"{case.key} cannot be merged into itself.")
    if into.tenant_id != case.tenant_id:
        raise CaseError(f"{into.key} belongs to another tenant: only cases of one tenant can be merged.")
    if case.duplicate_of_id:
        raise CaseError(f"{case.key} is already merged into {settings.CASE_KEY_PREFIX}-{case.duplicate_of_id}.")
    if into.duplicate_of_id:
        raise CaseError(
            f"{into.key} is itself merged into {settings.CASE_KEY_PREFIX}-{into.duplicate_of_id}: merge into that case."
        )
    if into.status not in OPEN_STATUSES:
        raise CaseError(f"{into.key} is {Status(into.status).label}: reopen it before merging cases into it.")


@_atomic
def case_merge(*, case_id: int, into_id: int, actor, note: str = "", expected_version: int | None = None) -> Case:
    """Merge a duplicate into the case that survives (one tenant only): the duplicate is closed
    with a link to the survivor (and, with `note`, a public reply to its requester saying so); the
    survivor's timeline gets a copy of the duplicate's customer-visible messages and an entry naming
    it, and the duplicate's requester (and followers) become the survivor's followers. Both rows
    are locked in id order, so two merges at once cannot deadlock or cross."""
    if actor is None:
        raise TypeError("a case service needs an actor")
    first, second = sorted((case_id, into_id))
    locked = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    case, into = locked.get(case_id), locked.get(into_id)
    for found, pk in ((case, case_id), (into, into_id)):
        if found is None or not _sees(actor, found.tenant_id):
            raise NotPermitted(f"{settings.CASE_KEY_PREFIX}-{pk} does not exist or is not visible to you.")
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            f"{case.key} was changed by someone else while you were looking at it. Nothing was merged; "
            "review the case and try again."
        )
    _merge_target(case, into)
    now, was = timezone.now(), case.status
    note = (note or "").strip()

    # The survivor: the duplicate's messages, its people, and an entry naming it.
    messages = list(
        case.interactions.filter(kind__in=[Interaction.Kind.INBOUND, Interaction.Kind.REPLY], public=True)
        .select_related("requester")
        .order_by("created_at", "id")
    )
    for message in messages:  # copies, at their own times, so the survivor reads in order
        _timeline(
            into,
            message.kind,
            actor=message.actor,
            now=message.created_at,
            body=message.body,
            data={**(message.data or {}), "merged_from": case.key, "merged_interaction": message.pk},
            public=message.public,
            channel=message.channel,
            requester=message.requester,
        )
    followers = {case.requester_id, *case.followers.values_list("pk", flat=True)} - {into.requester_id}
    if followers:
        into.followers.add(*followers)
    _touch(into, now)
    _timeline(
        into,
        Interaction.Kind.AUTOMATION,
        actor=actor,
        now=now,
        body=f"{case.key} “{case.subject}” was merged into this case by {_who(actor)}.",
        data={"merged": case.key, "merged_id": case.pk, "messages": len(messages), "followers": sorted(followers)},
    )

    # The duplicate: closed, pointing at the survivor; the requester told so if the agent wrote a note.
    if note:
        _timeline(case, Interaction.Kind.REPLY, actor=actor, now=now, body=note, public=True)
        if case.first_response_at is None:
            case.first_response_at = now
    case.duplicate_of = into
    case.status = Status.CLOSED
    case.status_changed_at = case.closed_at = now
    case.resolved_at = case.resolved_at or now
    impact = clocks.on_transition(case, was, Status.CLOSED, now)
    _touch(
        case,
        now,
        "duplicate_of",
        "status",
        "status_changed_at",
        "closed_at",
        "resolved_at",
        "first_response_at",
        sla=impact,
    )
    _timeline(
        case,
        Interaction.Kind.STATUS,
        actor=actor,
        now=now,
        body=f"Merged into {into.key} “{into.subject}”.",
        data={
            "from": was,
            "to": Status.CLOSED,
            "merged_into": into.key,
            "merged_into_id": into.pk,
            "sla": impact.notes,
        },
    )
    return into


# --- phone calls ------------------------------------------------------------------------------------------

CALL_DIRECTIONS = ("inbound", "outbound")
MAX_CALL = 24 * 3600


@_atomic
def case_log_call(*, case_id: int, actor, direction: str, duration_seconds: int, summary: str) -> Interaction:
    """Record a phone call on the case's timeline (direction, duration, summary). An outbound call
    is the agent answering the customer: like a public reply it sets `first_response_at` and stops
    the first-response clock. The entry records what the tenant's plan says about phone support and
    seed 001's rule (phone is for critical issues only): a call is never refused for them, the
    agent sees the warning and it stays on the case."""
    summary = (summary or "").strip()
    if direction not in CALL_DIRECTIONS:
        raise CaseError("Say whether the customer called in or you called them.")
    if not summary:
        raise CaseError("Write a short summary of the call.")
    if not 0 <= int(duration_seconds) <= MAX_CALL:
        raise CaseError("A call lasts between 0 minutes and 24 hours.")
    case = _lock(case_id, actor)
    now = timezone.now()
    fields, impact = [], ClockImpact()
    if direction == "outbound":
        if case.first_response_at is None:
            case.first_response_at = now
            fields.append("first_response_at")
        impact = clocks.on_public_reply(case, now)
    flags = triage.phone_flags(case.tenant.entitlements, priority=case.priority)
    _touch(case, now, *fields, sla=impact)
    return _timeline(
        case,
        Interaction.Kind.CALL,
        actor=actor,
        now=now,
        channel="phone",
        body=summary,
        data={
            "direction": direction,
            "duration_seconds": int(duration_seconds),
            "phone_flags": flags,
            "entitled": not triage.entitlement_flags(case.tenant.entitlements, channel="phone"),
            "first_response": bool(fields),
            "sla": impact.notes,
        },
    )


# --- saved views ------------------------------------------------------------------------------------------


@_atomic
def saved_view_create(
    *, actor, name: str, query: str = "", columns: list[str] | None = None, shared: bool = False
) -> SavedView:
    """A named queue filter: the actor's own, or shared with everyone (admins only). `name`, `query`
    and `columns` come cleaned from SavedViewForm (unique name per owner, the clean query without
    paging or columns, the optional columns shown — empty for the defaults)."""
    if shared and not roles.is_admin(actor):
        raise NotPermitted("Only admins can share a view.")
    return SavedView.objects.create(
        name=name, query=query, columns=list(columns or []), shared=shared, owner=None if shared else actor
    )


@_atomic
def saved_view_delete(*, view_id: int, actor) -> SavedView:
    """Delete one of the actor's own views (an admin may delete a shared one; built-in views stay).
    Raises SavedView.DoesNotExist for a missing or built-in view."""
    view = SavedView.objects.select_for_update().filter(builtin=False).get(pk=view_id)
    if not (view.owner_id == actor.pk or (view.shared and roles.is_admin(actor))):
        raise NotPermitted("You can only delete your own views.")
    view.delete()
    return view


# --- external ticket sync (cases.channels.zendesk) ------------------------------------------------------


@_atomic
def case_external_message(
    *, case_id: int, actor, body: str, public: bool, from_requester: bool, source: dict
) -> Interaction:
    """A comment that arrived from an external ticketing system (the Zendesk sync), its visibility
    kept: the requester's own public comment is a customer message, another public comment a public
    reply, a private one an internal note. `source` is the sync's marker (`data["external"]`: the
    system and its comment/audit ids), by which the sync's outbox knows not to send it back. `actor`
    is the system user (the sync)."""
    body = (body or "").strip()
    if not body:
        raise CaseError("An empty comment cannot be added.")
    case = _lock(case_id, actor)
    now = timezone.now()
    fields = []
    impact = ClockImpact()
    if public and not from_requester:
        if case.first_response_at is None:
            case.first_response_at = now
            fields.append("first_response_at")
        impact = clocks.on_public_reply(case, now)
    _touch(case, now, *fields, sla=impact)
    if public and from_requester:
        return _timeline(
            case,
            Interaction.Kind.INBOUND,
            actor=None,
            now=now,
            public=True,
            requester=case.requester,
            channel=case.channel,
            body=body,
            data={"external": source},
        )
    return _timeline(
        case,
        Interaction.Kind.REPLY if public else Interaction.Kind.NOTE,
        actor=actor,
        now=now,
        public=public,
        channel=case.channel if public else "",
        body=body,
        data={"external": source, "first_response": bool(fields), "sla": impact.notes},
    )


@_atomic
def case_external_update(
    *, case_id: int, actor, source: dict, subject: str | None = None, requester: Requester | None = None
) -> Case:
    """The subject or requester changed in an external ticketing system (the Zendesk sync). The
    requester must be a contact of the case's tenant. One FIELDS entry carrying the sync's marker."""
    case = _lock(case_id, actor)
    changes, fields = {}, []
    if subject is not None:
        subject = " ".join(subject.split())[:250]
        if not subject:
            raise CaseError("A case needs a subject.")
        if subject != case.subject:
            changes["subject"] = [case.subject, subject]
            case.subject = subject
            fields.append("subject")
    if requester is not None and requester.pk != case.requester_id:
        if requester.tenant_id != case.tenant_id:
            raise CaseError(f"{requester} is not a contact of {case.tenant}.")
        changes["requester"] = [str(case.requester), str(requester)]
        case.requester = requester
        fields.append("requester")
    if not fields:
        return case
    now = timezone.now()
    _touch(case, now, *fields)
    _timeline(case, Interaction.Kind.FIELDS, actor=actor, now=now, data={"changes": changes, "external": source})
    return case


# --- erasure (issue 18, point 4: a customer's right to be forgotten) ---------------------------------


def redact_text(text: str, needles: list[str], tombstone: str = "[erased]") -> str:
    """`text` with every case-insensitive occurrence of each needle (a name, an e-mail address)
    replaced by the tombstone; needles shorter than 3 characters are left alone."""
    import re

    for needle in sorted({n.strip() for n in needles if n and len(n.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(needle), tombstone, text, flags=re.IGNORECASE)
    return text


def case_redact_requester(*, case_id: int, actor, needles: list[str], requester_id: int) -> dict:
    """Erase a contact from one case: the mentions of them in its subject, description and messages
    become "[erased]", the attachments of their own messages are deleted (files too), and the timeline
    says an erasure happened (not what was erased). Metrics, SLA clocks and the audit trail stay: the
    audit trail records personal fields as hashes and is never rewritten (erasure by reference)."""
    case = _lock(case_id, actor)
    now = timezone.now()
    fields = []
    for name in ("subject", "description"):
        redacted = redact_text(getattr(case, name), needles)
        if redacted != getattr(case, name):
            setattr(case, name, redacted[:250] if name == "subject" else redacted)
            fields.append(name)
    messages = 0
    for interaction in Interaction.objects.select_for_update().filter(case=case).exclude(body=""):
        body = redact_text(interaction.body, needles)
        if body != interaction.body:
            Interaction.objects.filter(pk=interaction.pk).update(body=body)
            messages += 1
    theirs = Attachment.objects.filter(case=case, interaction__requester_id=requester_id)
    files = 0
    for attachment in theirs:
        attachment.file.delete(save=False)
        attachment.delete()
        files += 1
    _touch(case, now, *fields)
    _timeline(
        case,
        Interaction.Kind.AUTOMATION,
        actor=actor,
        now=now,
        body="A contact's personal data was erased from this case (right to be forgotten).",
        data={"erasure": {"messages": messages, "attachments": files, "fields": fields}},
    )
    return {"messages": messages, "attachments": files, "fields": fields}


def case_purge_attachments(*, case_id: int, actor, reason: str) -> int:
    """Delete a closed case's attachments, files too, past their retention (cases.retention_rules);
    the timeline says how many went and why. Returns how many."""
    case = _lock(case_id, actor)
    attachments = list(Attachment.objects.filter(case=case))
    for attachment in attachments:
        attachment.file.delete(save=False)
        attachment.delete()
    if attachments:
        _timeline(
            case,
            Interaction.Kind.AUTOMATION,
            actor=actor,
            now=timezone.now(),
            body=f"{len(attachments)} attachment(s) deleted: {reason}.",
            data={"retention": {"attachments": len(attachments)}},
        )
    return len(attachments)
