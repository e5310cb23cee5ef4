"""The copilot's reads: the facts about a case the engine needs (its tenant's tier, duplicates by
pg_trgm similarity, active incidents, known issues), the model in use, and the acceptance report."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Count, Q, Subquery
from django.db.models.functions import Left
from django.utils import timezone

from cases.choices import Priority
from cases.models import Case
from incidents.models import Incident
from incidents.selectors import incidents_touching_tenant

from .. import errorcodes
from ..selectors import known_issue_matches
from . import engine, rules
from .model import Predictor
from .models import CopilotAssessment, CopilotDecision, CopilotModel, CopilotSetting

DUPLICATE_WINDOW = timedelta(days=7)
DUPLICATE_CANDIDATES = 20
DUPLICATE_SCAN = 300
_loaded: dict[str, Predictor] = {}


def current_model() -> Predictor | None:
    """The newest trained model, loaded once per process per version (one small query to check)."""
    row = CopilotModel.objects.order_by("-version").values_list("pk", "version").first()
    if row is None:
        return None
    pk, version = row
    cached = _loaded.get("model")
    if cached is None or cached.version != version:
        blob = CopilotModel.objects.filter(pk=pk).values_list("blob", flat=True).first()
        cached = Predictor.loads(blob)
        cached.version = version
        _loaded["model"] = cached
    return cached


def duplicate_candidates(case: Case, proposals: dict[str, engine.Proposal]) -> list[dict]:
    """Cases of the same tenant from the last week that look like `case` (pg_trgm similarity on the
    subject and description prefilters; `rules.duplicate_score` decides), best first."""
    since = case.created_at - DUPLICATE_WINDOW
    text = f"{case.subject} {case.description[:500]}"
    # A cost bound like similar_cases' `scan`: the tenant's newest DUPLICATE_SCAN cases around this
    # one (the (tenant, created_at) index), and the trigram similarity computed over those only.
    window = (
        Case.objects.filter(
            tenant_id=case.tenant_id, created_at__gte=since, created_at__lte=case.created_at + DUPLICATE_WINDOW
        )
        .exclude(pk=case.pk)
        .order_by("-created_at")
        .values("pk")[:DUPLICATE_SCAN]
    )
    candidates = (
        Case.objects.filter(pk__in=Subquery(window))
        .annotate(
            sim=TrigramSimilarity("subject", case.subject) + TrigramSimilarity(Left("description", 500), text) * 0.5
        )
        .filter(sim__gt=0.15)
        .order_by("-sim")
        .values("pk", "subject", "description", "category", "priority", "created_at", "sim")[:DUPLICATE_CANDIDATES]
    )
    mine = rules.dup_facts(case.subject, case.description)
    category = proposals["category"].value
    priority = engine.PRIORITY_OF[proposals["severity"].value]
    found = []
    for c in candidates:
        facts = rules.dup_facts(c["subject"], c["description"])
        hours = abs((case.created_at - c["created_at"]).total_seconds()) / 3600
        is_dup, score, reasons = rules.duplicate_score(
            mine,
            facts,
            same_class=c["category"] == category and c["priority"] == priority,
            same_tenant=True,
            hours_apart=hours,
        )
        if is_dup:
            found.append({"key": f"{settings.CASE_KEY_PREFIX}-{c['pk']}", "score": score, "reasons": reasons})
    return sorted(found, key=lambda d: -d["score"])


def active_incidents(case: Case) -> list[dict]:
    """The active incidents touching the case's tenant (the few active ones first, then which touch)."""
    active = list(Incident.objects.filter(status__in=Incident.ACTIVE).values_list("pk", flat=True)[:200])
    if not active:
        return []
    rows = (
        incidents_touching_tenant(case.tenant_id)
        .filter(pk__in=active)
        .order_by("-started_at")
        .only("id", "severity", "title")[:5]
    )
    return [{"key": i.key, "severity": i.severity, "title": i.title} for i in rows]


def known_issues(case: Case) -> list[dict]:
    text = f"{case.subject}\n{case.description}"
    out = []
    for m in known_issue_matches(case, text, errorcodes.candidates(text)):
        out.append(
            {
                "id": m.issue.pk,
                "title": m.issue.title,
                "component": m.issue.component,
                "workaround": m.issue.workaround,
                "matched": "; ".join(m.reasons),
            }
        )
    return out


def assess_case(case: Case) -> engine.Assessment:
    """The engine on a case, with what the database knows about it."""
    predictor = current_model()
    ticket = engine.Ticket(case.subject, case.description or "", case.tenant.support_tier)
    first = engine.assess(ticket, predictor)
    return engine.assess(
        ticket,
        predictor,
        duplicates=duplicate_candidates(case, first.proposals),
        active_incidents=active_incidents(case),
        known_issues=known_issues(case),
    )


def assessment_for(case: Case) -> CopilotAssessment | None:
    return CopilotAssessment.objects.filter(case=case).first()


def decisions_for(case: Case) -> dict[str, CopilotDecision]:
    rows = CopilotDecision.objects.filter(case=case).select_related("actor").order_by("decided_at")
    return {d.field: d for d in rows}


def settings_by_field() -> dict[str, CopilotSetting]:
    return {s.field: s for s in CopilotSetting.objects.all()}


def acceptance_report(*, since=None) -> dict:
    """Acceptance per field and per rule: accepted, overridden, auto-applied, and the rate
    accepted / (accepted + overridden)."""
    qs = CopilotDecision.objects.all()
    if since is not None:
        qs = qs.filter(decided_at__gte=since)

    def rows(by: str) -> list[dict]:
        data = (
            qs.values(by)
            .annotate(
                accepted=Count("id", filter=Q(decision="accepted")),
                overridden=Count("id", filter=Q(decision="overridden")),
                auto=Count("id", filter=Q(decision="auto_applied")),
            )
            .order_by(by)
        )
        out = []
        for r in data:
            decided = r["accepted"] + r["overridden"]
            out.append(
                {
                    "name": r[by],
                    **{k: r[k] for k in ("accepted", "overridden", "auto")},
                    "rate": r["accepted"] / decided if decided else None,
                }
            )
        return out

    return {"fields": rows("field"), "rules": rows("rule"), "total": qs.count()}


def priority_label(value: str) -> str:
    return Priority(engine.PRIORITY_OF[value]).label if value in engine.PRIORITY_OF else value


def confirmed_examples(*, limit: int = 100_000) -> list[dict]:
    """Labelled tickets from cases whose classification an agent confirmed: a copilot proposal
    accepted or overridden on the case. Category, priority, issue type and environment as the case
    has them now (what the agent settled on)."""
    ids = CopilotDecision.objects.exclude(decision="auto_applied").values("case_id").distinct()
    rows = Case.objects.filter(pk__in=ids).values(
        "subject", "description", "category", "priority", "issue_type", "environment"
    )[:limit]
    return [
        {
            "subject": r["subject"],
            "body": r["description"],
            "category": r["category"],
            "severity": f"P{r['priority']}",
            "issue_type": r["issue_type"],
            "environment": r["environment"],
        }
        for r in rows
    ]


def recent_decisions(limit: int = 20):
    return CopilotDecision.objects.select_related("case", "actor").order_by("-decided_at")[:limit]


def now():
    return timezone.now()
