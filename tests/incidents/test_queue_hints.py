"""The queue's detection hints (issue 13 point 9): "possible incident: N similar cases in M min" with
one-click "declare and link all", loaded by the queue by URL (the queue's own statement count stays
pinned), counting other tenants' cases without naming them, and a flat query count."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from cases.models import Case, Interaction
from incidents import selectors, services
from incidents.models import Incident
from tests.conftest import login
from tests.factories import CaseFactory, ResourceFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _burst(tenant, n, subject="Webhook deliveries failing with 503", minutes=3):
    now = timezone.now()
    return [
        CaseFactory(tenant=tenant, subject=f"{subject} ({i})", created_at=now - timedelta(minutes=minutes * i))
        for i in range(n)
    ]


def test_the_queue_loads_the_hints_by_url(agent):
    body = login(agent).get("/cases/").content.decode()  # cases imports nothing of incidents: a URL
    assert 'id="incident-hints"' in body and 'hx-get="/incidents/hints/"' in body


def test_hint_names_visible_cases_counts_the_others_and_says_why(agent, tenant_a, tenant_b):
    cases = _burst(tenant_a, 3)
    CaseFactory(tenant=tenant_b, subject="Webhook deliveries failing with 503 for us too")
    CaseFactory(tenant=tenant_a, subject="Invoice address change")  # not similar
    body = login(agent).get("/incidents/hints/").content.decode()
    assert "Possible incident: 4 similar cases in" in body
    assert "error 503" in body and "1 at tenants you do not see" in body
    for case in cases:
        assert case.key in body
    assert "Declare and link all" in body
    entry = LogEntry.objects.filter(additional_data__view="queue: incident hints").latest("pk")
    assert set(entry.additional_data["ids"]) == {c.pk for c in cases}


def test_cases_sharing_a_resource_or_two_keywords_group_too(agent, tenant_a):
    resource = ResourceFactory(tenant=tenant_a, external_id="gw-eu")
    by_resource = [CaseFactory(tenant=tenant_a, subject=s) for s in ("Slow", "Broken again", "Nothing works")]
    for case in by_resource:
        case.affected_resources.set([resource])
    hints = selectors.queue_hints(agent)
    assert len(hints) == 1 and hints[0]["why"] == "same resource" and hints[0]["count"] == 3
    by_words = [CaseFactory(tenant=tenant_a, subject=f"Dashboard export timeout {w}") for w in "abc"]
    hints = selectors.queue_hints(agent)
    assert {h["count"] for h in hints} == {3} and len(hints) == 2
    assert {c["pk"] for c in hints[0]["cases"]} | {c["pk"] for c in hints[1]["cases"]} == {
        c.pk for c in by_resource + by_words
    }


def test_no_hint_below_three_old_cases_or_cases_on_an_active_incident(agent, tenant_a):
    assert selectors.queue_hints(agent) == []
    two = _burst(tenant_a, 2)
    assert selectors.queue_hints(agent) == []
    old = CaseFactory(
        tenant=tenant_a, subject="Webhook deliveries failing with 503", created_at=timezone.now() - timedelta(hours=3)
    )
    assert selectors.queue_hints(agent) == [] and old
    third = CaseFactory(tenant=tenant_a, subject="Webhook deliveries failing with 503 (x)")
    assert selectors.queue_hints(agent)[0]["count"] == 3
    incident = services.incident_declare(actor=agent, title="Webhooks", severity="SEV2", tenants=[tenant_a])
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[two[0].pk])
    assert selectors.queue_hints(agent) == [] and third


def test_a_hint_of_only_other_tenants_cases_is_not_shown(agent, tenant_b):
    _burst(tenant_b, 4)
    response = login(agent).get("/incidents/hints/")
    assert response.status_code == 200 and "Possible incident" not in response.content.decode()


def test_declare_and_link_all_in_one_click(agent, tenant_a, tenant_b):
    cases = _burst(tenant_a, 3)
    foreign = CaseFactory(tenant=tenant_b, subject="Webhook deliveries failing with 503 too")
    client = login(agent)
    response = client.post("/incidents/hints/declare/", {"case": [c.pk for c in cases] + [foreign.pk]})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert set(incident.cases.values_list("pk", flat=True)) == {c.pk for c in cases}  # not the foreign one
    earliest = min(cases, key=lambda c: c.created_at)
    assert incident.declared_from_id == earliest.pk and incident.title == earliest.subject
    for case in cases:
        assert Interaction.objects.filter(case=case, data__incident=incident.key, data__linked=True).exists()
    assert "Possible incident" not in client.get("/incidents/hints/").content.decode()  # all on the incident now


def test_declare_from_a_hint_refuses_other_tenants_cases_and_nothing(agent, tenant_b):
    foreign = _burst(tenant_b, 3)
    client = login(agent)
    response = client.post("/incidents/hints/declare/", {"case": [c.pk for c in foreign]}, follow=True)
    assert "not visible to you" in response.content.decode()
    assert not Incident.objects.exists()
    assert LogEntry.objects.filter(additional_data__denied=True).exists()
    assert client.post("/incidents/hints/declare/", {}, follow=True).status_code == 200
    assert not Incident.objects.exists()


@pytest.mark.parametrize("groups", [1, 3])
def test_hint_query_count_is_flat(groups, agent, tenant_a, django_assert_max_num_queries):
    for g in range(groups):
        resource = ResourceFactory(tenant=tenant_a, external_id=f"res-{g}")
        for case in [CaseFactory(tenant=tenant_a, subject=f"Case {g}-{i}") for i in range(4)]:
            case.affected_resources.set([resource])
    for i in range(20):
        CaseFactory(tenant=TenantFactory(slug=f"t{i}"), subject=f"Unrelated {i} topic{i} words{i}")
    client = login(agent)
    client.get("/incidents/hints/")  # warm the session and the per-user caches
    with django_assert_max_num_queries(7):
        body = client.get("/incidents/hints/").content.decode()
    assert body.count("data-queue-hint") == groups
    assert Case.objects.count() == groups * 4 + 20
