"""The REST API's case resources (/api/v1/cases/…): scope, the queue's filters and keyset pages, the
writes through cases.services, problem+json errors, idempotent creates, the telemetry slice, audit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import Priority, Status
from cases.models import Attachment, Case, Interaction
from companyos.models import IdempotencyKey
from tenants import ingest
from tests.api_support import API, integration_token, personal_token
from tests.factories import CaseFactory, RequesterFactory, ResourceFactory, TagFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def api(agent):
    return API(personal_token(agent, name="laptop CLI"))


@pytest.fixture
def jane(tenant_a):
    return RequesterFactory(tenant=tenant_a, email="jane@acme.example", name="Jane Doe")


def new_case(**overrides):
    body = {"tenant": "acme", "requester": "jane@acme.example", "subject": "Checkout returns 500"}
    return {**body, **overrides}


def api_entries(view: str):
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__view=view)


# --- reading ------------------------------------------------------------------------------------------------


def test_the_list_shows_the_users_cases_only_and_is_audited_with_the_tokens_name(api, case_a, case_b):
    response = api.get("/api/v1/cases/")
    assert response.status_code == 200
    assert [c["key"] for c in response.json()["results"]] == [case_a.key]
    entry = api_entries("API case list").get()
    assert entry.additional_data["ids"] == [case_a.pk]
    assert entry.additional_data["token"] == "laptop CLI"
    assert entry.actor.username == "kari"


def test_the_list_takes_the_queues_filters(api, tenant_a):
    critical = CaseFactory(tenant=tenant_a, priority=Priority.CRITICAL)
    CaseFactory(tenant=tenant_a, priority=Priority.LOW)
    CaseFactory(tenant=tenant_a, priority=Priority.CRITICAL, status=Status.RESOLVED)
    keys = [c["key"] for c in api.get("/api/v1/cases/", {"priority": "critical"}).json()["results"]]
    assert keys == [critical.key]
    keys = [c["key"] for c in api.get("/api/v1/cases/", {"priority": "critical", "status": "all"}).json()["results"]]
    assert len(keys) == 2


def test_an_invalid_filter_answers_400_naming_it(api):
    response = api.get("/api/v1/cases/", {"priority": "urgent", "created_after": "2026-13-45"})
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400 and body["type"].endswith("/validation")
    assert {e["field"] for e in body["errors"]} == {"priority", "created_after"}


def test_a_tenant_filter_outside_the_tokens_tenants_is_refused(api, tenant_b, case_b):
    response = api.get("/api/v1/cases/", {"tenant": "globex"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "tenant"


@pytest.mark.parametrize("sort", ["priority", "sla", "age", "newest", "updated", "stale"])
def test_cursor_pages_walk_every_case_once_in_the_sorts_order(api, tenant_a, sort):
    now = timezone.now()
    for i in range(7):
        CaseFactory(
            tenant=tenant_a,
            priority=[1, 2, 3][i % 3],
            created_at=now - timedelta(hours=i % 2),  # ties: the id decides
            updated_at=now - timedelta(minutes=i % 3),
            sla_due_at=None if i % 3 == 0 else now + timedelta(hours=i % 2),
        )
    everything = [c["key"] for c in api.get("/api/v1/cases/", {"sort": sort, "page_size": 100}).json()["results"]]
    seen, cursor = [], None
    while True:
        params = {"sort": sort, "page_size": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/cases/", params).json()
        seen += [c["key"] for c in page["results"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == everything and len(seen) == 7


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"cursor": "WyJzbGEiLFsxXV0"}, {"page_size": "0"}])
def test_a_bad_cursor_or_page_size_answers_400(api, params):
    response = api.get("/api/v1/cases/", params)
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM


def test_a_cursor_of_another_sort_is_refused(api, tenant_a):
    CaseFactory.create_batch(3, tenant=tenant_a)
    cursor = api.get("/api/v1/cases/", {"page_size": 1}).json()["next"]
    assert api.get("/api/v1/cases/", {"sort": "newest", "cursor": cursor}).status_code == 400


def _queries(api, path, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_detail_query_counts_are_pinned_and_do_not_grow_with_rows(api, tenant_a, jane):
    first = CaseFactory(tenant=tenant_a, tags=[TagFactory(name="billing")])
    Interaction.objects.create(case=first, kind=Interaction.Kind.NOTE, body="note")
    api.get("/api/v1/cases/")  # warm: the token's last use is written once a minute, the system user
    one = _queries(api, "/api/v1/cases/", {"page_size": 100})
    detail_one = _queries(api, f"/api/v1/cases/{first.key}/")
    for _ in range(30):
        case = CaseFactory(tenant=tenant_a, requester=jane, tags=[TagFactory(name="billing")])
    for _ in range(10):
        Interaction.objects.create(case=case, kind=Interaction.Kind.NOTE, body="note")
    many = _queries(api, "/api/v1/cases/", {"page_size": 100})
    small_page = _queries(api, "/api/v1/cases/", {"page_size": 5})
    detail_many = _queries(api, f"/api/v1/cases/{case.key}/")
    assert one == many == small_page == 7, (one, many, small_page)
    assert detail_one == detail_many == 10, (detail_one, detail_many)


def test_the_detail_shows_the_timeline_and_is_audited(api, case_a):
    Interaction.objects.create(case=case_a, kind=Interaction.Kind.NOTE, body="internal only")
    body = api.get(f"/api/v1/cases/{case_a.key}/").json()
    assert body["key"] == case_a.key and body["timeline"][0]["body"] == "internal only"
    entry = api_entries("API case").get()
    assert entry.object_pk == str(case_a.pk) and entry.additional_data["token"] == "laptop CLI"


def test_a_case_of_another_tenant_is_404_and_the_attempt_is_audited(api, case_b):
    response = api.get(f"/api/v1/cases/{case_b.key}/")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    denial = LogEntry.objects.get(additional_data__denied=True, object_pk=str(case_b.pk))
    assert "laptop CLI" in denial.additional_data["reason"]
    assert api.get("/api/v1/cases/CS-99999999999999999999/").status_code == 404
    assert api.get("/api/v1/cases/nonsense/").status_code == 404


def test_an_integration_token_sees_its_tenants_only_and_public_entries_only(admin_user, tenant_a, case_a, case_b):
    Interaction.objects.create(case=case_a, kind=Interaction.Kind.NOTE, body="internal only")
    api = API(integration_token(admin_user, [tenant_a]))
    assert [c["key"] for c in api.get("/api/v1/cases/").json()["results"]] == [case_a.key]
    assert api.get(f"/api/v1/cases/{case_a.key}/").json()["timeline"] == []
    assert api.get(f"/api/v1/cases/{case_b.key}/").status_code == 404
    entry = api_entries("API case").get()
    assert entry.additional_data["integration"] == "Acme backend"


# --- creating -----------------------------------------------------------------------------------------------


def test_create_opens_a_case_through_the_service_with_its_evidence(api, jane):
    body = new_case(
        priority="critical",
        category="integration",
        error_ids=["ERR-1042"],
        trace_links=["https://traces.acme.example/t/4bf92f"],
        tags=["checkout"],
    )
    response = api.post("/api/v1/cases/", body)
    assert response.status_code == 201, response.json()
    data = response.json()
    case = Case.objects.get(pk=int(data["key"].split("-")[1]))
    assert response["Location"] == f"/api/v1/cases/{case.key}/"
    assert (case.priority, case.category, case.channel, case.requester) == (1, "integration", "api", jane)
    assert case.unclassified == ["issue_type", "environment"]
    first = case.interactions.get()
    assert first.data["evidence"] == {
        "error_ids": ["ERR-1042"],
        "trace_links": ["https://traces.acme.example/t/4bf92f"],
    }
    assert first.data["opened_by"] == "kari"
    assert data["tags"] == ["checkout"]


def test_create_refuses_what_is_wrong_with_every_field_named(api, jane):
    response = api.post(
        "/api/v1/cases/",
        new_case(priority="urgent", subject="", channel="fax", trace_links=["not a url"], telemetry_since="30y"),
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"priority", "subject", "channel", "trace_links[0]", "telemetry_since"} <= fields


def test_create_for_an_unknown_requester_or_resource_is_400(api, jane):
    response = api.post("/api/v1/cases/", new_case(requester="nobody@acme.example"))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "requester"
    response = api.post("/api/v1/cases/", new_case(affected_resources=["nope"]))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "affected_resources"


def test_create_for_a_foreign_tenant_is_404(api, tenant_b):
    RequesterFactory(tenant=tenant_b, email="x@globex.example")
    response = api.post("/api/v1/cases/", new_case(tenant="globex", requester="x@globex.example"))
    assert response.status_code == 404
    assert not Case.objects.exists()


def test_an_idempotency_key_makes_a_retry_answer_the_first_case(api, jane):
    headers = {"Idempotency-Key": "8b1f7c2e-retry"}
    first = api.post("/api/v1/cases/", new_case(), headers=headers)
    again = api.post("/api/v1/cases/", new_case(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["key"] == first.json()["key"]
    assert Case.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    other = api.post("/api/v1/cases/", new_case(subject="Something else"), headers=headers)
    assert other.status_code == 422 and other["Content-Type"] == PROBLEM
    assert api.post("/api/v1/cases/", new_case(), headers={"Idempotency-Key": "another"}).status_code == 201
    assert Case.objects.count() == 2


def test_a_failed_create_leaves_no_idempotency_key(api, jane):
    headers = {"Idempotency-Key": "k-1"}
    assert api.post("/api/v1/cases/", new_case(affected_resources=["nope"]), headers=headers).status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert api.post("/api/v1/cases/", new_case(), headers=headers).status_code == 201


def test_a_bad_idempotency_key_is_400(api, jane):
    assert api.post("/api/v1/cases/", new_case(), headers={"Idempotency-Key": "x" * 300}).status_code == 400


def test_the_telemetry_slice_attaches_the_tenants_recent_telemetry(api, admin_user, tenant_a, jane):
    integration, _ = ingest.integration_create(name="Monitoring", actor=admin_user, tenant_ids=[tenant_a.pk])
    ResourceFactory(tenant=tenant_a, external_id="api-gateway")
    now = timezone.now()

    def sli(source_id, minutes_ago):
        return {
            "tenant": "acme",
            "source_id": source_id,
            "resource": "api-gateway",
            "name": "availability",
            "objective": 99.9,
            "value": 97.0,
            "error_budget_remaining": 10,
            "observed_at": (now - timedelta(minutes=minutes_ago)).isoformat(),
        }

    ingest.ingest_batch(integration=integration, kind="slis", payload={"items": [sli("recent", 10), sli("old", 90)]})
    ingest.ingest_batch(
        integration=integration,
        kind="deployments",
        payload={
            "items": [
                {
                    "tenant": "acme",
                    "source_id": "d1",
                    "resource": "api-gateway",
                    "version": "2.4.1",
                    "deployed_at": (now - timedelta(minutes=5)).isoformat(),
                }
            ]
        },
    )
    response = api.post("/api/v1/cases/", new_case(telemetry_since="30m"))
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get()
    assert attachment.original_name.startswith("telemetry-") and attachment.content_type == "application/json"
    data = json.loads(attachment.file.read())
    assert [s["observed_at"] for s in data["slis"]] == [sli("recent", 10)["observed_at"]]
    assert [d["version"] for d in data["deployments"]] == ["2.4.1"]
    assert [a["filename"] for a in response.json()["attachments"]] == [attachment.original_name]


def test_an_integration_files_as_the_customer(admin_user, tenant_a, jane):
    api = API(integration_token(admin_user, [tenant_a]))
    response = api.post("/api/v1/cases/", new_case(channel="cli"))
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.interactions.get().data["opened_by"] == "customer" and case.channel == "cli"


# --- changing -----------------------------------------------------------------------------------------------


def test_transition_with_expected_status(api, case_a):
    url = f"/api/v1/cases/{case_a.key}/transition/"
    response = api.post(url, {"to": "triage", "expected_status": "new"})
    assert response.status_code == 200 and response.json()["status"] == "triage"
    stale = api.post(url, {"to": "in_progress", "expected_status": "new"})
    assert stale.status_code == 409 and stale["Content-Type"] == PROBLEM
    assert "moved" in stale.json()["detail"]
    forbidden = api.post(url, {"to": "closed"})
    assert forbidden.status_code == 409
    assert api.post(url, {"to": "sideways"}).status_code == 400
    case_a.refresh_from_db()
    assert case_a.status == Status.TRIAGE


def test_classify_with_a_stale_version_is_409(api, case_a):
    url = f"/api/v1/cases/{case_a.key}/"
    response = api.patch(url, {"priority": "high", "version": case_a.version})
    assert response.status_code == 200 and response.json()["priority"] == "high"
    assert api.patch(url, {"category": "performance", "version": case_a.version}).status_code == 409
    assert api.patch(url, {}).status_code == 400
    case_a.refresh_from_db()
    assert case_a.priority == Priority.HIGH and case_a.category == "other"


def test_reply_and_internal_note(api, admin_user, tenant_a, case_a):
    url = f"/api/v1/cases/{case_a.key}/replies/"
    assert api.post(url, {"body": "We are on it."}).status_code == 201
    assert api.post(url, {"body": "Looks like INC-204.", "internal": True}).status_code == 201
    kinds = list(case_a.interactions.order_by("id").values_list("kind", "public"))
    assert kinds == [("reply", True), ("note", False)]
    case_a.refresh_from_db()
    assert case_a.first_response_at is not None
    assert api.post(url, {"body": "   "}).status_code == 400
    integration = API(integration_token(admin_user, [tenant_a]))
    assert integration.post(url, {"body": "x", "internal": True}).status_code == 403


def test_attach_a_file_up_to_the_limit(api, case_a, settings):
    url = f"/api/v1/cases/{case_a.key}/attachments/"
    response = api.upload(url, "trace.log", b"GET /v1/orders 500\n")
    assert response.status_code == 201 and response.json()["filename"] == "trace.log"
    assert api.upload(url, "tool.exe", b"MZ").status_code == 400
    settings.ATTACHMENT_MAX_BYTES = 1024
    too_big = api.upload(url, "big.log", b"x" * 200_000)
    assert too_big.status_code == 413 and too_big["Content-Type"] == PROBLEM
    assert api.post(url, {"file": "x"}).status_code == 415
    assert case_a.attachments.count() == 1


# --- auth, scope, limits, bad input -------------------------------------------------------------------------


def test_without_a_valid_token_401_and_audited(agent, case_a):
    for token in (None, "cop_unknown", "cos_unknown"):
        response = API(token).get("/api/v1/cases/")
        assert response.status_code == 401 and response["Content-Type"] == PROBLEM
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert LogEntry.objects.filter(additional_data__denied=True).count() == 3


def test_a_session_cookie_is_not_a_token(agent_client):
    assert agent_client.get("/api/v1/cases/").status_code == 401


def test_revoked_and_expired_tokens_are_refused(agent, case_a):
    from companyos.api import tokens
    from companyos.models import ApiToken

    raw = personal_token(agent, name="old")
    token = ApiToken.objects.get(name="old")
    tokens.token_revoke(user=agent, token_id=token.pk)
    response = API(raw).get("/api/v1/cases/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    raw = personal_token(agent, name="short")
    ApiToken.objects.filter(name="short").update(expires_at=timezone.now() - timedelta(seconds=1))
    response = API(raw).get("/api/v1/cases/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_deactivated_users_token_stops_working_and_a_lost_grant_narrows_it(agent, tenant_a, case_a):
    from tenants.services import tenant_revoke

    raw = personal_token(agent)
    tenant_revoke(tenant=tenant_a, user_or_group=agent)
    assert API(raw).get(f"/api/v1/cases/{case_a.key}/").status_code == 404  # sees what the user sees, now
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = API(raw).get("/api/v1/cases/")
    assert response.status_code == 401 and "deactivated" in response.json()["detail"]


def test_a_read_token_cannot_write(agent, case_a, jane):
    api = API(personal_token(agent, scope="read"))
    assert api.get("/api/v1/cases/").status_code == 200
    response = api.post(f"/api/v1/cases/{case_a.key}/replies/", {"body": "x"})
    assert response.status_code == 403 and "scope" in response.json()["detail"]
    assert api.post("/api/v1/cases/", new_case()).status_code == 403


def test_rate_limit_per_token_answers_429_with_retry_after(agent, other_agent, case_a, settings):
    settings.API_RATE_LIMIT = "2/min"
    api, other = API(personal_token(agent)), API(personal_token(other_agent))
    assert [api.get("/api/v1/cases/").status_code for _ in range(2)] == [200, 200]
    limited = api.get("/api/v1/cases/")
    assert limited.status_code == 429 and limited["Content-Type"] == PROBLEM
    assert 0 < int(limited["Retry-After"]) <= 60
    assert other.get("/api/v1/cases/").status_code == 200  # per token


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[1, 2]", b'{"subject": "a\\u0000b"}', b"\xff\xfe", b'{"a": 1, "a": 2}', b'{"s": "\\ud800"}', b""],
)
def test_malformed_bodies_are_400(api, jane, raw):
    response = api.post("/api/v1/cases/", raw=raw)
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM, response.content


def test_an_oversized_json_body_is_413(api, jane, settings):
    settings.API_MAX_JSON_BYTES = 1000
    response = api.post("/api/v1/cases/", new_case(description="x" * 2000))
    assert response.status_code == 413 and response.json()["status"] == 413


def test_nul_in_the_query_is_a_problem_too(api):
    response = api.get("/api/v1/cases/", {"q": "a\x00b"})
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM


def test_options_and_head_answer_without_data_and_without_error(api, case_a):
    assert api.client.options("/api/v1/cases/", headers=api.headers()).status_code == 200
    assert api.client.head(f"/api/v1/cases/{case_a.key}/", headers=api.headers()).status_code == 200
    assert api.client.put(f"/api/v1/cases/{case_a.key}/", headers=api.headers()).status_code == 405
