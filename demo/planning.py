"""How a realistic case unfolds, planned before anything is written: `plan_case(world, rng, now)`
draws a tenant, a requester and a ticket from the world and the catalogue, then the case's timeline
(a `CasePlan` of `Step`s: triage, assignment, replies, notes, waits on the customer, customer
follow-ups, reopens, resolution, closing), fitted between its opening and now, with the case's
timestamps derived from it. Reads the `World` only; `demo.timelines` writes the plans.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cases.choices import IssueType, Priority, Status
from tenants.choices import SupportTier

from .replies import ACK, ASK, CONFIRMATIONS, CUSTOMER_FOLLOWUPS, NOTES, RESOLUTIONS
from .tickets import IT, C, Draft, H, L, M, draft_ticket, fill
from .world import World, owner_choices, pick_channel

if TYPE_CHECKING:
    from cases.models import Team
    from tenants.models import Requester, Resource, Tenant

REALISTIC_STATUS_MIX = [
    (Status.NEW, 10),
    (Status.TRIAGE, 10),
    (Status.IN_PROGRESS, 25),
    (Status.WAITING_ON_CUSTOMER, 15),
    (Status.RESOLVED, 20),
    (Status.CLOSED, 20),
]
# When each status's cases were opened: (min days ago, max days ago) — new cases are young, closed ones old.
AGE_DAYS = {
    Status.NEW: (0.0, 2.0),
    Status.TRIAGE: (0.05, 4.0),
    Status.IN_PROGRESS: (0.2, 20.0),
    Status.WAITING_ON_CUSTOMER: (0.5, 30.0),
    Status.RESOLVED: (0.5, 12.0),
    Status.CLOSED: (6.0, 60.0),
}
TRIAGE_MINUTES = {C: (2, 15), H: (10, 60), M: (30, 360), L: (60, 1440)}
WORK_HOURS = {C: 0.7, H: 3.0, M: 12.0, L: 30.0}  # median working stretch
# What a case of each issue type waits on the customer for (seed 003: logs, approval, repro steps).
WAITING_FOR = {
    IssueType.INCIDENT: ("logs", ""),
    IssueType.BUG: ("reproduction", ""),
    IssueType.CONFIGURATION: ("approval", ""),
    IssueType.QUESTION: ("other", "confirmation that the answer works for them"),
}


@dataclass
class Step:
    kind: str  # status | assign | reply | note | inbound
    offset: float  # seconds after the case was opened
    actor: object = None
    to: str = ""
    body: str = ""
    owner: object = None
    team: object = None
    reason: str = ""
    waiting_for: str = ""  # a move to waiting on the customer says what for (cases.choices.WaitingFor)
    waiting_note: str = ""

    at: datetime | None = None


@dataclass
class CasePlan:
    tenant: Tenant
    requester: Requester
    draft: Draft
    channel: str
    created_at: datetime
    team: Team | None
    status: str
    steps: list[Step]
    resources: list[Resource]

    # derived from the steps
    owner: object = None
    final_team: Team | None = None
    triaged_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    status_changed_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1


def plan_case(world: World, rng: random.Random, now: datetime, status: str | None = None) -> CasePlan:
    status = status or rng.choices([s for s, _ in REALISTIC_STATUS_MIX], [w for _, w in REALISTIC_STATUS_MIX])[0]
    tenant = rng.choices(world.tenants, world.weights())[0]
    spec = world.specs[tenant.pk]
    requester = rng.choice(world.requesters[tenant.pk])
    draft = draft_ticket(rng, now)
    if spec.tier == SupportTier.ENTERPRISE and rng.random() < 0.2:
        draft.tags = tuple(sorted(set(draft.tags) | {"vip"}))
    lo, hi = AGE_DAYS[status]
    age = timedelta(days=lo + (hi - lo) * rng.random() ** 1.3)
    created_at = now - age
    channel = pick_channel(rng, spec)
    users, weights = owner_choices(world, tenant.pk, draft)
    p = draft.priority
    it = IssueType(draft.issue_type)

    unassigned = {Status.NEW: 0.8, Status.TRIAGE: 0.35}.get(status, 0.06)
    owner = None if rng.random() < unassigned else rng.choices(users, weights)[0]
    agents = [u for u in users if u.username not in ("admin", "manager")] or users
    triager = owner or rng.choice(agents)
    worker = owner or triager
    name = requester.name.split()[0]

    steps: list[Step] = []
    t = 0.0

    def work(scale: float = 1.0) -> float:
        return 3600 * WORK_HOURS[p] * scale * rng.lognormvariate(0, 0.6)

    def add(kind, **kw):
        steps.append(Step(kind, t, **kw))

    if status == Status.NEW:
        if rng.random() < 0.15:
            t += work(0.5)
            add("inbound", body="Any update on this?")
        return _finish(
            CasePlan(
                tenant,
                requester,
                draft,
                channel,
                created_at,
                tenant.default_team,
                status,
                steps,
                _pick_resources(world, tenant, draft, rng),
            ),
            now,
        )

    t += 60 * rng.uniform(*TRIAGE_MINUTES[p])
    add(
        "status",
        actor=triager,
        to=Status.TRIAGE,
        reason=rng.choice(
            ["", "Accepted; classification confirmed.", f"Confirmed {Priority(p).label.lower()} priority."]
        ),
    )
    if owner is not None:
        t += rng.uniform(30, 600)
        add("assign", actor=triager, owner=owner)
    if status == Status.TRIAGE:
        if rng.random() < 0.5:
            t += rng.uniform(60, 1800)
            add("reply", actor=triager, body=fill(rng.choice(ACK), rng, now).replace("there", name))
        return _finish(
            CasePlan(
                tenant,
                requester,
                draft,
                channel,
                created_at,
                tenant.default_team,
                status,
                steps,
                _pick_resources(world, tenant, draft, rng),
            ),
            now,
        )

    t += rng.uniform(60, 1800)
    first_ask = rng.random() < 0.4
    add(
        "reply",
        actor=worker,
        body=(
            fill(rng.choice(ASK[it]), rng, now) if first_ask else fill(rng.choice(ACK), rng, now).replace("there", name)
        ),
    )
    t += rng.uniform(60, 900)
    add("status", actor=worker, to=Status.IN_PROGRESS, reason="")
    if rng.random() < 0.55:
        t += work(0.3)
        add("note", actor=worker, body=fill(rng.choice(NOTES[it]), rng, now))
    engineering = world.teams["engineering"] if draft.issue_type in (IT.BUG, IT.INCIDENT) else None
    if engineering and p <= H and rng.random() < 0.35:
        t += work(0.2)
        add(
            "assign",
            actor=worker,
            team=world.teams["sre"] if draft.issue_type == IT.INCIDENT and p == C else engineering,
        )
        t += rng.uniform(60, 600)
        add("note", actor=worker, body="Escalated with reproduction data, request ids and the affected resources.")

    cycles = rng.choices([0, 1, 2], [50, 38, 12])[0]
    for _ in range(cycles):
        t += work(0.5)
        add("reply", actor=worker, body=fill(rng.choice(ASK[it]), rng, now))
        t += rng.uniform(10, 300)
        add(
            "status",
            actor=worker,
            to=Status.WAITING_ON_CUSTOMER,
            reason="Waiting for logs / confirmation from the customer.",
            waiting_for=WAITING_FOR[it][0],
            waiting_note=WAITING_FOR[it][1],
        )
        t += 3600 * rng.uniform(1, 40)
        add("inbound", body=fill(rng.choice(CUSTOMER_FOLLOWUPS[it]), rng, now))
        t += rng.uniform(120, 3600)
        add("status", actor=worker, to=Status.IN_PROGRESS, reason="Customer replied.")
        if rng.random() < 0.4:
            t += work(0.2)
            add("note", actor=worker, body=fill(rng.choice(NOTES[it]), rng, now))

    if status == Status.WAITING_ON_CUSTOMER:
        t += work(0.5)
        add("reply", actor=worker, body=fill(rng.choice(ASK[it]), rng, now))
        t += rng.uniform(10, 300)
        add(
            "status",
            actor=worker,
            to=Status.WAITING_ON_CUSTOMER,
            reason="Waiting for logs / confirmation from the customer.",
            waiting_for=WAITING_FOR[it][0],
            waiting_note=WAITING_FOR[it][1],
        )
    elif status == Status.IN_PROGRESS:
        if rng.random() < 0.08:  # resolved once, then reopened by the customer
            t += work()
            add("reply", actor=worker, body=fill(rng.choice(RESOLUTIONS[it]), rng, now))
            t += rng.uniform(10, 300)
            add("status", actor=worker, to=Status.RESOLVED, reason="Fix confirmed on our side.")
            t += 3600 * rng.uniform(2, 48)
            add("inbound", body="This is happening again since this morning, same error as before.")
            t += rng.uniform(300, 3600)
            add("status", actor=worker, to=Status.IN_PROGRESS, reason="Customer reports a recurrence.")
        elif rng.random() < 0.4:
            t += work(0.4)
            add(
                "reply",
                actor=worker,
                body=(
                    "Quick update: we have identified the cause and are working on a fix. "
                    "Next update within the agreed cadence."
                ),
            )
    else:  # resolved or closed
        t += work()
        add("reply", actor=worker, body=fill(rng.choice(RESOLUTIONS[it]), rng, now))
        t += rng.uniform(10, 300)
        add(
            "status",
            actor=worker,
            to=Status.RESOLVED,
            reason=rng.choice(
                ["Fix deployed and verified.", "Configuration corrected.", "Answered; no further action."]
            ),
        )
        if status == Status.CLOSED:
            if rng.random() < 0.5:
                t += 3600 * rng.uniform(1, 30)
                add("inbound", body=rng.choice(CONFIRMATIONS))
                t += rng.uniform(300, 7200)
                add("status", actor=worker, to=Status.CLOSED, reason="Customer confirmed.")
            else:
                t += 86400 * rng.uniform(3, 7)
                add("status", actor=worker, to=Status.CLOSED, reason="Auto-closed after 7 days without reply.")

    return _finish(
        CasePlan(
            tenant,
            requester,
            draft,
            channel,
            created_at,
            tenant.default_team,
            status,
            steps,
            _pick_resources(world, tenant, draft, rng),
        ),
        now,
    )


def _pick_resources(world: World, tenant: Tenant, draft: Draft, rng: random.Random) -> list[Resource]:
    pool = world.resources.get(tenant.pk) or []
    if pool and draft.issue_type in (IT.INCIDENT, IT.BUG) and rng.random() < 0.6:
        return rng.sample(pool, rng.randint(1, min(2, len(pool))))
    return []


def _finish(plan: CasePlan, now: datetime) -> CasePlan:
    """Fit the timeline between the case's opening and now, then derive the case's timestamps."""
    room = (now - plan.created_at).total_seconds() - 60
    last = plan.steps[-1].offset if plan.steps else 0
    scale = min(1.0, max(room, 1) / last) if last > 0 else 1.0
    for step in plan.steps:
        step.at = plan.created_at + timedelta(seconds=step.offset * scale)
    plan.status_changed_at = plan.updated_at = plan.created_at
    plan.final_team = plan.team
    for step in plan.steps:
        if step.kind != "inbound":
            plan.version += 1
            plan.updated_at = step.at
        if step.kind == "status":
            plan.status_changed_at = step.at
            if step.to == Status.TRIAGE and plan.triaged_at is None:
                plan.triaged_at = step.at
            elif step.to == Status.RESOLVED:
                plan.resolved_at = step.at
            elif step.to == Status.CLOSED:
                plan.closed_at = step.at
            elif step.to == Status.IN_PROGRESS and plan.resolved_at is not None:
                plan.resolved_at = plan.closed_at = None  # a reopen
        elif step.kind == "reply" and plan.first_response_at is None:
            plan.first_response_at = step.at
        elif step.kind == "assign":
            if step.owner is not None:
                plan.owner = step.owner
            if step.team is not None:
                plan.final_team = step.team
    last_status = [s.to for s in plan.steps if s.kind == "status"]
    assert (last_status[-1] if last_status else Status.NEW) == plan.status, (plan.status, last_status)
    return plan
