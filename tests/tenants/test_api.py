"""The telemetry ingestion API (/api/v1/telemetry/): token auth, every kind, validation that lists
every problem and writes nothing, size limits (413), idempotent upserts, constant query count."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tenants import ingest
from tenants.api import LimitedJSONParser, PayloadTooLarge
from tenants.models import (
    SLI,
    Alert,
    ConfigSnapshot,
    Deployment,
    Experiment,
    FeatureFlag,
    Resource,
    ResourceDependency,
    UsageMetric,
)
from tenants.telemetry import TELEMETRY_MODELS
from tests.factories import ResourceFactory, TenantFactory

T0 = "2026-03-02T10:00:00Z"
T0_DT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def integration(admin_user, tenant_a):
    integration, token = ingest.integration_create(name="Prometheus EU", actor=admin_user, tenant_ids=[tenant_a.pk])
    integration.raw_token = token
    return integration


@pytest.fixture
def api(integration):
    return ApiClient(integration.raw_token)


@pytest.fixture
def resources(tenant_a):
    return {
        "api-gateway": ResourceFactory(tenant=tenant_a, external_id="api-gateway", kind="api"),
        "orders-db": ResourceFactory(tenant=tenant_a, external_id="orders-db", kind="database"),
    }


class ApiClient:
    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path: str, body, *, raw: bool = False, content_type: str = "application/json", **extra):
        data = body if raw else json.dumps(body)
        return self.client.post(path, data=data, content_type=content_type, headers=self.headers, **extra)

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)

    def send(self, kind: str, items, **kw):
        return self.post(f"/api/v1/telemetry/{kind}/", {"items": items}, **kw)


def counts() -> dict:
    return {kind: model.objects.count() for kind, model in TELEMETRY_MODELS.items()} | {
        "resources": Resource.objects.count()
    }


VALID = {
    "slis": {
        "tenant": "acme",
        "source_id": "sli-1",
        "resource": "api-gateway",
        "name": "availability",
        "objective": 99.9,
        "value": 99.95,
        "error_budget_remaining": 62.5,
        "window": "28d",
        "observed_at": T0,
    },
    "alerts": {
        "tenant": "acme",
        "source_id": "alert-1",
        "resource": "api-gateway",
        "name": "HighErrorRate",
        "severity": "critical",
        "summary": "5xx above 1%",
        "fingerprint": "abc123",
        "labels": {"service": "api-gateway"},
        "annotations": {"runbook": "x"},
        "starts_at": T0,
    },
    "deployments": {
        "tenant": "acme",
        "source_id": "deploy-1",
        "resource": "api-gateway",
        "version": "2026.03.2",
        "description": "Rate limiter change",
        "deployed_at": T0,
    },
    "feature_flags": {
        "tenant": "acme",
        "source_id": "flag-1",
        "key": "new-checkout",
        "enabled": True,
        "variant": "b",
        "observed_at": T0,
    },
    "config_snapshots": {
        "tenant": "acme",
        "source_id": "cfg-1",
        "resource": "orders-db",
        "taken_at": T0,
        "data": {"max_connections": 200, "pool": {"size": 20}},
    },
    "usage": {"tenant": "acme", "source_id": "usage-1", "metric": "api_requests", "value": 1234567, "period_start": T0},
    "experiments": {
        "tenant": "acme",
        "source_id": "exp-1",
        "key": "pricing-page",
        "status": "active",
        "variant": "control",
        "started_at": T0,
    },
    "dependencies": {"tenant": "acme", "source_id": "dep-1", "resource": "api-gateway", "depends_on": "orders-db"},
    "logs": {
        "tenant": "acme",
        "source_id": "log-1",
        "resource": "api-gateway",
        "logged_at": T0,
        "level": "error",
        "message": "upstream payments timed out",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
    },
}


def test_no_token_is_401_with_www_authenticate(db):
    response = ApiClient(None).send("slis", [VALID["slis"]])
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "credentials" in response.json()["detail"].lower()


def test_unknown_token_is_refused(db):
    response = ApiClient("cos_not-a-real-token").send("slis", [VALID["slis"]])
    assert response.status_code == 401
    assert response.json() == {"detail": "Unknown token."}


def test_revoked_token_is_refused(integration, admin_user, tenant_a, resources):
    ingest.integration_revoke(integration_id=integration.pk, actor=admin_user)
    response = ApiClient(integration.raw_token).send("slis", [VALID["slis"]])
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert SLI.objects.count() == 0


def test_wrong_scheme_is_explained(integration):
    client = Client()
    response = client.post(
        "/api/v1/telemetry/slis/",
        data="[]",
        content_type="application/json",
        headers={"Authorization": f"Basic {integration.raw_token}"},
    )
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


def test_use_marks_last_used(api, integration, tenant_a, resources):
    assert integration.last_used_at is None
    api.send("slis", [VALID["slis"]])
    integration.refresh_from_db()
    assert integration.last_used_at is not None


def test_index_describes_every_kind(api):
    response = api.get("/api/v1/telemetry/")
    assert response.status_code == 200
    kinds = response.json()["kinds"]
    assert set(kinds) == {*TELEMETRY_MODELS, "resources"}
    slis = kinds["slis"]
    assert slis["url"].endswith("/api/v1/telemetry/slis/")
    assert slis["fields"]["objective"] == {
        "type": "number",
        "required": True,
        "help": "Target, e.g. 99.9 (percent, 0–100)",
    }
    assert slis["fields"]["observed_at"]["type"] == "datetime"
    assert kinds["alerts"]["fields"]["status"]["choices"] == ["firing", "resolved"]
    assert kinds["dependencies"]["fields"]["depends_on"]["refers_to"] == "resource external_id"
    assert api.get("/api/v1/telemetry/usage/").json()["fields"]["metric"]["required"] is True


def test_index_needs_a_token(db):
    assert Client().get("/api/v1/telemetry/").status_code == 401


@pytest.mark.parametrize("kind", list(VALID))
def test_every_kind_is_accepted_and_stored(api, integration, tenant_a, resources, kind):
    response = api.send(kind, [VALID[kind]])
    assert response.status_code == 200, response.content
    assert response.json() == {"kind": kind, "created": 1, "updated": 0, "unchanged": 0}
    row = TELEMETRY_MODELS[kind].objects.get()
    assert (row.tenant, row.integration, row.source_id) == (tenant_a, integration, VALID[kind]["source_id"])
    assert row.received_at is not None


def test_stored_values(api, tenant_a, resources):
    for kind in VALID:
        assert api.send(kind, [VALID[kind]]).status_code == 200
    sli = SLI.objects.get()
    assert (
        sli.resource,
        sli.name,
        sli.objective,
        sli.value,
        sli.error_budget_remaining,
        sli.window,
        sli.observed_at,
    ) == (resources["api-gateway"], "availability", 99.9, 99.95, 62.5, "28d", T0_DT)
    alert = Alert.objects.get()
    assert (alert.status, alert.severity, alert.ends_at, alert.labels, alert.starts_at) == (
        "firing",
        "critical",
        None,
        {"service": "api-gateway"},
        T0_DT,
    )
    assert Deployment.objects.get().version == "2026.03.2"
    flag = FeatureFlag.objects.get()
    assert (flag.key, flag.enabled, flag.variant) == ("new-checkout", True, "b")
    snapshot = ConfigSnapshot.objects.get()
    assert (snapshot.resource, snapshot.data) == (
        resources["orders-db"],
        {"max_connections": 200, "pool": {"size": 20}},
    )
    assert UsageMetric.objects.get().value == 1234567.0
    assert Experiment.objects.get().ended_at is None
    edge = ResourceDependency.objects.get()
    assert (edge.resource, edge.depends_on) == (resources["api-gateway"], resources["orders-db"])


def test_defaults_and_other_timezones(api, tenant_a):
    item = {
        "tenant": "acme",
        "source_id": "s",
        "name": "latency",
        "objective": 99.5,
        "value": 250,
        "error_budget_remaining": -5,
        "observed_at": "2026-03-02T11:00:00+01:00",
    }
    assert api.send("slis", [item]).status_code == 200
    sli = SLI.objects.get()
    assert (sli.resource, sli.window, sli.observed_at) == (None, "30d", T0_DT)


def test_bare_list_is_accepted(api, tenant_a, resources):
    response = api.post("/api/v1/telemetry/usage/", [VALID["usage"]])
    assert response.status_code == 200
    assert response.json()["created"] == 1


def test_resources_upsert_by_external_id(api, tenant_a, resources):
    items = [
        {
            "tenant": "acme",
            "external_id": "search",
            "kind": "service",
            "region": "eu-west",
            "version": "1.2",
            "health": "green",
            "config_snapshot": {"replicas": 3},
        },
        {"tenant": "acme", "external_id": "api-gateway", "kind": "api", "version": "7.1"},
    ]
    response = api.send("resources", items)
    assert response.status_code == 200, response.content
    assert response.json() == {"kind": "resources", "created": 1, "updated": 1, "unchanged": 0}
    search = Resource.objects.get(tenant=tenant_a, external_id="search")
    assert (search.kind, search.region, search.version, search.health, search.config_snapshot) == (
        "service",
        "eu-west",
        "1.2",
        "green",
        {"replicas": 3},
    )
    # Fields left out keep their value; the same again changes nothing.
    response = api.send("resources", [{"tenant": "acme", "external_id": "search", "kind": "service", "health": "red"}])
    assert response.json() == {"kind": "resources", "created": 0, "updated": 1, "unchanged": 0}
    search.refresh_from_db()
    assert (search.version, search.health, search.config_snapshot) == ("1.2", "red", {"replicas": 3})
    assert (
        api.send("resources", [{"tenant": "acme", "external_id": "search", "kind": "service", "health": "red"}]).json()[
            "unchanged"
        ]
        == 1
    )


def test_resource_changes_are_audited(api, tenant_a):
    from auditlog.models import LogEntry

    api.send("resources", [{"tenant": "acme", "external_id": "search", "kind": "service"}])
    resource = Resource.objects.get(external_id="search")
    assert LogEntry.objects.get_for_object(resource).count() == 1


# --- all or nothing -----------------------------------------------------------------------------------------


def test_malformed_json_is_400_with_a_reason(api, tenant_a):
    before = counts()
    response = api.post("/api/v1/telemetry/slis/", '{"items": [{"tenant": "acme",', raw=True)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON")
    assert counts() == before


def test_nan_is_not_json(api, tenant_a):
    body = (
        '{"items": [{"tenant": "acme", "source_id": "x", "name": "a", "objective": NaN, "value": 1, '
        '"error_budget_remaining": 1, "observed_at": "2026-03-02T10:00:00Z"}]}'
    )
    response = api.post("/api/v1/telemetry/slis/", body, raw=True)
    assert response.status_code == 400
    assert "NaN" in response.json()["detail"]


@pytest.mark.parametrize("body", [{"things": []}, {"items": "no"}, "text", 42, {"items": [], "extra": 1}])
def test_wrong_shape_is_400(api, body):
    response = api.post("/api/v1/telemetry/slis/", body)
    assert response.status_code == 400
    assert '{"items": [...]}' in response.json()["detail"]


def test_empty_batch_is_400(api):
    response = api.send("slis", [])
    assert response.status_code == 400
    assert response.json()["detail"] == "The batch has no items."


def test_not_json_is_415(api):
    response = api.client.post("/api/v1/telemetry/slis/", data={"tenant": "acme"}, headers=api.headers)
    assert response.status_code == 415


def test_unknown_kind_is_404(api):
    response = api.send("traces", [VALID["slis"]])
    assert response.status_code == 404
    assert "slis" in response.json()["detail"]


def test_every_problem_is_listed_and_nothing_written(api, tenant_a, resources):
    good = VALID["slis"]
    items = [
        good,
        {**good, "source_id": "sli-2", "objective": "high", "observed_at": "2026-03-02T10:00:00"},  # number, naive time
        {"tenant": "acme", "name": "x"},  # missing fields
        {**good, "source_id": "sli-4", "tenant": "nope"},  # unknown tenant
        {**good, "source_id": "sli-5", "resource": "no-such-service", "objectve": 1},  # unknown resource, unknown field
        "not an object",
        {**good, "source_id": 12},  # not a string
        {**good, "source_id": "sli-1"},  # duplicate of index 0
    ]
    before = counts()
    response = api.send("slis", items)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "7 of 8 items invalid; nothing was written."
    errors = {(e["index"], e["field"]) for e in body["errors"]}
    assert errors == {
        (1, "objective"),
        (1, "observed_at"),
        (2, "source_id"),
        (2, "objective"),
        (2, "value"),
        (2, "error_budget_remaining"),
        (2, "observed_at"),
        (3, "tenant"),
        (4, "resource"),
        (4, "objectve"),
        (5, "item"),
        (6, "source_id"),
        (7, "source_id"),
    }
    messages = {(e["index"], e["field"]): e["message"] for e in body["errors"]}
    assert "timezone" in messages[(1, "observed_at")]
    assert "No tenant with slug 'nope'" in messages[(3, "tenant")]
    assert "No resource 'no-such-service' for tenant 'acme'" in messages[(4, "resource")]
    assert "Unknown field" in messages[(4, "objectve")]
    assert "index 0" in messages[(7, "source_id")]
    assert counts() == before


def test_unknown_tenant_on_an_otherwise_invalid_item_is_reported_too(api, tenant_a):
    response = api.send("slis", [{**VALID["slis"], "tenant": "ghost", "resource": None, "value": "x"}])
    assert {(e["field"]) for e in response.json()["errors"]} == {"tenant", "value"}


def test_resource_of_another_tenant_is_unknown(api, tenant_a, tenant_b):
    ResourceFactory(tenant=tenant_b, external_id="globex-api")
    response = api.send("slis", [{**VALID["slis"], "resource": "globex-api"}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "resource"


def test_telemetry_never_creates_tenants(api, db):
    from tenants.models import Tenant

    response = api.send("usage", [{**VALID["usage"], "tenant": "brand-new"}])
    assert response.status_code == 400
    assert not Tenant.objects.filter(slug="brand-new").exists()


def test_dependency_rules(api, tenant_a, resources):
    edge = VALID["dependencies"]
    response = api.send("dependencies", [{**edge, "depends_on": "api-gateway"}])
    assert response.json()["errors"][0]["message"] == "A resource cannot depend on itself."
    response = api.send("dependencies", [edge, {**edge, "source_id": "dep-2"}])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 1, "field": "depends_on", "message": "The same edge is at index 0 of this batch."}
    ]
    assert api.send("dependencies", [edge]).status_code == 200
    response = api.send("dependencies", [{**edge, "source_id": "dep-2"}])
    assert response.status_code == 400
    assert "already recorded under source_id 'dep-1'" in response.json()["errors"][0]["message"]
    assert ResourceDependency.objects.count() == 1


def test_alert_ending_before_it_starts(api, tenant_a):
    response = api.send("alerts", [{**VALID["alerts"], "resource": None, "ends_at": "2026-03-02T09:00:00Z"}])
    assert response.json()["errors"] == [{"index": 0, "field": "ends_at", "message": "Ends before it starts."}]


def test_nul_characters_are_refused_not_a_500(api, tenant_a, resources):
    response = api.send("config_snapshots", [{**VALID["config_snapshots"], "data": {"k": "a\u0000b"}}])
    assert response.status_code == 400
    assert "NUL" in response.json()["errors"][0]["message"]
    response = api.send("usage", [{**VALID["usage"], "metric": "a\u0000b"}])
    assert response.status_code == 400


# --- limits --------------------------------------------------------------------------------------------------


def test_oversized_batch_is_413(api, tenant_a, settings):
    settings.TELEMETRY_MAX_BATCH = 5
    items = [{**VALID["usage"], "source_id": f"u-{i}"} for i in range(6)]
    response = api.send("usage", items)
    assert response.status_code == 413
    assert "6 items" in response.json()["detail"] and "limit is 5" in response.json()["detail"]
    assert UsageMetric.objects.count() == 0
    assert api.send("usage", items[:5]).status_code == 200


def test_oversized_body_is_413(api, tenant_a, settings):
    settings.TELEMETRY_MAX_BYTES = 2_000
    items = [{**VALID["usage"], "source_id": f"u-{i}"} for i in range(30)]
    response = api.send("usage", items)
    assert response.status_code == 413
    assert "over the limit of 2,000 bytes" in response.json()["detail"]
    assert UsageMetric.objects.count() == 0


def test_body_over_djangos_upload_limit_is_413_not_400(api, tenant_a, settings):
    """Bigger than DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB): our limit answers, as JSON, before Django's."""
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 6 * 1024 * 1024
    body = json.dumps({"items": [{**VALID["usage"], "source_id": "x" * 100, "metric": "m" * 100}] * 25_000})
    assert len(body) > 6 * 1024 * 1024
    response = api.post("/api/v1/telemetry/usage/", body, raw=True)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


