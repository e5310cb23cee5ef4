"""The tenant console: every panel as a page and as an HTMX fragment, who may see it (404 and an
audited denial otherwise), the access audit, what each panel computes (health colours, firing alerts
first, config diff, blast radius, shared resources) and query counts that do not grow with telemetry."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import Priority, Status
from incidents.models import Incident
from incidents.tenant_panels import incidents_panel
from tenants import panels, selectors
from tenants.choices import Health, SupportTier
from tenants.models import (
    SLI,
    Alert,
    ConfigSnapshot,
    Deployment,
    Experiment,
    FeatureFlag,
    Integration,
    Resource,
    ResourceDependency,
    UsageMetric,
)
from tests.conftest import login
from tests.factories import CaseFactory, ResourceFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
PANELS = list(panels.PANELS)
_ids = itertools.count(1)


@pytest.fixture
def source(db):
    return Integration.objects.create(name="monitoring", token_prefix="x", token_hash="hash-console-tests")


def sid() -> str:
    return f"item-{next(_ids)}"


def add_sli(tenant, source, *, name="availability", value=99.95, objective=99.9, budget=60.0, ago=0, resource=None):
    return SLI.objects.create(
        tenant=tenant,
        integration=source,
        source_id=sid(),
        name=name,
        value=value,
        objective=objective,
        error_budget_remaining=budget,
        observed_at=timezone.now() - timedelta(minutes=ago),
        resource=resource,
    )


def add_alert(
    tenant, source, *, name="HighErrorRate", status=Alert.Status.FIRING, ago=0, resource=None, severity="critical"
):
    starts = timezone.now() - timedelta(minutes=ago)
    return Alert.objects.create(
        tenant=tenant,
        integration=source,
        source_id=sid(),
        name=name,
        status=status,
        severity=severity,
        starts_at=starts,
        ends_at=None if status == Alert.Status.FIRING else starts + timedelta(minutes=5),
        resource=resource,
        summary=f"{name} on {tenant.slug}",
    )


def add_telemetry(tenant, source, n: int):
    """n rows of every kind, over several keys: what a busy tenant sends."""
    now = timezone.now()
    resources = [
        Resource.objects.get_or_create(tenant=tenant, external_id=f"{tenant.slug}-svc-{i}", defaults={"kind": "api"})[0]
        for i in range(3)
    ]
    for i in range(n):
        at = now - timedelta(minutes=i)
        res = resources[i % 3]
        SLI.objects.create(
            tenant=tenant,
            integration=source,
            source_id=sid(),
            name=f"sli-{i % 15}",
            value=99.0 + (i % 10) / 10,
            objective=99.5,
            error_budget_remaining=(i * 7) % 100,
            observed_at=at,
            resource=res,
        )
        Alert.objects.create(
            tenant=tenant,
            integration=source,
            source_id=sid(),
            name=f"alert-{i}",
            status="firing" if i % 3 else "resolved",
            starts_at=at,
            resource=res,
        )
        Deployment.objects.create(
            tenant=tenant, integration=source, source_id=sid(), version=f"1.{i}", deployed_at=at, resource=res
        )
        FeatureFlag.objects.create(
            tenant=tenant,
            integration=source,
            source_id=sid(),
            key=f"flag-{i % 60}",
            enabled=bool(i % 2),
            observed_at=at,
        )
        ConfigSnapshot.objects.create(
            tenant=tenant,
            integration=source,
            source_id=sid(),
            taken_at=at,
            resource=res,
            data={"db": {"pool": i % 7, "host": "db1"}, "feature": {"x": bool(i % 2)}},
        )
        UsageMetric.objects.create(
            tenant=tenant, integration=source, source_id=sid(), metric=f"metric-{i % 10}", value=i * 3, period_start=at
        )
        Experiment.objects.create(
            tenant=tenant,
            integration=source,
            source_id=sid(),
            key=f"exp-{i}",
            status="active" if i % 2 else "ended",
            started_at=at,
        )
    for a, b in zip(resources, resources[1:]):
        ResourceDependency.objects.get_or_create(
            resource=a, depends_on=b, defaults={"tenant": tenant, "integration": source, "source_id": sid()}
        )
    for i in range(min(n, 30)):
        case = CaseFactory(tenant=tenant, status=Status.IN_PROGRESS)
        incident = Incident.objects.create(
            title=f"incident {i}", status=Incident.Status.INVESTIGATING if i % 2 else Incident.Status.RESOLVED
        )
        incident.cases.add(case)
        incident.resources.add(resources[i % 3])


def panel_url(tenant, name):
    return f"/tenants/{tenant.slug}/panels/{name}/"


def html(response) -> str:
    return response.content.decode()


# --- pages and fragments ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PANELS)
def test_every_panel_answers_as_full_page_and_as_htmx_fragment(name, tenant_a, manager, source):
    add_telemetry(tenant_a, source, 3)
    client = login(manager)

    page = client.get(panel_url(tenant_a, name))
    assert page.status_code == 200
    body = html(page)
    assert "<html" in body and 'class="tenant-header"' in body and tenant_a.name in body
    assert f'id="panel-{name}"' in body and f'data-panel="{name}"' in body
    assert "Whole console" in body  # a panel page leads back to the console

    fragment = client.get(panel_url(tenant_a, name), **HX)
    assert fragment.status_code == 200
    part = html(fragment)
    assert "<html" not in part and "tenant-header" not in part
    assert part.lstrip().startswith(f'<section id="panel-{name}"')
    assert f'hx-get="{panel_url(tenant_a, name)}"' in part  # its refresh button
    assert "HX-Request" in fragment["Vary"]


@pytest.mark.parametrize("name", PANELS)
def test_every_panel_has_an_empty_state(name, tenant_a, manager):
    response = login(manager).get(panel_url(tenant_a, name), **HX)
    assert response.status_code == 200
    if name not in ("cases", "entitlements"):
        assert "empty-state" in html(response)


def test_console_page_lazy_loads_each_panel_with_fallback_links(tenant_a, manager):
    tenant_a.entitlements = {"phone_support": True, "named_contacts": 3, "channels": ["email", "phone"]}
    tenant_a.data_residency = "EU"
    tenant_a.save()
    response = login(manager).get(f"/tenants/{tenant_a.slug}/")
    assert response.status_code == 200
    body = html(response)
    for name in PANELS:
        url = panel_url(tenant_a, name)
        section = re.search(rf'<section id="panel-{name}"[^>]*>', body).group(0)
        assert f'hx-get="{url}"' in section and 'hx-trigger="load"' in section and 'aria-busy="true"' in section
        assert f'<a href="{url}">Show ' in body  # <noscript> link to the panel's own page
    assert 'href="?panels=inline"' in body  # <noscript>: every panel on the page
    # The header: plan, tier, segment, region, residency, billing, entitlements, SLA policy in force.
    for text in [
        "Plan",
        "Team",
        "Standard",
        "SMB",
        "EU West",
        "EU",
        "Active",
        "✓ phone",
        "3 named contacts",
        "email, phone",
        "SLA policy",
    ]:
        assert text in body


def test_console_without_javascript_renders_every_panel_inline(tenant_a, manager, source):
    add_alert(tenant_a, source, name="DiskFull")
    response = login(manager).get(f"/tenants/{tenant_a.slug}/?panels=inline")
    body = html(response)
    for name in PANELS:
        assert f'data-panel="{name}"' in body
    assert "DiskFull" in body and 'hx-trigger="load"' not in body.split('id="panel-cases"')[0]
    views = set(
        LogEntry.objects.filter(object_pk=str(tenant_a.pk), action=LogEntry.Action.ACCESS).values_list(
            "additional_data__view", flat=True
        )
    )
    assert {"console", *(f"console:{name}" for name in PANELS)} <= views


def test_unknown_panel_is_404(tenant_a, manager):
    assert login(manager).get(panel_url(tenant_a, "nope")).status_code == 404


# --- permissions and audit ----------------------------------------------------------------------------


def test_agent_sees_the_console_and_panels_of_a_granted_tenant(tenant_a, agent):
    client = login(agent)
    assert client.get(f"/tenants/{tenant_a.slug}/").status_code == 200
    for name in PANELS:
        assert client.get(panel_url(tenant_a, name), **HX).status_code == 200
        assert client.get(panel_url(tenant_a, name)).status_code == 200


def _denials(path):
    return LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, additional_data__denied=True, additional_data__path=path
    )


def test_agent_gets_404_for_another_tenant_and_each_attempt_is_audited(tenant_a, tenant_b, agent):
    client = login(agent)
    paths = [f"/tenants/{tenant_b.slug}/", f"/tenants/{tenant_b.slug}/?panels=inline"] + [
        panel_url(tenant_b, n) for n in PANELS
    ]
    for path in paths:
        for headers in ({}, HX):
            response = client.get(path, **headers)
            assert response.status_code == 404, path
            assert tenant_b.name not in html(response)
    for name in PANELS:
        denial = _denials(panel_url(tenant_b, name)).first()
        assert denial is not None, name
        assert denial.object_pk == str(tenant_b.pk) and denial.actor == agent
    assert _denials(f"/tenants/{tenant_b.slug}/").count() == 4  # page and ?panels=inline, each plain and HTMX
    # Nothing was read: no access entry that is not a denial.
    assert (
        not LogEntry.objects.filter(object_pk=str(tenant_b.pk), action=LogEntry.Action.ACCESS)
        .exclude(additional_data__denied=True)
        .exists()
    )


def test_a_tenant_that_does_not_exist_is_404_and_audited_by_slug(agent):
    assert login(agent).get("/tenants/no-such-tenant/panels/health/").status_code == 404
    assert _denials("/tenants/no-such-tenant/panels/health/").get().object_pk == "no-such-tenant"


def test_manager_sees_every_tenant(tenant_a, tenant_b, manager):
    client = login(manager)
    for tenant in (tenant_a, tenant_b):
        assert client.get(f"/tenants/{tenant.slug}/").status_code == 200
        for name in PANELS:
            assert client.get(panel_url(tenant, name), **HX).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(tenant_a, client):
    response = client.get(f"/tenants/{tenant_a.slug}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", PANELS)
def test_each_panel_view_writes_an_access_entry(name, tenant_a, agent):
    login(agent).get(panel_url(tenant_a, name), **HX)
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(tenant_a.pk)).latest("timestamp")
    assert entry.actor == agent
    assert entry.additional_data == {"view": f"console:{name}"}
    assert entry.content_type.model == "tenant"


def test_console_page_writes_an_access_entry(tenant_a, agent):
    login(agent).get(f"/tenants/{tenant_a.slug}/")
    assert LogEntry.objects.filter(object_pk=str(tenant_a.pk), actor=agent, additional_data__view="console").exists()


# --- health --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "objective", "budget", "expected"),
    [
        (99.5, 99.9, 80, Health.RED),  # below the objective
        (99.95, 99.9, 0, Health.RED),  # budget spent
        (99.95, 99.9, -12, Health.RED),  # overspent
        (99.95, 99.9, 10, Health.AMBER),  # under 25 % left
        (99.95, 99.9, 24.9, Health.AMBER),
        (99.95, 99.9, 25, Health.GREEN),
        (99.9, 99.9, 100, Health.GREEN),  # exactly on the objective
    ],
)
def test_health_colour_from_the_latest_sli(value, objective, budget, expected, tenant_a, manager, source):
    add_sli(tenant_a, source, value=50, objective=99.9, budget=-50, ago=60)  # older and red: superseded
    add_sli(tenant_a, source, value=value, objective=objective, budget=budget, ago=1)
    body = html(login(manager).get(panel_url(tenant_a, "health"), **HX))
    assert f'data-sli="availability" data-health="{expected}"' in body
    assert selectors.tenant_health(tenant_a) == expected
    listed = selectors.tenant_list(manager).get(pk=tenant_a.pk)
    assert selectors.RANK_STATE[listed.health_rank] == expected


def test_tenant_health_is_the_worst_sli_and_falls_back_to_stored_health(tenant_a, source):
    tenant_a.health = Health.AMBER
    tenant_a.save()
    assert selectors.tenant_health(tenant_a) == Health.AMBER  # no SLIs: the recorded health
    add_sli(tenant_a, source, name="latency", budget=90)
    assert selectors.tenant_health(tenant_a) == Health.GREEN
    add_sli(tenant_a, source, name="errors", budget=5)
    assert selectors.tenant_health(tenant_a) == Health.AMBER
    add_sli(tenant_a, source, name="availability", value=90)
    assert selectors.tenant_health(tenant_a) == Health.RED


def test_health_panel_draws_a_budget_sparkline_of_recent_history(tenant_a, manager, source):
    for i, budget in enumerate([80, 70, 55, 40, 20]):
        add_sli(tenant_a, source, budget=budget, ago=50 - i)
    body = html(login(manager).get(panel_url(tenant_a, "health"), **HX))
    svg = re.search(r'<svg class="spark spark-amber".*?</svg>', body, re.S).group(0)
    assert len(re.search(r'<polyline points="([^"]+)"', svg).group(1).split()) == 5
    assert "80.0 → 70.0 → 55.0 → 40.0 → 20.0" in svg
    assert "−60.0 pts" in body  # burn over the window shown


def test_sparkline_is_bounded_to_the_latest_points(tenant_a, source):
    for i in range(panels.SPARK_POINTS + 15):
        add_sli(tenant_a, source, budget=i, ago=100 - i)
    data = panels.health_panel(tenant_a)
    assert len(data["slis"][0]["history"]) == panels.SPARK_POINTS
    assert data["slis"][0]["latest"].error_budget_remaining == panels.SPARK_POINTS + 14


def test_chart_points_stay_inside_the_box():
    chart = panels.Chart([5, -10, 120, 50], width=100, height=20, lo=0, hi=100)
    for point in chart.points.split():
        x, y = map(float, point.split(","))
        assert 0 <= x <= 100 and 0 <= y <= 20
    assert panels.Chart([]).points == ""
    assert panels.Chart([3.0]).points  # a single observation is a point


# --- alerts, flags, deployments, usage, experiments ---------------------------------------------------


def test_alerts_panel_lists_firing_alerts_first(tenant_a, manager, source):
    add_alert(tenant_a, source, name="OldButFiring", ago=300)
    add_alert(tenant_a, source, name="RecentResolved", status=Alert.Status.RESOLVED, ago=1)
    add_alert(tenant_a, source, name="NewFiring", ago=10)
    body = html(login(manager).get(panel_url(tenant_a, "alerts"), **HX))
    order = re.findall(r"<b>(\w+)</b>", body.split('class="alert-list"')[1])
    assert order == ["NewFiring", "OldButFiring", "RecentResolved"]
    assert "2 firing" in body


def test_alerts_panel_is_limited(tenant_a, source):
    for i in range(panels.ROWS + 5):
        add_alert(tenant_a, source, name=f"a{i}", ago=i)
    data = panels.alerts_panel(tenant_a)
    assert len(data["alerts"]) == panels.ROWS and data["firing_count"] == panels.ROWS + 5


def test_flags_panel_shows_the_latest_state_per_key(tenant_a, manager, source):
    now = timezone.now()
    FeatureFlag.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        key="new-billing",
        enabled=False,
        observed_at=now - timedelta(hours=2),
    )
    FeatureFlag.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        key="new-billing",
        enabled=True,
        variant="b",
        observed_at=now,
    )
    FeatureFlag.objects.create(
        tenant=tenant_a, integration=source, source_id=sid(), key="dark-mode", enabled=False, observed_at=now
    )
    body = html(login(manager).get(panel_url(tenant_a, "flags"), **HX))
    assert body.count('data-flag="new-billing"') == 1
    row = re.search(r'<tr data-flag="new-billing">.*?</tr>', body, re.S).group(0)
    assert "✓ on" in row and ">b<" in row
    assert "✗ off" in re.search(r'<tr data-flag="dark-mode">.*?</tr>', body, re.S).group(0)
    assert "1 of 2 on" in body


def test_latest_per_key_portable_path_matches_postgres(tenant_a, source):
    for i in range(30):
        add_sli(tenant_a, source, name=f"n{i % 4}", budget=i, ago=100 - i)
    fast = selectors.latest_per_key(
        SLI, tenant_id=tenant_a.pk, key="name", time_field="observed_at", per_key=3, max_keys=3
    )
    portable = selectors.latest_per_key_portable(
        SLI, tenant_id=tenant_a.pk, key="name", time_field="observed_at", per_key=3, max_keys=3
    )
    assert [s.pk for s in fast] == [s.pk for s in portable]
    assert [s.name for s in fast] == ["n0"] * 3 + ["n1"] * 3 + ["n2"] * 3


def test_deployments_panel_is_newest_first(tenant_a, manager, source):
    now = timezone.now()
    Deployment.objects.create(
        tenant=tenant_a, integration=source, source_id=sid(), version="2.3.0", deployed_at=now - timedelta(days=1)
    )
    Deployment.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        version="2.4.0",
        deployed_at=now,
        description="Faster ingest",
    )
    body = html(login(manager).get(panel_url(tenant_a, "deployments"), **HX))
    assert body.index("2.4.0") < body.index("2.3.0") and "Faster ingest" in body


def test_usage_panel_charts_each_metric(tenant_a, manager, source):
    now = timezone.now()
    for i, value in enumerate([100, 120, 150]):
        UsageMetric.objects.create(
            tenant=tenant_a,
            integration=source,
            source_id=sid(),
            metric="api_requests",
            value=value,
            period_start=now - timedelta(days=3 - i),
        )
    body = html(login(manager).get(panel_url(tenant_a, "usage"), **HX))
    figure = re.search(r'<figure class="usage" data-metric="api_requests">.*?</figure>', body, re.S).group(0)
    assert "<svg" in figure and len(re.search(r'<polyline points="([^"]+)"', figure).group(1).split()) == 3
    assert "▲ 25.0 %" in figure  # 120 → 150
    assert "<table" in figure  # the chart's numbers as a table


def test_experiments_panel_shows_active_ones_only(tenant_a, manager, source):
    now = timezone.now()
    Experiment.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        key="checkout-v2",
        status="active",
        variant="treatment",
        started_at=now,
    )
    Experiment.objects.create(
        tenant=tenant_a, integration=source, source_id=sid(), key="old-onboarding", status="ended", started_at=now
    )
    body = html(login(manager).get(panel_url(tenant_a, "experiments"), **HX))
    assert "checkout-v2" in body and "treatment" in body and "old-onboarding" not in body


# --- config ----------------------------------------------------------------------------------------------


def test_flatten_nested_keys_with_dots():
    assert panels.flatten({"db": {"pool": {"size": 10}, "host": "x"}, "tags": ["a"], "empty": {}}) == {
        "db.pool.size": 10,
        "db.host": "x",
        "tags": ["a"],
        "empty": {},
    }


def test_config_diff_added_removed_changed():
    before = {"db": {"pool": 10, "host": "db1", "ssl": True}, "cache": {"ttl": 60}, "region": "eu"}
    after = {
        "db": {"pool": 20, "host": "db1"},
        "cache": {"ttl": 60, "size": "1g"},
        "region": "eu",
        "feature": {"x": True},
    }
    diff = panels.config_diff(before, after)
    assert diff.added == {"cache.size": "1g", "feature.x": True}
    assert diff.removed == {"db.ssl": True}
    assert diff.changed == {"db.pool": (10, 20)}
    assert diff.unchanged == 3
    assert diff.rows()[0] == ("cache.size", "added", "", "1g")
    assert panels.config_diff({"a": 1}, {"a": 1}).empty


def test_config_panel_diffs_the_latest_snapshot_against_the_previous_of_the_same_resource(tenant_a, manager, source):
    api, other = (
        ResourceFactory(tenant=tenant_a, external_id="api"),
        ResourceFactory(tenant=tenant_a, external_id="worker"),
    )
    now = timezone.now()
    ConfigSnapshot.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        resource=api,
        taken_at=now - timedelta(hours=3),
        data={"db": {"pool": 10, "ssl": True}, "log": "info"},
    )
    ConfigSnapshot.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        resource=other,
        taken_at=now - timedelta(hours=1),
        data={"unrelated": 1},
    )
    latest = ConfigSnapshot.objects.create(
        tenant=tenant_a,
        integration=source,
        source_id=sid(),
        resource=api,
        taken_at=now,
        data={"db": {"pool": 25}, "log": "info", "limits": {"rps": 100}},
    )
    body = html(login(manager).get(panel_url(tenant_a, "config"), **HX))
    assert 'data-diff="changed" data-key="db.pool"' in body
    assert 'data-diff="removed" data-key="db.ssl"' in body
    assert 'data-diff="added" data-key="limits.rps"' in body
    assert 'data-key="unrelated"' not in body  # another resource's snapshot is not "the previous one"
    assert "+1 added" in body and "−1 removed" in body and "~1 changed" in body
    # An older snapshot can be picked from the list, and it is diffed against its own predecessor.
    older = ConfigSnapshot.objects.filter(resource=other).get()
    picked = html(login(manager).get(panel_url(tenant_a, "config") + f"?snapshot={older.pk}", **HX))
    assert "the first snapshot" in picked and f"?snapshot={latest.pk}" in picked


def test_config_panel_ignores_another_tenants_snapshot_id(tenant_a, tenant_b, manager, source):
    foreign = ConfigSnapshot.objects.create(
        tenant=tenant_b, integration=source, source_id=sid(), taken_at=timezone.now(), data={"secret": "globex"}
    )
    body = html(login(manager).get(panel_url(tenant_a, "config") + f"?snapshot={foreign.pk}", **HX))
    assert "globex" not in body and "empty-state" in body


# --- entitlements and cases --------------------------------------------------------------------------


def test_entitlements_panel_shows_what_the_plan_includes_and_not(tenant_a, manager):
    tenant_a.support_tier = SupportTier.PREMIUM
    tenant_a.entitlements = {
        "phone_support": False,
        "named_contacts": 5,
        "channels": ["email", "web", "slack"],
        "trace_bundles": True,
    }
    tenant_a.save()
    body = html(login(manager).get(panel_url(tenant_a, "entitlements"), **HX))

    rows = dict(
        (label, ok)
        for ok, label in re.findall(
            r'data-entitled="(yes|no)">\s*<td class="mark"><span[^>]*>.</span></td>\s*<td>([^<]+)</td>', body
        )
    )

    def row(label):
        return rows[label]

    assert row("Support tier") == "yes"
    assert row("Phone support") == "no"
    assert row("Named contacts") == "yes" and "<td>5</td>" in body
    assert row("Channel: Email") == "yes" and row("Channel: Slack") == "yes"
    assert row("Channel: Phone") == "no" and row("Channel: CLI") == "no"
    assert row("Diagnostic trace bundles") == "yes"
    assert row("SLA policy") == "yes"  # the default policies match every segment and tier
    assert "Premium" in body


def test_cases_panel_loads_the_queues_own_partial_by_url(tenant_a, agent):
    breached = CaseFactory(
        tenant=tenant_a, subject="Webhooks failing", status=Status.IN_PROGRESS, priority=Priority.HIGH
    )
    type(breached).objects.filter(pk=breached.pk).update(sla_due_at=timezone.now() - timedelta(minutes=5))
    CaseFactory(tenant=tenant_a, subject="Old question", status=Status.CLOSED)
    client = login(agent)
    body = html(client.get(panel_url(tenant_a, "cases"), **HX))
    loader = re.search(r'<div id="queue-results"[^>]*>', body).group(0)
    assert f'hx-get="/cases/?tenant={tenant_a.slug}&amp;sort=sla"' in loader and 'hx-trigger="load"' in loader
    assert "<b>1</b> open" in body and "1 breached" in body
    # What htmx then asks for (it sends HX-Target: queue-results, the loader's id): the queue's partial.
    queue = client.get(
        f"/cases/?tenant={tenant_a.slug}&status=all&sort=sla", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-results"
    )
    part = html(queue)
    assert part.lstrip().startswith('<div id="queue-results"') and breached.key in part and "Old question" in part


# --- incidents -------------------------------------------------------------------------------------------


def test_incidents_panel_lists_incidents_touching_the_tenant_active_first(tenant_a, tenant_b, manager):
    case = CaseFactory(tenant=tenant_a)
    resource = ResourceFactory(tenant=tenant_a, external_id="ingest")
    resolved = Incident.objects.create(
        title="Last week's outage", status=Incident.Status.RESOLVED, started_at=timezone.now()
    )
    resolved.cases.add(case)
    active = Incident.objects.create(
        title="Ingest delays", status=Incident.Status.MITIGATING, started_at=timezone.now() - timedelta(days=2)
    )
    active.resources.add(resource)
    elsewhere = Incident.objects.create(title="Globex only", status=Incident.Status.INVESTIGATING)
    elsewhere.cases.add(CaseFactory(tenant=tenant_b))
    body = html(login(manager).get(panel_url(tenant_a, "incidents"), **HX))
    assert "Globex only" not in body
    assert body.index(active.key) < body.index(resolved.key)
    assert "<code>ingest</code>" in body and case.key in body
    assert "<b>1</b> active" in body


# --- resources and blast radius ---------------------------------------------------------------------------


@pytest.fixture
def chain(tenant_a, source):
    """a depends on b, b depends on c: a failure of c reaches b and then a."""
    a = ResourceFactory(tenant=tenant_a, external_id="web-frontend", health=Health.GREEN)
    b = ResourceFactory(tenant=tenant_a, external_id="orders-api", health=Health.GREEN)
    c = ResourceFactory(tenant=tenant_a, external_id="postgres-main", health=Health.RED)
    d = ResourceFactory(tenant=tenant_a, external_id="unrelated-batch", health=Health.GREEN)
    ResourceDependency.objects.create(tenant=tenant_a, integration=source, source_id=sid(), resource=a, depends_on=b)
    ResourceDependency.objects.create(tenant=tenant_a, integration=source, source_id=sid(), resource=b, depends_on=c)
    return {"a": a, "b": b, "c": c, "d": d}


def test_reach_follows_dependents_transitively(chain):
    a, b, c, d = chain["a"], chain["b"], chain["c"], chain["d"]
    found = selectors.reach([a.pk, b.pk, c.pk, d.pk])
    assert found[c.pk] == {b.pk, a.pk}
    assert found[b.pk] == {a.pk}
    assert a.pk not in found and d.pk not in found


def test_reach_survives_a_cycle(chain, tenant_a, source):
    ResourceDependency.objects.create(
        tenant=tenant_a, integration=source, source_id=sid(), resource=chain["c"], depends_on=chain["a"]
    )
    found = selectors.reach([chain["c"].pk])
    assert found[chain["c"].pk] == {chain["a"].pk, chain["b"].pk}


def test_resources_panel_shows_the_blast_radius_of_a_failing_resource(chain, tenant_a, manager, source):
    add_alert(tenant_a, source, name="ReplicationLag", resource=chain["c"])
    body = html(login(manager).get(panel_url(tenant_a, "resources"), **HX))
    row_c = re.search(r'<tr data-resource="postgres-main" class="affected">.*?</tr>', body, re.S).group(0)
    assert (
        'data-radius="2"' in row_c
        and 'data-dependent="orders-api"' in row_c
        and 'data-dependent="web-frontend"' in row_c
    )
    assert '<span class="badge alert-firing">1</span>' in row_c
    row_a = re.search(r'<tr data-resource="web-frontend" class="in-blast">.*?</tr>', body, re.S).group(0)
    assert "orders-api" in row_a  # what a depends on
    assert re.search(r'<tr data-resource="orders-api" class="in-blast">', body)
    assert re.search(r'<tr data-resource="unrelated-batch" class="">', body)
    assert "1 failing" in body and "reaching <b>3</b> resources" in body
    # Worst first.
    assert body.index('data-resource="postgres-main"') < body.index('data-resource="web-frontend"')


def test_shared_resource_names_other_tenants_the_user_can_see(chain, tenant_a, tenant_b, agent, manager):
    ResourceFactory(tenant=tenant_b, external_id="postgres-main")  # Globex shares the failing database
    hidden = TenantFactory(name="Hidden Co", slug="hidden")
    ResourceFactory(tenant=hidden, external_id="postgres-main")

    as_manager = html(login(manager).get(panel_url(tenant_a, "resources"), **HX))
    assert 'data-other-tenant="globex"' in as_manager and 'data-other-tenant="hidden"' in as_manager

    as_agent = html(login(agent).get(panel_url(tenant_a, "resources"), **HX))  # sees Acme only
    assert "Globex" not in as_agent and "Hidden Co" not in as_agent
    assert 'data-hidden-tenants="2"' in as_agent and "2 other tenants you cannot see" in as_agent

    other_agent = UserFactory(username="ola", role="agent", tenants=[tenant_a, tenant_b])
    as_other = html(login(other_agent).get(panel_url(tenant_a, "resources"), **HX))
    assert 'data-other-tenant="globex"' in as_other and "Hidden Co" not in as_other
    assert 'Globex</a> and <span data-hidden-tenants="1">1 other tenant you cannot see' in as_other


def test_blast_radius_across_tenants_is_anonymous_when_not_visible(chain, tenant_a, tenant_b, agent, source):
    theirs = ResourceFactory(tenant=tenant_b, external_id="globex-checkout")
    ResourceDependency.objects.create(
        tenant=tenant_b, integration=source, source_id=sid(), resource=theirs, depends_on=chain["c"]
    )
    body = html(login(agent).get(panel_url(tenant_a, "resources"), **HX))
    assert "globex-checkout" not in body and "a resource of another tenant" in body
    assert 'data-hidden-tenants="1"' in body


# --- query counts --------------------------------------------------------------------------------------------


def _queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **headers).status_code == 200
    return len(ctx.captured_queries)


# session, profile, user, roles, 2× tenant grants, tenant, access entry, session save (4 with its savepoint):
# 11 before a panel reads anything; a panel then needs 1–4, its full page 2 more (header: SLA rules, health).
MAX_QUERIES = {"page": 14, "inline": 50, "panel": 15}


def test_query_counts_do_not_grow_with_telemetry(tenant_a, tenant_b, agent, django_assert_max_num_queries, source):
    add_telemetry(tenant_a, source, 2)
    add_telemetry(tenant_b, source, 2)
    client = login(agent)
    client.get(f"/tenants/{tenant_a.slug}/")  # warm caches (content types, session)
    urls = (
        [("page", f"/tenants/{tenant_a.slug}/", {})]
        + [("panel", panel_url(tenant_a, n), HX) for n in PANELS]
        + [("panel", panel_url(tenant_a, n), {}) for n in PANELS]
    )
    few = {url + str(h): _queries(client, url, **h) for _, url, h in urls}
    few_inline = _queries(client, f"/tenants/{tenant_a.slug}/?panels=inline")

    # A hundred times more of every kind, more keys than any panel shows, more incidents and cases.
    add_telemetry(tenant_a, source, 200)
    many = {url + str(h): _queries(client, url, **h) for _, url, h in urls}
    grown = {url: (few[url], many[url]) for url in few if many[url] > few[url]}
    assert not grown  # (alerts may need one query fewer: 20 firing leave no room for resolved ones)
    assert _queries(client, f"/tenants/{tenant_a.slug}/?panels=inline") <= few_inline
    for kind, url, headers in urls:
        with django_assert_max_num_queries(MAX_QUERIES[kind] + (2 if not headers and kind == "panel" else 0)):
            client.get(url, **headers)
    with django_assert_max_num_queries(MAX_QUERIES["inline"]):
        client.get(f"/tenants/{tenant_a.slug}/?panels=inline")


def test_panel_rows_stay_limited_with_many_rows(tenant_a, source):
    add_telemetry(tenant_a, source, 80)
    assert len(panels.deployments_panel(tenant_a)["deployments"]) == panels.ROWS
    assert len(panels.flags_panel(tenant_a)["flags"]) == panels.MAX_FLAGS
    assert len(panels.usage_panel(tenant_a)["metrics"]) == panels.MAX_METRICS
    assert all(len(m["periods"]) <= panels.USAGE_PERIODS for m in panels.usage_panel(tenant_a)["metrics"])
    assert len(panels.health_panel(tenant_a)["slis"]) == panels.MAX_SLIS
    assert len(panels.experiments_panel(tenant_a)["experiments"]) == panels.ROWS
    assert len(panels.config_panel(tenant_a)["recent"]) == 10
    assert len(incidents_panel(tenant_a)["incidents"]) == panels.ROWS
    assert Resource.objects.filter(tenant=tenant_a).count() == 3
