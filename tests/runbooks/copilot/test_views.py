"""The copilot's panel (loaded by URL from the case page), accept / override by POST, the report."""

from __future__ import annotations

import pytest

from runbooks.copilot.models import CopilotDecision
from tests.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def latency_case(tenant_a):
    return CaseFactory(tenant=tenant_a, subject="API latency is 3x normal", description="GET /v1/items since 10:00 UTC")


def test_the_case_page_loads_the_panel_by_url(agent_client, latency_case):
    page = agent_client.get(latency_case.get_absolute_url())
    assert f"/runbooks/copilot/case/{latency_case.key}/panel/" in page.content.decode()


def test_panel_shows_checklist_countdown_proposals_and_gates(agent_client, latency_case):
    html = agent_client.get(f"/runbooks/copilot/case/{latency_case.key}/panel/").content.decode()
    for check in (
        "Is this a duplicate?",
        "Is this during an active incident?",
        "Is this a security issue?",
        "Can this be auto-resolved?",
    ):
        assert check in html
    assert "min" in html and "left" in html
    assert "P2: performance degradation &gt;50% from baseline" in html
    assert "Human review required" in html and "All P1 and P2 tickets" in html


def test_panel_of_another_tenant_is_404(tenant_b, agent_client):
    other = CaseFactory(tenant=tenant_b, subject="x")
    assert agent_client.get(f"/runbooks/copilot/case/{other.key}/panel/").status_code == 404


def test_accept_and_override_by_post(agent_client, latency_case):
    url = f"/runbooks/copilot/case/{latency_case.key}/decide/"
    agent_client.get(f"/runbooks/copilot/case/{latency_case.key}/panel/")
    r = agent_client.post(url, {"field": "severity", "decision": "accept"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and r["HX-Location"] == latency_case.get_absolute_url()  # the case changed: reload
    r = agent_client.post(url, {"field": "sentiment", "decision": "accept"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "Accepted" in r.content.decode()  # nothing on the case changed: the panel
    r = agent_client.post(url, {"field": "category", "decision": "override", "value": "integration"})
    assert r.status_code == 422 and "Say why you override" in r.content.decode()
    r = agent_client.post(url, {"field": "category", "decision": "override", "value": "integration", "reason": "SDK"})
    assert r.status_code == 302
    assert set(CopilotDecision.objects.values_list("field", "decision")) == {
        ("severity", "accepted"),
        ("category", "overridden"),
        ("sentiment", "accepted"),
    }
    r = agent_client.post(url, {"field": "nope", "decision": "accept"})
    assert r.status_code == 422


def test_report_is_for_managers(agent_client, manager, admin_user):
    assert agent_client.get("/runbooks/copilot/report/").status_code == 403
    assert login(manager).get("/runbooks/copilot/report/").status_code == 200
    admin = login(admin_user)
    r = admin.post("/runbooks/copilot/settings/", {"field": "category", "auto_apply": "on", "threshold": "0.95"})
    assert r.status_code == 200 and "Auto-apply saved" in r.content.decode()
    r = admin.post("/runbooks/copilot/settings/", {"field": "category", "threshold": "abc"})
    assert r.status_code == 422
    r = login(manager).post("/runbooks/copilot/settings/", {"field": "category", "threshold": "0.9"})
    assert r.status_code == 422 and "Only admins" in r.content.decode()


def test_panel_statement_count_is_pinned(agent_client, latency_case, django_assert_num_queries):
    url = f"/runbooks/copilot/case/{latency_case.key}/panel/"
    agent_client.get(url)  # the first load proposes (writes); later loads only read
    with django_assert_num_queries(5):  # user, case, access entry, assessment, decisions (with their actors)
        agent_client.get(url)
    agent_client.post(f"/runbooks/copilot/case/{latency_case.key}/decide/", {"field": "severity", "decision": "accept"})
    with django_assert_num_queries(5):  # the same with a decision shown
        agent_client.get(url)