def test_parser_guards_the_read_without_a_content_length(settings):
    """A body with no (or a wrong) declared length is still cut at the limit."""
    settings.TELEMETRY_MAX_BYTES = 100

    class Request:
        META = {}

    with pytest.raises(PayloadTooLarge):
        LimitedJSONParser().parse(io.BytesIO(b"[" + b"1," * 200 + b"1]"), parser_context={"request": Request()})
    assert LimitedJSONParser().parse(io.BytesIO(b"[1, 2]"), parser_context={"request": Request()}) == [1, 2]


# --- idempotency ----------------------------------------------------------------------------------------------


def test_resend_changes_nothing(api, tenant_a, resources):
    batch = [{**VALID[kind]} for kind in ["slis"]] + [
        {**VALID["slis"], "source_id": f"sli-{i}", "observed_at": f"2026-03-02T1{i}:00:00Z"} for i in range(2, 6)
    ]
    assert api.send("slis", batch).json() == {"kind": "slis", "created": 5, "updated": 0, "unchanged": 0}
    stamps = dict(SLI.objects.values_list("source_id", "received_at"))
    again = api.send("slis", batch)
    assert again.json() == {"kind": "slis", "created": 0, "updated": 0, "unchanged": 5}
    assert SLI.objects.count() == 5
    assert dict(SLI.objects.values_list("source_id", "received_at")) == stamps


