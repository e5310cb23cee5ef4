"""SRE escalation (issue 14 point 6; seed 003 "P0 or repeated error budget burn → page on-call,
open/attach incident, grant temporary elevated access following least privilege. Case owner remains
customer conduit").

Two triggers: an agent's *Escalate to SRE* on a case (its panel), and the multi-window burn-rate rule
over the tenant's SLI history (`burn_rate_sweep`, beat every minute; rules in
settings.SRE_BURN_RATE_RULES, `burn.py`). Either way `sre_escalate`, in one transaction with the
tenant row locked (two sweeps, or a sweep and an agent, never open two): attaches to the SRE
escalation of the tenant whose incident is still active, else opens or attaches an incident (an
active one touching the tenant, else a new SEV1), pages on-call through `page_on_call` (the one place
the on-call paging chain plugs in), grants the responder view access to that tenant only for
settings.SRE_ACCESS_HOURS (tenants.access: revoked by beat at expiry, shown on the tenant console,
audited), and says on the case and the incident that the case owner stays the customer's contact.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases import services as case_services
from cases.models import Case
from cases.notify import queue_notifications
from companyos import roles
from incidents import selectors as incident_selectors
from incidents import services as incident_services
from incidents.models import Incident
from tenants.access import AccessError, temporary_access_grant
from tenants.models import Tenant
from tenants.selectors import can_see_tenant
from tenants.telemetry import SLI

from . import burn
from .models import SREEscalation
from .services import EscalationError


def page_on_call(*, tenant: Tenant, case_id: int | None, incident: Incident, subject: str, body: str) -> int:
    """Page on-call about an SRE escalation: a page through the on-call escalation chain
    (incidents.oncall.services.page_open — the default chain, walked step by step until someone
    acknowledges), noted on the case and the incident. Without any chain configured, the fallback is
    the SLA action's old way: every active SRE by e-mail and the Slack webhook, on the cases outbox
    in this transaction (about the case, or about no case for a burn-rate escalation), sent by the
    relay with retries. Returns how many were told (a page: 1, its chain then notifies)."""
    from incidents.oncall.models import Page
    from incidents.oncall.services import OnCallError, page_open

    try:
        page_open(
            actor=roles.system_user(),
            title=subject,
            body=body,
            source=Page.Source.INCIDENT,
            case_id=case_id,
            incident_id=incident.pk,
        )
    except OnCallError:
        pass  # no escalation chain configured: tell every SRE, as before
    else:
        return 1
    emails = list(
        get_user_model()
        .objects.filter(groups__name=roles.SRE, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    # The outbox, in this transaction (a burn-rate escalation has no case: a notification without one).
    return queue_notifications(case_id=case_id, emails=emails, subject=subject, body=body, slack=True)


def _open_escalation(tenant_id: int) -> SREEscalation | None:
    return (
        SREEscalation.objects.filter(tenant_id=tenant_id, incident__status__in=Incident.ACTIVE)
        .select_related("incident")
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def sre_escalate(
    *,
    tenant_id: int,
    actor,
    reason: str,
    trigger: str = SREEscalation.Trigger.CASE,
    case_id: int | None = None,
    responder=None,
    hours: float | None = None,
    details: dict | None = None,
) -> tuple[SREEscalation, bool]:
    """Escalate to SRE; returns (the escalation, whether it is new). See the module docstring."""
    tenant = Tenant.objects.select_for_update().filter(pk=tenant_id).first()
    if tenant is None or not (roles.is_system(actor) or can_see_tenant(actor, tenant.pk)):
        raise EscalationError("That tenant does not exist or is not visible to you.")
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise EscalationError("Say why SRE is needed.")
    case = None
    if case_id is not None:
        case = Case.objects.filter(pk=case_id, tenant=tenant).select_related("owner").first()
        if case is None:
            raise EscalationError("That case is not one of the tenant's.")
    hours = settings.SRE_ACCESS_HOURS if hours in (None, "") else hours
    system = roles.system_user()
    existing = _open_escalation(tenant.pk)
    if existing is not None:
        if case is not None and not existing.incident.cases.filter(pk=case.pk).exists():
            incident_services.incident_link_cases(incident_id=existing.incident_id, actor=system, case_ids=[case.pk])
        return existing, False
    incident = incident_selectors.incidents_touching_tenant(tenant.pk).filter(status__in=Incident.ACTIVE).first()
    if incident is None:
        title = case.subject if case else f"Error-budget burn on {tenant.name}"
        incident = incident_services.incident_declare(
            actor=system,
            title=title[:250],
            severity="SEV1",
            summary=reason,
            tenants=[tenant],
            declared_from=case,
        )
    if case is not None and not incident.cases.filter(pk=case.pk).exists():
        incident_services.incident_link_cases(incident_id=incident.pk, actor=system, case_ids=[case.pk])
    escalation = SREEscalation.objects.create(
        tenant=tenant,
        case=case,
        incident=incident,
        trigger=trigger,
        reason=reason,
        details=details or {},
        created_by=actor,
    )
    contact = (case.owner.get_full_name() or case.owner.get_username()) if case and case.owner else "the case owner"
    access_text = ""
    if responder is not None:
        try:
            grant = temporary_access_grant(
                tenant=tenant,
                user=responder,
                actor=system,
                hours=hours,
                reason=f"SRE escalation {incident.key}: {reason}"[:300],
                source=f"SRE escalation {incident.key}",
            )
        except AccessError as error:
            access_text = f" No access granted: {error}"
        else:
            escalation.responder, escalation.access_id = responder, grant.pk
            access_text = (
                f" {responder.get_full_name() or responder.get_username()} may see {tenant.name} "
                f"until {grant.expires_at:%Y-%m-%d %H:%M} UTC (view only, this tenant only)."
            )
    escalation.paged = page_on_call(
        tenant=tenant,
        case_id=case.pk if case else None,
        incident=incident,
        subject=f"PAGE: SRE escalation on {tenant.name} ({incident.key})"[:300],
        body=f"{reason}\n\nIncident: {incident.get_absolute_url()}" + (f"\nCase: {case.key}" if case else ""),
    )
    escalation.save(update_fields=["responder", "access_id", "paged"])
    note = (
        f"Escalated to SRE ({escalation.get_trigger_display().lower()}): {reason}.{access_text} "
        f"{contact} stays the customer's contact."
    )
    incident_services.incident_post_update(incident_id=incident.pk, actor=system, body=note, public=False)
    if case is not None:
        case_services.case_record_event(
            case_id=case.pk,
            actor=actor if not roles.is_system(actor) else system,
            body=f"{incident.key}: {note}"[:2000],
            data={"sre_escalation": escalation.pk, "incident": incident.pk},
        )
    return escalation, True


# --- the burn-rate rule (beat) ------------------------------------------------------------------------------


def burn_rate_sweep(*, now=None, rules: list[burn.BurnRule] | None = None) -> dict:
    """Evaluate the burn-rate rules over every tenant's SLI observations of the longest window and
    escalate each tenant with a firing SLI (once: `sre_escalate` attaches to the tenant's open
    escalation). Returns the counts."""
    now = now or timezone.now()
    rules = rules if rules is not None else burn.parse_rules(settings.SRE_BURN_RATE_RULES)
    if not rules:
        return {"tenants": 0, "escalated": 0}
    longest = max(r.long_minutes for r in rules)
    series: dict[tuple[int, str], list[burn.Point]] = defaultdict(list)
    rows = SLI.objects.filter(observed_at__gt=now - timedelta(minutes=longest), observed_at__lte=now).values_list(
        "tenant_id", "name", "observed_at", "value", "objective"
    )
    for tenant_id, name, at, value, objective in rows.iterator():
        series[(tenant_id, name)].append(burn.Point(at, value, objective))
    hits: dict[int, list[dict]] = defaultdict(list)
    for (tenant_id, name), points in series.items():
        for rule, long_rate, short_rate in burn.firing(points, rules, now):
            hits[tenant_id].append(
                {"sli": name, "rule": rule.label, "long": round(long_rate, 2), "short": round(short_rate, 2)}
            )
    escalated = 0
    system = roles.system_user()
    for tenant_id, fired in sorted(hits.items()):
        first = fired[0]
        _, new = sre_escalate(
            tenant_id=tenant_id,
            actor=system,
            trigger=SREEscalation.Trigger.BURN_RATE,
            reason=f"{first['sli']} burning its error budget at {first['long']}× ({first['rule']})",
            details={"fired": fired, "at": now.isoformat()},
        )
        escalated += int(new)
    return {"tenants": len(hits), "escalated": escalated}
