"""The copilot's reads: the facts about a case the engine needs (its tenant's tier, duplicates by
pg_trgm similarity, active incidents, known issues), the model in use, and the acceptance report."""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Count, F, Max, Q, Subquery
from django.db.models.functions import Left
from django.urls import reverse
from django.utils import timezone

from cases.choices import Priority, Status
from cases.models import Case
from cases.selectors import case_visible_to
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
# Similar past cases behind a classification proposal: among the tenant's newest PAST_SCAN resolved or
# closed cases before this one (a cost bound, as DUPLICATE_SCAN), the PAST_CANDIDATES most similar.
PAST_SCAN = 300
PAST_CANDIDATES = 15
PAST_MIN_SIMILARITY = 0.25
DONE = (Status.RESOLVED, Status.CLOSED)
LOADED_MODELS = 16  # predictors kept in memory per process (global + the busiest tenants)
_loaded: OrderedDict[tuple, Predictor] = OrderedDict()


def current_model(tenant_id: int | None = None) -> Predictor | None:
    """The model a case of `tenant_id` is proposed for with: the tenant's own newest model if it has
    one (`services.copilot_train(tenant_id=…)`), else the newest global model. One small query to check
    which; the artefact is loaded once per process per version (a few kept, least recently used
    dropped). The predictor carries `version`, `scope` ("tenant" / "global") and `tenant_id`."""
    scope = Q(tenant__isnull=True) | Q(tenant_id=tenant_id) if tenant_id else Q(tenant__isnull=True)
    row = (
        CopilotModel.objects.filter(scope)
        .order_by(F("tenant_id").asc(nulls_last=True), "-version")
        .values_list("pk", "version", "tenant_id")
        .first()
    )
    if row is None:
        return None
    pk, version, owner = row
    key = (pk, version, owner)  # the row's id too: a version number alone is not unique across databases
    cached = _loaded.get(key)
    if cached is None:
        blob = CopilotModel.objects.filter(pk=pk).values_list("blob", flat=True).first()
        cached = Predictor.loads(blob)
        cached.version = version
        cached.scope = "tenant" if owner else "global"
        cached.tenant_id = owner
        _loaded[key] = cached
        while len(_loaded) > LOADED_MODELS:
            _loaded.popitem(last=False)
    else:
        _loaded.move_to_end(key)
    return cached


def similar_past_cases(case: Case) -> list[dict]:
    """The resolved or closed cases of `case`'s own tenant most like it (pg_trgm similarity of the
    subjects), best first, with the labels they carry:
    category, severity (their priority), issue type and environment as the case has them, needs-info
    and close-as as an agent decided them on the copilot's proposal for that case. Never another
    tenant's case: whoever may open `case` may see these (tenant-level access), and the panel reads
    them again through the viewer's scope. Two queries; the similarity is computed over at most
    PAST_SCAN rows (the tenant's newest finished cases before this one, by id)."""
    window = (
        Case.objects.filter(tenant_id=case.tenant_id, status__in=DONE, pk__lt=case.pk)
        .order_by("-pk")
        .values("pk")[:PAST_SCAN]
    )
    # Subject against subject only: pg_trgm's similarity() re-reads both strings for every row, so a
    # description prefix costs ~8× the subject (measured: 500 rows, 70–100 ms against ~10 ms loaded).
    # Ordered and cut in SQL, the threshold applied here: the similarity is computed once per row.
    rows = [
        r
        for r in Case.objects.filter(pk__in=Subquery(window))
        .annotate(sim=TrigramSimilarity("subject", case.subject))
        .order_by("-sim", "-pk")
        .values("pk", "category", "priority", "issue_type", "environment", "sim")[:PAST_CANDIDATES]
        if r["sim"] >= PAST_MIN_SIMILARITY
    ]
    if not rows:
        return []
    decided = {}
    for d in (
        CopilotDecision.objects.filter(case_id__in=[r["pk"] for r in rows], field__in=("needs_info", "close_as"))
        .exclude(decision="auto_applied")
        .order_by("decided_at")
        .values("case_id", "field", "decision", "proposed", "value")
    ):
        label = d["proposed"] if d["decision"] == "accepted" else (d["value"] or f"not {d['proposed']}")
        decided.setdefault(d["case_id"], {})[d["field"]] = label
    return [
        {
            "id": r["pk"],
            "sim": round(float(r["sim"]), 3),
            "labels": {
                "category": r["category"],
                "severity": f"P{r['priority']}",
                "issue_type": r["issue_type"],
                "environment": r["environment"],
                **decided.get(r["pk"], {}),
            },
        }
        for r in rows
    ]


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
    predictor = current_model(case.tenant_id)
    ticket = engine.Ticket(case.subject, case.description or "", case.tenant.support_tier)
    first = engine.assess(ticket, predictor)
    return engine.assess(
        ticket,
        predictor,
        duplicates=duplicate_candidates(case, first.proposals),
        active_incidents=active_incidents(case),
        known_issues=known_issues(case),
        similar=similar_past_cases(case),
    )


