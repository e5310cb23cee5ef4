"""Suggestions on crafted cases: the ranking, the reasons, known-issue matching, and a fixed query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services as case_services
from cases.choices import Category
from runbooks import selectors, services
from runbooks.models import ErrorCode, KnownIssue, Macro, MacroUse
from tests.factories import CaseFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def names(items):
    return [s.obj.name if hasattr(s.obj, "name") else s.obj.title for s in items]


def test_an_error_code_in_the_description_puts_its_macro_and_runbook_first(tenant_a, agent):
    case = CaseFactory(
        tenant=tenant_a, subject="Cannot log in", description="Every call answers AUTH-401-EXPIRED since 9:00"
    )
    s = selectors.case_suggestions(case, agent)
    assert names(s.runbooks)[0] == "Authentication failures (401/403) triage"
    assert s.runbooks[0].reasons[0] == "error code AUTH-401-EXPIRED in the description"
    assert [c.code for c in s.error_codes] == ["AUTH-401-EXPIRED"]
    assert "Authentication issue" in names(s.macros)[:3]
    auth = next(m for m in s.macros if m.obj.name == "Authentication issue")
    assert "its runbook covers an error code in the case" in auth.reasons


def test_category_keywords_and_alerts(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a, subject="Events arriving late: ingestion delay", category=Category.PERFORMANCE)
    s = selectors.case_suggestions(case, agent)
    top = s.macros[0]
    assert top.obj.name == "Ingestion delay"
    assert "category Performance" in top.reasons and "“ingestion” in the case" in top.reasons
    assert len(s.macros) <= 3 and len(s.runbooks) <= 3


def test_used_on_similar_cases_counts(tenant_a, agent):
    macro = Macro.objects.get(builtin="ui-glitches")
    for _ in range(3):
        past = CaseFactory(
            tenant=tenant_a, subject="Dashboard button broken in Firefox", created_at=timezone.now() - timedelta(days=2)
        )
        MacroUse.objects.create(macro=macro, case=past, actor=agent)
    case = CaseFactory(tenant=tenant_a, subject="Dashboard button broken again")
    s = selectors.case_suggestions(case, agent)
    ui = next(m for m in s.macros if m.obj.pk == macro.pk)
    assert "used on 3 similar cases" in ui.reasons
    assert s.macros[0].obj.pk == macro.pk


def test_known_issue_matching(tenant_a, agent):
    issue = KnownIssue.objects.create(
        title="Webhook retries time out",
        component="webhooks",
        message_patterns="upstream timeout after 10s\nwebhook delivery failed",
        error_codes=["WH-504-TIMEOUT"],
        endpoint="/v1/webhooks",
        affected_versions=["2.14.0"],
        workaround="Raise the endpoint timeout to 15 s.",
    )
    KnownIssue.objects.create(title="Unrelated", message_patterns="disk full")
    case = CaseFactory(
        tenant=tenant_a,
        subject="Deliveries failing",
        description="POST /v1/webhooks: upstream timeout after 10s on 2.14.0",
    )
    InteractionFactory(case=case, kind="inbound", body="also WH-504-TIMEOUT")
    s = selectors.case_suggestions(case, agent)
    assert [m.issue.title for m in s.known_issues] == ["Webhook retries time out"]
    assert s.known_issues[0].score == 3 + 2 + 1 + 1
    assert s.known_issues[0].reasons[:2] == ["error code WH-504-TIMEOUT", "message “upstream timeout after 10s”"]
    assert names(s.macros)[0] == "Close as known issue" and s.close_macro is not None
    issue.status = "fixed"
    issue.save()
    assert selectors.case_suggestions(case, agent).known_issues == []


def test_nothing_matches_a_plain_case(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a, subject="Question about invoices layout", description="")
    s = selectors.case_suggestions(case, agent)
    assert s.known_issues == [] and s.error_codes == []


@pytest.mark.parametrize("n", [1, 30])
def test_the_query_count_does_not_grow(n, tenant_a, agent, django_assert_max_num_queries):
    """12: the case's messages and attachment names, the catalogue's codes, the context snapshot,
    the open known issues, similar cases and the macros used on them, the user's macros, the
    full-text and category runbooks, the case's runbooks with their steps and executions."""
    for i in range(n):
        ErrorCode.objects.create(code=f"X{i:03d}-E1")
        KnownIssue.objects.create(title=f"issue {i}", message_patterns=f"pattern {i}")
        CaseFactory(tenant=tenant_a, subject=f"Login fails with 401 number {i}")
    case = CaseFactory(tenant=tenant_a, subject="Login fails with 401", description="X001-E1 and AUTH-401-EXPIRED")
    services.runbook_link(actor=agent, case_id=case.pk, runbook_id=selectors.runbook_get("auth-401-403-triage").pk)
    with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(12):
        s = selectors.case_suggestions(case, agent)
    assert s.linked_runbooks and len(ctx.captured_queries) <= 12


def test_step_execution_goes_on_the_timeline_once(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a)
    runbook = selectors.runbook_get("ingestion-delay")
    step = runbook.steps.get(position=2)
    services.runbook_step_execute(actor=agent, case_id=case.pk, step_id=step.pk)
    entry = case.interactions.filter(kind="automation").latest("pk")
    assert entry.body == f"Runbook “Ingestion delays”: step 2 executed — {step.title}"
    linked = selectors.case_runbooks(case)
    assert linked[0]["done"] == 1
    with pytest.raises(services.KnowledgeError, match="already marked executed"):
        services.runbook_step_execute(actor=agent, case_id=case.pk, step_id=step.pk)


def test_an_agent_cannot_execute_a_step_on_a_case_they_cannot_see(tenant_b, agent):
    case = CaseFactory(tenant=tenant_b)
    step = selectors.runbook_get("ingestion-delay").steps.first()
    with pytest.raises(case_services.NotPermitted):
        services.runbook_step_execute(actor=agent, case_id=case.pk, step_id=step.pk)


def test_keywords_match_whole_words(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a, subject="Question", description="Please send the guide again")
    assert "UI glitch" not in names(selectors.case_suggestions(case, agent).macros)
    case = CaseFactory(tenant=tenant_a, subject="The UI shows a blank page", description="")
    assert "UI glitch" in names(selectors.case_suggestions(case, agent).macros)


def test_firing_alerts_and_deployments_from_the_context_snapshot(tenant_a, agent):
    from cases.models import CaseContext

    case = CaseFactory(tenant=tenant_a, subject="Something is slow")
    CaseContext.objects.create(
        case=case,
        data={"alerts": [{"name": "IngestLag", "severity": "critical"}], "deployments": [{"version": "2.14.0"}]},
    )
    ingestion = next(m for m in selectors.case_suggestions(case, agent).macros if m.obj.name == "Ingestion delay")
    assert ingestion.reasons == ["1 alert(s) firing on the tenant", "deployment 2.14.0 just before the case"]