@pytest.mark.parametrize("kind", list(VALID))
def test_resend_of_every_kind_is_unchanged(api, tenant_a, resources, kind):
    api.send(kind, [VALID[kind]])
    assert api.send(kind, [VALID[kind]]).json()["unchanged"] == 1
    assert TELEMETRY_MODELS[kind].objects.count() == 1


def test_same_time_in_another_zone_is_unchanged(api, tenant_a, resources):
    api.send("slis", [VALID["slis"]])
    assert api.send("slis", [{**VALID["slis"], "observed_at": "2026-03-02T11:00:00+01:00"}]).json()["unchanged"] == 1


def test_changed_resend_updates(api, tenant_a, resources):
    api.send("alerts", [VALID["alerts"], {**VALID["alerts"], "source_id": "alert-2"}])
    before = Alert.objects.get(source_id="alert-1").received_at
    changed = {**VALID["alerts"], "status": "resolved", "ends_at": "2026-03-02T10:30:00Z"}
    response = api.send("alerts", [changed, {**VALID["alerts"], "source_id": "alert-2"}])
    assert response.json() == {"kind": "alerts", "created": 0, "updated": 1, "unchanged": 1}
    alert = Alert.objects.get(source_id="alert-1")
    assert (alert.status, alert.ends_at) == ("resolved", T0_DT + timedelta(minutes=30))
    assert alert.received_at > before
    assert Alert.objects.count() == 2


