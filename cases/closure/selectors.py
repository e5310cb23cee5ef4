"""Reads for the case page's Closure panel and the tenant console (permission checked by the caller:
the case was read through cases.selectors.case_get_for_user, the tenant through the console)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from ..models import Case, Interaction, SLAPolicy
from .models import AutoClose, Closure
from .rules import RESOLUTION_FIELDS, nps_group


@dataclass
class ClosurePanel:
    pending: AutoClose | None
    resolution: list[tuple[str, str]]
    closures: list[Closure]
    root_cause_allowed: bool = False  # the policy stops the resolution clock on a root cause with timeline


def closure_panel(case: Case) -> ClosurePanel:
    """The pending auto-close (if resolved), the latest resolution record, the closures with their
    survey answers (newest first, at most 10). Three queries."""
    pending = AutoClose.objects.filter(case=case, state=AutoClose.State.PENDING).order_by("-resolved_at").first()
    entry = (
        Interaction.objects.filter(case=case, kind=Interaction.Kind.STATUS, data__has_key="resolution")
        .order_by("-created_at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    record = (entry or {}).get("resolution", {})
    resolution = [(label, record[name]) for name, label in RESOLUTION_FIELDS if record.get(name)]
    closures = list(Closure.objects.filter(case=case).select_related("actor").order_by("-closed_at")[:10])
    for closure in closures:
        closure.nps_group = nps_group(closure.nps)
    allowed = (
        case.status in ("triage", "in_progress", "waiting_on_customer")
        and case.sla_policy_id is not None
        and SLAPolicy.objects.filter(pk=case.sla_policy_id, root_cause_stops_resolution=True).exists()
    )
    return ClosurePanel(pending=pending, resolution=resolution, closures=closures, root_cause_allowed=allowed)


def tenant_satisfaction(tenant_id: int, *, since) -> dict:
    """A tenant's survey answers for closures since `since`: closures, surveys sent, answered, mean
    CSAT, NPS (promoters − detractors, in percent of NPS answers), low scores. One query."""
    agg = Closure.objects.filter(tenant_id=tenant_id, closed_at__gte=since).aggregate(
        closed=Count("*"),
        sent=Count("pk", filter=Q(survey_sent_at__isnull=False)),
        answered=Count("pk", filter=Q(csat__isnull=False)),
        csat=Avg("csat"),
        nps_answers=Count("pk", filter=Q(nps__isnull=False)),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
        unconfirmed=Count("pk", filter=Q(how="unconfirmed")),
        low=Count("pk", filter=Q(low_score_notified_at__isnull=False)),
    )
    nps = None
    if agg["nps_answers"]:
        nps = round(100 * (agg["promoters"] - agg["detractors"]) / agg["nps_answers"])
    rate = round(100 * agg["answered"] / agg["sent"]) if agg["sent"] else None
    csat = round(agg["csat"], 2) if agg["csat"] is not None else None
    return {**agg, "nps": nps, "csat": csat, "response_rate": rate}


def credits_visible_to(user, *, state: str = "pending"):
    """Closings flagged for an SLA credit, of the tenants `user` may see: `state` pending (oldest
    first), decided (newest decision first) or all."""
    from tenants.selectors import visible_tenant_ids

    qs = Closure.objects.exclude(credit="").select_related("case", "tenant", "credit_decided_by")
    ids = visible_tenant_ids(user)
    if ids is not None:
        qs = qs.filter(tenant_id__in=ids) if ids else qs.none()
    if state == "pending":
        return qs.filter(credit="pending").order_by("closed_at", "id")
    if state == "decided":
        return qs.exclude(credit="pending").order_by("-credit_decided_at", "-id")
    return qs.order_by("-closed_at", "-id")
