"""The copilot's writes. Every change to a case goes through the case services (`case_classify`,
`case_tag`, `case_mark_duplicate`, `case_record_event`), so the timeline, the audit log and the SLA
clocks see it like any agent's change; the copilot's own rows are its assessments, the decisions on
them and the model artefacts.

    copilot_assess(case_id, actor)                     propose (a new case, or on demand); auto-apply
    copilot_decide(case_id, field, actor, accept, …)   an agent accepts or overrides one proposal
    copilot_apply_automatically(case_id, field)        auto-apply one field, refused behind a review gate
    copilot_setting_save(field, auto_apply, threshold, actor)   admins only
    copilot_train(actor, tickets=None)                 fit and store the next model version
"""

from __future__ import annotations

import time

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import services as case_services
from cases.errors import CaseError
from cases.models import Case
from cases.selectors import KEY_RE
from companyos import roles

from . import engine, selectors
from .evaluation import DATA, load
from .model import fit_tickets
from .models import CopilotAssessment, CopilotDecision, CopilotModel, CopilotSetting

APPLICABLE = ("category", "severity", "issue_type", "environment", "security", "duplicate")
AUTO_FIELDS = ("category", "severity", "issue_type", "environment")
LABELS = {
    "category": "Category",
    "severity": "Priority",
    "issue_type": "Issue type",
    "environment": "Environment",
    "security": "Security",
    "needs_info": "More information",
    "close_as": "Close as",
    "escalation": "Escalation",
    "sentiment": "Sentiment",
    "duplicate": "Duplicate of",
    "active_incident": "Active incident",
    "known_issue": "Known issue",
}


class CopilotError(CaseError):
    pass


class ReviewRequired(CopilotError):
    """A proposal behind a human-review gate (seed 002) may not be applied without an agent."""


def review_gates(case: Case, assessment: CopilotAssessment) -> list[str]:
    """Why an agent must review this case's proposals: the gates found when proposing, plus what
    the case is *now* (an enterprise tenant, a P1/P2 priority set since)."""
    why = list(assessment.review)
    if case.tenant.support_tier == "enterprise" and not any(w.startswith(engine.GATES["enterprise"]) for w in why):
        why.append(engine.GATES["enterprise"])
    if case.priority in (1, 2) and not any(w.startswith(engine.GATES["severity"]) for w in why):
        why.append(f"{engine.GATES['severity']} (the case is P{case.priority})")
    return why


def copilot_assess(*, case_id: int, actor) -> CopilotAssessment:
    """Propose for the case (stored, replacing the previous run), then auto-apply what the admin
    allowed and no gate holds."""
    with transaction.atomic():
        case = case_services.case_lock(case_id=case_id, actor=actor)
        a = selectors.assess_case(case)
        row, _ = CopilotAssessment.objects.update_or_create(
            case=case,
            defaults={
                "model_version": a.model_version,
                "model_scope": a.model_scope,
                "data": a.to_json(),
                "review": a.review,
                "created_at": timezone.now(),
            },
        )
    copilot_auto_apply(case_id=case_id)
    return row


def _value_for_case(field: str, value: str):
    if field == "severity":
        return {"priority": engine.PRIORITY_OF[value]}
    return {field: value}


def _apply(case: Case, field: str, value: str, *, actor, reason: str) -> None:
    """Put `value` of `field` on the case through the case services."""
    if field in ("category", "severity", "issue_type", "environment"):
        if field == "severity" and value not in engine.PRIORITY_OF:
            raise CopilotError(f"{value!r} is not a priority (P1–P4).")
        case_services.case_classify(case_id=case.pk, actor=actor, reason=reason, **_value_for_case(field, value))
    elif field == "security":
        if value == "true":
            case_services.case_tag(case_id=case.pk, actor=actor, add=["security"])
        else:
            case_services.case_tag(case_id=case.pk, actor=actor, remove=["security"])
    elif field == "duplicate" and value:
        match = KEY_RE.match(value)
        other = (
            Case.objects.filter(pk=int(match.group(1)), tenant_id=case.tenant_id).values_list("pk", flat=True).first()
            if match
            else None
        )
        if other is None:
            raise CopilotError(f"{value} is not a case of this tenant.")
        case_services.case_mark_duplicate(case_id=case.pk, actor=actor, duplicate_of_id=other)


