"""What an incident reaches, kept incrementally (incidents.reach, issue 13 at 1M): per tenant (linked
cases, named as affected, own resources) and per resource its linked cases name. Every change to the
links — through the services or straight through the m2m managers, from either side, a linked case's
resources changing, a case deleted — leaves the stored rows equal to a recomputation from the links.
The agent's tenant scope, the linked cases' counts, the per-segment blast radius and the resources of
the blast radius read them; the page's statement count is pinned and its timeline is paged."""

import random

import pytest

from cases import services as case_services
from cases.choices import Status
from cases.models import Case
from incidents import reach, selectors, services
from incidents.models import Incident, IncidentResource, IncidentTenant
from tenants.choices import Segment
from tests.conftest import login
from tests.factories import CaseFactory, ResourceFactory, TenantFactory

pytestmark = pytest.mark.django_db


def tenant_rows(incident) -> dict:
    return {
        row.tenant_id: (row.cases, row.named, row.resources) for row in IncidentTenant.objects.filter(incident=incident)
    }


def resource_rows(incident) -> dict:
    return {row.resource_id: row.cases for row in IncidentResource.objects.filter(incident=incident)}


def assert_equal_to_recomputation():
    assert reach.stored() == reach.recompute()
    assert reach.verify() == []


def test_declare_link_unlink_keep_the_counts(incident, agent, sre, tenant_a, tenant_b):
    gateway = ResourceFactory(tenant=tenant_a, external_id="gw-eu")
    mine = CaseFactory.create_batch(3, tenant=tenant_a, status=Status.IN_PROGRESS)
    mine[0].affected_resources.set([gateway])
    theirs = CaseFactory(tenant=tenant_b)
    assert tenant_rows(incident) == {tenant_a.pk: (0, True, 0)}  # named at declare
    services.incident_link_cases(incident_id=incident.pk, actor=sre, case_ids=[c.pk for c in mine] + [theirs.pk])
    assert tenant_rows(incident) == {tenant_a.pk: (3, True, 0), tenant_b.pk: (1, False, 0)}
    assert resource_rows(incident) == {gateway.pk: 1}
    services.incident_unlink_case(incident_id=incident.pk, actor=sre, case_id=theirs.pk)
    services.incident_unlink_case(incident_id=incident.pk, actor=sre, case_id=mine[0].pk)
    assert tenant_rows(incident) == {tenant_a.pk: (2, True, 0)}  # tenant B's row is gone with its last case
    assert resource_rows(incident) == {}
    assert_equal_to_recomputation()
    on_resource = services.incident_declare(actor=sre, title="GW", severity="SEV2", resources=[gateway])
    assert tenant_rows(on_resource) == {tenant_a.pk: (0, False, 1)}
    assert_equal_to_recomputation()


def test_a_linked_cases_resources_and_its_deletion_are_followed(incident, agent, tenant_a):
    one, two = ResourceFactory(tenant=tenant_a), ResourceFactory(tenant=tenant_a)
    case = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case.pk])
    case_services.case_set_resources(case_id=case.pk, actor=agent, resources=[one, two])
    assert resource_rows(incident) == {one.pk: 1, two.pk: 1}
    case_services.case_set_resources(case_id=case.pk, actor=agent, resources=[two])
    assert resource_rows(incident) == {two.pk: 1}
    one.cases.add(case)  # the reverse side of the m2m
    assert resource_rows(incident) == {one.pk: 1, two.pk: 1}
    case.affected_resources.clear()
    assert resource_rows(incident) == {}
    case.affected_resources.add(one)
    assert_equal_to_recomputation()
    Case.objects.filter(pk=case.pk).delete()
    assert tenant_rows(incident) == {tenant_a.pk: (0, True, 0)} and resource_rows(incident) == {}
    assert_equal_to_recomputation()


