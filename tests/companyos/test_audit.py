"""The audit trail: changes and views are recorded, and nothing in the application can rewrite it
(the application's role holds only INSERT and SELECT on the table, whose trigger refuses UPDATE and
DELETE anyway; read-only admin). The role-level proofs are in test_audit_integrity.py."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from cases import services
from cases.choices import Category, Priority
from cases.models import Case
from companyos import audit
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def case_entries(case, action):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_pk=str(case.pk), action=action
    )


@pytest.fixture
def entry(agent, case_a):
    """A real audit entry to try to tamper with."""
    with set_actor(agent):
        services.case_classify(case_id=case_a.pk, actor=agent, priority=Priority.HIGH)
    return case_entries(case_a, LogEntry.Action.UPDATE).get()


# --- what gets recorded -------------------------------------------------------------------------------


def test_classification_change_writes_an_update_entry_with_the_changed_field(agent, case_a):
    with set_actor(agent, remote_addr="10.1.2.3"):
        services.case_classify(
            case_id=case_a.pk, actor=agent, priority=Priority.CRITICAL, category=Category.PERFORMANCE
        )

    entry = case_entries(case_a, LogEntry.Action.UPDATE).get()
    assert entry.actor == agent
    assert entry.remote_addr == "10.1.2.3"
    changes = entry.changes_dict
    assert changes["priority"] == [str(Priority.MEDIUM.value), str(Priority.CRITICAL.value)]
    assert changes["category"] == [Category.OTHER, Category.PERFORMANCE]
    assert "version" not in changes, "the optimistic-lock counter is excluded from the trail"
    assert "subject" not in changes


def test_unchanged_classification_writes_no_update_entry(agent, case_a):
    with set_actor(agent):
        services.case_classify(case_id=case_a.pk, actor=agent, priority=Priority.MEDIUM)
    assert not case_entries(case_a, LogEntry.Action.UPDATE).exists()


def test_tag_change_is_recorded_as_an_m2m_update(agent, case_a):
    with set_actor(agent):
        services.case_tag(case_id=case_a.pk, actor=agent, add=["security"])
    entry = next(e for e in case_entries(case_a, LogEntry.Action.UPDATE) if "tags" in e.changes_dict)
    assert entry.changes_dict["tags"]["operation"] == "add"
    assert entry.changes_dict["tags"]["objects"] == ["security"]
    assert entry.actor == agent


def test_opening_a_case_page_writes_an_access_entry(agent, case_a, settings):
    client = login(agent)
    response = client.get(f"/cases/{case_a.key}/")
    assert response.status_code == 200

    entry = case_entries(case_a, LogEntry.Action.ACCESS).get()
    assert entry.actor == agent
    assert entry.remote_addr == "127.0.0.1"
    assert entry.additional_data == {"view": "case page"}
    assert not audit.is_denied(entry)
    tenant_entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(case_a.tenant),
        object_pk=str(case_a.tenant_id),
        action=LogEntry.Action.ACCESS,
    )
    assert tenant_entry.actor == agent and tenant_entry.remote_addr == "127.0.0.1"

    # A client's own X-Forwarded-For is not believed without a trusted proxy in front ...
    client.get(f"/cases/{case_a.key}/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert case_entries(case_a, LogEntry.Action.ACCESS).latest("pk").remote_addr == "127.0.0.1"
    # ... and behind one, the address is the one that proxy appended, not what the client wrote first.
    settings.TRUSTED_PROXY_COUNT = 1
    client.get(f"/cases/{case_a.key}/", headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.9"})
    assert case_entries(case_a, LogEntry.Action.ACCESS).latest("pk").remote_addr == "203.0.113.9"


def test_a_request_correlation_id_ties_its_entries_together(agent, case_a, case_b):
    client = login(agent)
    cid = client.get(f"/cases/{case_a.key}/")["X-Correlation-ID"]
    seen = LogEntry.objects.filter(cid=cid)
    assert {e.object_pk for e in seen} == {str(case_a.pk), str(case_a.tenant_id)}

    # A denied attempt carries the request's correlation id too.
    cid = client.get(f"/cases/{case_b.key}/")["X-Correlation-ID"]
    denied = LogEntry.objects.get(cid=cid)
    assert audit.is_denied(denied) and denied.actor == agent and denied.remote_addr == "127.0.0.1"


def test_a_queue_page_is_one_access_entry_naming_only_what_was_shown(agent, case_a, case_b):
    client = login(agent)
    cid = client.get("/cases/?status=all")["X-Correlation-ID"]
    entry = LogEntry.objects.get(cid=cid)
    assert entry.action == LogEntry.Action.ACCESS and entry.object_pk == "list"
    assert entry.actor == agent
    assert entry.additional_data["ids"] == [case_a.pk]
    assert case_b.pk not in entry.additional_data["ids"]


def test_every_page_view_is_recorded(agent, case_a):
    client = login(agent)
    for _ in range(3):
        client.get(f"/cases/{case_a.key}/")
    client.get(f"/cases/{case_a.key}/audit/")
    views = [e.additional_data["view"] for e in case_entries(case_a, LogEntry.Action.ACCESS).order_by("pk")]
    assert views == ["case page"] * 3 + ["audit tab"]


# --- nothing can rewrite it (PostgreSQL trigger) ------------------------------------------------------------------


REFUSED = "immutable|permission denied"  # the trigger (any role) or the missing privilege (the application's)


def _refused(operation):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        operation()


def test_the_database_refuses_delete(entry):
    assert connection.vendor == "postgresql"
    _refused(entry.delete)
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).delete())
    _refused(lambda: LogEntry.objects.all().delete())
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_update(entry):
    original = (entry.object_repr, entry.changes, entry.actor_id, entry.timestamp)

    def save_edited():
        entry.object_repr = "nothing happened here"
        entry.actor = None
        entry.save()

    _refused(save_edited)
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(object_repr="rewritten"))
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(actor=None))

    def raw_sql():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE auditlog_logentry SET changes = '{}'::jsonb WHERE id = %s", [entry.pk])

    _refused(raw_sql)
    fresh = LogEntry.objects.get(pk=entry.pk)
    assert (fresh.object_repr, fresh.changes, fresh.actor_id, fresh.timestamp) == original


def test_the_database_refuses_deleting_an_access_entry(agent, case_a):
    with set_actor(agent):
        denied = audit.log_denied(Case, 999_999, path="/cases/CS-999999/")
    _refused(denied.delete)
    assert LogEntry.objects.filter(pk=denied.pk, additional_data__denied=True).exists()


@pytest.mark.parametrize(
    "options", [{"yes": True}, {"yes": True, "before_date": "2999-01-01"}], ids=["all", "before-date"]
)
def test_auditlogflush_cannot_delete_the_trail(entry, options):
    count = LogEntry.objects.count()
    args = ["--yes"] + (["--before-date", options["before_date"]] if "before_date" in options else [])
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        call_command("auditlogflush", *args)
    assert LogEntry.objects.count() == count
    assert LogEntry.objects.filter(pk=entry.pk).exists()


# --- the admin is read-only --------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)


def test_logentry_admin_refuses_add_change_delete_even_to_a_superuser(entry, superuser):
    model_admin = admin.site._registry[LogEntry]
    request = RequestFactory().get("/admin/auditlog/logentry/")
    request.user = superuser
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_change_permission(request, entry) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_delete_permission(request, entry) is False
    assert model_admin.get_actions(request) == {}
    assert model_admin.has_view_permission(request, entry) is True


def test_logentry_admin_pages_cannot_delete_or_edit(entry, superuser):
    client = login(superuser)
    count = LogEntry.objects.count()
    base = "/admin/auditlog/logentry/"

    assert client.get(base).status_code == 200
    assert client.get(f"{base}{entry.pk}/change/").status_code == 200  # read-only view

    response = client.post(f"{base}{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    response = client.post(f"{base}{entry.pk}/change/", {"object_repr": "rewritten"})
    assert response.status_code == 403
    response = client.post(base, {"action": "delete_selected", "_selected_action": [str(entry.pk)], "post": "yes"})
    assert response.status_code in (200, 302)
    assert client.get(f"{base}add/").status_code == 403

    # Viewing the admin writes nothing that could be mistaken for a change, and nothing is gone.
    assert LogEntry.objects.filter(pk=entry.pk).exists()
    fresh = LogEntry.objects.get(pk=entry.pk)
    assert fresh.object_repr == entry.object_repr
    assert LogEntry.objects.count() >= count
    assert not LogEntry.objects.filter(
        action=LogEntry.Action.DELETE, content_type=ContentType.objects.get_for_model(LogEntry)
    ).exists()


@pytest.mark.django_db
def test_every_request_has_a_correlation_id_on_its_audit_entries(case_a, agent, settings):
    client = login(agent)
    response = client.get(f"/cases/{case_a.key}/")
    cid = response["X-Correlation-ID"]
    # (login() signs in outside any request; that sign-in is an entry of its own, companyos.logins)
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=agent).exclude(
        content_type=ContentType.objects.get_for_model(agent)
    )
    assert cid and set(entries.values_list("cid", flat=True)) == {cid}  # the case view and its tenant card

    # A client cannot choose its id (it could make its entries share another request's) ...
    other = client.get(f"/cases/{case_a.key}/", HTTP_X_CORRELATION_ID=cid)
    assert other["X-Correlation-ID"] not in (cid, "") and LogEntry.objects.filter(cid=cid).count() == 2
    assert not LogEntry.objects.filter(cid="support-ticket-42").exists()
    # ... behind a trusted proxy an inbound id is kept when it is a UUID, and replaced when it is not.
    settings.TRUSTED_PROXY_COUNT = 1
    inbound = "6f1c2a4e-0b7d-4c8e-9a3f-2d5e7b9c1a04"
    kept = client.get(f"/cases/{case_a.key}/", HTTP_X_CORRELATION_ID=inbound)
    assert kept["X-Correlation-ID"] == inbound.replace("-", "")
    assert LogEntry.objects.filter(cid=inbound.replace("-", "")).count() == 2
    replaced = client.get(f"/cases/{case_a.key}/", HTTP_X_CORRELATION_ID="support-ticket-42")
    assert replaced["X-Correlation-ID"] != "support-ticket-42"
    assert not LogEntry.objects.filter(cid="support-ticket-42").exists()


@pytest.mark.parametrize("forwarded", ["not-an-ip", "999.999.999.999", "203.0.113.9\x00", ", ,"])
@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_address_is_neither_a_500_nor_a_hole_in_the_trail(
    agent, case_a, case_b, settings, forwarded, proxies
):
    """Issue 8, finding 4: a non-IP X-Forwarded-For made every audited page answer 500 and
    suppressed the denial entry of a probe for another tenant's case."""
    settings.TRUSTED_PROXY_COUNT = proxies
    client = login(agent)
    assert client.get(f"/cases/{case_a.key}/", headers={"X-Forwarded-For": forwarded}).status_code == 200
    probe = client.get(f"/cases/{case_b.key}/", headers={"X-Forwarded-For": forwarded})
    assert probe.status_code == 404
    denied = LogEntry.objects.get(cid=probe["X-Correlation-ID"])
    assert audit.is_denied(denied) and denied.actor == agent and denied.remote_addr == "127.0.0.1"


@pytest.mark.django_db
def test_users_are_deactivated_not_deleted_in_the_admin(admin_user, agent):
    client = login(admin_user)
    page = client.get(f"/admin/auth/user/{agent.pk}/change/").content.decode()
    assert f"/admin/auth/user/{agent.pk}/delete/" not in page
    assert client.post(f"/admin/auth/user/{agent.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(agent).objects.filter(pk=agent.pk).exists()