def test_source_ids_are_per_integration(api, admin_user, tenant_a, resources):
    other, token = ingest.integration_create(name="Datadog", actor=admin_user, tenant_ids=[tenant_a.pk])
    api.send("usage", [VALID["usage"]])
    assert ApiClient(token).send("usage", [VALID["usage"]]).json()["created"] == 1
    assert UsageMetric.objects.count() == 2


def test_query_count_does_not_grow_with_the_batch(api, tenant_a, resources):
    def queries(n: int, offset: int) -> int:
        items = [{**VALID["slis"], "source_id": f"q-{offset + i}"} for i in range(n)]
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert api.send("slis", items).status_code == 200
        return len(ctx.captured_queries)

    assert queries(500, 0) == queries(2, 1000)
    assert queries(500, 0) <= queries(2, 1000)  # the re-send of 500 (unchanged) is no dearer either


def test_empty_body_is_explained(api):
    response = api.client.post(
        "/api/v1/telemetry/slis/", data=b"", content_type="application/json", headers=api.headers
    )
    assert response.status_code == 400
    assert "empty" in response.json()["detail"]


def test_unpaired_surrogate_is_400_not_a_500(api, tenant_a):
    item = '{"tenant": "acme", "source_id": "s", "metric": "%s", "value": 1, "period_start": "2026-03-02T10:00:00Z"}'
    response = api.post("/api/v1/telemetry/usage/", "[" + item % "bad \\ud800" + "]", raw=True)
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
    response = api.post("/api/v1/telemetry/usage/", "[" + item % "ok \\ud83d\\ude00" + "]", raw=True)
    assert response.status_code == 200
    assert UsageMetric.objects.get().metric == "ok \U0001f600"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    kind=st.sampled_from(list(VALID)),
    overrides=st.dictionaries(
        st.sampled_from(sorted({key for item in VALID.values() for key in item} | {"ends_at", "extra"})),
        json_values,
        max_size=4,
    ),
)
def test_no_input_makes_a_500(api, tenant_a, resources, kind, overrides):
    response = api.send(kind, [{**VALID[kind], **overrides}])
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert all({"index", "field", "message"} <= set(e) for e in response.json()["errors"])


