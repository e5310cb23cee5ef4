"""Seed 002's eight handoff items ("Handoff Procedures — To Engineering"), prefilled from a case.
Reads only: the agent sees them in the escalation form, edits them, and the service stores what
they confirmed.

  1 ticket id and link          the case key and its console URL
  2 customer account            tenant name, slug, plan, tier, segment, region; the requester
  3 reproduction steps          the case description (the customer's own words)
  4 error messages and logs     error codes named in the subject, description and customer messages,
                                and the attachments (trace bundles, logs)
  5 timestamps of occurrences   opened, each customer message, triaged, first response
  6 affected customers          distinct tenants over this case, the cases linked to its incidents
                                and the similar cases (cases.selectors.similar_cases, 30 days)
  7 impact assessment           priority, severity, tier, affected resources, the count above
  8 what has been tried         internal notes, public replies and automation steps (runbooks, macros)
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases import triage
from cases.choices import Priority
from cases.models import Attachment, Case, Interaction
from cases.selectors import similar_cases

MAX_ITEM = 4000  # characters a prefilled item keeps
TRIED_ENTRIES = 12
MESSAGE_SCAN = 50
SIMILAR_WINDOW = timedelta(days=30)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ITEM else text[: MAX_ITEM - 1] + "…"


def _at(value) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else ""


def affected_customers(case: Case, *, now=None) -> tuple[int, dict]:
    """How many customers (tenants) the problem touches: this case's tenant, the tenants of every
    case linked to the same incidents, and of the similar cases here and at other tenants. Returns
    the count and where it came from (shown under the number)."""
    from incidents.models import Incident

    now = now or timezone.now()
    tenants = {case.tenant_id}
    via_incidents = set(
        Case.objects.filter(incidents__in=Incident.objects.filter(cases=case)).values_list("tenant_id", flat=True)
    )
    similar = similar_cases(
        case, now=now, window=SIMILAR_WINDOW, other_tenants=True, by=("words", "error_codes", "resource"), limit=None
    )
    via_similar = {s.case.tenant_id for s in similar}
    tenants |= via_incidents | via_similar
    return len(tenants), {
        "incident_tenants": len(via_incidents - {case.tenant_id}),
        "similar_tenants": len(via_similar - {case.tenant_id}),
        "similar_cases": len(similar),
    }


def _bundle_url(pk: int) -> str:
    try:
        return reverse("runbooks:bundle_report", args=[pk])
    except NoReverseMatch:  # the diagnostics pages are not installed
        return ""


def prefill(case: Case, *, url: str, now=None) -> dict:
    """The eight items for `case` (loaded with its tenant and requester), as the form's initial
    values. `url`: the case's absolute console link."""
    now = now or timezone.now()
    tenant, requester = case.tenant, case.requester
    messages = list(
        Interaction.objects.filter(case=case)
        .exclude(kind__in=[Interaction.Kind.STATUS, Interaction.Kind.ASSIGNMENT, Interaction.Kind.TAGS])
        .only("kind", "body", "created_at", "public", "data")
        .order_by("created_at")[:MESSAGE_SCAN]
    )
    inbound = [m for m in messages if m.kind == Interaction.Kind.INBOUND]
    codes = triage.error_codes(case.subject) | triage.error_codes(case.description)
    for m in inbound:
        codes |= triage.error_codes(m.body)
    files = list(Attachment.objects.filter(case=case).values_list("filename", flat=True)[:20])
    errors = []
    if codes:
        errors.append("Error codes: " + ", ".join(sorted(codes)))
    errors += [line.strip() for line in case.description.splitlines() if triage.error_codes(line)][:10]
    if files:
        errors.append("Attachments: " + ", ".join(files))
    # Trace bundles uploaded to the case (runbooks.diagnostics records each on the timeline with its
    # id): referenced by id and report link, so engineering opens the inspection report.
    bundles = [m.data["trace_bundle"] for m in messages if isinstance((m.data or {}).get("trace_bundle"), int)]
    if bundles:
        errors.append("Trace bundles: " + ", ".join(f"#{pk} {_bundle_url(pk)}" for pk in bundles[:10]))

    times = [f"Opened {_at(case.created_at)}"]
    times += [f"Customer message {_at(m.created_at)}" for m in inbound[1:10]]
    if case.triaged_at:
        times.append(f"Triaged {_at(case.triaged_at)}")
    if case.first_response_at:
        times.append(f"First response {_at(case.first_response_at)}")

    count, sources = affected_customers(case, now=now)
    resources = list(case.affected_resources.values_list("external_id", flat=True)[:20])
    impact = [f"Priority {Priority(case.priority).label.lower()}" + (f", {case.severity}" if case.severity else "")]
    impact.append(f"{tenant.get_support_tier_display()} tier, {tenant.get_segment_display()} segment")
    if resources:
        impact.append("Affected resources: " + ", ".join(resources))
    impact.append(f"{count} customer(s) affected")

    tried = [
        f"{_at(m.created_at)} {m.get_kind_display()}: {' '.join(m.body.split())[:300]}"
        for m in messages
        if m.kind in (Interaction.Kind.NOTE, Interaction.Kind.REPLY, Interaction.Kind.AUTOMATION) and m.body
    ][-TRIED_ENTRIES:]
    return {
        "title": case.subject[:250],
        "ticket": f"{case.key} {url}"[:300],
        "account": _clip(
            f"{tenant.name} ({tenant.slug}) · plan {tenant.get_plan_display()} · "
            f"{tenant.get_support_tier_display()} · {tenant.get_region_display()}\n"
            f"Requester: {requester.name} <{requester.email}>"
        ),
        "reproduction": _clip(case.description.strip()),
        "errors": _clip("\n".join(errors)),
        "occurrences": _clip("\n".join(times)),
        "affected_customers": count,
        "affected_sources": sources,
        "impact": _clip("\n".join(impact)),
        "tried": _clip("\n".join(tried)),
    }


# --- seed 002 "To Product (Feature Requests)" -------------------------------------------------------------

PRODUCT_WINDOW = timedelta(days=90)


def similar_requests(case: Case, theme_id: int | None, *, now=None) -> int:
    """Seed 002's "similar requests count": the other feedback items on the theme, and the feature
    requests like this case (similar_cases, every tenant, 90 days) not already among them."""
    from .models import ProductFeedback

    now = now or timezone.now()
    on_theme = set()
    if theme_id:
        on_theme = set(
            ProductFeedback.objects.filter(theme_id=theme_id).exclude(case=case).values_list("case_id", flat=True)
        )
    similar = {
        s.case.pk
        for scope in (False, True)
        for s in similar_cases(case, now=now, window=PRODUCT_WINDOW, other_tenants=scope, by=("words",), limit=None)
        if s.case.category == "feature_request"
    }
    return len(on_theme | similar)


def product_prefill(case: Case, *, now=None) -> dict:
    """The "To Product" fields for `case` (loaded with its tenant), as the form's initial values."""
    tenant = case.tenant
    tags = list(case.tags.order_by("name").values_list("pk", flat=True)[:1])
    theme = tags[0] if tags else None
    impact = [f"{tenant.name}: annual contract value {tenant.annual_contract_value:,.0f}"]
    impact.append(f"Case priority {Priority(case.priority).label.lower()}")
    return {
        "title": case.subject[:250],
        "theme": theme,
        "segment": tenant.get_segment_display(),
        "tier": tenant.get_support_tier_display(),
        "industry": tenant.industry,
        "use_case": _clip(case.description.strip()),
        "workaround": "",
        "business_impact": "\n".join(impact),
        "similar_requests": similar_requests(case, theme, now=now),
    }