def test_a_random_history_of_link_changes_equals_the_recomputation(agent, sre, tenant_a, tenant_b):
    """Any order of changes, through services and straight through the m2m managers of both sides."""
    rng = random.Random(13)
    tenants = [tenant_a, tenant_b, TenantFactory(slug="third")]
    resources = [ResourceFactory(tenant=rng.choice(tenants)) for _ in range(6)]
    cases = [CaseFactory(tenant=rng.choice(tenants), status=Status.IN_PROGRESS) for _ in range(25)]
    incidents = [
        services.incident_declare(actor=sre, title=f"I{i}", severity="SEV2", tenants=[rng.choice(tenants)])
        for i in range(4)
    ]
    for step in range(60):
        incident, case = rng.choice(incidents), rng.choice(cases)
        move = rng.randrange(9)
        if move == 0:
            services.incident_link_cases(
                incident_id=incident.pk, actor=sre, case_ids=[c.pk for c in rng.sample(cases, 5)]
            )
        elif move == 1 and incident.cases.filter(pk=case.pk).exists():
            services.incident_unlink_case(incident_id=incident.pk, actor=sre, case_id=case.pk)
        elif move == 2:
            case.affected_resources.set(rng.sample(resources, rng.randrange(3)))
        elif move == 3:
            case.incidents.add(incident)  # reverse side
        elif move == 4:
            incident.tenants.set(rng.sample(tenants, rng.randrange(3)))
        elif move == 5:
            incident.resources.set(rng.sample(resources, rng.randrange(3)))
        elif move == 6:
            case.incidents.clear()
        elif move == 7:
            incident.cases.remove(case)
        else:
            rng.choice(resources).cases.add(case)
        assert reach.verify() == [], f"step {step}, move {move}"
    assert_equal_to_recomputation()
    # A stored row gone wrong is found, and rebuilt.
    IncidentTenant.objects.filter(incident=incidents[0]).update(cases=999)
    assert reach.verify() == [incidents[0].pk]
    reach.rebuild([incidents[0].pk])
    assert reach.verify() == []


def test_the_agents_tenant_scope_reads_the_reach(agent, sre, tenant_a, tenant_b):
    """Visible through a linked case of a granted tenant, a resource of one, or naming one — and no
    longer when the last link goes."""
    elsewhere = services.incident_declare(actor=sre, title="B only", severity="SEV3", tenants=[tenant_b])
    assert not selectors.can_see_incident(agent, elsewhere.pk)
    case = CaseFactory(tenant=tenant_a)
    services.incident_link_cases(incident_id=elsewhere.pk, actor=sre, case_ids=[case.pk])
    assert selectors.can_see_incident(agent, elsewhere.pk)
    assert list(selectors.incident_list(agent).values_list("pk", flat=True)) == [elsewhere.pk]
    services.incident_unlink_case(incident_id=elsewhere.pk, actor=sre, case_id=case.pk)
    assert not selectors.can_see_incident(agent, elsewhere.pk)
    elsewhere.resources.add(ResourceFactory(tenant=tenant_a))
    assert selectors.can_see_incident(agent, elsewhere.pk)


def test_counts_and_the_blast_radius_by_segment_cover_every_linked_case(incident, agent, sre, tenant_a, tenant_b):
    tenant_a.segment, tenant_b.segment = Segment.ENTERPRISE, Segment.SMB
    tenant_a.save(update_fields=["segment"])
    tenant_b.save(update_fields=["segment"])
    late = ResourceFactory(tenant=tenant_a, external_id="named-by-the-1001st")
    mine = CaseFactory.create_batch(4, tenant=tenant_a, status=Status.IN_PROGRESS)
    theirs = CaseFactory.create_batch(2, tenant=tenant_b, status=Status.RESOLVED)
    services.incident_link_cases(incident_id=incident.pk, actor=sre, case_ids=[c.pk for c in mine + theirs])
    mine[-1].affected_resources.set([late])  # after linking: still in the radius
    linked = selectors.linked_cases(agent, incident)
    assert (linked["total"], linked["visible"], linked["hidden"], linked["open"]) == (6, 4, 2, 4)
    affected = selectors.incident_tenants(agent, incident)
    assert [t.name for t in affected["tenants"]] == [tenant_a.name] and affected["tenants"][0].linked_cases == 4
    assert affected["hidden"] == 1 and affected["hidden_cases"] == 2
    assert affected["segments"] == [{"segment": "Enterprise", "tenants": 1, "cases": 4}]
    everyone = selectors.incident_tenants(sre, incident)
    assert {s["segment"]: (s["tenants"], s["cases"]) for s in everyone["segments"]} == {
        "Enterprise": (1, 4),
        Segment.SMB.label: (1, 2),
    }
    radius = selectors.incident_blast_radius(agent, incident)
    assert [r.external_id for r in radius["resources"]] == ["named-by-the-1001st"]
    other = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS)
    other.affected_resources.set([late])
    assert [c.pk for c in selectors.incident_blast_radius(agent, incident)["open_cases"]] == [other.pk]
    page = login(agent).get(incident.get_absolute_url()).content.decode()
    assert "data-segments" in page and "Enterprise 1 tenant · 4 cases" in page
    assert "and 1 other (2 cases)" in page