def similar_for_panel(user, case: Case, assessment: CopilotAssessment) -> dict[int, dict]:
    """The past cases the stored proposals name, read again through `user`'s scope in one query:
    {id: {"key", "subject", "url", "labels"}} with the labels as the cases carry them now. A case the
    viewer may not see (moved, erased, or not theirs) is simply absent — never counted."""
    ids = {s["id"] for p in assessment.data.get("proposals", {}).values() for s in p.get("similar", [])}
    if not ids:
        return {}
    rows = (
        case_visible_to(user)
        .filter(pk__in=ids, tenant_id=case.tenant_id)
        .values("pk", "subject", "category", "priority", "issue_type", "environment")
    )
    out = {}
    for r in rows:
        key = f"{settings.CASE_KEY_PREFIX}-{r['pk']}"
        out[r["pk"]] = {
            "key": key,
            "subject": r["subject"],
            "url": reverse("cases:detail", args=[key]),
            "labels": {
                "category": r["category"],
                "severity": f"P{r['priority']}",
                "issue_type": r["issue_type"],
                "environment": r["environment"],
            },
        }
    return out


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


def confirmed_examples(*, tenant_id: int | None = None, limit: int = 100_000) -> list[dict]:
    """Labelled tickets from cases whose classification an agent confirmed: a copilot proposal
    accepted or overridden on the case. Category, priority, issue type and environment as the case
    has them now (what the agent settled on). `tenant_id`: that tenant's cases only (its own model's
    training data); None: every tenant's (the global model's). Newest first."""
    ids = CopilotDecision.objects.exclude(decision="auto_applied").values("case_id").distinct()
    qs = Case.objects.filter(pk__in=ids)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    rows = qs.order_by("-pk").values(
        "pk", "subject", "description", "category", "priority", "issue_type", "environment"
    )[:limit]
    return [
        {
            "id": f"{settings.CASE_KEY_PREFIX}-{r['pk']}",
            "subject": r["subject"],
            "body": r["description"],
            "category": r["category"],
            "severity": f"P{r['priority']}",
            "issue_type": r["issue_type"],
            "environment": r["environment"],
        }
        for r in rows
    ]


def confirmed_by_tenant() -> dict[int, dict]:
    """Per tenant: how many of its cases an agent confirmed and when the last confirmation was
    ({tenant_id: {"cases", "last"}}) — what the sweep compares with the tenant models' training."""
    rows = (
        CopilotDecision.objects.exclude(decision="auto_applied")
        .values("case__tenant_id")
        .annotate(cases=Count("case_id", distinct=True), last=Max("decided_at"))
    )
    return {r["case__tenant_id"]: {"cases": r["cases"], "last": r["last"]} for r in rows}


def tenant_models_trained() -> dict[int, object]:
    """Per tenant with a model of its own: when its newest one read its training data."""
    rows = CopilotModel.objects.filter(tenant__isnull=False).values("tenant_id").annotate(at=Max("trained_at"))
    return {r["tenant_id"]: r["at"] for r in rows}


def tenant_models_in_use() -> list[dict]:
    """Each tenant's newest own model (the report's list): tenant name, version, examples, when."""
    return list(
        CopilotModel.objects.filter(tenant__isnull=False)
        .order_by("tenant_id", "-version")
        .distinct("tenant_id")
        .values("tenant__name", "version", "examples", "trained_at")
    )


def recent_decisions(limit: int = 20):
    return CopilotDecision.objects.select_related("case", "actor").order_by("-decided_at")[:limit]


def now():
    return timezone.now()
