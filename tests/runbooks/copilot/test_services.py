"""The copilot's services: proposals stored per case, accept / override through the case services
and recorded on the case, the human-review gates enforced in the service (not only in the UI), the
copilot as a named system actor, retraining that changes the model version and nothing else."""

from __future__ import annotations

import pytest

from cases.models import Case, Interaction
from companyos import roles
from runbooks.copilot import selectors, services
from runbooks.copilot.models import CopilotAssessment, CopilotDecision, CopilotModel
from tests.factories import CaseFactory, TenantFactory

pytestmark = pytest.mark.django_db

TINY = [
    {"subject": s, "body": b, "category": c, "severity": v, "issue_type": i, "environment": e}
    for s, b, c, v, i, e in [
        ("How do I rotate keys?", "How can we rotate API keys?", "authentication", "P4", "question", "unknown"),
        ("Rotate keys how?", "What is the way to rotate a key?", "authentication", "P4", "question", "unknown"),
        ("Slow API", "Latency doubled in production", "performance", "P2", "bug", "production"),
        ("Very slow", "Requests 3x slower in production", "performance", "P2", "bug", "production"),
    ]
]


def case(tenant, subject, description="", **kw):
    return CaseFactory(tenant=tenant, subject=subject, description=description, **kw)


def test_assess_stores_proposals_with_reasons_and_model_version(tenant_a, agent):
    c = case(tenant_a, "API latency is 3x normal", "Since 10:00 UTC on GET /v1/items")
    row = services.copilot_assess(case_id=c.pk, actor=agent)
    p = row.data["proposals"]
    assert p["severity"]["value"] == "P2"
    assert p["severity"]["reasons"][0]["rule"] == "P2: performance degradation >50% from baseline"
    assert row.model_version == 0 and row.review  # P2 is gated
    services.copilot_train(tickets=TINY)
    row = services.copilot_assess(case_id=c.pk, actor=agent)
    assert row.model_version == 1 and CopilotAssessment.objects.filter(case=c).count() == 1


def test_accept_applies_through_case_services_and_is_recorded(tenant_a, agent):
    c = case(tenant_a, "API latency is 3x normal", "GET /v1/items since 10:00 UTC")
    services.copilot_assess(case_id=c.pk, actor=agent)
    d = services.copilot_decide(case_id=c.pk, field="severity", actor=agent, accept=True)
    c.refresh_from_db()
    assert c.priority == 2 and d.decision == "accepted" and d.rule.startswith("P2:")
    kinds = list(Interaction.objects.filter(case=c).values_list("kind", "body"))
    assert any(k == "fields" for k, _ in kinds)  # case_classify's timeline entry
    assert any(k == "automation" and b.startswith("Copilot proposal accepted: Priority P2") for k, b in kinds)
    with pytest.raises(services.CopilotError, match="already decided"):
        services.copilot_decide(case_id=c.pk, field="severity", actor=agent, accept=True)


def test_override_needs_a_reason_and_applies_the_agents_value(tenant_a, agent):
    c = case(tenant_a, "API latency is 3x normal", "GET /v1/items since 10:00 UTC")
    services.copilot_assess(case_id=c.pk, actor=agent)
    with pytest.raises(services.CopilotError, match="Say why"):
        services.copilot_decide(case_id=c.pk, field="category", actor=agent, accept=False, value="integration")
    assert not CopilotDecision.objects.exists()
    services.copilot_decide(
        case_id=c.pk, field="category", actor=agent, accept=False, value="integration", reason="SDK problem"
    )
    c.refresh_from_db()
    assert c.category == "integration"
    body = Interaction.objects.filter(case=c, kind="automation").latest("created_at").body
    assert "overridden" in body and "SDK problem" in body
    report = selectors.acceptance_report()
    assert report["fields"] == [{"name": "category", "accepted": 0, "overridden": 1, "auto": 0, "rate": 0.0}]


def test_an_agent_who_cannot_see_the_tenant_cannot_decide(tenant_b, agent):
    c = case(tenant_b, "How do I rotate API keys?")
    services.copilot_assess(case_id=c.pk, actor=roles.copilot_user())
    with pytest.raises(services.CaseError):
        services.copilot_decide(case_id=c.pk, field="category", actor=agent, accept=True)


def _allow_all(admin):
    for f in services.AUTO_FIELDS:
        services.copilot_setting_save(field=f, auto_apply=True, threshold=0.5, actor=admin)


def test_auto_apply_as_the_named_copilot_actor(tenant_a, admin_user):
    _allow_all(admin_user)
    c = case(tenant_a, "How do I rotate API keys?", "What is the way to rotate keys without downtime?")
    services.copilot_assess(case_id=c.pk, actor=roles.copilot_user())
    c.refresh_from_db()
    decisions = CopilotDecision.objects.filter(case=c, decision="auto_applied")
    assert {d.field for d in decisions} >= {"severity"}
    assert c.priority == 4
    assert all(d.actor.username == "copilot" for d in decisions)
    entry = Interaction.objects.filter(case=c, kind="fields").first()
    assert entry.actor.username == "copilot"


