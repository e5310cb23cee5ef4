"""The REST API's tenant resources: tenants with their health summary and their contacts, in scope."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from tests.api_support import API, integration_token, personal_token
from tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db


def test_tenants_in_scope_only(agent, tenant_a, tenant_b):
    api = API(personal_token(agent, name="ci"))
    assert [t["slug"] for t in api.get("/api/v1/tenants/").json()["results"]] == ["acme"]
    detail = api.get("/api/v1/tenants/acme/").json()
    assert detail["name"] == "Acme Corp" and detail["health_summary"]["health"] == "unknown"
    entry = LogEntry.objects.get(additional_data__view="API tenant")
    assert entry.object_pk == str(tenant_a.pk) and entry.additional_data["token"] == "ci"
    response = api.get("/api/v1/tenants/globex/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert LogEntry.objects.filter(object_pk=str(tenant_b.pk), additional_data__denied=True).exists()


def test_the_manager_sees_every_tenant_and_pages_by_cursor(manager, tenant_a, tenant_b):
    api = API(personal_token(manager))
    page = api.get("/api/v1/tenants/", {"page_size": 1}).json()
    assert len(page["results"]) == 1 and page["next"]
    rest = api.get("/api/v1/tenants/", {"page_size": 1, "cursor": page["next"]}).json()
    assert {page["results"][0]["slug"], rest["results"][0]["slug"]} == {"acme", "globex"}


def test_requesters_of_a_tenant(admin_user, tenant_a, tenant_b):
    jane = RequesterFactory(tenant=tenant_a, email="jane@acme.example")
    other = RequesterFactory(tenant=tenant_b)
    api = API(integration_token(admin_user, [tenant_a]))
    listed = api.get("/api/v1/tenants/acme/requesters/", {"email": "JANE@acme.example"}).json()["results"]
    assert [r["id"] for r in listed] == [jane.pk]
    assert api.get(f"/api/v1/tenants/acme/requesters/{jane.pk}/").json()["email"] == "jane@acme.example"
    assert api.get(f"/api/v1/tenants/acme/requesters/{other.pk}/").status_code == 404
    assert api.get(f"/api/v1/tenants/globex/requesters/{other.pk}/").status_code == 404
    assert api.get("/api/v1/tenants/acme/requesters/nope/").status_code == 404
