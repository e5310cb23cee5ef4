"""The tenant list: only visible tenants, every filter, search, sort, pagination, the HTMX results
partial, the list-access audit entry, and a query count that does not grow with the tenants."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from cases.choices import Status
from cases.models import Case
from tenants.choices import BillingStatus, Health, Region, Segment, SupportTier
from tenants.models import SLI, Integration, Tenant
from tests.conftest import login
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "tenant-results"}
_ids = itertools.count(1)


def slugs(response) -> list[str]:
    return re.findall(r'data-tenant="([\w-]+)"', response.content.decode())


def add_sli(tenant, integration, *, value=99.95, objective=99.9, budget=60, name="availability", ago=0):
    SLI.objects.create(
        tenant=tenant,
        integration=integration,
        source_id=f"s{next(_ids)}",
        name=name,
        value=value,
        objective=objective,
        error_budget_remaining=budget,
        observed_at=timezone.now() - timedelta(minutes=ago),
    )


def breach(case):
    Case.objects.filter(pk=case.pk).update(sla_due_at=timezone.now() - timedelta(minutes=10))


@pytest.fixture
def world(tenant_a, tenant_b, manager):
    integration = Integration.objects.create(name="mon", token_prefix="x", token_hash="hash-list-tests")
    tenant_a.segment, tenant_a.support_tier, tenant_a.region, tenant_a.billing_status = (
        Segment.ENTERPRISE,
        SupportTier.ENTERPRISE,
        Region.EU_WEST,
        BillingStatus.ACTIVE,
    )
    tenant_a.save()
    tenant_b.segment, tenant_b.support_tier, tenant_b.region, tenant_b.billing_status = (
        Segment.SMB,
        SupportTier.STANDARD,
        Region.US_EAST,
        BillingStatus.PAST_DUE,
    )
    tenant_b.save()
    initech = TenantFactory(
        name="Initech",
        slug="initech",
        segment=Segment.MID_MARKET,
        support_tier=SupportTier.PREMIUM,
        region=Region.APAC,
        billing_status=BillingStatus.TRIAL,
        health=Health.AMBER,
    )
    # Acme: red (latest SLI under objective, an older green one superseded). Globex: green.
    # Initech: no SLIs → its recorded amber.
    add_sli(tenant_a, integration, value=99.99, budget=90, ago=30)
    add_sli(tenant_a, integration, value=98.0, budget=40, ago=1)
    add_sli(tenant_b, integration, budget=80)
    late = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS)
    breach(late)
    CaseFactory(tenant=tenant_a, status=Status.NEW)
    CaseFactory(tenant=tenant_a, status=Status.CLOSED)
    closed_late = CaseFactory(tenant=initech, status=Status.RESOLVED)
    breach(closed_late)  # not open: does not count as breached
    CaseFactory(tenant=tenant_b, status=Status.TRIAGE)
    return {"acme": tenant_a, "globex": tenant_b, "initech": initech}


def test_manager_sees_every_tenant_with_health_and_case_counts(world, manager):
    response = login(manager).get("/tenants/")
    assert response.status_code == 200
    assert slugs(response) == ["acme", "globex", "initech"]
    body = response.content.decode()
    row = re.search(r'<tr data-href="/tenants/acme/" data-tenant="acme">.*?</tr>', body, re.S).group(0)
    assert 'data-health="red"' in row and "Enterprise" in row and "EU West" in row and "Active" in row
    assert ">2</a>" in row  # open cases
    assert "⚠ 1" in row  # breached
    assert 'data-health="green"' in re.search(r'data-tenant="globex">.*?</tr>', body, re.S).group(0)
    initech_row = re.search(r'data-tenant="initech">.*?</tr>', body, re.S).group(0)
    assert 'data-health="amber"' in initech_row and '<span class="muted">0</span>' in initech_row
    assert "<html" in body and 'id="tenant-filters"' in body


def test_agent_sees_only_granted_tenants(world, agent):
    response = login(agent).get("/tenants/")
    assert slugs(response) == ["acme"]
    assert "Globex" not in response.content.decode()
    assert slugs(login(agent).get("/tenants/?q=globex")) == []


def test_htmx_request_gets_only_the_results_partial(world, manager):
    response = login(manager).get("/tenants/?segment=smb", **HX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="tenant-results"') and "<html" not in body and "tenant-filters" not in body
    assert slugs(response) == ["globex"]
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("segment=enterprise", ["acme"]),
        ("segment=smb&segment=mid_market", ["globex", "initech"]),
        ("tier=premium", ["initech"]),
        ("tier=enterprise&tier=standard", ["acme", "globex"]),
        ("region=us-east", ["globex"]),
        ("region=apac&region=eu-west", ["acme", "initech"]),
        ("billing=past_due", ["globex"]),
        ("billing=trial&billing=active", ["acme", "initech"]),
        ("health=red", ["acme"]),
        ("health=green", ["globex"]),
        ("health=amber", ["initech"]),
        ("health=amber&health=red", ["acme", "initech"]),
        ("health=unknown", []),
        ("has_breached=true", ["acme"]),
        ("has_breached=false", ["globex", "initech"]),
        ("q=glob", ["globex"]),
        ("q=INITECH", ["initech"]),
        ("q=acm", ["acme"]),  # slug
        ("q=corp", ["acme"]),  # name "Acme Corp"
        ("segment=enterprise&has_breached=false", []),
        ("region=mars", []),  # an invalid value matches nothing, it does not widen the list
    ],
)
def test_each_filter(query, expected, world, manager):
    response = login(manager).get(f"/tenants/?{query}")
    assert response.status_code == 200
    assert sorted(slugs(response)) == expected


def test_health_filter_ignores_superseded_observations(world, manager):
    integration = Integration.objects.get()
    add_sli(world["globex"], integration, value=10, budget=-5, ago=500)  # red, but long superseded
    assert slugs(login(manager).get("/tenants/?health=red")) == ["acme"]


def test_portable_health_rank_agrees_with_the_postgres_one(world, manager):
    from tenants import selectors

    integration = Integration.objects.get()
    add_sli(world["globex"], integration, name="latency", budget=10)  # amber now
    fast = dict(selectors.tenant_list(manager).values_list("slug", "health_rank"))
    portable = dict(
        Tenant.objects.annotate(health_rank=selectors.health_rank_expression(portable=True)).values_list(
            "slug", "health_rank"
        )
    )
    assert fast == portable == {"acme": 0, "globex": 1, "initech": 1}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["acme", "globex", "initech"]),
        ("-name", ["initech", "globex", "acme"]),
        ("health", ["acme", "initech", "globex"]),
        ("breached", ["acme", "globex", "initech"]),
        ("open", ["acme", "globex", "initech"]),
        ("tier", ["acme", "initech", "globex"]),
        ("segment", ["acme", "initech", "globex"]),
    ],
)
def test_sorting(sort, expected, world, manager):
    assert slugs(login(manager).get(f"/tenants/?sort={sort}")) == expected


def test_filter_state_stays_in_the_links(world, manager):
    body = login(manager).get("/tenants/?segment=enterprise&sort=name").content.decode()
    assert 'href="?segment=enterprise&amp;sort=health"' in body
    assert 'hx-push-url="true"' in body
    assert re.search(r'<input type="checkbox" id="id_segment_\d" name="segment" value="enterprise" checked>', body)


def test_pagination(manager):
    for i in range(55):
        TenantFactory(name=f"Tenant {i:02d}", slug=f"t-{i:02d}")
    client = login(manager)
    first = client.get("/tenants/")
    assert len(slugs(first)) == 50 and "Page 1 of 2" in first.content.decode()
    second = client.get("/tenants/?page=2", **HX)
    assert slugs(second) == [f"t-{i:02d}" for i in range(50, 55)]
    assert 'rel="prev" href="?page=1"' in second.content.decode()


def test_the_list_view_is_audited_with_the_tenants_shown(world, agent):
    login(agent).get("/tenants/?segment=enterprise", **HX)
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk="list").latest("timestamp")
    assert entry.actor == agent
    assert entry.additional_data == {"view": "tenant list", "query": "segment=enterprise", "ids": [world["acme"].pk]}
    assert entry.content_type.model == "tenant"


def test_empty_state(world, manager):
    body = login(manager).get("/tenants/?q=nothing-like-this").content.decode()
    assert "No tenants match these filters." in body


def test_works_without_javascript(world, manager):
    body = login(manager).get("/tenants/").content.decode()
    assert '<form id="tenant-filters" class="filters" method="get" action="/tenants/"' in body
    assert '<noscript><button class="btn btn-small" type="submit">Apply</button></noscript>' in body
    assert '<a href="/tenants/acme/"><b>Acme Corp</b></a>' in body


def test_nav_links_to_the_tenant_list(manager):
    body = login(manager).get("/tenants/").content.decode()
    assert '<a href="/tenants/" aria-current="page">Tenants</a>' in body


@pytest.mark.parametrize("n", [2, 60])
def test_query_count_does_not_grow_with_tenants(n, agent, django_assert_max_num_queries):
    integration = Integration.objects.create(name="mon", token_prefix="x", token_hash=f"hash-{n}")
    tenants = [TenantFactory() for _ in range(n)]
    for i, tenant in enumerate(tenants):
        add_sli(tenant, integration, budget=i % 40)
        add_sli(tenant, integration, name="latency", value=99 if i % 3 else 100, objective=99.5)
        breach(CaseFactory(tenant=tenant, status=Status.IN_PROGRESS))
        CaseFactory(tenant=tenant)
    user = UserFactory(username="lots", role="agent", tenants=tenants)
    client = login(user)
    client.get("/tenants/")
    # session, user, profile, roles, 2× tenant grants, count, page of tenants, filter choices (none), audit row,
    # session save ×3
    with django_assert_max_num_queries(13):
        response = client.get("/tenants/?sort=health&has_breached=true")
    assert len(slugs(response)) == min(n, 50)
    with django_assert_max_num_queries(13):
        assert client.get("/tenants/?health=red&health=amber", **HX).status_code == 200