def _record(case, assessment, field, proposal, *, decision, value, reason, actor) -> CopilotDecision:
    try:
        with transaction.atomic():
            row = CopilotDecision.objects.create(
                case=case,
                field=field,
                proposed=proposal["value"],
                rule=_rule(proposal),
                confidence=proposal["confidence"],
                model_version=assessment.model_version,
                model_scope=assessment.model_scope,
                decision=decision,
                value=value,
                reason=reason,
                actor=actor,
            )
    except IntegrityError:
        raise CopilotError(f"The {LABELS.get(field, field).lower()} proposal was already decided.") from None
    verb = {"accepted": "accepted", "overridden": "overridden", "auto_applied": "auto-applied"}[decision]
    shown = selectors.priority_label(value) if field == "severity" else value
    body = f"Copilot proposal {verb}: {LABELS.get(field, field)} {proposal['value']}"
    if decision == "overridden":
        body += f" → {shown or 'not applied'}. Reason: {reason}"
    model = f"model v{row.model_version}" + (" (the tenant's own)" if row.model_scope == "tenant" else "")
    body += f" (rule: {row.rule}; confidence {row.confidence:.0%}; {model})"
    case_services.case_record_event(
        case_id=case.pk,
        actor=actor,
        body=body,
        data={
            "copilot": {
                "field": field,
                "decision": decision,
                "proposed": proposal["value"],
                "value": value,
                "rule": row.rule,
                "confidence": row.confidence,
                "model_version": row.model_version,
                "model_scope": row.model_scope,
                "reason": reason,
            }
        },
    )
    return row


def _rule(proposal: dict) -> str:
    reasons = proposal.get("reasons") or []
    return (reasons[0]["rule"] if reasons else engine.MODEL_RULE)[:200]


def copilot_decide(
    *, case_id: int, field: str, actor, accept: bool, value: str = "", reason: str = ""
) -> CopilotDecision:
    """An agent accepts a proposal (its value is applied) or overrides it (a reason is required; the
    agent's `value`, if given, is applied instead). Either is recorded on the case's timeline and
    counted in the acceptance report. A system actor cannot accept a proposal behind a review gate."""
    reason = (reason or "").strip()
    if not accept and not reason:
        raise CopilotError("Say why you override the proposal.")
    with transaction.atomic():
        case = case_services.case_lock(case_id=case_id, actor=actor)
        assessment = CopilotAssessment.objects.filter(case=case).first()
        proposal = (assessment.data.get("proposals", {}) if assessment else {}).get(field)
        if proposal is None:
            raise CopilotError("There is no such proposal on this case.")
        if roles.is_system(actor) and (why := review_gates(case, assessment)):
            raise ReviewRequired(f"Human review required: {'; '.join(why)}.")
        applied = proposal["value"] if accept else value.strip()
        if field in APPLICABLE and applied:
            _apply(
                case,
                field,
                applied,
                actor=actor,
                reason=f"Copilot proposal {'accepted' if accept else 'overridden'}" + ("" if accept else f": {reason}"),
            )
        decision = CopilotDecision.Decision.ACCEPTED if accept else CopilotDecision.Decision.OVERRIDDEN
        return _record(case, assessment, field, proposal, decision=decision, value=applied, reason=reason, actor=actor)


def copilot_apply_automatically(*, case_id: int, field: str) -> CopilotDecision:
    """Apply one proposal as the copilot (a named system actor) — refused with `ReviewRequired` when
    any human-review gate holds (P1/P2, escalation, security, enterprise tenant, compensation), and
    refused unless an admin switched auto-apply on for the field and the confidence reaches its
    threshold. The gates are checked here, in the service, whatever calls it."""
    actor = roles.copilot_user()
    with transaction.atomic():
        case = case_services.case_lock(case_id=case_id, actor=actor)
        assessment = CopilotAssessment.objects.filter(case=case).first()
        if assessment is None:
            raise CopilotError("The copilot has not assessed this case.")
        why = review_gates(case, assessment)
        if why:
            raise ReviewRequired(f"Human review required: {'; '.join(why)}.")
        setting = CopilotSetting.objects.filter(field=field, auto_apply=True).first()
        proposal = assessment.data.get("proposals", {}).get(field)
        if setting is None or field not in AUTO_FIELDS:
            raise CopilotError(f"Auto-apply is off for {LABELS.get(field, field).lower()}.")
        if proposal is None or proposal["confidence"] < setting.threshold:
            raise CopilotError("The proposal's confidence is below the auto-apply threshold.")
        _apply(case, field, proposal["value"], actor=actor, reason="Copilot auto-applied (confidence above threshold)")
        return _record(
            case,
            assessment,
            field,
            proposal,
            decision=CopilotDecision.Decision.AUTO_APPLIED,
            value=proposal["value"],
            reason="",
            actor=actor,
        )


