"""Trace bundles through the REST API and `companyos support attach` / `support create --trace-bundle`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from auditlog.models import LogEntry

from demo import bundles
from runbooks.models import BundleStatus, TraceBundle
from tenants import services as tenant_services
from tests.api_support import API, personal_token
from tests.factories import CaseFactory, RequesterFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def consent(tenant_a):
    def go():
        senior = UserFactory(role="senior agent", tenants=[tenant_a])
        tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="CASE-1")

    return go


def _post(api, key, data, name=bundles.NAME):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.client.post(
        f"/api/v1/cases/{key}/trace-bundles/",
        {"file": SimpleUploadedFile(name, data, "application/zip")},
        headers=api.headers(),
    )


def test_upload_through_the_api(case_a, agent, consent, tenant_b, django_capture_on_commit_callbacks):
    api = API(personal_token(agent))
    refused = _post(api, case_a.key, bundles.bundle_bytes())
    assert refused.status_code == 422 and "no telemetry consent" in refused.json()["detail"]
    consent()
    assert _post(api, case_a.key, b"PK", name="bundle.zip").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api, case_a.key, bundles.bundle_bytes())
    assert response.status_code == 202, response.content
    bundle = TraceBundle.objects.get()
    assert bundle.source == "api" and response.json()["reference"] == bundle.reference
    detail = api.get(f"/api/v1/trace-bundles/{bundle.pk}/").json()
    assert detail["status"] == BundleStatus.OK
    assert detail["summary"]["failed_spans"] == ["gateway.outbound"] and detail["summary"]["error_codes"] == [
        "X502-E3001"
    ]
    assert [b["id"] for b in api.get(f"/api/v1/cases/{case_a.key}/trace-bundles/").json()] == [bundle.pk]
    assert LogEntry.objects.filter(object_pk=str(bundle.pk), additional_data__view="API trace bundle").exists()
    outsider = API(personal_token(UserFactory(role="agent", tenants=[tenant_b])))
    assert outsider.get(f"/api/v1/trace-bundles/{bundle.pk}/").status_code == 404
    assert _post(outsider, case_a.key, bundles.bundle_bytes()).status_code == 404


def _cli(url, token, *args, cwd):
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "COMPANYOS_URL": url, "COMPANYOS_TOKEN": token,
           "COMPANYOS_CONFIG": str(cwd / "config.toml")}  # fmt: skip
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from companyos_cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, str(ROOT), *args], capture_output=True, text=True, env=env, timeout=90, cwd=cwd
    )


@pytest.mark.django_db(transaction=True)
def test_the_cli_attaches_and_creates_with_a_bundle(live_server, tenant_a, agent, consent, tmp_path):
    consent()
    case = CaseFactory(tenant=tenant_a)
    token = personal_token(agent)
    good = tmp_path / bundles.NAME
    good.write_bytes(bundles.bundle_bytes())
    result = _cli(live_server.url, token, "support", "attach", case.key, str(good), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    attached = json.loads(result.stdout)
    assert attached["status"] == "ok" and attached["case"] == case.key
    assert TraceBundle.objects.get(case=case).source == "cli"

    pii = tmp_path / "trace-20261102T101500Z-cli.zip"
    pii.write_bytes(bundles.bundle_bytes(pii=True))
    result = _cli(live_server.url, token, "support", "attach", case.key, str(pii), cwd=tmp_path)
    assert result.returncode == 9 and "was not sent" in result.stderr
    assert TraceBundle.objects.filter(case=case).count() == 1  # refused before it left the machine

    RequesterFactory(tenant=tenant_a, email="jo@acme.example")
    result = _cli(
        live_server.url, token, "support", "create", "--tenant", "acme", "--requester", "jo@acme.example",
        "--subject", "Checkout times out", "--trace-bundle", str(good), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "trace-20261102T101500Z-ui.zip — ok" in result.stdout and "gateway.outbound" in result.stdout