# --- an integration writes only for its own tenants (issue 8, finding 9) --------------------------------


@pytest.mark.parametrize("kind", list(VALID))
def test_items_for_another_tenant_are_403_and_nothing_is_written(api, tenant_a, tenant_b, resources, kind):
    ResourceFactory(tenant=tenant_b, external_id="api-gateway")
    ResourceFactory(tenant=tenant_b, external_id="orders-db")
    mine = VALID[kind]
    theirs = {**mine, "tenant": "globex", "source_id": f"{mine['source_id']}-b"}
    before = counts()
    response = api.send(kind, [mine, theirs])
    assert response.status_code == 403
    body = response.json()
    assert body["tenants"] == ["globex"]
    assert "may not send telemetry for tenant 'globex'" in body["detail"] and "nothing was written" in body["detail"]
    assert counts() == before


def test_resources_for_another_tenant_are_403(api, tenant_a, tenant_b):
    response = api.send("resources", [{"tenant": "globex", "external_id": "billing", "kind": "api"}])
    assert response.status_code == 403 and response.json()["tenants"] == ["globex"]
    assert not Resource.objects.exists()


def test_a_foreign_tenant_refuses_before_item_errors_are_listed(api, tenant_a, tenant_b):
    """403 first: an item for another tenant refuses the request whatever else is wrong with it."""
    response = api.send("slis", [{"tenant": "globex", "source_id": "x"}, {"tenant": "acme", "source_id": 3}])
    assert response.status_code == 403 and response.json()["tenants"] == ["globex"]


