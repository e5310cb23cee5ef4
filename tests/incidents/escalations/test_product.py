"""Product escalation (issue 14 point 8): a feedback item from a case with seed 002's "To Product"
fields prefilled, and the backlog grouped by theme with volume, ARR at risk (distinct tenants'
annual contract value) and NPS impact (the theme's cases' survey answers) — checked against a
recomputation by hand; scoped to the viewer's tenants."""

from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Closure, Interaction
from incidents.escalations import handoff, selectors, services
from incidents.escalations.models import ProductFeedback
from tests.conftest import login
from tests.factories import CaseFactory, TagFactory, TenantFactory, UserFactory


@pytest.fixture
def themes(db):
    return TagFactory(name="bulk-export"), TagFactory(name="sso")


def _log(case, actor, theme, **overrides):
    fields = handoff.product_prefill(case)
    fields.pop("theme")
    fields.update(overrides)
    return services.feedback_log(case_id=case.pk, actor=actor, theme_id=theme.pk, **fields)


def _survey(case, nps):
    now = timezone.now()
    Closure.objects.create(case=case, tenant=case.tenant, closed_at=now, how="confirmed", nps=nps)


def test_prefill_carries_seed_002s_product_fields(tenant_a, themes):
    tenant_a.segment, tenant_a.industry, tenant_a.annual_contract_value = "enterprise", "retail", Decimal("120000")
    tenant_a.save()
    case = CaseFactory(
        tenant=tenant_a,
        subject="Export all invoices as CSV",
        description="We export by hand weekly",
        category="feature_request",
    )
    case.tags.add(themes[0])
    CaseFactory(tenant=TenantFactory(), subject="Export invoices CSV please", category="feature_request")
    fields = handoff.product_prefill(case)
    assert fields["theme"] == themes[0].pk and fields["industry"] == "retail"
    assert fields["segment"] == "Enterprise" and fields["use_case"] == "We export by hand weekly"
    assert "120,000" in fields["business_impact"]
    assert fields["similar_requests"] == 1


def test_backlog_aggregates_by_theme(agent, tenant_a, tenant_b, themes, manager):
    export, sso = themes
    tenant_a.annual_contract_value = Decimal("100000")
    tenant_a.save()
    tenant_b.annual_contract_value = Decimal("40000")
    tenant_b.save()
    a1, a2 = CaseFactory(tenant=tenant_a), CaseFactory(tenant=tenant_a)
    b1 = CaseFactory(tenant=tenant_b)
    sre = UserFactory(role="SRE")
    _log(a1, agent, export, similar_requests=2)
    _log(a2, agent, export, similar_requests=1)  # same tenant again: ARR counted once
    _log(b1, sre, export)
    _log(a1, agent, sso)
    _survey(a1, 3)  # detractor
    _survey(a2, 10)  # promoter
    _survey(b1, 8)  # passive
    backlog = selectors.product_backlog(manager)
    by = {t["theme"]: t for t in backlog["themes"]}
    assert by["bulk-export"]["volume"] == 3 and by["bulk-export"]["customers"] == 2
    assert by["bulk-export"]["arr_at_risk"] == Decimal("140000")
    assert by["bulk-export"]["nps"] == 0 and by["bulk-export"]["detractors"] == 1  # (1 − 1) / 3
    assert by["bulk-export"]["similar"] == 3
    assert by["sso"]["arr_at_risk"] == Decimal("100000") and by["sso"]["nps"] == -100
    assert [t["theme"] for t in backlog["themes"]] == ["bulk-export", "sso"]  # biggest ARR first
    assert backlog["arr_at_risk"] == Decimal("140000") and backlog["total"] == 4
    # The agent sees tenant A's items only: Globex's ARR is not in their figures.
    mine = {t["theme"]: t for t in selectors.product_backlog(agent)["themes"]}
    assert mine["bulk-export"]["arr_at_risk"] == Decimal("100000") and mine["bulk-export"]["volume"] == 2
    # The ARR is the one logged: a later contract change does not rewrite the backlog.
    tenant_a.annual_contract_value = Decimal("1")
    tenant_a.save()
    assert {t["theme"]: t for t in selectors.product_backlog(manager)["themes"]}["sso"]["arr_at_risk"] == Decimal(
        "100000"
    )


def test_feedback_refusals_and_the_case_timeline(agent, case_a, case_b, themes):
    item = _log(case_a, agent, themes[0])
    assert Interaction.objects.filter(case=case_a, data__product_feedback=item.pk).exists()
    with pytest.raises(services.EscalationError, match="already in the product backlog"):
        _log(case_a, agent, themes[0])
    with pytest.raises(services.EscalationError, match="Choose the theme"):
        services.feedback_log(
            case_id=case_a.pk,
            actor=agent,
            theme_id=0,
            title="x",
            segment="s",
            tier="t",
            use_case="u",
            business_impact="b",
        )
    with pytest.raises(services.EscalationError, match="Write the use case"):
        _log(case_a, agent, themes[1], use_case=" ")
    with pytest.raises(services.EscalationError, match="not visible"):
        _log(case_b, agent, themes[1])
    assert ProductFeedback.objects.count() == 1


def test_feedback_page_and_backlog_page(agent, case_a, themes, django_assert_max_num_queries):
    case_a.tags.add(themes[1])
    client = login(agent)
    form = client.get(f"/incidents/escalations/case/{case_a.key}/product/")
    assert form.status_code == 200 and f'<option value="{themes[1].pk}" selected>' in form.content.decode()
    bad = client.post(f"/incidents/escalations/case/{case_a.key}/product/", {"theme": themes[1].pk})
    assert bad.status_code == 422
    data = {
        "theme": themes[1].pk,
        "title": "SAML",
        "segment": "SMB",
        "tier": "Standard",
        "use_case": "Log in with Okta",
        "business_impact": "Blocks rollout",
        "similar_requests": "4",
    }
    response = client.post(f"/incidents/escalations/case/{case_a.key}/product/", data)
    assert response.status_code == 302 and "theme=sso" in response["Location"]
    client.get("/incidents/escalations/product/")
    with django_assert_max_num_queries(10):
        body = client.get("/incidents/escalations/product/").content.decode()
    assert 'data-theme="sso"' in body and case_a.key in body
    detail = client.get("/incidents/escalations/product/?theme=sso").content.decode()
    assert "Log in with Okta" in detail
    panel = client.get(f"/incidents/escalations/case/{case_a.key}/panel/").content.decode()
    assert "Product backlog" in panel and "sso" in panel
