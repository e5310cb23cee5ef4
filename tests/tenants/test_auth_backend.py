"""tenants.auth_backend.ConsoleBackend (issue 10): the signed-in user, their profile, roles and
tenant grants in one query per request — and never stale across requests."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.auth_backend import ConsoleBackend
from tenants.selectors import visible_tenant_ids
from tenants.services import tenant_grant, tenant_revoke
from tests.conftest import login
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_one_query_reads_user_profile_roles_and_grants(tenant_a, tenant_b, role_groups):
    user = UserFactory(username="gia")
    user.groups.add(Group.objects.get(name="agent"))
    tenant_grant(tenant=tenant_a, user_or_group=user)
    team = Group.objects.create(name="emea-desk")
    user.groups.add(team)
    tenant_grant(tenant=tenant_b, user_or_group=team)
    with CaptureQueriesContext(connection) as ctx:
        loaded = ConsoleBackend().get_user(user.pk)
        ids = visible_tenant_ids(loaded)
        names = loaded._role_names
        tz = loaded.profile.timezone if hasattr(loaded, "profile") else "UTC"
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 4)
    assert ids == sorted([tenant_a.pk, tenant_b.pk]) and names == {"agent", "emea-desk"} and tz


def test_a_grant_or_revoke_shows_on_the_next_request(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a)
    client = login(agent)
    assert client.get(f"/cases/{case.key}/").status_code == 200
    tenant_revoke(tenant=tenant_a, user_or_group=agent)
    assert client.get(f"/cases/{case.key}/").status_code == 404
    tenant_grant(tenant=tenant_a, user_or_group=agent)
    assert client.get(f"/cases/{case.key}/").status_code == 200


def test_a_deactivated_user_is_signed_out_on_the_next_request(tenant_a, agent):
    client = login(agent)
    assert client.get("/cases/").status_code == 200
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_case_page_writes_both_access_entries_in_one_insert_with_actor_and_cid(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a)
    client = login(agent)  # (its sign-in entry is written here)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/cases/{case.key}/", REMOTE_ADDR="10.9.8.7").status_code == 200
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "auditlog_logentry"')]
    assert len(inserts) == 1
    case_entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_pk=str(case.pk), content_type__model="case")
    tenant_entry = LogEntry.objects.get(
        action=LogEntry.Action.ACCESS, object_pk=str(tenant_a.pk), content_type__model="tenant"
    )
    for entry in (case_entry, tenant_entry):
        assert entry.actor == agent and entry.remote_addr == "10.9.8.7" and entry.cid
    assert case_entry.cid == tenant_entry.cid
    assert case_entry.additional_data == {"view": "case page"}
    assert tenant_entry.additional_data == {"view": "case page tenant card"}