@pytest.mark.parametrize("n", [3, 130])
def test_the_page_statement_count_is_pinned_and_the_timeline_is_paged(
    n, incident, agent, tenant_a, django_assert_num_queries
):
    cases = CaseFactory.create_batch(n, tenant=tenant_a, status=Status.IN_PROGRESS)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[c.pk for c in cases])
    for i in range(n):
        services.incident_post_update(incident_id=incident.pk, actor=agent, body=f"update {i:03}", public=True)
    client = login(agent)
    client.get(incident.get_absolute_url())
    with django_assert_num_queries(12):
        page = client.get(incident.get_absolute_url()).content.decode()
    entries = n + 2  # the updates, the declaration and the link
    shown = min(entries, selectors.TIMELINE_ROWS)
    assert page.count('data-entry="') == shown
    assert f"update {n - 1:03}" in page  # newest first
    if entries <= selectors.TIMELINE_ROWS:
        assert "data-timeline-older" not in page
        return
    assert "data-timeline-older" in page and f"update {n - 50:03}" in page and f"update {n - 51:03}" not in page
    older_url = page.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert older_url.startswith(f"/incidents/{incident.key}/timeline/?show=all&before=")
    seen = page.count('data-entry="')
    with django_assert_num_queries(5):  # constant: the next 50, whatever the timeline's length
        older = client.get(older_url, headers={"HX-Request": "true"}).content.decode()
    while True:
        assert "<html" not in older
        seen += older.count('data-entry="')
        if "data-timeline-older" not in older:
            break
        older_url = older.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
        older = client.get(older_url, headers={"HX-Request": "true"}).content.decode()
    assert seen == entries and "update 000" in older and 'data-entry="declared"' in older


def test_the_timeline_of_an_incident_not_yours_is_404(agent, sre, tenant_b):
    theirs = services.incident_declare(actor=sre, title="B only", severity="SEV3", tenants=[tenant_b])
    response = login(agent).get(f"/incidents/{theirs.key}/timeline/?before=1")
    assert response.status_code == 404


def test_the_agents_list_statement_count_does_not_grow_with_incidents(agent, sre, tenant_a, django_assert_num_queries):
    for i in range(30):
        services.incident_declare(actor=sre, title=f"I{i}", severity="SEV3", tenants=[tenant_a])
    client = login(agent)
    client.get("/incidents/")
    with django_assert_num_queries(4):
        assert client.get("/incidents/").status_code == 200
    assert Incident.objects.count() == 30


# --- the link rows' copies of their case's keys (migration 1300: the big page reads its linked cases in
# index order, open first, then by priority and key; an agent's of their tenants) ----------------------

RESOLUTION = {"summary": "Fixed", "evidence": "Logs clean", "preventive_actions": "Alert added"}


def link_keys(incident) -> dict:
    """{case id: (closed, priority, tenant id)} as the link rows hold them."""
    return {row[1]: tuple(row[2:]) for row in reach.stored([incident.pk])[2]}


def test_the_migrations_open_statuses_are_the_cases():
    from importlib import import_module

    from cases.choices import OPEN_STATUSES

    migration = import_module("incidents.migrations.1300_link_sort_keys")
    expected = "(" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"
    assert migration.OPEN == expected and reach.OPEN_SQL == expected