def copilot_auto_apply(*, case_id: int) -> list[CopilotDecision]:
    """Every field the admin allows, for a case without a review gate; nothing otherwise."""
    done = []
    for setting in CopilotSetting.objects.filter(auto_apply=True, field__in=AUTO_FIELDS):
        try:
            done.append(copilot_apply_automatically(case_id=case_id, field=setting.field))
        except ReviewRequired:
            return done
        except CaseError:
            continue
    return done


def copilot_setting_save(*, field: str, auto_apply: bool, threshold: float, actor) -> CopilotSetting:
    if not roles.is_admin(actor):
        raise CopilotError("Only admins can change auto-apply.")
    if field not in AUTO_FIELDS:
        raise CopilotError(f"{field!r} cannot be auto-applied.")
    if not 0.5 <= threshold <= 1.0:
        raise CopilotError("The threshold is a confidence between 0.5 and 1.0.")
    row, _ = CopilotSetting.objects.update_or_create(
        field=field,
        defaults={"auto_apply": auto_apply, "threshold": threshold, "updated_by": actor, "updated_at": timezone.now()},
    )
    return row


MIN_CONFIRMED = 20


def tenant_min_confirmed() -> int:
    """A tenant gets a model of its own once agents confirmed this many of its cases (settings)."""
    return int(getattr(django_settings, "COPILOT_TENANT_MIN_CONFIRMED", 200))


def copilot_train(*, tickets: list[dict] | None = None, source: str = "", tenant_id: int | None = None) -> CopilotModel:
    """Fit a model and store it as the next version. `tickets` default: the shipped training set plus
    the cases whose classification an agent confirmed — every tenant's for the global model, only
    `tenant_id`'s own for that tenant's model (never another tenant's case). Nothing else changes:
    existing proposals keep the version they were made with."""
    read_at = timezone.now()  # confirmations after this are new to the next sweep
    if tickets is None:
        confirmed = selectors.confirmed_examples(tenant_id=tenant_id)
        tickets = load(DATA / "train.jsonl") + confirmed
        whose = "own confirmed" if tenant_id else "confirmed"
        source = source or f"train.jsonl + {len(confirmed)} {whose} cases"
    started = time.perf_counter()
    predictor = fit_tickets(tickets)
    seconds = time.perf_counter() - started
    with transaction.atomic():
        last = CopilotModel.objects.select_for_update().order_by("-version").values_list("version", flat=True).first()
        version = (last or 0) + 1
        predictor.version = version
        return CopilotModel.objects.create(
            version=version,
            tenant_id=tenant_id,
            trained_at=read_at,
            examples=len(tickets),
            seconds=seconds,
            source=(source or "given tickets")[:40],
            blob=predictor.dumps(),
        )


def copilot_retrain_if_due() -> CopilotModel | None:
    """The global model's part of the beat: retrain when agents confirmed MIN_CONFIRMED cases since
    the last global model (or there is no model yet)."""
    last = CopilotModel.objects.filter(tenant__isnull=True).order_by("-version").values("trained_at").first()
    if last is not None:
        fresh = (
            CopilotDecision.objects.exclude(decision="auto_applied")
            .filter(decided_at__gt=last["trained_at"])
            .values("case_id")
            .distinct()
            .count()
        )
        if fresh < MIN_CONFIRMED:
            return None
    return copilot_train()


def tenants_due() -> list[int]:
    """Tenants whose own model is due: at least `tenant_min_confirmed()` confirmed cases, and a
    confirmation since their newest model read its data (or no model yet). Never-trained tenants
    first, then the longest-waiting."""
    threshold = tenant_min_confirmed()
    trained = selectors.tenant_models_trained()
    due = [
        (trained.get(t), t)
        for t, c in selectors.confirmed_by_tenant().items()
        if c["cases"] >= threshold and (trained.get(t) is None or c["last"] > trained[t])
    ]
    due.sort(key=lambda d: (d[0] is not None, d[0] or timezone.now(), d[1]))
    return [t for _, t in due]


def copilot_retrain_tenants(*, limit: int | None = None) -> list[CopilotModel]:
    """The per-tenant part of the beat: train the due tenants' own models, at most `limit` a sweep
    (settings COPILOT_TENANT_RETRAIN_PER_SWEEP) so one sweep's work is bounded; the rest wait for the
    next hour, longest-waiting first."""
    limit = limit if limit is not None else int(getattr(django_settings, "COPILOT_TENANT_RETRAIN_PER_SWEEP", 3))
    return [copilot_train(tenant_id=t) for t in tenants_due()[:limit]]
