"""Auto-enrichment of new cases (seed 003, "New: auto-enrich with tenant, health, and past cases;
auto-triage priority by severity signals") and entitlement checks at intake.

`suggest_priority` is pure: text and signals in, a priority and the reasons out, following the
severity criteria of seed 002. `capture_context` reads the tenant's telemetry, incidents and recent
cases at one instant and stores them as a CaseContext; a Celery task runs it when a case opens and
an agent can refresh it. The agent's accept/override is recorded on the context (and a changed
priority goes through the case service, so its SLA clocks re-target).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .choices import OPEN_STATUSES, Environment, IssueType, Priority

# --- priority suggestion (pure) ---------------------------------------------------------------------

ALL_FAILING = re.compile(r"\b(all|every)\b[^.]{0,40}\b(fail\w*|500s?|errors?|down|time ?outs?|return(s|ing)? 5\d\d)\b|\b(complete|total|full)\b[^.]{0,20}\boutage\b|\bis down\b|\bcompletely (down|broken|non-functional)\b", re.I)
SECURITY = re.compile(r"unauthori[sz]ed access|data (breach|leak)|security (breach|vulnerability|incident)|exploit|leak(ed|ing)? (customer )?data", re.I)
PAYMENTS = re.compile(r"\b(payment|billing|checkout|transaction)s?\b[^.]{0,30}\b(down|fail\w*|broken)\b", re.I)
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+/\S+", re.I)
FAILING = re.compile(r"\b5\d\d\b|\bfail\w*\b|\berrors?\b|\btime ?outs?\b", re.I)
DEGRADED = re.compile(r"\b([2-9]|\d{2,})\s?x\b|\b(latency|slow(er|ness)?|degrad\w*)\b", re.I)
AUTH_SUBSET = re.compile(r"\b40[13]\b|\bunauthori[sz]ed\b|\bforbidden\b", re.I)
DOCS = re.compile(r"\b(docs?|documentation|openapi|swagger|readme)\b", re.I)
EDGE = re.compile(r"\b422\b|\bvalidation\b|\bedge case\b|\binconsistent\b", re.I)
QUESTION = re.compile(r"^\s*(how|what|why|can|could|is there|do you|does)\b|\?\s*$", re.I)
COSMETIC = re.compile(r"\bcould be clearer\b|\bcosmetic\b|\btypo\b|\bminor (ui|issue|glitch)\b|\bmisaligned\b", re.I)
FEATURE = re.compile(r"\b(feature request|can you add|please add|would be nice|support for)\b", re.I)


@dataclass
class Signals:
    """What the enrichment saw, as plain values (testable without a database)."""

    firing_alerts: list[dict] = field(default_factory=list)  # {"name", "severity", "resource"}
    red_slis: list[str] = field(default_factory=list)
    amber_slis: list[str] = field(default_factory=list)
    active_incidents: list[dict] = field(default_factory=list)  # {"key", "severity", "title"}
    similar_other_tenants_last_hour: int = 0
    recent_deployments: list[dict] = field(default_factory=list)


def suggest_priority(*, subject: str, description: str, environment: str, issue_type: str, signals: Signals) -> tuple[int, list[str]]:
    """The highest priority any criterion supports, with every reason found (seed 002)."""
    text = f"{subject}\n{description}"
    production = environment in (Environment.PRODUCTION, Environment.UNKNOWN)
    found: list[tuple[int, str]] = []
    if SECURITY.search(text):
        found.append((Priority.CRITICAL, "security breach or unauthorized access reported"))
    if production and ALL_FAILING.search(text):
        found.append((Priority.CRITICAL, "all requests failing / outage" + (" in production" if environment == Environment.PRODUCTION else "")))
    if PAYMENTS.search(text):
        found.append((Priority.CRITICAL, "payment or financial transactions failing"))
    for alert in signals.firing_alerts:
        if alert.get("severity") in ("critical", "page") and production:
            found.append((Priority.CRITICAL, f"critical alert firing: {alert['name']}" + (f" on {alert['resource']}" if alert.get("resource") else "")))
    for incident in signals.active_incidents:
        if incident.get("severity") == "SEV1":
            found.append((Priority.CRITICAL, f"active SEV1 incident {incident['key']}: {incident['title']}"))
    if ENDPOINT.search(text) and FAILING.search(text):
        found.append((Priority.HIGH, f"a specific endpoint failing ({ENDPOINT.search(text).group(0)})"))
    if DEGRADED.search(text):
        found.append((Priority.HIGH, "performance degradation reported (>50% from baseline)"))
    if AUTH_SUBSET.search(text) and not QUESTION.search(subject):
        found.append((Priority.HIGH, "authentication failures for valid credentials"))
    if signals.similar_other_tenants_last_hour >= 2:
        found.append((Priority.HIGH, f"{signals.similar_other_tenants_last_hour} other customers reported the same within an hour"))
    for alert in signals.firing_alerts:
        if alert.get("severity") not in ("critical", "page"):
            found.append((Priority.HIGH, f"alert firing: {alert['name']}" + (f" on {alert['resource']}" if alert.get("resource") else "")))
    for name in signals.red_slis:
        found.append((Priority.HIGH, f"SLI {name} below objective / error budget spent"))
    for incident in signals.active_incidents:
        if incident.get("severity") != "SEV1":
            found.append((Priority.HIGH, f"active {incident['severity']} incident {incident['key']}: {incident['title']}"))
    if DOCS.search(text):
        found.append((Priority.MEDIUM, "documentation issue"))
    if EDGE.search(text):
        found.append((Priority.MEDIUM, "edge-case validation failure"))
    if FEATURE.search(text):
        found.append((Priority.LOW, "feature request"))
    if COSMETIC.search(text):
        found.append((Priority.LOW, "cosmetic issue with an easy workaround"))
    if issue_type == IssueType.QUESTION or QUESTION.search(subject):
        found.append((Priority.LOW, "general usage question"))
    if not found:
        return Priority.MEDIUM, ["no severity signal found: functionality impaired, not blocking (default)"]
    best = min(p for p, _ in found)
    reasons = [reason for p, reason in found if p == best]
    others = [f"{Priority(p).label.lower()}: {reason}" for p, reason in found if p != best]
    return best, reasons + ([f"also seen — {'; '.join(others)}"] if others else [])


# --- entitlements (pure) ----------------------------------------------------------------------------


def entitlement_flags(entitlements: dict | None, *, channel: str) -> list[str]:
    """What the case asks for that the tenant's plan does not include."""
    entitlements = entitlements or {}
    flags = []
    channels = entitlements.get("channels")
    if channels is not None and channel not in channels:
        flags.append(f"channel “{channel}” is not in the tenant's plan (entitled: {', '.join(channels) or 'none'})")
    if channel == "phone" and not entitlements.get("phone_support", False):
        flags.append("phone support is not included in the tenant's plan")
    return flags


