"""The Zendesk sync's pages: the field mapping (admins), the sync-problems list with retry and
discard (admins), the case page's badge and its "Push to Zendesk" action (agents)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases import services
from cases.channels.zendesk import services as zd
from cases.channels.zendesk.models import ZendeskChange, ZendeskLink, ZendeskMapping
from companyos import roles
from tests.conftest import login

from .zendesk_helpers import drain

pytestmark = pytest.mark.django_db


def mapping_post(row, **overrides):
    data = {"version": row.version, "sync_tags": "on"}
    for prefix in ("status_out", "status_in", "priority_out", "priority_in"):
        for key, value in getattr(row, prefix).items():
            data[f"{prefix}__{key}"] = value
    data.update(overrides)
    return data


def test_the_mapping_page_is_for_admins(client, agent, admin_user):
    assert login(agent).get("/zendesk/mapping/").status_code == 403
    page = login(admin_user).get("/zendesk/mapping/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Status: ours → Zendesk" in text and 'name="custom__category"' in text
    assert "not stored in the database" in text or "never stored in the database" in text


def test_saving_the_mapping_changes_what_goes_out(zendesk, admin_user, case_a, agent):
    row = ZendeskMapping.objects.get_or_create(pk=1)[0]
    client = login(admin_user)
    response = client.post(
        "/zendesk/mapping/",
        mapping_post(row, status_out__new="open", custom__category="360001", custom__case_key="360002"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.content.decode()[:500]
    row.refresh_from_db()
    assert row.status_out["new"] == "open" and row.custom_fields == {"category": 360001, "case_key": 360002}
    zd.zendesk_link_case(case_id=case_a.pk, actor=agent)
    drain()
    ticket = zendesk.tickets[ZendeskLink.objects.get(case=case_a).ticket_id]
    assert ticket["status"] == "open"
    assert {"id": 360002, "value": case_a.key} in ticket["custom_fields"]
    assert {"id": 360001, "value": "other"} in ticket["custom_fields"]


def test_a_bad_or_stale_mapping_is_refused_with_a_message(admin_user):
    row = ZendeskMapping.objects.get_or_create(pk=1)[0]
    client = login(admin_user)
    bad = client.post(
        "/zendesk/mapping/", mapping_post(row, status_out__new="nonsense"), headers={"HX-Request": "true"}
    )
    assert bad.status_code == 422
    twice = client.post(
        "/zendesk/mapping/",
        mapping_post(row, custom__category="5", custom__issue_type="5"),
        headers={"HX-Request": "true"},
    )
    assert twice.status_code == 422 and "cannot carry two" in twice.content.decode()
    client.post("/zendesk/mapping/", mapping_post(row))
    stale = client.post("/zendesk/mapping/", mapping_post(row), headers={"HX-Request": "true"})  # the old version
    assert stale.status_code == 409 and "Someone else saved" in stale.content.decode()


def test_push_to_zendesk_from_the_case_page(zendesk, agent, case_a):
    client = login(agent)
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert "Push to Zendesk" in page
    response = client.post(f"/zendesk/cases/{case_a.key}/link/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "creating ticket" in response.content.decode()
    again = client.post(f"/zendesk/cases/{case_a.key}/link/", headers={"HX-Request": "true"})
    assert again.status_code == 422 and "already linked" in again.content.decode()
    drain()
    link = ZendeskLink.objects.get(case=case_a)
    assert f"Zendesk #{link.ticket_id}" in client.get(case_a.get_absolute_url()).content.decode()


def test_a_case_of_another_tenant_cannot_be_pushed(zendesk, agent, case_b):
    assert login(agent).post(f"/zendesk/cases/{case_b.key}/link/").status_code == 404
    assert not ZendeskLink.objects.exists()


def test_the_case_page_shows_a_red_badge_for_a_stuck_change(zendesk, agent, case_a):
    zd.zendesk_link_case(case_id=case_a.pk, actor=agent)
    drain()
    zendesk.httpserver.stop()
    services.case_reply(case_id=case_a.pk, actor=agent, body="hello", public=True)
    ZendeskChange.objects.filter(kind="comment").update(created_at=timezone.now() - timezone.timedelta(hours=2))
    page = login(agent).get(case_a.get_absolute_url()).content.decode()
    assert "zd-dead" in page and "Zendesk sync stuck: 1 change waiting" in page
    zendesk.httpserver.start()


def test_the_problems_page_lists_and_retries(zendesk, admin_user, agent, case_a):
    zd.zendesk_link_case(case_id=case_a.pk, actor=agent)
    drain()
    services.case_reply(case_id=case_a.pk, actor=agent, body="hello", public=True)
    change = ZendeskChange.objects.get(kind="comment")
    ZendeskChange.objects.filter(pk=change.pk).update(state="dead", attempts=8, last_error="client: 422 closed")
    assert login(agent).get("/zendesk/changes/").status_code == 403
    client = login(admin_user)
    page = client.get("/zendesk/changes/").content.decode()
    assert case_a.key in page and "422 closed" in page and "Retry" in page
    partial = client.get("/zendesk/changes/?state=pending", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and case_a.key not in partial
    done = client.post(f"/zendesk/changes/{change.pk}/retry/", headers={"HX-Request": "true"})
    assert done.status_code == 200 and "queued again" in done.content.decode()
    change.refresh_from_db()
    assert change.state == "pending" and change.attempts == 0
    refused = client.post(f"/zendesk/changes/{change.pk}/discard/", headers={"HX-Request": "true"})
    assert refused.status_code == 409
    assert client.post(f"/zendesk/changes/{change.pk}/explode/").status_code == 404
    assert client.post("/zendesk/changes/99999/retry/").status_code == 404
    assert roles.is_admin(admin_user)
