"""Tier routing (seed 001's escalation matrix): a case's default support tier follows its priority —
critical → the full team (tier 3), high → senior agents (tier 2), medium and low → tier 1 — and an
agent moves it with "Escalate to tier N" and a reason (tier 1 cannot resolve → tier 2; the customer
is not satisfied → tier 3). The move is a step on the case's timeline (cases.services.case_record_step,
`data["tier"]`, the reason), so the case's history is its tier history; escalating to tier 3 also
pages on-call (the playbook's P1 rule: the full team)."""

from __future__ import annotations

from cases import services as case_services
from cases.choices import Priority
from cases.models import Case, Interaction

TIERS = {1: "Tier 1 (triage within 15 min)", 2: "Tier 2 (senior)", 3: "Tier 3 (full team, engineering)"}


class TierError(Exception):
    pass


def default_tier(priority: int) -> int:
    if priority == Priority.CRITICAL:
        return 3
    if priority == Priority.HIGH:
        return 2
    return 1


def current_tier(case: Case) -> tuple[int, str]:
    """(tier, how it was set): the latest "Escalate to tier" step, else the priority's default."""
    latest = (
        Interaction.objects.filter(case_id=case.pk, kind=Interaction.Kind.AUTOMATION, data__has_key="tier")
        .order_by("-created_at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    if latest:
        return int(latest["tier"]), f"escalated: {latest.get('reason', '')}"
    return default_tier(case.priority), f"default for {case.get_priority_display().lower()} priority"


def escalate_to_tier(*, case: Case, actor, tier: int, reason: str):
    from . import services

    reason = " ".join((reason or "").split())[:500]
    if tier not in TIERS:
        raise TierError("Choose tier 1, 2 or 3.")
    if not reason:
        raise TierError("Say why the case goes to that tier (the reason is recorded).")
    now_tier, _ = current_tier(case)
    if tier == now_tier:
        raise TierError(f"{case.key} is at tier {tier} already.")
    entry = case_services.case_record_step(
        case_id=case.pk,
        actor=actor,
        body=f"Escalated to {TIERS[tier]}: {reason}",
        data={"tier": tier, "from_tier": now_tier, "reason": reason},
    )
    if tier == 3:
        services.page_from_case(case=case, actor=actor, reason=f"Escalated to tier 3: {reason}")
    return entry
