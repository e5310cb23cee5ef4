"""The one-click collectors: each reads the tenant's telemetry around the case, runs as a task with its
progress, attaches evidence to the case and its linked incidents; a re-run shows what changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import IncidentEntry
from runbooks.diagnostics import collectors, services
from runbooks.models import CollectorRun, Evidence
from tenants import ingest
from tenants.models import SLI, Alert, ConfigSnapshot, Deployment, LogLine
from tests.conftest import login
from tests.factories import CaseFactory, ResourceFactory


@pytest.fixture
def world(tenant_a, admin_user):
    integration, _ = ingest.integration_create(name="Monitoring", actor=admin_user, tenant_ids=[tenant_a.pk])
    gateway = ResourceFactory(tenant=tenant_a, external_id="api-gateway")
    now = timezone.now()
    common = {"tenant": tenant_a, "integration": integration}
    Alert.objects.create(**common, source_id="a1", resource=gateway, name="HighErrorRate", severity="critical",
                         fingerprint="fp1", starts_at=now - timedelta(hours=1))  # fmt: skip
    Alert.objects.create(**common, source_id="a2", name="Old", starts_at=now - timedelta(days=3))
    Deployment.objects.create(
        **common, source_id="d1", resource=gateway, version="4.12.1", deployed_at=now - timedelta(days=2)
    )
    Deployment.objects.create(
        **common, source_id="d0", resource=gateway, version="4.11.0", deployed_at=now - timedelta(days=9)
    )
    SLI.objects.create(**common, source_id="s1", resource=gateway, name="availability", objective=99.9, value=99.2,
                       error_budget_remaining=-40, observed_at=now)  # fmt: skip
    ConfigSnapshot.objects.create(**common, source_id="c0", resource=gateway, taken_at=now - timedelta(days=1),
                                  data={"pool": {"size": 20}, "timeout_ms": 5000})  # fmt: skip
    ConfigSnapshot.objects.create(**common, source_id="c1", resource=gateway, taken_at=now,
                                  data={"pool": {"size": 20}, "timeout_ms": 800, "retries": 0})  # fmt: skip
    trace = "0af7651916cd43dd8448eb211c80319c"
    LogLine.objects.create(**common, source_id="l1", resource=gateway, logged_at=now - timedelta(minutes=5),
                           level="error", message="payments timed out", trace_id=trace)  # fmt: skip
    LogLine.objects.create(**common, source_id="l0", logged_at=now - timedelta(hours=3), message="too early")
    return {"integration": integration, "common": common, "gateway": gateway}


@pytest.fixture
def case(tenant_a, world):
    return CaseFactory(tenant=tenant_a, subject="Checkout fails", description="trace 0af7651916cd43dd8448eb211c80319c")


def _run(case, actor, name, hooks):
    with hooks(execute=True):
        run = services.collector_start(case_id=case.pk, actor=actor, name=name)
    run.refresh_from_db()
    return run


def test_every_collector_reads_what_it_says(case, agent):
    now = timezone.now()
    results = {name: c.collect(case, now) for name, c in collectors.REGISTRY.items()}
    assert [r["name"] for r in results["recent_alerts"]["rows"]] == ["HighErrorRate"]
    assert {r["setting"]: (r["before"], r["now"]) for r in results["config_diff"]["rows"]} == {
        "timeout_ms": (5000, 800),
        "retries": (None, 0),
    }
    assert [r["version"] for r in results["deployments_7d"]["rows"]] == ["4.12.1"]
    assert results["sli_snapshot"]["rows"][0]["error_budget_remaining"] == -40
    assert "below objective: availability" in results["sli_snapshot"]["summary"]
    ids = {r["id"]: r["where"] for r in results["trace_ids"]["rows"]}
    assert ids == {"0af7651916cd43dd8448eb211c80319c": "case, logs"}
    assert [r["message"] for r in results["recent_logs"]["rows"]] == ["payments timed out"]


def test_a_run_attaches_evidence_to_the_case_and_its_incidents_and_a_rerun_shows_the_diff(
    case, agent, tenant_a, world, django_capture_on_commit_callbacks
):
    incident = incident_services.incident_declare(actor=agent, title="Gateway", severity="SEV2", tenants=[tenant_a])
    incident_services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case.pk])
    run = _run(case, agent, "recent_alerts", django_capture_on_commit_callbacks)
    assert run.status == CollectorRun.Status.DONE and run.progress == 100 and run.changes is None
    evidence = run.evidence
    assert evidence.kind == "collector:recent_alerts" and evidence.created_by == agent
    assert list(evidence.incidents.all()) == [incident] and evidence.source["inputs"]["since"]
    assert IncidentEntry.objects.filter(incident=incident, data__evidence=evidence.pk).exists()

    Alert.objects.create(**world["common"], source_id="a3", name="LatencyHigh", fingerprint="fp3",
                         starts_at=timezone.now())  # fmt: skip
    Alert.objects.filter(source_id="a1").update(status=Alert.Status.RESOLVED)
    again = _run(case, agent, "recent_alerts", django_capture_on_commit_callbacks)
    assert again.changes == {"added": ["fp3"], "removed": [], "changed": ["fp1"]}
    assert "since the last run: 1 new, 0 gone, 1 changed" in again.evidence.summary
    assert Evidence.objects.filter(case=case).count() == 2


def test_a_failing_collector_shows_why_and_can_run_again(case, agent, monkeypatch, django_capture_on_commit_callbacks):
    def boom(self, case, now):
        raise RuntimeError("telemetry store unreachable")

    monkeypatch.setattr(collectors.RecentLogs, "collect", boom)
    run = _run(case, agent, "recent_logs", django_capture_on_commit_callbacks)
    assert run.status == CollectorRun.Status.FAILED and "unreachable" in run.error
    monkeypatch.undo()
    assert _run(case, agent, "recent_logs", django_capture_on_commit_callbacks).status == CollectorRun.Status.DONE


def test_refusals(case, agent, tenant_b):
    with pytest.raises(services.DiagnosticsError, match="no collector"):
        services.collector_start(case_id=case.pk, actor=agent, name="rm_rf")
    services.collector_start(case_id=case.pk, actor=agent, name="sli_snapshot")  # queued (no commit here)
    with pytest.raises(services.DiagnosticsError, match="already running"):
        services.collector_start(case_id=case.pk, actor=agent, name="sli_snapshot")


def test_the_buttons_on_the_case_card(case, agent, django_capture_on_commit_callbacks):
    client = login(agent)
    html = client.get(f"/runbooks/case/{case.key}/diagnostics/").content.decode()
    for name in collectors.REGISTRY:
        assert f'data-collector="{name}" data-run-status="never"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/runbooks/case/{case.key}/diagnostics/collect/config_diff/", headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    html = client.get(f"/runbooks/case/{case.key}/diagnostics/").content.decode()
    assert 'data-collector="config_diff" data-run-status="done"' in html and "timeout_ms" in html
    assert "Run again: Config snapshot diff" in html
    assert (
        client.post(f"/runbooks/case/{case.key}/diagnostics/collect/nope/", headers={"HX-Request": "true"}).status_code
        == 400
    )
