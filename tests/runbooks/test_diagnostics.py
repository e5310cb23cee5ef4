"""Trace bundles on a case: consent, upload, inspection (eager Celery), evidence on the case and its
incidents, the report page, the audited download; rejected bundles leave only their record."""

import os

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Interaction
from demo import bundles
from incidents import services as incident_services
from incidents.models import IncidentEntry
from runbooks.diagnostics import services
from runbooks.diagnostics.storage import bundle_storage
from runbooks.models import BundleStatus, ErrorCode, Evidence, Runbook, TraceBundle
from tenants import services as tenant_services
from tests.conftest import login
from tests.factories import UserFactory

CARD_QUERIES = 8  # case, bundles, evidence + incidents, collector runs, audit…
REPORT_QUERIES = 3  # the bundle with its case and tenant, the audit entry, the session user


@pytest.fixture
def senior(tenant_a):
    return UserFactory(username="sven", role="senior agent", tenants=[tenant_a])


@pytest.fixture
def consented(tenant_a, senior):
    return tenant_services.tenant_record_telemetry_consent(
        tenant_id=tenant_a.pk, actor=senior, reference="e-mail from the customer's admin, 2026-11-02"
    )


@pytest.fixture
def catalogue(db):
    runbook = Runbook.objects.create(title="Payment gateway timeouts", slug="gateway-timeouts")
    ErrorCode.objects.create(
        code=bundles.ERROR_CODE,
        title="Upstream timeout",
        remediation="Retry with the idempotency key.",
        runbook=runbook,
    )
    return runbook


def _upload(data: bytes | None = None, name: str = bundles.NAME):
    return SimpleUploadedFile(name, data if data is not None else bundles.bundle_bytes(), "application/zip")


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """bundle_upload with its after-commit inspection run (the eager task), as in production."""

    def go(case, actor, data=None, name=bundles.NAME):
        with django_capture_on_commit_callbacks(execute=True):
            bundle = services.bundle_upload(case_id=case.pk, actor=actor, upload=_upload(data, name))
        bundle.refresh_from_db()
        return bundle

    return go


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_consent_is_recorded_by_the_right_roles_only(tenant_a, agent, senior):
    with pytest.raises(PermissionDenied):
        tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=agent, reference="x")
    with pytest.raises(tenant_services.ConsentRefused):
        tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="  ")
    tenant = tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="CASE-12")
    assert tenant.telemetry_consent and tenant.telemetry_consent_by == senior and tenant.telemetry_consent_at
    assert LogEntry.objects.get_for_object(tenant).filter(changes__has_key="telemetry_consent_reference").exists()


def test_an_upload_without_consent_is_refused_and_stores_nothing(case_a, agent, settings):
    with pytest.raises(services.DiagnosticsError, match="no telemetry consent"):
        services.bundle_upload(case_id=case_a.pk, actor=agent, upload=_upload())
    assert not TraceBundle.objects.exists()
    assert _files(settings.MEDIA_ROOT) == []


def test_the_name_must_follow_the_pattern(case_a, agent, consented):
    with pytest.raises(services.DiagnosticsError, match=r"trace-<timestamp>-<channel>\.zip"):
        services.bundle_upload(case_id=case_a.pk, actor=agent, upload=_upload(name="bundle.zip"))


def test_a_good_bundle_is_inspected_and_attached_to_the_case_and_its_incidents(
    case_a, agent, consented, catalogue, tenant_a, settings, upload
):
    incident = incident_services.incident_declare(
        actor=agent, title="Checkout 5xx", severity="SEV2", tenants=[tenant_a]
    )
    incident_services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case_a.pk])
    bundle = upload(case_a, agent)  # inspected by the (eager) task after commit
    assert bundle.status == BundleStatus.OK and bundle.progress == 100
    assert (bundle.channel, bundle.recorded_at.isoformat()) == ("ui", "2026-11-02T10:15:00+00:00")
    stored = settings.MEDIA_ROOT / "bundles" / bundle.storage_name
    assert stored.is_file() and not stored.read_bytes().startswith(b"PK")  # encrypted at rest, always
    with bundle_storage(tenant_a, bundle.region).open(bundle.storage_name) as handle:
        assert handle.read() == bundles.bundle_bytes()
    assert bundle.report["trace"]["failed"][0]["name"] == "gateway.outbound"
    entry = bundle.report["error_codes"][0]
    assert entry["catalogue"]["runbook"]["slug"] == "gateway-timeouts"
    evidence = Evidence.objects.get(case=case_a)
    assert evidence.kind == "bundle_report" and evidence.created_by == agent and evidence.bundle == bundle
    assert evidence.source["sha256"] == bundle.sha256 and list(evidence.incidents.all()) == [incident]
    assert "gateway.outbound (X502-E3001)" in evidence.summary
    note = IncidentEntry.objects.filter(incident=incident, data__evidence=evidence.pk).get()
    assert case_a.key in note.body and "Trace bundle report" in note.body
    bodies = list(Interaction.objects.filter(case=case_a).values_list("body", flat=True))
    assert any("uploaded" in b for b in bodies) and any("Evidence attached" in b and incident.key in b for b in bodies)