def test_the_link_rows_follow_their_cases_status_priority_and_unlinking(incident, agent, sre, tenant_a, tenant_b):
    low = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS, priority=4)
    high = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS, priority=2)
    theirs = CaseFactory(tenant=tenant_b, status=Status.NEW, priority=1)
    services.incident_link_cases(incident_id=incident.pk, actor=sre, case_ids=[low.pk, high.pk, theirs.pk])
    assert link_keys(incident) == {
        low.pk: (False, 4, tenant_a.pk),
        high.pk: (False, 2, tenant_a.pk),
        theirs.pk: (False, 1, tenant_b.pk),
    }
    page = selectors.linked_cases(agent, incident)
    assert [c.pk for c in page["cases"]] == [high.pk, low.pk] and page["open"] == 3 and page["hidden"] == 1

    # The low case is resolved (through the case services): it goes after the open ones and leaves the open count.
    case_services.case_transition(case_id=low.pk, to=Status.RESOLVED, actor=agent, resolution=RESOLUTION)
    # The high one becomes critical, then low: it moves with its priority.
    case_services.case_classify(case_id=high.pk, actor=agent, priority=1)
    assert link_keys(incident)[low.pk] == (True, 4, tenant_a.pk)
    assert link_keys(incident)[high.pk] == (False, 1, tenant_a.pk)
    assert_equal_to_recomputation()
    page = selectors.linked_cases(agent, incident)
    assert [c.pk for c in page["cases"]] == [high.pk, low.pk] and page["open"] == 2
    case_services.case_transition(case_id=low.pk, to=Status.IN_PROGRESS, actor=agent, reason="came back")
    case_services.case_classify(case_id=high.pk, actor=agent, priority=4)
    assert [c.pk for c in selectors.linked_cases(agent, incident)["cases"]] == [low.pk, high.pk]
    assert selectors.linked_cases(agent, incident)["open"] == 3

    # Unlinked: its link row is gone with it; linked again: its current keys.
    services.incident_unlink_case(incident_id=incident.pk, actor=agent, case_id=high.pk)
    assert high.pk not in link_keys(incident)
    assert [c.pk for c in selectors.linked_cases(agent, incident)["cases"]] == [low.pk]
    case_services.case_classify(case_id=high.pk, actor=agent, priority=3)  # while unlinked
    high.incidents.add(incident)  # the reverse side of the m2m
    assert link_keys(incident)[high.pk] == (False, 3, tenant_a.pk)
    assert_equal_to_recomputation()

    # A link row gone wrong (written around the triggers) is found and rebuilt.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {reach.IC} SET case_priority = 9, case_closed = true WHERE incident_id = %s", [incident.pk]
        )
    assert reach.verify() == [incident.pk]
    reach.rebuild([incident.pk])
    assert reach.verify() == [] and link_keys(incident)[high.pk] == (False, 3, tenant_a.pk)


def test_the_linked_pages_follow_the_order_of_open_priority_and_key(incident, agent, sre, tenant_a, tenant_b):
    """Pages read off the link rows' index: the same cases and order as sorting the cases themselves."""
    rng = random.Random(7)
    cases = [
        CaseFactory(
            tenant=rng.choice([tenant_a, tenant_a, tenant_b]),
            status=rng.choice([Status.NEW, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]),
            priority=rng.randrange(1, 5),
        )
        for _ in range(130)
    ]
    services.incident_link_cases(incident_id=incident.pk, actor=sre, case_ids=[c.pk for c in cases])
    for user, scope in ((sre, None), (agent, {tenant_a.pk})):
        expected = sorted(
            (c for c in cases if scope is None or c.tenant_id in scope),
            key=lambda c: (c.status not in (Status.NEW, Status.IN_PROGRESS), c.priority, c.pk),
        )
        seen = []
        for number in range(1, selectors.linked_cases(user, incident)["pages"] + 1):
            seen += [c.pk for c in selectors.linked_cases(user, incident, page=number)["cases"]]
        assert seen == [c.pk for c in expected]
        assert selectors.linked_cases(user, incident)["open"] == sum(
            c.status in (Status.NEW, Status.IN_PROGRESS) for c in cases
        )


def test_the_unfiltered_lists_count_off_the_reach_equals_the_scope(agent, sre, tenant_a, tenant_b):
    """The unfiltered list counts an agent's incidents off the reach rows (distinct incidents of their
    tenants): the same number as the scope itself, an incident touching two of them counted once."""
    from tenants.selectors import visible_tenant_ids

    third = TenantFactory(slug="third")
    from guardian.shortcuts import assign_perm

    assign_perm("tenants.view_tenant", agent, third)
    agent._visible_tenant_ids = None
    both = services.incident_declare(actor=sre, title="both", severity="SEV2", tenants=[tenant_a, third])
    services.incident_declare(actor=sre, title="B only", severity="SEV3", tenants=[tenant_b])
    services.incident_declare(actor=sre, title="A", severity="SEV3", tenants=[tenant_a])
    case = CaseFactory(tenant=third, status=Status.IN_PROGRESS)
    services.incident_link_cases(incident_id=both.pk, actor=sre, case_ids=[case.pk])
    assert set(visible_tenant_ids(agent)) >= {tenant_a.pk, third.pk}
    assert selectors.incident_list_count(agent) == selectors.incident_visible_to(agent).count() == 2
    assert selectors.incident_list_count(sre) == Incident.objects.count() == 3
    page = login(agent).get("/incidents/").content.decode()
    assert "<b>2</b> incidents" in page
    assert "<b>1</b> incident" in login(agent).get("/incidents/?severity=SEV2").content.decode()
