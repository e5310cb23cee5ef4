"""Bad input that answered 500 (issue 8, finding 10, the remaining points): a NUL in an Alertmanager
fingerprint, SLA amounts past what a duration holds, a 300-character attachment name, duplicate
JSON keys in the telemetry API, an SLI objective outside 0–100. Each is a 4xx (or a form error) with
a message saying what is wrong, and nothing is written."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases.models import Attachment, SLAPolicy
from tenants import ingest
from tenants.models import SLI, Alert
from tests.cases.sla.test_admin import cell, post_data
from tests.conftest import login
from tests.factories import CaseFactory

T0 = "2026-03-02T10:00:00Z"


@pytest.fixture
def token(admin_user, tenant_a):
    return ingest.integration_create(name="Monitoring", actor=admin_user, tenant_ids=[tenant_a.pk])[1]


def api_post(token: str, path: str, body: bytes | str):
    return Client().post(path, data=body, content_type="application/json", headers={"Authorization": f"Bearer {token}"})


def alertmanager_payload(**alert) -> dict:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "companyos",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighErrorRate", "tenant": "acme"},
                "annotations": {"summary": "5xx above 1%"},
                "startsAt": T0,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "5f1d2c3b4a596877",
                **alert,
            }
        ],
    }


@pytest.mark.parametrize(
    "alert, where",
    [
        ({"fingerprint": "5f1d\x002c3b"}, "payload.alerts[0].fingerprint"),
        ({"generatorURL": "http://prom/\x00"}, "payload.alerts[0].generatorURL"),
        ({"labels": {"alertname": "x", "tenant": "acme", "team\x00": "sre"}}, "a key of payload.alerts[0].labels"),
    ],
)
def test_a_nul_anywhere_in_an_alertmanager_notification_is_a_400(token, alert, where):
    response = api_post(token, "/api/v1/alertmanager/", json.dumps(alertmanager_payload(**alert)))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"A NUL character (\\u0000) at {where}")
    assert not Alert.objects.exists()


def test_duplicate_json_keys_are_a_400_not_last_wins(token, tenant_a):
    item = (
        '{"tenant": "acme", "source_id": "s1", "name": "availability", "objective": 99.9, "objective": 10, '
        f'"value": 99.95, "error_budget_remaining": 50, "observed_at": "{T0}"}}'
    )
    response = api_post(token, "/api/v1/telemetry/slis/", '{"items": [' + item + "]}")
    assert response.status_code == 400
    assert response.json()["detail"] == "Malformed JSON: the key 'objective' appears more than once in one object."
    assert not SLI.objects.exists()
    # The same for the Alertmanager receiver, and at the top level.
    response = api_post(token, "/api/v1/alertmanager/", '{"version": "4", "alerts": [], "alerts": []}')
    assert response.status_code == 400 and "'alerts' appears more than once" in response.json()["detail"]


@pytest.mark.parametrize("objective", [-0.1, 100.5, 1e308])
def test_an_sli_objective_outside_0_to_100_is_a_400(token, tenant_a, objective):
    item = {
        "tenant": "acme",
        "source_id": "s1",
        "name": "availability",
        "objective": objective,
        "value": 99.95,
        "error_budget_remaining": 50,
        "observed_at": T0,
    }
    response = api_post(token, "/api/v1/telemetry/slis/", json.dumps({"items": [item]}))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "objective", "message": "The objective is a percentage: 0 to 100."}
    ]
    assert not SLI.objects.exists()


@pytest.mark.parametrize("objective", [0, 100, 99.999])
def test_objectives_from_0_to_100_are_accepted(token, tenant_a, objective):
    item = {
        "tenant": "acme",
        "source_id": "s1",
        "name": "availability",
        "objective": objective,
        "value": 99.95,
        "error_budget_remaining": 50,
        "observed_at": T0,
    }
    assert api_post(token, "/api/v1/telemetry/slis/", json.dumps({"items": [item]})).status_code == 200


@pytest.mark.parametrize("amount", ["1e23", "1e309", "9" * 400])
def test_sla_amounts_past_a_year_are_form_errors_not_a_500(admin_user, amount):
    client = login(admin_user)
    data = post_data(None, name="Huge", calendar="", escalation="notify")
    for priority in ("critical", "high", "medium", "low"):
        data[cell(priority, "first_response")], data[cell(priority, "first_response", "unit")] = "1", "hours"
        data[cell(priority, "resolution")], data[cell(priority, "resolution", "unit")] = "2", "hours"
        data.pop(cell(priority, "first_response", "business"), None)
        data.pop(cell(priority, "resolution", "business"), None)
        data.pop(cell(priority, "update", "business"), None)
    data[cell("critical", "resolution")] = amount
    for url in (reverse("sla:policy_create"), reverse("sla:policy_preview")):
        response = client.post(url, data)
        assert response.status_code in (200, 422), (url, response.status_code)
        assert "More than a year: use a shorter target." in response.content.decode(), url
    assert not SLAPolicy.objects.filter(name="Huge").exists()


def test_a_300_character_attachment_name_is_stored_safely_and_shown_whole(admin_user, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    client = login(admin_user)
    name = "ø" + "x" * 295 + ".log"  # 300 characters, 301 bytes in UTF-8: past the file system's 255
    upload = SimpleUploadedFile(name, b"GET /v1/orders 500\n", content_type="text/plain")
    response = client.post(f"/cases/{case.key}/attachments/", {"file": upload})
    assert response.status_code in (200, 302), response.status_code
    attachment = Attachment.objects.get()
    # Django's upload handling already cuts a name to 255 characters (extension kept): that is the
    # original we get, and it is what the page shows.
    kept = name[:251] + ".log"
    assert attachment.original_name == kept and attachment.display_name == kept
    assert len(attachment.filename) <= 100 and attachment.filename.endswith(".log")
    assert attachment.filename.isascii() and "/" not in attachment.filename
    assert len(attachment.file.name) <= 300 and attachment.file.read() == b"GET /v1/orders 500\n"
    page = client.get(f"/cases/{case.key}/").content.decode()
    assert f'title="{kept}"' in page
    download = client.get(f"/cases/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert ".log" in download["Content-Disposition"]


@pytest.mark.parametrize("name", ["报告.pdf", "...log", " .txt", "a b;c\"d'.txt"])
def test_odd_attachment_names_get_a_usable_safe_name(admin_user, tenant_a, name):
    case = CaseFactory(tenant=tenant_a)
    client = login(admin_user)
    upload = SimpleUploadedFile(name, b"%PDF-1.4\n" if name.endswith(".pdf") else b"x\n")
    response = client.post(f"/cases/{case.key}/attachments/", {"file": upload})
    assert response.status_code < 500
    attachment = Attachment.objects.filter(case=case).first()
    if attachment is not None:  # refused types (no extension) are a message, not a row
        assert attachment.filename and attachment.filename.isascii() and len(attachment.filename) <= 100
        assert client.get(f"/cases/attachments/{attachment.pk}/").status_code == 200