@pytest.mark.parametrize("pii", [False, True], ids=["hostile", "pii"])
def test_a_refused_bundle_leaves_only_its_record(case_a, agent, consented, settings, tmp_path, pii, upload):
    if pii:
        data = bundles.bundle_bytes(pii=True)
    else:
        path, _ = bundles.hostile_dotdot(tmp_path / "h.zip")
        data = path.read_bytes()
    bundle = upload(case_a, agent, data)
    assert bundle.status == (BundleStatus.PII if pii else BundleStatus.REJECTED)
    assert bundle.storage_name == "" and _files(settings.MEDIA_ROOT) == []
    assert not (settings.MEDIA_ROOT.parent / "etc").exists()
    assert not Evidence.objects.exists()
    if pii:
        paths = {f["path"] for f in bundle.report["pii"]["findings"]}
        assert '$.spans[1].attributes["user.email"]' in paths and "jane.doe" not in str(bundle.report)
    else:
        assert bundle.rejection_code == "unsafe_name" and "'..'" in bundle.rejection_reason
    assert Interaction.objects.filter(case=case_a, body__contains="rejected").exists()


def test_a_failed_inspection_can_be_retried(
    case_a, agent, consented, monkeypatch, upload, django_capture_on_commit_callbacks
):
    def boom(*args, **kwargs):
        raise OSError("storage down")

    monkeypatch.setattr(services, "inspect", boom)
    bundle = upload(case_a, agent)
    assert bundle.status == BundleStatus.FAILED and "retry" in bundle.stage
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.bundle_retry(bundle_id=bundle.pk, actor=agent)
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.OK


def test_the_case_card_the_upload_and_the_report_page(
    case_a, agent, consented, catalogue, django_capture_on_commit_callbacks
):
    client = login(agent)
    panel = client.get(f"/runbooks/case/{case_a.key}/diagnostics/")
    assert panel.status_code == 200 and b"Telemetry consent recorded by" in panel.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/runbooks/case/{case_a.key}/diagnostics/upload/", {"bundle": _upload()}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200 and bundles.NAME.encode() in response.content
    assert b"data-polling" in response.content  # the card polls until the inspection is done
    done = client.get(f"/runbooks/case/{case_a.key}/diagnostics/")
    assert b"data-polling" not in done.content and b'data-status="ok"' in done.content
    bundle = TraceBundle.objects.get()
    page = client.get(f"/runbooks/bundles/{bundle.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        'data-span="gateway.outbound"' in html
        and "data-waterfall" in html
        and "Retry with the idempotency key." in html
    )
    assert 'href="/runbooks/gateway-timeouts/"' in html and 'data-chart="queue_depth"' in html
    assert LogEntry.objects.filter(object_pk=str(bundle.pk), additional_data__view="trace bundle report").exists()
    bad = client.post(f"/runbooks/case/{case_a.key}/diagnostics/upload/", {"bundle": _upload(name="x.zip")})
    assert bad.status_code == 302  # a plain form post: back to the case page with the message


def test_the_download_is_permission_checked_and_audited(case_a, agent, consented, tenant_b, upload):
    bundle = upload(case_a, agent)
    response = login(agent).get(f"/runbooks/bundles/{bundle.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == bundles.bundle_bytes()
    assert response["Content-Disposition"].startswith("attachment")
    assert LogEntry.objects.filter(object_pk=str(bundle.pk), additional_data__view="trace bundle download").exists()
    outsider = UserFactory(username="otto", role="agent", tenants=[tenant_b])
    assert login(outsider).get(f"/runbooks/bundles/{bundle.pk}/download/").status_code == 404
    assert login(outsider).get(f"/runbooks/bundles/{bundle.pk}/").status_code == 404


def test_an_agent_cannot_record_consent_through_the_page(case_a, agent):
    response = login(agent).post(
        f"/runbooks/case/{case_a.key}/diagnostics/consent/", {"reference": "x"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 403
    case_a.tenant.refresh_from_db()
    assert not case_a.tenant.telemetry_consent


def test_the_stored_path_is_under_the_bundle_storage(case_a, agent, consented, settings):
    bundle = services.bundle_upload(case_id=case_a.pk, actor=agent, upload=_upload())
    root = os.path.realpath(settings.MEDIA_ROOT / "bundles")
    assert os.path.realpath(settings.MEDIA_ROOT / "bundles" / bundle.storage_name).startswith(root + os.sep)
    assert bundle.storage_name.startswith(f"acme/{case_a.key}/")


def test_out_of_tenant_uploads_are_404_and_store_nothing(case_b, agent, settings):
    response = login(agent).post(f"/runbooks/case/{case_b.key}/diagnostics/upload/", {"bundle": _upload()})
    assert response.status_code == 404
    assert not TraceBundle.objects.exists() and _files(settings.MEDIA_ROOT) == []
    denials = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__denied=True)
    assert any(e.additional_data.get("path", "").startswith(f"/runbooks/case/{case_b.key}/") for e in denials), [
        e.additional_data for e in denials
    ]


def test_statement_counts_of_the_card_and_the_report(case_a, agent, consented, upload, django_assert_num_queries):
    bundle = upload(case_a, agent)
    client = login(agent)
    client.get(f"/runbooks/case/{case_a.key}/diagnostics/")  # warm the session and per-request caches
    with django_assert_num_queries(CARD_QUERIES):
        assert client.get(f"/runbooks/case/{case_a.key}/diagnostics/").status_code == 200
    with django_assert_num_queries(REPORT_QUERIES):
        assert client.get(f"/runbooks/bundles/{bundle.pk}/").status_code == 200