def test_every_foreign_tenant_is_named(api, tenant_a, tenant_b):
    initech = TenantFactory(slug="initech")
    items = [{**VALID["usage"], "tenant": slug, "source_id": slug} for slug in ("initech", "acme", "globex")]
    response = api.send("usage", items)
    assert response.status_code == 403
    assert response.json()["tenants"] == ["globex", "initech"]
    assert "tenants 'globex', 'initech'" in response.json()["detail"]
    assert initech.pk and not UsageMetric.objects.exists()


def test_an_unknown_tenant_is_still_an_item_error(api, tenant_a):
    response = api.send("usage", [{**VALID["usage"], "tenant": "nope"}])
    assert response.status_code == 400
    assert "No tenant with slug 'nope'" in response.json()["errors"][0]["message"]


def test_scope_migration_gives_existing_integrations_what_they_wrote_for(admin_user, tenant_a, tenant_b):
    """tenants 0100: an integration keeps the tenants it has written for; one that wrote nothing gets all."""
    import importlib

    from django.apps import apps

    from tenants.models import Integration

    migration = importlib.import_module("tenants.migrations.0100_integration_tenants")
    wrote, _ = ingest.integration_create(name="Wrote", actor=admin_user, tenant_ids=[tenant_a.pk])
    idle, _ = ingest.integration_create(name="Idle", actor=admin_user, tenant_ids=[tenant_a.pk])
    UsageMetric.objects.create(
        tenant=tenant_b, integration=wrote, source_id="u", metric="m", value=1, period_start=T0_DT
    )
    Integration.tenants.through.objects.all().delete()  # as before the migration
    migration.scope_existing(apps, None)
    assert list(wrote.tenants.all()) == [tenant_b]
    assert set(idle.tenants.all()) == {tenant_a, tenant_b}
