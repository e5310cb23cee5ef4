"""An incident with many linked cases (issue 13: 5,000 in the benchmark): the incident page pages its
linked cases with SQL counts, so its statement count does not grow with them; the customer update is
sent by the task in batches (one transaction per batch), exactly once per case, resumable after a
crash."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services as case_services
from cases.choices import Status
from cases.models import Case, Interaction
from incidents import selectors, services
from incidents.models import CustomerDelivery
from tests.conftest import login
from tests.factories import CaseFactory, RequesterFactory

pytestmark = pytest.mark.django_db


def _link(incident, agent, tenant, n, status=Status.IN_PROGRESS):
    requester = RequesterFactory(tenant=tenant)
    cases = CaseFactory.create_batch(n, tenant=tenant, requester=requester, status=status)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[c.pk for c in cases])
    return cases


@pytest.mark.parametrize("n", [3, 130])
def test_incident_page_statement_count_does_not_grow_with_linked_cases(
    n, incident, agent, tenant_a, django_assert_num_queries
):
    _link(incident, agent, tenant_a, n)
    client = login(agent)
    client.get(f"/incidents/{incident.key}/")
    with django_assert_num_queries(12):
        first = client.get(f"/incidents/{incident.key}/").content.decode()
    with django_assert_num_queries(12):
        last = client.get(f"/incidents/{incident.key}/?cases_page=3").content.decode()
    assert first.count('<tr data-case="') == min(n, selectors.LINKED_ROWS)
    if n > selectors.LINKED_ROWS:
        assert "page 1 of 3" in first and "cases_page=2" in first
        assert "101–130 of 130" in last and last.count('<tr data-case="') == 30
    else:
        assert "data-linked-pager" not in first
        assert last.count('<tr data-case="') == n  # out of range: clamped to the last page


def test_pages_are_disjoint_and_cover_every_visible_case(incident, agent, tenant_a, tenant_b, sre):
    mine = _link(incident, agent, tenant_a, 105)
    _link(incident, sre, tenant_b, 4)  # another tenant's: counted, never named
    seen = []
    for page in (1, 2, 3):
        linked = selectors.linked_cases(agent, incident, page=page)
        seen += [c.pk for c in linked["cases"]]
        assert linked["visible"] == 105 and linked["hidden"] == 4 and linked["total"] == 109
    assert sorted(seen) == sorted(c.pk for c in mine)
    assert selectors.linked_cases(agent, incident, page="x")["page"] == 1


def test_the_customer_update_goes_out_in_batches_exactly_once(incident, agent, tenant_a):
    cases = _link(incident, agent, tenant_a, 230)
    with mock.patch("incidents.services._send_later"):  # after commit in production; run by hand here
        entry = services.incident_customer_update(
            incident_id=incident.pk, actor=agent, text="Hi {{ customer_name }}, {{ case_key }}", extra={}
        )
    with CaptureQueriesContext(connection) as ctx:
        result = services.send_customer_update(entry_id=entry.pk, actor_id=agent.pk, batch=100)
    assert result["sent"] == 230
    # One batch = one transaction that ends by moving the entry's counters (a locked read of it): 3.
    batches = [q for q in ctx.captured_queries if "FOR UPDATE" in q["sql"] and '"incidents_incidententry"' in q["sql"]]
    assert len(batches) == 3
    assert CustomerDelivery.objects.filter(entry=entry).count() == 230
    for case in cases[:3] + cases[-3:]:
        assert Interaction.objects.filter(case=case, kind="reply", data__incident_update=entry.pk).count() == 1
    assert services.send_customer_update(entry_id=entry.pk, actor_id=agent.pk)["sent"] == 0  # a re-run: nothing
    entry.refresh_from_db()
    assert entry.data["sent"] == 230


def test_a_worker_crashing_mid_send_loses_nothing_and_sends_nothing_twice(incident, agent, tenant_a):
    _link(incident, agent, tenant_a, 150)
    with mock.patch("incidents.services._send_later"):  # the task is run by hand below
        entry = services.incident_customer_update(
            incident_id=incident.pk, actor=agent, text="Update for {{ case_key }}", extra={}
        )
    real = case_services.case_reply
    calls = {"n": 0}

    def crash_on_the_120th(**kwargs):
        calls["n"] += 1
        if calls["n"] == 120:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    with mock.patch.object(case_services, "case_reply", side_effect=crash_on_the_120th):
        with pytest.raises(RuntimeError):
            services.send_customer_update(entry_id=entry.pk, actor_id=agent.pk, batch=100)
    assert CustomerDelivery.objects.filter(entry=entry).count() == 100  # the first batch committed, whole
    assert Interaction.objects.filter(data__incident_update=entry.pk).count() == 100
    assert services.send_customer_update(entry_id=entry.pk, actor_id=agent.pk, batch=100)["sent"] == 50
    assert Interaction.objects.filter(data__incident_update=entry.pk).count() == 150
    for case in Case.objects.filter(incidents=incident):
        assert Interaction.objects.filter(case=case, data__incident_update=entry.pk).count() == 1
    entry.refresh_from_db()
    assert entry.data["sent"] == 150


def test_a_refused_case_costs_only_itself(incident, agent, tenant_a):
    cases = _link(incident, agent, tenant_a, 5)
    with mock.patch("incidents.services._send_later"):
        entry = services.incident_customer_update(incident_id=incident.pk, actor=agent, text="Hello", extra={})
    real = case_services.case_reply

    def refuse_one(**kwargs):
        if kwargs["case_id"] == cases[2].pk:
            raise case_services.CaseError("the channel refused it")
        return real(**kwargs)

    with mock.patch.object(case_services, "case_reply", side_effect=refuse_one):
        result = services.send_customer_update(entry_id=entry.pk, actor_id=agent.pk)
    assert result["sent"] == 4 and result["skipped"] == {cases[2].key: "the channel refused it"}
    assert not CustomerDelivery.objects.filter(entry=entry, case=cases[2]).exists()


def test_a_cases_incidents_are_read_off_its_own_link_rows(incident, agent, sre, tenant_a):
    """The case panel's incidents: by the case's link rows (an array of ids, an index condition on
    the incidents' key), not a join that let the planner walk every incident newest first looking
    for the case's links (26 ms at 10k incidents). Newest first, at most ten, each with its updates."""
    case = CaseFactory(tenant=tenant_a)
    older = services.incident_declare(actor=sre, title="Older", severity="SEV3", tenants=[tenant_a])
    services.incident_declare(actor=sre, title="Not linked", severity="SEV2", tenants=[tenant_a])
    for inc in (older, incident):
        services.incident_link_cases(incident_id=inc.pk, actor=agent, case_ids=[case.pk])
    services.incident_post_update(incident_id=incident.pk, actor=agent, body="Public word", public=True)
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.case_incidents(case)
    assert [i.pk for i in found] == sorted([incident.pk, older.pk], key=lambda pk: -pk)
    updates = {i.pk: [e.body for e in i.latest_public] for i in found}
    assert updates[incident.pk][:1] == ["Public word"] and updates[older.pk] == []
    first = ctx.captured_queries[0]["sql"]
    assert "ANY(ARRAY(SELECT incident_id FROM incidents_incident_cases WHERE case_id" in first
    assert 'JOIN "incidents_incident_cases"' not in first
