"""Realistic cases with full timelines: inbound message, assignment, status changes, public replies,
internal notes, customer follow-ups, reopens. `plan_case` draws a case's plan (a `CasePlan` of
`Step`s) from the world; `realistic_cases(world, n)` writes them — a share through the real services
in `cases.services` (so the timeline and the audit trail are the real thing), back-dated afterwards,
the rest directly with `bulk_create` in the same shape — and replays their SLA clocks.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditlog.context import disable_auditlog, set_actor
from django.db import transaction
from django.utils import timezone

from cases import services
from cases.choices import IssueType, Priority, Status
from cases.models import Case, Interaction, Tag, Team
from tenants.choices import SupportTier
from tenants.models import Requester, Resource, Tenant

from .tickets import (
    ACK,
    ASK,
    CONFIRMATIONS,
    CUSTOMER_FOLLOWUPS,
    IT,
    NOTES,
    RESOLUTIONS,
    C,
    Draft,
    H,
    L,
    M,
    draft_ticket,
    fill,
)
from .world import Out, World, _quiet, owner_choices, pick_channel

# Share of realistic cases written through cases.services (the rest: bulk_create, same shape).
SERVICE_SHARE = 0.35
SERVICE_MAX = 600


# --- realistic cases with timelines ---------------------------------------------------------------

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
                body="Quick update: we have identified the cause and are working on a fix. Next update within the agreed cadence.",
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


def _who(user) -> str:
    return user.get_full_name() or user.get_username()


def realistic_cases(
    world: World,
    n: int,
    *,
    out: Out = _quiet,
    seed: int = 7,
    now: datetime | None = None,
    service_share: float = SERVICE_SHARE,
    service_max: int = SERVICE_MAX,
) -> int:
    """Write `n` cases with full timelines, in the order they were opened (ids follow time)."""
    if n <= 0:
        return 0
    rng = random.Random(seed)
    now = now or timezone.now()
    _TAG_IDS.clear()  # ids cached by an earlier call may belong to rows rolled back since (tests)
    plans = sorted((plan_case(world, rng, now) for _ in range(n)), key=lambda p: p.created_at)
    n_service = min(service_max, round(n * service_share))
    via_service = set(rng.sample(range(n), n_service)) if n_service else set()
    started = time.perf_counter()
    for chunk in range(0, n, 100):
        # One transaction per 100 cases (the services' own transactions become savepoints): one
        # commit instead of one per service call.
        with transaction.atomic():
            buffer: list[CasePlan] = []
            service_made: list[tuple[int, CasePlan]] = []
            for i in range(chunk, min(chunk + 100, n)):
                if i in via_service:
                    if buffer:
                        _write_direct(buffer)
                        buffer = []
                    service_made.append((_write_via_services(plans[i]), plans[i]))
                else:
                    buffer.append(plans[i])
            if buffer:
                _write_direct(buffer)
            _backdate(service_made)
        out(f"  {min(chunk + 100, n):,}/{n:,} cases with timelines ({time.perf_counter() - started:.1f} s)")
    _replay_clocks(plans, out)
    return n


def _replay_clocks(plans, out: Out) -> None:
    """SLA clocks for the realistic cases, replayed from their back-dated timelines."""
    from cases.services import case_replay_clocks

    started = time.perf_counter()
    first = min(p.created_at for p in plans)
    with transaction.atomic():
        for case in (
            Case.objects.filter(created_at__gte=first, sla_snapshot__isnull=True)
            .select_related("tenant")
            .order_by("pk")
        ):
            case_replay_clocks(case=case)
    out(f"  SLA clocks replayed from the timelines ({time.perf_counter() - started:.1f} s)")


def _write_via_services(plan: CasePlan) -> int:
    """The real services, as agents would have used them; back-dated afterwards by `_backdate`."""
    d = plan.draft
    with set_actor(None):
        case = services.case_create(
            actor=None,
            tenant=plan.tenant,
            requester=plan.requester,
            subject=d.subject,
            description=d.description,
            priority=d.priority,
            category=d.category,
            issue_type=d.issue_type,
            environment=d.environment,
            channel=plan.channel,
            team=plan.team,
            tags=list(d.tags),
        )
    if plan.resources:
        case.affected_resources.add(*plan.resources)
    for step in plan.steps:
        if step.kind == "inbound":
            Interaction.objects.create(
                case=case,
                kind=Interaction.Kind.INBOUND,
                public=True,
                requester=plan.requester,
                channel=plan.channel,
                body=step.body,
                data={"follow_up": True},
            )
            continue
        with set_actor(step.actor):
            if step.kind == "status":
                services.case_transition(case_id=case.pk, to=step.to, actor=step.actor, reason=step.reason)
            elif step.kind == "assign":
                kwargs = {}
                if step.owner is not None:
                    kwargs["owner"] = step.owner
                if step.team is not None:
                    kwargs["team"] = step.team
                services.case_assign(case_id=case.pk, actor=step.actor, **kwargs)
            elif step.kind in ("reply", "note"):
                services.case_reply(case_id=case.pk, actor=step.actor, body=step.body, public=step.kind == "reply")
    return case.pk


def _backdate(made: list[tuple[int, CasePlan]]) -> None:
    """Move the service-made cases and their timelines back to when they 'happened'. Audit entries
    keep their real (seed-time) timestamps: they are immutable and record when the rows were written."""
    if not made:
        return
    by_case = {pk: plan for pk, plan in made}
    cases = list(Case.objects.filter(pk__in=by_case))
    for case in cases:
        plan = by_case[case.pk]
        case.created_at = plan.created_at
        case.updated_at = plan.updated_at
        case.status_changed_at = plan.status_changed_at
        case.triaged_at = plan.triaged_at
        case.first_response_at = plan.first_response_at
        case.resolved_at = plan.resolved_at
        case.closed_at = plan.closed_at
    fields = [
        "created_at",
        "updated_at",
        "status_changed_at",
        "triaged_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
    ]
    Case.objects.bulk_update(cases, fields, batch_size=500)
    rows = list(
        Interaction.objects.filter(case_id__in=by_case).order_by("case_id", "id").only("id", "case_id", "created_at")
    )
    grouped: dict[int, list[Interaction]] = {}
    for row in rows:
        grouped.setdefault(row.case_id, []).append(row)
    changed = []
    for case_id, items in grouped.items():
        plan = by_case[case_id]
        times = [plan.created_at] + [s.at for s in plan.steps]
        if len(times) != len(items):
            raise RuntimeError(f"case {case_id}: planned {len(times)} timeline entries, services wrote {len(items)}")
        for item, at in zip(items, times):
            item.created_at = at
            changed.append(item)
    Interaction.objects.bulk_update(changed, ["created_at"], batch_size=500)


def _write_direct(plans: list[CasePlan]) -> None:
    """The same timelines as the services would write, with bulk_create (no audit entries)."""
    with transaction.atomic(), disable_auditlog():
        cases = [
            Case(
                tenant=p.tenant,
                requester=p.requester,
                subject=p.draft.subject,
                description=p.draft.description,
                status=p.status,
                priority=p.draft.priority,
                category=p.draft.category,
                issue_type=p.draft.issue_type,
                environment=p.draft.environment,
                channel=p.channel,
                owner=p.owner,
                team=p.final_team,
                created_at=p.created_at,
                updated_at=p.updated_at,
                status_changed_at=p.status_changed_at,
                triaged_at=p.triaged_at,
                first_response_at=p.first_response_at,
                resolved_at=p.resolved_at,
                closed_at=p.closed_at,
                version=p.version,
            )
            for p in plans
        ]
        Case.objects.bulk_create(cases)
        interactions, tag_rows, resource_rows = [], [], []
        TagThrough, ResourceThrough = Case.tags.through, Case.affected_resources.through
        for case, p in zip(cases, plans):
            interactions.append(
                Interaction(
                    case=case,
                    kind=Interaction.Kind.INBOUND,
                    public=True,
                    requester=p.requester,
                    channel=p.channel,
                    body=p.draft.description,
                    data={"opened_by": "customer"},
                    created_at=p.created_at,
                )
            )
            status, owner, team, responded = Status.NEW, None, p.team, False
            for s in p.steps:
                if s.kind == "inbound":
                    interactions.append(
                        Interaction(
                            case=case,
                            kind=Interaction.Kind.INBOUND,
                            public=True,
                            requester=p.requester,
                            channel=p.channel,
                            body=s.body,
                            data={"follow_up": True},
                            created_at=s.at,
                        )
                    )
                elif s.kind == "status":
                    reopened = status in (Status.RESOLVED, Status.CLOSED) and s.to == Status.IN_PROGRESS
                    interactions.append(
                        Interaction(
                            case=case,
                            kind=Interaction.Kind.STATUS,
                            actor=s.actor,
                            body=s.reason,
                            data={"from": status, "to": s.to, "reason": s.reason, "reopened": reopened},
                            created_at=s.at,
                        )
                    )
                    status = s.to
                elif s.kind == "assign":
                    changes = {}
                    if s.owner is not None:
                        changes["owner"] = [_who(owner) if owner else None, _who(s.owner)]
                        owner = s.owner
                    if s.team is not None:
                        changes["team"] = [team.name if team else None, s.team.name]
                        team = s.team
                    interactions.append(
                        Interaction(
                            case=case,
                            kind=Interaction.Kind.ASSIGNMENT,
                            actor=s.actor,
                            data={"changes": changes},
                            created_at=s.at,
                        )
                    )
                else:
                    public = s.kind == "reply"
                    first = public and not responded
                    responded = responded or public
                    interactions.append(
                        Interaction(
                            case=case,
                            kind=Interaction.Kind.REPLY if public else Interaction.Kind.NOTE,
                            public=public,
                            actor=s.actor,
                            channel=p.channel if public else "",
                            body=s.body,
                            data={"first_response": first},
                            created_at=s.at,
                        )
                    )
            tag_rows += [TagThrough(case_id=case.pk, tag_id=_tag_id(t)) for t in p.draft.tags]
            resource_rows += [ResourceThrough(case_id=case.pk, resource_id=r.pk) for r in p.resources]
        Interaction.objects.bulk_create(interactions, batch_size=1000)
        TagThrough.objects.bulk_create(tag_rows, batch_size=1000)
        ResourceThrough.objects.bulk_create(resource_rows, batch_size=1000)


_TAG_IDS: dict[str, int] = {}


def _tag_id(name: str) -> int:
    if name not in _TAG_IDS:
        _TAG_IDS[name] = Tag.objects.get_or_create(name=name)[0].pk
    return _TAG_IDS[name]
