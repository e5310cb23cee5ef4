"""Issue 8, findings 2 and 3, replayed: every read path the review found unlogged now writes an access
entry naming the object and the view, and every refused access writes a denial."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from cases.models import Case, SavedView, SLAPolicy
from companyos import audit
from tenants import ingest
from tenants.models import Integration, Requester, Tenant
from tests.conftest import login
from tests.factories import RequesterFactory, SavedViewFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def entries_for(model, pk=None, *, denied: bool | None = None):
    """Access entries on `model` (object `pk`, or any), oldest first."""
    qs = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, content_type=ContentType.objects.get_for_model(model))
    if pk is not None:
        qs = qs.filter(object_pk=str(pk))
    found = list(qs.order_by("pk"))
    if denied is not None:
        found = [e for e in found if audit.is_denied(e) == denied]
    return found


def views_of(entries) -> list[str]:
    return [(e.additional_data or {}).get("view", "") for e in entries]


def only_access(model, pk, view: str, actor) -> LogEntry:
    """The one (non-denied) access entry on object `pk` with `view`, by `actor`."""
    found = [e for e in entries_for(model, pk, denied=False) if (e.additional_data or {}).get("view") == view]
    assert len(found) == 1, f"expected one {view!r} entry on {model.__name__} {pk}, got {views_of(entries_for(model))}"
    assert found[0].actor == actor
    return found[0]


def only_denial(model, pk, actor) -> LogEntry:
    found = entries_for(model, pk, denied=True)
    assert len(found) == 1, f"expected one denial on {model.__name__} {pk}, got {len(found)}"
    assert found[0].actor == actor
    return found[0]


# --- finding 2: reads that left no trace ---------------------------------------------------------------------

INVALID_WRITES = [
    ("transition", {"to": "bogus", "expected_status": "new"}),
    ("reply", {"body": ""}),
    ("classify", {"priority": "urgent"}),
    ("assign", {"owner": "nobody-by-that-name"}),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize(("action", "data"), INVALID_WRITES, ids=[a for a, _ in INVALID_WRITES])
def test_an_invalid_write_that_shows_the_case_writes_an_access_entry(agent, case_a, action, data, htmx):
    response = login(agent).post(f"/cases/{case_a.key}/{action}/", data, **(HX if htmx else {}))
    assert response.status_code == 422
    assert case_a.subject in response.content.decode() or htmx
    entry = only_access(Case, case_a.pk, f"case page: refused {action}", agent)
    assert entry.additional_data["status"] == 422
    tenant_card = [v for v in views_of(entries_for(Tenant, case_a.tenant_id)) if v.startswith("case page: refused")]
    assert tenant_card == ([] if htmx else [f"case page: refused {action}: tenant card"])


def test_a_stale_write_409_that_shows_the_case_writes_an_access_entry(agent, case_a):
    response = login(agent).post(f"/cases/{case_a.key}/transition/", {"to": "triage", "expected_status": "in_progress"})
    assert response.status_code == 409
    assert only_access(Case, case_a.pk, "case page: refused transition", agent).additional_data["status"] == 409


def test_the_context_refresh_writes_an_access_entry(agent, case_a):
    response = login(agent).post(f"/cases/{case_a.key}/context/refresh/", **HX)
    assert response.status_code == 200
    only_access(Case, case_a.pk, "context panel: refreshed", agent)


@pytest.mark.parametrize(
    ("data", "status"),
    [({"context": "1", "priority": "urgent"}, 422), ({"context": "999999", "priority": "high"}, 409)],
    ids=["bad priority", "gone snapshot"],
)
def test_a_refused_priority_decision_writes_an_access_entry(agent, case_a, data, status):
    response = login(agent).post(f"/cases/{case_a.key}/context/decide/", data, **HX)
    assert response.status_code == status
    entry = only_access(Case, case_a.pk, "context panel: refused priority decision", agent)
    assert entry.additional_data["status"] == status


def test_the_intake_form_for_a_tenant_writes_an_access_entry(agent, tenant_a):
    RequesterFactory(tenant=tenant_a, name="Rita Requester")
    response = login(agent).get(f"/cases/new/?tenant={tenant_a.slug}")
    assert response.status_code == 200 and "Rita Requester" in response.content.decode()
    only_access(Tenant, tenant_a.pk, "intake form", agent)


def test_the_intake_form_without_a_tenant_records_the_tenant_choices(agent, tenant_a, tenant_b):
    assert login(agent).get("/cases/new/").status_code == 200
    (entry,) = [e for e in entries_for(Tenant, "list") if e.additional_data["view"] == "intake form: tenant choices"]
    assert entry.additional_data["ids"] == [tenant_a.pk] and entry.actor == agent


def test_a_refused_intake_shows_the_form_again_and_records_it(agent, tenant_a):
    response = login(agent).post("/cases/new/", {"tenant": tenant_a.slug, "subject": ""})
    assert response.status_code == 422
    only_access(Tenant, tenant_a.pk, "intake form", agent)


def test_the_intake_entitlement_check_writes_an_access_entry(agent, tenant_a):
    response = login(agent).get(f"/cases/new/entitlements/?tenant={tenant_a.slug}&channel=phone", **HX)
    assert response.status_code == 200
    only_access(Tenant, tenant_a.pk, "intake: entitlements", agent)


@pytest.fixture
def gold(tenant_a):
    policy = SLAPolicy.objects.get(name="Standard")
    Tenant.objects.filter(pk=tenant_a.pk).update(sla_policy=policy)
    return policy


def test_an_sla_policy_page_records_the_policy_and_the_tenants_it_names(admin_user, gold, tenant_a):
    response = login(admin_user).get(f"/sla/policies/{gold.pk}/")
    assert response.status_code == 200
    only_access(SLAPolicy, gold.pk, "sla policy", admin_user)
    (overrides,) = [
        e for e in entries_for(Tenant, "list") if e.additional_data["view"] == "sla policy: tenant overrides"
    ]
    assert overrides.additional_data["ids"] == [tenant_a.pk]
    only_access(Tenant, tenant_a.pk, "sla policy preview", admin_user)


def test_the_sla_policy_preview_records_the_previewed_tenant(admin_user, gold, tenant_a, tenant_b):
    response = login(admin_user).post(
        "/sla/policies/preview/",
        {"policy": gold.pk, "preview_tenant": tenant_b.slug, "preview_priority": "high"},
        **HX,
    )
    assert response.status_code == 200
    only_access(Tenant, tenant_b.pk, "sla policy preview", admin_user)


def test_the_sla_rules_tenant_lookup_records_the_tenant(admin_user, tenant_a):
    response = login(admin_user).get(f"/sla/rules/?tenant={tenant_a.slug}")
    assert response.status_code == 200
    entry = only_access(Tenant, tenant_a.pk, "sla rules: tenant lookup", admin_user)
    assert entry.additional_data["query"] == tenant_a.slug


def test_the_sla_rules_lookup_with_several_matches_records_them(admin_user, tenant_a, tenant_b):
    # "o" is in both "acme corp" and "globex"
    assert login(admin_user).get("/sla/rules/?tenant=o").status_code == 200
    (entry,) = [e for e in entries_for(Tenant, "list") if e.additional_data["view"] == "sla rules: tenant lookup"]
    assert sorted(entry.additional_data["ids"]) == sorted([tenant_a.pk, tenant_b.pk])


@pytest.fixture
def integration(admin_user, tenant_a):
    integration, token = ingest.integration_create(name="Prometheus EU", actor=admin_user, tenant_ids=[tenant_a.pk])
    integration.raw_token = token
    return integration


@pytest.mark.parametrize(("suffix", "view"), [("", "integration"), ("revoke/", "integration: revoke confirmation")])
def test_the_integration_pages_write_an_access_entry(admin_user, integration, suffix, view):
    assert login(admin_user).get(f"/tenants/integrations/{integration.pk}/{suffix}").status_code == 200
    only_access(Integration, integration.pk, view, admin_user)


# --- finding 3: refusals that left no trace -------------------------------------------------------------------


def test_deleting_another_users_saved_view_is_refused_and_audited(agent, other_agent):
    view = SavedViewFactory(owner=other_agent, shared=True, name="Ana's view")
    response = login(agent).post(f"/cases/views/{view.pk}/delete/")
    assert response.status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert "another user's saved view" in only_denial(SavedView, view.pk, agent).additional_data["reason"]


def test_deleting_a_built_in_view_is_a_404_and_audited(agent):
    builtin = SavedView.objects.filter(builtin=True).first()
    assert login(agent).post(f"/cases/views/{builtin.pk}/delete/").status_code == 404
    only_denial(SavedView, builtin.pk, agent)


def test_an_intake_naming_another_tenant_is_refused_and_audited(agent, tenant_b):
    response = login(agent).post("/cases/new/", {"tenant": tenant_b.slug, "subject": "Let me in", "channel": "email"})
    assert response.status_code == 422
    assert Case.objects.count() == 0
    assert "intake" in only_denial(Tenant, tenant_b.pk, agent).additional_data["reason"]


def test_an_intake_naming_another_tenants_requester_is_refused_and_audited(agent, tenant_a, tenant_b):
    theirs = RequesterFactory(tenant=tenant_b)
    data = {"tenant": tenant_a.slug, "requester": theirs.pk, "subject": "Hello", "channel": "email"}
    data.update(priority="medium", category="other", issue_type="question", environment="unknown")
    response = login(agent).post("/cases/new/", data)
    assert response.status_code == 422
    only_denial(Requester, theirs.pk, agent)
    assert not entries_for(Tenant, tenant_a.pk, denied=True), "the agent's own tenant was not refused"


def test_an_intake_naming_a_requester_of_another_own_tenant_is_no_denial(agent, tenant_a):
    from tests.factories import TenantFactory

    second = TenantFactory(slug="second")
    agent_two = UserFactory(username="two", role="agent", tenants=[tenant_a, second])
    theirs = RequesterFactory(tenant=second)
    login(agent_two).post("/cases/new/", {"tenant": tenant_a.slug, "requester": theirs.pk, "subject": "x"})
    assert not entries_for(Requester, theirs.pk, denied=True)


@pytest.mark.parametrize("path", ["/cases/new/requesters/", "/cases/new/entitlements/"])
def test_intake_lookups_for_a_foreign_tenant_answer_empty_and_are_audited(agent, tenant_b, path):
    RequesterFactory(tenant=tenant_b, name="Gus Globex")
    response = login(agent).get(f"{path}?tenant={tenant_b.slug}&channel=phone", **HX)
    assert response.status_code == 200
    assert "Gus Globex" not in response.content.decode()
    assert "intake" in only_denial(Tenant, tenant_b.pk, agent).additional_data["reason"]


def test_intake_lookups_without_a_tenant_are_no_denial(agent):
    assert login(agent).get("/cases/new/requesters/?tenant=", **HX).status_code == 200
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    sign_in = ContentType.objects.get_for_model(get_user_model())  # force_login's own "login" entry
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exclude(content_type=sign_in).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/telemetry/"), ("post", "/api/v1/telemetry/slis/"), ("post", "/api/v1/alertmanager/")],
)
def test_an_api_call_with_a_session_cookie_is_refused_and_audited(agent, method, path):
    client = login(agent)
    body = {"data": json.dumps({"items": []}), "content_type": "application/json"} if method == "post" else {}
    response = getattr(client, method)(path, **body)
    assert response.status_code == 401
    denial = only_denial(Integration, "api", agent)
    assert denial.additional_data["reason"].startswith("a session cookie instead of an integration token")
    assert denial.additional_data["path"] == path


def test_an_api_call_with_an_unknown_token_is_audited():
    response = Client().get("/api/v1/telemetry/", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    denial = only_denial(Integration, "api", None)
    assert denial.additional_data["reason"] == "Unknown token."


def test_an_api_call_with_a_valid_token_is_not_a_denial(integration):
    response = Client().get("/api/v1/telemetry/", headers={"Authorization": f"Bearer {integration.raw_token}"})
    assert response.status_code == 200
    assert not entries_for(Integration, "api")


@pytest.mark.parametrize(
    ("path", "model", "pk"),
    [
        ("/sla/policies/999999/", SLAPolicy, "999999"),
        ("/tenants/integrations/999999/", Integration, "999999"),
    ],
)
def test_a_404_on_an_admin_page_is_audited(admin_user, path, model, pk):
    assert login(admin_user).get(path).status_code == 404
    assert "answered 404" in only_denial(model, pk, admin_user).additional_data["reason"]


def test_an_unknown_console_panel_is_audited(agent, tenant_a):
    assert login(agent).get(f"/tenants/{tenant_a.slug}/panels/no-such-panel/").status_code == 404
    assert "no such panel" in only_denial(Tenant, tenant_a.pk, agent).additional_data["reason"]


def test_a_post_refused_by_the_csrf_check_is_audited(agent, case_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(f"/cases/{case_a.key}/transition/", {"to": "triage"})
    assert response.status_code == 403
    (denial,) = entries_for(LogEntry, "csrf", denied=True)
    assert denial.actor == agent and denial.additional_data["path"] == f"/cases/{case_a.key}/transition/"
    assert denial.additional_data["reason"].startswith("CSRF check failed")