@pytest.mark.parametrize(
    "subject, description, tier, gate",
    [
        ("Payment processing is down", "All payments fail", "standard", "All P1 and P2 tickets"),
        ("Sporadic errors", "Sporadically the export fails with a 422", "standard", "Any escalation to engineering"),
        ("Data leak", "Your API leaks data of other tenants", "standard", "Security-related tickets"),
        ("How do I rotate API keys?", "", "enterprise", "Tickets from enterprise customers"),
        ("Refund please", "We want a refund for last month", "standard", "Compensation or refund discussions"),
    ],
)
def test_review_gates_cannot_be_bypassed_at_the_service_level(admin_user, subject, description, tier, gate):
    _allow_all(admin_user)
    tenant = TenantFactory(support_tier=tier)
    c = case(tenant, subject, description)
    before = Case.objects.filter(pk=c.pk).values("priority", "category", "issue_type", "environment", "version").get()
    row = services.copilot_assess(case_id=c.pk, actor=roles.copilot_user())  # auto-apply on: nothing applied
    assert any(r.startswith(gate) for r in row.review)
    for field in services.AUTO_FIELDS:
        with pytest.raises(services.ReviewRequired, match="Human review required"):
            services.copilot_apply_automatically(case_id=c.pk, field=field)
    # a system actor cannot "accept" its own gated proposal either
    with pytest.raises(services.ReviewRequired):
        services.copilot_decide(case_id=c.pk, field="category", actor=roles.copilot_user(), accept=True)
    assert (
        Case.objects.filter(pk=c.pk).values("priority", "category", "issue_type", "environment", "version").get()
        == before
    )
    assert not CopilotDecision.objects.filter(case=c).exists()


def test_a_case_raised_to_p1_later_is_gated_too(tenant_a, admin_user, agent):
    _allow_all(admin_user)
    services.copilot_setting_save(field="category", auto_apply=False, threshold=0.9, actor=admin_user)
    c = case(tenant_a, "How do I rotate API keys?")
    services.copilot_assess(case_id=c.pk, actor=agent)
    Case.objects.filter(pk=c.pk).update(priority=1)
    with pytest.raises(services.ReviewRequired, match="the case is P1"):
        services.copilot_apply_automatically(case_id=c.pk, field="issue_type")


def test_only_admins_switch_auto_apply(agent, manager):
    for user in (agent, manager):
        with pytest.raises(services.CopilotError, match="Only admins"):
            services.copilot_setting_save(field="category", auto_apply=True, threshold=0.9, actor=user)


def test_retraining_changes_the_version_and_nothing_else(tenant_a, agent):
    c = case(tenant_a, "API latency is 3x normal", "GET /v1/items since 10:00 UTC")
    first = services.copilot_train(tickets=TINY)
    services.copilot_assess(case_id=c.pk, actor=agent)
    services.copilot_decide(case_id=c.pk, field="severity", actor=agent, accept=True)
    snapshot = (
        list(CopilotAssessment.objects.values()),
        list(CopilotDecision.objects.values()),
        list(Case.objects.values()),
        Interaction.objects.count(),
    )
    second = services.copilot_train(tickets=TINY)
    assert (first.version, second.version) == (1, 2)
    assert selectors.current_model().version == 2
    assert snapshot == (
        list(CopilotAssessment.objects.values()),
        list(CopilotDecision.objects.values()),
        list(Case.objects.values()),
        Interaction.objects.count(),
    )
    assert CopilotModel.objects.count() == 2


def test_retrain_beat_waits_for_enough_confirmed_cases(monkeypatch):
    monkeypatch.setattr(services, "load", lambda path: TINY)
    assert services.copilot_retrain_if_due().version == 1  # no model yet: train
    assert services.copilot_retrain_if_due() is None  # nothing new confirmed


def test_duplicates_by_pg_trgm_in_the_same_tenant(tenant_a, tenant_b, agent):
    first = case(tenant_a, "Pagination skips rows on GET /v1/items", "GET /v1/items skips records past page 100")
    case(tenant_b, "Pagination skips rows on GET /v1/items", "GET /v1/items skips records past page 100")
    first.refresh_from_db()
    row = services.copilot_assess(case_id=first.pk, actor=agent)
    category, severity = row.data["proposals"]["category"]["value"], row.data["proposals"]["severity"]["value"]
    Case.objects.filter(pk=first.pk).update(category=category, priority=int(severity[1]))
    second = case(
        tenant_a, "Pagination skips rows for GET /v1/items", "Paging GET /v1/items we miss records past page 100"
    )
    row = services.copilot_assess(case_id=second.pk, actor=agent)
    dup = row.data["proposals"]["duplicate"]
    assert dup["value"] == first.key and "same customer account" in dup["reasons"][0]["words"]
    services.copilot_decide(case_id=second.pk, field="duplicate", actor=agent, accept=True)
    second.refresh_from_db()
    assert second.duplicate_of_id == first.pk


def test_every_new_case_gets_proposals_after_commit(tenant_a, agent, django_capture_on_commit_callbacks):
    from cases import services as case_services
    from tests.factories import RequesterFactory

    requester = RequesterFactory(tenant=tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        c = case_services.case_create(
            actor=agent,
            tenant=tenant_a,
            requester=requester,
            subject="Payment processing is down",
            description="All payments fail with 500 since 10:00 UTC",
        )
    row = CopilotAssessment.objects.get(case=c)
    assert row.data["proposals"]["severity"]["value"] == "P1"
    assert "All P1 and P2 tickets (proposed P1)" in row.review
