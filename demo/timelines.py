"""Realistic cases with full timelines: inbound message, assignment, status changes, public replies,
internal notes, customer follow-ups, reopens. `realistic_cases(world, n)` plans them
(`demo.planning.plan_case`) and writes them — a share through the real services in `cases.services`
(so the timeline and the audit trail are the real thing), back-dated afterwards, the rest directly
with `bulk_create` in the same shape — and replays their SLA clocks.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from auditlog.context import disable_auditlog, set_actor
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cases import services
from cases.choices import Status
from cases.closure.models import AutoClose, Closure
from cases.models import Case, Interaction, OutboundReply, Tag

from .planning import CasePlan, plan_case
from .world import Out, World, _quiet

# Share of realistic cases written through cases.services (the rest: bulk_create, same shape).
SERVICE_SHARE = 0.35
SERVICE_MAX = 600


# --- writing the plans ----------------------------------------------------------------------------


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
                services.case_transition(
                    case_id=case.pk,
                    to=step.to,
                    actor=step.actor,
                    reason=step.reason,
                    waiting_for=step.waiting_for,
                    waiting_note=step.waiting_note,
                    resolution=_DEMO_RESOLUTION if step.to == Status.RESOLVED else None,
                    closed_how=_closed_how(step.reason) if step.to == Status.CLOSED else "",
                )
            elif step.kind == "assign":
                kwargs = {}
                if step.owner is not None:
                    kwargs["owner"] = step.owner
                if step.team is not None:
                    kwargs["team"] = step.team
                services.case_assign(case_id=case.pk, actor=step.actor, **kwargs)
            elif step.kind in ("reply", "note"):
                _reply(case, step)
    return case.pk


def _reply(case: Case, step) -> None:
    """A scripted reply or note. On a security case the e-mail channel refuses a reply that asks the
    customer for details (seed 002, cases.channels.email.security): the agent asks by phone instead,
    and the timeline records that call as a note, as an agent following the rule would."""
    public = step.kind == "reply"
    try:
        with transaction.atomic():
            services.case_reply(case_id=case.pk, actor=step.actor, body=step.body, public=public)
    except services.CaseError:
        if not public:
            raise
        body = (
            f"Called the customer instead of e-mailing (security case: no requests for details by e-mail): {step.body}"
        )
        services.case_reply(case_id=case.pk, actor=step.actor, body=body, public=False)


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
    # The closure rows copy their case's created time (the reports select them by it).
    created = Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("created_at")[:1])
    for model in (AutoClose, Closure):
        model.objects.filter(case_id__in=by_case).update(case_created_at=created)
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
    # The replies went out when they "happened": their reply-outbox rows are sent, not queued (a beat
    # would otherwise e-mail the demo's contacts weeks of history now).
    when = {item.pk: item.created_at for item in changed}
    sent = list(OutboundReply.objects.filter(case_id__in=by_case, sent_at__isnull=True))
    for reply in sent:
        reply.sent_at = reply.send_after = reply.created_at = when.get(reply.interaction_id, reply.created_at)
        reply.external_id = "demo"
    OutboundReply.objects.bulk_update(sent, ["sent_at", "send_after", "created_at", "external_id"], batch_size=500)


def _write_direct(plans: list[CasePlan]) -> None:
    """The same timelines as the services would write, with bulk_create (no audit entries)."""
    with transaction.atomic(), disable_auditlog():
        cases = [
            Case(
                **_waiting_of(p),
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
                    waiting = {}
                    if s.waiting_for:
                        text = s.waiting_note if s.waiting_for == "other" else _waiting_label(s.waiting_for)
                        waiting = {"waiting_for": s.waiting_for, "waiting_note": s.waiting_note, "waiting_text": text}
                    interactions.append(
                        Interaction(
                            case=case,
                            kind=Interaction.Kind.STATUS,
                            actor=s.actor,
                            body=s.reason,
                            data={"from": status, "to": s.to, "reason": s.reason, "reopened": reopened, **waiting},
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


def _waiting_label(value: str) -> str:
    from cases.choices import WaitingFor

    return str(WaitingFor(value).label).lower()


def _waiting_of(plan: CasePlan) -> dict:
    """A case planned to end waiting on the customer keeps what its last move there waits for."""
    if plan.status != Status.WAITING_ON_CUSTOMER:
        return {}
    last = next((s for s in reversed(plan.steps) if s.kind == "status" and s.waiting_for), None)
    return {"waiting_for": last.waiting_for, "waiting_note": last.waiting_note} if last else {}


_TAG_IDS: dict[str, int] = {}


def _tag_id(name: str) -> int:
    if name not in _TAG_IDS:
        _TAG_IDS[name] = Tag.objects.get_or_create(name=name)[0].pk
    return _TAG_IDS[name]


# The resolution record a demo resolution carries (critical and high cases need one, cases.closure).
_DEMO_RESOLUTION = {
    "summary": "Fixed and verified with the customer's reproduction.",
    "evidence": "Error rate back to baseline; the customer's request succeeds.",
    "preventive_actions": "Regression test added; alert on the error rate.",
}


def _closed_how(reason: str) -> str:
    if reason.startswith("Auto-closed"):
        return "auto"
    return "confirmed" if "confirmed" in reason else ""
