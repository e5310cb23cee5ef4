"""The admins' integrations page (/tenants/integrations/): access, the token shown once, label
editing, revoke with a confirmation step (the token then gets 401), and the audit trail."""

import json
import re

import pytest
from auditlog.models import LogEntry
from django.test import Client

from companyos.audit import is_denied
from tenants import ingest
from tenants.models import Integration
from tenants.telemetry import hash_token
from tests.conftest import login
from tests.factories import UserFactory

LIST = "/tenants/integrations/"


@pytest.fixture
def admin_client(admin_user):
    return login(admin_user)


@pytest.fixture
def existing(admin_user, tenant_a):
    return ingest.integration_create(name="Prometheus EU", actor=admin_user, tenant_ids=[tenant_a.pk])[0]


def api_status(token: str) -> int:
    item = {
        "tenant": "acme",
        "source_id": "u1",
        "metric": "api_requests",
        "value": 1,
        "period_start": "2026-03-02T10:00:00Z",
    }
    return (
        Client()
        .post(
            "/api/v1/telemetry/usage/",
            data=json.dumps({"items": [item]}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        .status_code
    )


def token_in(html: str) -> str:
    match = re.search(r'id="new-token"[^>]*value="(cos_[^"]+)"', html)
    assert match, "no token shown"
    return match.group(1)


@pytest.mark.parametrize("role", ["agent", "senior agent", "manager", "SRE"])
def test_only_admins(role, existing):
    client = login(UserFactory(role=role))
    for method, url in [
        ("get", LIST),
        ("post", LIST),
        ("get", f"{LIST}{existing.pk}/"),
        ("get", f"{LIST}{existing.pk}/revoke/"),
        ("post", f"{LIST}{existing.pk}/revoke/"),
    ]:
        response = getattr(client, method)(url, {"name": "x", "confirm": "yes"} if method == "post" else None)
        assert response.status_code == 403, (method, url)
    existing.refresh_from_db()
    assert existing.active
    assert Integration.objects.count() == 1
    denied = [e for e in LogEntry.objects.filter(action=LogEntry.Action.ACCESS) if is_denied(e)]
    assert len(denied) == 5


def test_signed_out_goes_to_login(db):
    response = Client().get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_admin_sees_the_list(admin_client, existing):
    response = admin_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Prometheus EU" in html and existing.token_prefix in html and "Active" in html and "never" in html
    assert 'id="new-token"' not in html
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__view="integrations").exists()


def test_create_shows_the_token_once(admin_client, admin_user, tenant_a):
    response = admin_client.post(
        LIST,
        {
            "name": "Datadog",
            "tenants": [tenant_a.pk],
            "alert_tenant_label": "customer",
            "alert_service_label": "service",
        },
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    token = token_in(response.content.decode())
    integration = Integration.objects.get(name="Datadog")
    assert integration.token_hash == hash_token(token) and token not in integration.token_hash
    assert (integration.alert_tenant_label, integration.created_by) == ("customer", admin_user)
    assert list(integration.tenants.all()) == [tenant_a]
    assert token.startswith(integration.token_prefix)
    # Never again: the list shows the prefix only.
    again = admin_client.get(LIST).content.decode()
    assert token not in again and integration.token_prefix in again
    assert api_status(token) == 200
    # Audited (the token hash is not in the log).
    entry = LogEntry.objects.get_for_object(integration).get(action=LogEntry.Action.CREATE)
    assert entry.actor == admin_user
    assert "token_hash" not in (entry.changes_dict or {})


def test_create_errors_keep_the_input(admin_client, existing, tenant_a):
    response = admin_client.post(
        LIST,
        {
            "name": "prometheus eu",
            "tenants": [tenant_a.pk],
            "alert_tenant_label": "tenant",
            "alert_service_label": "service",
        },
    )
    assert response.status_code == 422
    assert "exists already" in response.content.decode()
    response = admin_client.post(LIST, {"name": "New one", "alert_tenant_label": "9bad", "alert_service_label": "9bad"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Prometheus label name" in html and 'value="New one"' in html
    assert Integration.objects.count() == 1


def test_edit_labels(admin_client, existing, tenant_a):
    updates = LogEntry.objects.get_for_object(existing).filter(action=LogEntry.Action.UPDATE)
    before = updates.count()  # the create's own entry for its tenants (an m2m change)
    assert admin_client.get(f"{LIST}{existing.pk}/").status_code == 200
    response = admin_client.post(
        f"{LIST}{existing.pk}/",
        {"tenants": [tenant_a.pk], "alert_tenant_label": "customer", "alert_service_label": "component"},
    )
    assert response.status_code == 302
    existing.refresh_from_db()
    assert (existing.alert_tenant_label, existing.alert_service_label) == ("customer", "component")
    response = admin_client.post(
        f"{LIST}{existing.pk}/", {"tenants": [tenant_a.pk], "alert_tenant_label": "same", "alert_service_label": "same"}
    )
    assert response.status_code == 422
    assert "must differ" in response.content.decode()
    assert updates.count() == before + 1


def test_revoke_asks_first_then_the_token_gets_401(admin_client, admin_user, tenant_a):
    integration, token = ingest.integration_create(name="Old pipeline", actor=admin_user, tenant_ids=[tenant_a.pk])
    assert api_status(token) == 200
    url = f"{LIST}{integration.pk}/revoke/"
    page = admin_client.get(url)
    assert (
        page.status_code == 200
        and "Revoke “Old pipeline”?" in page.content.decode()
        and "<html" in page.content.decode()
    )
    fragment = admin_client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode() and 'name="confirm" value="yes"' in fragment.content.decode()
    # A POST without the confirmation only asks again.
    assert admin_client.post(url).status_code == 200
    integration.refresh_from_db()
    assert integration.active
    response = admin_client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.revoked_at is not None
    assert api_status(token) == 401
    html = admin_client.get(LIST).content.decode()
    assert "Revoked" in html
    assert (
        LogEntry.objects.get_for_object(integration).filter(action=LogEntry.Action.UPDATE, actor=admin_user).count()
        == 1
    )


def test_revoking_twice_is_harmless(admin_client, existing):
    url = f"{LIST}{existing.pk}/revoke/"
    admin_client.post(url, {"confirm": "yes"})
    first = Integration.objects.get().revoked_at
    assert admin_client.post(url, {"confirm": "yes"}).status_code == 302
    assert Integration.objects.get().revoked_at == first


def test_unknown_integration_is_404(admin_client, db):
    assert admin_client.get(f"{LIST}999999/revoke/").status_code == 404


def test_rotate_token_service(admin_user, tenant_a):
    integration, old = ingest.integration_create(name="Bench", actor=admin_user, tenant_ids=[tenant_a.pk])
    integration, new = ingest.integration_rotate_token(integration_id=integration.pk, actor=admin_user)
    assert (api_status(old), api_status(new)) == (401, 200)
    ingest.integration_revoke(integration_id=integration.pk, actor=admin_user)
    with pytest.raises(ingest.IntegrationError):
        ingest.integration_rotate_token(integration_id=integration.pk, actor=admin_user)


# --- the tenants an integration may write for (issue 8, finding 9) --------------------------------------


def test_create_needs_its_tenants(admin_client, tenant_a):
    response = admin_client.post(LIST, {"name": "Datadog", "alert_tenant_label": "tenant", "alert_service_label": "x"})
    assert response.status_code == 422
    assert "Choose the tenants it sends telemetry for" in response.content.decode()
    assert not Integration.objects.exists()
    response = admin_client.post(
        LIST, {"name": "Datadog", "tenants": ["99999999999999999999"], "alert_tenant_label": "tenant"}
    )
    assert response.status_code == 422 and not Integration.objects.exists()


def test_the_list_and_the_edit_page_show_its_tenants(admin_client, existing, tenant_a, tenant_b):
    assert "acme" in admin_client.get(LIST).content.decode()
    html = admin_client.get(f"{LIST}{existing.pk}/").content.decode()
    assert re.search(rf'<option value="{tenant_a.pk}" selected>Acme Corp</option>', html)
    assert re.search(rf'<option value="{tenant_b.pk}">Globex</option>', html)


def test_admin_edits_its_tenants_and_the_api_follows(admin_client, admin_user, tenant_a, tenant_b):
    integration, token = ingest.integration_create(name="Pipeline", actor=admin_user, tenant_ids=[tenant_a.pk])
    assert api_status(token) == 200
    seen = set(LogEntry.objects.get_for_object(integration).values_list("pk", flat=True))
    response = admin_client.post(
        f"{LIST}{integration.pk}/",
        {"tenants": [tenant_b.pk], "alert_tenant_label": "tenant", "alert_service_label": "service"},
    )
    assert response.status_code == 302
    assert list(integration.tenants.all()) == [tenant_b]
    assert api_status(token) == 403  # acme is no longer one of its tenants
    # Audited: the m2m change names the tenants.
    changes = LogEntry.objects.get_for_object(integration).filter(action=LogEntry.Action.UPDATE).exclude(pk__in=seen)
    assert changes and all(c.actor == admin_user and "tenants" in c.changes_dict for c in changes)
    response = admin_client.post(
        f"{LIST}{integration.pk}/", {"tenants": [], "alert_tenant_label": "tenant", "alert_service_label": "service"}
    )
    assert response.status_code == 422
    assert list(integration.tenants.all()) == [tenant_b]


def test_services_refuse_no_or_unknown_tenants(admin_user, tenant_a):
    with pytest.raises(ingest.IntegrationError, match="Choose the tenants"):
        ingest.integration_create(name="None", actor=admin_user, tenant_ids=[])
    with pytest.raises(ingest.IntegrationError, match="No tenant with id 424242"):
        ingest.integration_create(name="Ghost", actor=admin_user, tenant_ids=[tenant_a.pk, 424242])
    assert not Integration.objects.exists()


# -- issue 9, finding 24: the page's own nav item; "Last used" reflects use ---------------------------


def test_integrations_page_highlights_its_own_nav_item(admin_client, existing):
    body = admin_client.get(LIST).content.decode()
    current = re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', body)
    assert current == ["/tenants/integrations/"], current
    # …and the tenant pages still highlight Tenants.
    body = admin_client.get("/tenants/").content.decode()
    assert re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', body) == ["/tenants/"]


def test_api_use_shows_as_last_used_on_the_page(admin_client, existing):
    raw = ingest.integration_rotate_token(integration_id=existing.pk, actor=None)[1]
    assert "never" in admin_client.get(LIST).content.decode()
    assert api_status(raw) in (201, 200, 400)  # authenticated: whatever the item's fate, the token was used
    existing.refresh_from_db()
    assert existing.last_used_at is not None
    row = re.search(r"<b>Prometheus EU</b>.*?</tr>", admin_client.get(LIST).content.decode(), re.S).group(0)
    assert "never" not in row and row.count("<time ") == 2  # created, and last used


def test_mark_used_writes_at_most_once_a_minute_and_never_backwards(existing):
    from datetime import timedelta

    from django.utils import timezone

    t0 = timezone.now()
    assert ingest.integration_mark_used(integration_id=existing.pk, at=t0) is True
    assert ingest.integration_mark_used(integration_id=existing.pk, at=t0 + timedelta(seconds=30)) is False
    assert ingest.integration_mark_used(integration_id=existing.pk, at=t0 - timedelta(hours=1)) is False
    existing.refresh_from_db()
    assert existing.last_used_at == t0
    assert ingest.integration_mark_used(integration_id=existing.pk, at=t0 + timedelta(minutes=2)) is True
    existing.refresh_from_db()
    assert existing.last_used_at == t0 + timedelta(minutes=2)