# --- capture (reads the database) -----------------------------------------------------------------


WORD = re.compile(r"[a-z0-9/._-]{3,}")
STOP = {"the", "and", "for", "with", "our", "are", "since", "from", "this", "that", "not", "all", "api", "you", "can", "how"}


def _keywords(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


def gather_signals(case, now: datetime) -> tuple[Signals, dict]:
    from incidents.models import Incident
    from tenants.models import SLI, Alert, Deployment

    from .models import Case

    tenant = case.tenant
    firing = list(Alert.objects.filter(tenant=tenant, status=Alert.Status.FIRING).select_related("resource").order_by("-starts_at")[:20])
    latest_slis = {}
    for sli in SLI.objects.filter(tenant=tenant, observed_at__gte=now - timedelta(days=2)).order_by("name", "-observed_at")[:200]:
        latest_slis.setdefault(sli.name, sli)
    incidents = list(
        Incident.objects.filter(Q(cases__tenant=tenant) | Q(resources__tenant=tenant), status__in=Incident.ACTIVE).distinct().order_by("-started_at")[:10]
    )
    deployments = list(Deployment.objects.filter(tenant=tenant, deployed_at__gte=now - timedelta(days=7)).select_related("resource").order_by("-deployed_at")[:10])
    words = _keywords(case.subject)
    recent = Case.objects.filter(tenant=tenant, created_at__gte=now - timedelta(days=30)).exclude(pk=case.pk).order_by("-created_at")
    similar = []
    for other in recent.only("id", "subject", "category", "status", "created_at")[:200]:
        shared = words & _keywords(other.subject)
        if other.category == case.category and case.category != "other" or len(shared) >= 2:
            similar.append({"key": other.key, "subject": other.subject, "status": other.status,
                            "why": "same category" if other.category == case.category else f"shared words: {', '.join(sorted(shared)[:4])}"})
        if len(similar) >= 5:
            break
    others_last_hour = 0
    if words:
        window = Case.objects.filter(created_at__gte=now - timedelta(hours=1)).exclude(tenant=tenant).only("subject", "tenant_id")[:200]
        others_last_hour = len({c.tenant_id for c in window if len(words & _keywords(c.subject)) >= 2})
    signals = Signals(
        firing_alerts=[{"name": a.name, "severity": a.severity, "resource": a.resource.external_id if a.resource_id else ""} for a in firing],
        red_slis=[name for name, s in latest_slis.items() if s.health == "red"],
        amber_slis=[name for name, s in latest_slis.items() if s.health == "amber"],
        active_incidents=[{"key": i.key, "severity": i.severity, "title": i.title} for i in incidents],
        similar_other_tenants_last_hour=others_last_hour,
        recent_deployments=[{"version": d.version, "resource": d.resource.external_id if d.resource_id else "", "at": d.deployed_at.isoformat()} for d in deployments],
    )
    health = {name: {"health": s.health, "value": s.value, "objective": s.objective, "budget": s.error_budget_remaining} for name, s in latest_slis.items()}
    overall = "red" if signals.red_slis else "amber" if signals.amber_slis else ("green" if latest_slis else tenant.health)
    data = {
        "health": {"overall": overall, "slis": health},
        "alerts": [{"name": a.name, "severity": a.severity, "resource": a.resource.external_id if a.resource_id else "",
                    "since": a.starts_at.isoformat(), "summary": a.summary} for a in firing],
        "incidents": signals.active_incidents,
        "similar_cases": similar,
        "deployments": signals.recent_deployments,
        "other_tenants_same_issue_last_hour": others_last_hour,
        "entitlement_flags": entitlement_flags(tenant.entitlements, channel=case.channel),
    }
    return signals, data


@transaction.atomic
def capture_context(*, case_id: int, actor=None):
    """Take a context snapshot of the case now (a refresh adds a newer one)."""
    from companyos import roles

    from . import services
    from .models import Case, CaseContext, Interaction

    actor = actor or roles.system_user()
    case = Case.objects.select_related("tenant").get(pk=case_id)
    now = timezone.now()
    signals, data = gather_signals(case, now)
    priority, reasons = suggest_priority(subject=case.subject, description=case.description, environment=case.environment,
                                         issue_type=case.issue_type, signals=signals)
    context = CaseContext.objects.create(case=case, taken_at=now, data=data, suggested_priority=priority, reasons=reasons)
    summary = f"context captured: {len(data['alerts'])} alert(s) firing, health {data['health']['overall']}, " \
              f"{len(data['incidents'])} active incident(s), {len(data['similar_cases'])} similar case(s); suggested {Priority(priority).label}"
    Interaction.objects.create(case=case, kind=Interaction.Kind.AUTOMATION, actor=services._author(actor), body=summary, created_at=now,
                               data={"context": context.pk, "suggested_priority": Priority(priority).slug, "reasons": reasons})
    return context


@transaction.atomic
def decide_priority(*, context_id: int, actor, priority: int):
    """The agent accepts the suggestion (same priority) or overrides it; a change of the case's
    priority goes through case_classify (row lock, timeline, SLA re-target)."""
    from . import services
    from .models import Case, CaseContext

    context = CaseContext.objects.select_for_update().select_related("case").get(pk=context_id)
    case = Case.objects.get(pk=context.case_id)
    services._lock(case.pk, actor)  # visibility check and row lock
    if context.case.status not in OPEN_STATUSES:
        raise services.CaseError("The case is no longer open.")
    priority = int(priority)
    context.decision = CaseContext.Decision.ACCEPTED if priority == context.suggested_priority else CaseContext.Decision.OVERRIDDEN
    context.decided_priority = priority
    context.decided_by = actor
    context.decided_at = timezone.now()
    context.save(update_fields=["decision", "decided_priority", "decided_by", "decided_at"])
    if case.priority != priority:
        verb = "accepted the suggested" if context.decision == CaseContext.Decision.ACCEPTED else "overrode the suggested"
        services.case_classify(case_id=case.pk, actor=actor, priority=priority,
                               reason=f"{verb} priority ({Priority(context.suggested_priority).label})")
    return context
