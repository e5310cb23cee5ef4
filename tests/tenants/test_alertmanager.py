"""The Alertmanager webhook receiver (/api/v1/alertmanager/) on real version 4 payloads
(tests/tenants/fixtures/alertmanager_*.json, in the format of the Alertmanager documentation)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tenants import ingest
from tenants.models import Alert
from tests.factories import ResourceFactory, TenantFactory

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/v1/alertmanager/"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"alertmanager_{name}.json").read_text())


@pytest.fixture
def integration(admin_user, tenant_a):
    integration, token = ingest.integration_create(name="Alertmanager", actor=admin_user, tenant_ids=[tenant_a.pk])
    integration.raw_token = token
    return integration


@pytest.fixture
def gateway(tenant_a):
    return ResourceFactory(tenant=tenant_a, external_id="api-gateway", kind="api")


def post(token: str | None, payload) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().post(URL, data=json.dumps(payload), content_type="application/json", headers=headers)


def test_needs_a_token(db):
    response = post(None, fixture("firing"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_firing_alerts_are_mapped_to_tenant_and_resource(integration, tenant_a, gateway):
    response = post(integration.raw_token, fixture("firing"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert body["skipped"] == [{"fingerprint": "0c1d2e3f40516273", "reason": "no 'tenant' label"}]
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)

    high = Alert.objects.get(fingerprint="5f1d2c3b4a596877")
    assert (high.tenant, high.resource, high.integration) == (tenant_a, gateway, integration)
    assert (high.name, high.severity, high.status) == ("HighErrorRate", "critical", Alert.Status.FIRING)
    assert high.summary == "Error rate above 1% on api-gateway"
    assert high.starts_at == datetime(2026, 3, 2, 9, 58, 30, 123456, tzinfo=UTC)
    assert high.ends_at is None  # 0001-01-01T00:00:00Z: no end yet
    assert high.labels["job"] == "api-gateway"
    assert high.annotations["runbook_url"].startswith("https://runbooks.example.com/")
    assert high.source_id == "5f1d2c3b4a596877@2026-03-02T09:58:30.123456+00:00"

    db_alert = Alert.objects.get(fingerprint="a0b9c8d7e6f51234")
    assert db_alert.resource is None  # service "billing-db" is not a resource of acme
    assert db_alert.summary == "Connection pool 93% used (threshold 90%)."  # description when there is no summary
    assert db_alert.severity == "warning"


def test_the_same_notification_again_changes_nothing(integration, tenant_a, gateway):
    post(integration.raw_token, fixture("firing"))
    body = post(integration.raw_token, fixture("firing")).json()
    assert (body["accepted"], body["created"], body["updated"], body["unchanged"]) == (2, 0, 0, 2)
    assert Alert.objects.count() == 2


def test_resolved_closes_the_open_alert(integration, tenant_a, gateway):
    post(integration.raw_token, fixture("firing"))
    response = post(integration.raw_token, fixture("resolved"))
    assert response.status_code == 200
    assert response.json()["updated"] == 1
    high = Alert.objects.get(fingerprint="5f1d2c3b4a596877")
    assert high.status == Alert.Status.RESOLVED
    assert high.ends_at == datetime(2026, 3, 2, 10, 24, 30, 123456, tzinfo=UTC)
    assert Alert.objects.count() == 2
    assert Alert.objects.get(fingerprint="a0b9c8d7e6f51234").status == Alert.Status.FIRING
    # Resolved again (Alertmanager repeats resolved notifications): nothing changes.
    assert post(integration.raw_token, fixture("resolved")).json()["unchanged"] == 1


def test_resolved_without_a_firing_first_is_recorded_closed(integration, tenant_a, gateway):
    post(integration.raw_token, fixture("resolved"))
    alert = Alert.objects.get()
    assert (alert.status, alert.resource) == (Alert.Status.RESOLVED, gateway)


def test_a_new_firing_of_the_same_fingerprint_closes_the_stale_one(integration, tenant_a, gateway):
    post(integration.raw_token, fixture("firing"))
    again = fixture("firing")
    again["alerts"][0]["startsAt"] = "2026-03-02T12:00:00Z"
    body = post(integration.raw_token, again).json()
    assert body["closed_earlier"] == 1
    old, new = Alert.objects.filter(fingerprint="5f1d2c3b4a596877").order_by("starts_at")
    assert (old.status, new.status) == (Alert.Status.RESOLVED, Alert.Status.FIRING)
    assert old.ends_at == new.starts_at


def test_unknown_tenant_is_skipped_not_refused(integration, tenant_a):
    payload = fixture("firing")
    payload["alerts"][0]["labels"]["tenant"] = "initech"
    response = post(integration.raw_token, payload)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert {"fingerprint": "5f1d2c3b4a596877", "reason": "unknown tenant 'initech' ('tenant' label)"} in body["skipped"]
    assert not Alert.objects.filter(fingerprint="5f1d2c3b4a596877").exists()


def test_malformed_alerts_are_skipped_with_a_reason(integration, tenant_a):
    payload = fixture("firing")
    payload["alerts"][0]["startsAt"] = "yesterday"
    payload["alerts"][1]["labels"] = ["not", "a", "map"]
    payload["alerts"].append("garbage")
    body = post(integration.raw_token, payload).json()
    assert body["accepted"] == 0
    assert [s["reason"] for s in body["skipped"]] == [
        "startsAt is not an RFC 3339 time",
        "labels must be an object of strings",
        "no 'tenant' label",
        "not a JSON object",
    ]


def test_custom_label_names(integration, admin_user, tenant_a, gateway):
    ingest.integration_update(
        integration_id=integration.pk,
        actor=admin_user,
        alert_tenant_label="customer",
        alert_service_label="component",
        tenant_ids=[tenant_a.pk, (globex := TenantFactory(slug="globex")).pk],
    )
    billing = ResourceFactory(tenant=globex, external_id="billing")
    payload = fixture("firing")
    first = payload["alerts"][0]["labels"]
    first["customer"], first["component"] = "globex", "billing"  # `tenant`/`service` labels still say acme/api-gateway
    body = post(integration.raw_token, payload).json()
    assert body["accepted"] == 1
    alert = Alert.objects.get()
    assert (alert.tenant, alert.resource) == (globex, billing)
    assert {s["reason"] for s in body["skipped"]} == {"no 'customer' label"}


def test_not_an_alertmanager_payload_is_400(integration):
    assert post(integration.raw_token, {"hello": "world"}).status_code == 400
    v3 = fixture("firing") | {"version": "3"}
    response = post(integration.raw_token, v3)
    assert response.status_code == 400
    assert "version 4" in response.json()["detail"]


def test_too_many_alerts_is_413(integration, tenant_a, settings):
    settings.TELEMETRY_MAX_BATCH = 2
    assert post(integration.raw_token, fixture("firing")).status_code == 413
    assert Alert.objects.count() == 0


def test_offsets_and_nanoseconds_name_the_same_alert(integration, tenant_a):
    post(integration.raw_token, fixture("firing"))
    shifted = copy.deepcopy(fixture("firing"))
    shifted["alerts"][0]["startsAt"] = "2026-03-02T10:58:30.123456999+01:00"
    assert post(integration.raw_token, shifted).json()["unchanged"] == 2


values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=3)
)


@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    field=st.sampled_from(["status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", "generatorURL"]),
    value=values,
)
def test_no_alert_makes_a_500(integration, tenant_a, field, value):
    payload = fixture("firing")
    payload["alerts"][0][field] = value
    response = post(integration.raw_token, payload)
    assert response.status_code in (200, 400), response.content  # a NUL anywhere refuses the request
    if response.status_code == 400:
        assert "NUL" in response.json()["detail"]
        return
    body = response.json()
    assert body["accepted"] + len(body["skipped"]) == 3


def test_an_older_firing_arriving_late_is_closed_at_once(integration, tenant_a, gateway):
    newer = fixture("firing")
    newer["alerts"][0]["startsAt"] = "2026-03-02T12:00:00Z"
    post(integration.raw_token, newer)
    body = post(integration.raw_token, fixture("firing")).json()  # the 09:58 start, delivered late
    assert body["closed_earlier"] == 1
    late = Alert.objects.get(fingerprint="5f1d2c3b4a596877", starts_at__hour=9)
    assert late.status == Alert.Status.RESOLVED
    assert Alert.objects.get(fingerprint="5f1d2c3b4a596877", starts_at__hour=12).status == Alert.Status.FIRING


def test_an_alert_for_another_tenant_refuses_the_notification(integration, tenant_a, tenant_b, gateway):
    """Finding 9: the integration writes for acme only; an alert labelled globex is a 403 naming it."""
    payload = fixture("firing")
    payload["alerts"][1]["labels"]["tenant"] = "globex"
    response = post(integration.raw_token, payload)
    assert response.status_code == 403
    assert response.json()["tenants"] == ["globex"]
    assert "nothing was written" in response.json()["detail"]
    assert not Alert.objects.exists()
