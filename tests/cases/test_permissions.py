"""The permission matrix: who sees which tenant's cases, through every page, count, search, action,
bulk action, download and the Django admin. A case that is not visible answers 404 and the attempt
is audited (an ACCESS LogEntry marked denied, with the actor)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from guardian.shortcuts import get_objects_for_user

from cases.choices import Status
from cases.models import Attachment, Case, Interaction
from cases.selectors import case_visible_to
from companyos import roles
from tenants.services import tenant_grant, tenant_revoke
from tests.conftest import login
from tests.factories import AttachmentFactory, CaseFactory, RequesterFactory, SavedViewFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()

SCOPED_ROLES = [roles.AGENT, roles.SENIOR_AGENT, roles.ENGINEER]
ALL_SEEING_ROLES = [roles.MANAGER, roles.ADMIN, roles.SRE]


def test_the_matrix_covers_every_role():
    assert sorted(SCOPED_ROLES + ALL_SEEING_ROLES) == sorted(roles.ALL_ROLES)
    assert set(ALL_SEEING_ROLES) == roles.ALL_TENANT_ROLES


# --- the world: two tenants, cases, attachments and saved views ---------------------------------------------


@pytest.fixture
def world(tenant_a, tenant_b):
    requester_a, requester_b = RequesterFactory(tenant=tenant_a), RequesterFactory(tenant=tenant_b)
    a_open = CaseFactory(tenant=tenant_a, requester=requester_a, subject="Dashboard timeouts after login")
    a_resolved = CaseFactory(
        tenant=tenant_a, requester=requester_a, subject="Export finished late", status=Status.RESOLVED
    )
    b_open = CaseFactory(
        tenant=tenant_b, requester=requester_b, subject="Webhook deliveries dropped", description="Since Monday."
    )
    return SimpleNamespace(
        tenant_a=tenant_a,
        tenant_b=tenant_b,
        a_open=a_open,
        a_resolved=a_resolved,
        b_open=b_open,
        a_cases={a_open, a_resolved},
        all_cases={a_open, a_resolved, b_open},
        att_a=AttachmentFactory(case=a_open, filename="a-trace.log"),
        att_b=AttachmentFactory(case=b_open, filename="b-trace.log"),
        view_b=SavedViewFactory(name="Second tenant", query=f"tenant={tenant_b.slug}"),
        view_a=SavedViewFactory(name="First tenant", query=f"tenant={tenant_a.slug}"),
    )


@pytest.fixture(params=roles.ALL_ROLES)
def member(request, world):
    """A user of each role: agent roles are granted tenant A only; the others see every tenant."""
    role = request.param
    scoped = role in SCOPED_ROLES
    user = UserFactory(
        username=f"{role.replace(' ', '-').lower()}-user", role=role, tenants=[world.tenant_a] if scoped else None
    )
    return SimpleNamespace(role=role, user=user, scoped=scoped, client=login(user))


# --- helpers ------------------------------------------------------------------------------------------


def listed_ids(body: str) -> set[int]:
    """The cases in the queue table (each row has its bulk-select checkbox)."""
    return {int(pk) for pk in re.findall(r'name="id" value="(\d+)"', body)}


def queue_count(body: str) -> int:
    match = re.search(r'id="queue-count"><b>([\d,]+)\+?</b> cases?', body)
    assert match, "queue count not found"
    return int(match.group(1).replace(",", ""))


def view_counts(body: str) -> dict[str, int]:
    return {
        name: int(count.replace(",", ""))
        for name, count in re.findall(r'>([^<>]+)</a>\s*<span class="count"[^>]*>([\d,]+)\+?</span>', body)
    }


def ids(cases) -> set[int]:
    return {c.pk for c in cases}


def denials(model, pk) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS,
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(pk),
            additional_data__denied=True,
        )
    )


def assert_denied_once(user, model, pk, path: str):
    entries = [e for e in denials(model, pk) if e.additional_data.get("path") == path]
    assert len(entries) == 1, f"expected one audited denial of {model.__name__} {pk} at {path}, got {len(entries)}"
    assert entries[0].actor_id == user.pk


def snapshot(case: Case) -> dict:
    case = Case.objects.get(pk=case.pk)
    return {
        "status": case.status,
        "version": case.version,
        "updated_at": case.updated_at,
        "owner_id": case.owner_id,
        "priority": case.priority,
        "category": case.category,
        "first_response_at": case.first_response_at,
        "tags": sorted(case.tags.values_list("name", flat=True)),
        "interactions": Interaction.objects.filter(case_id=case.pk).count(),
        "attachments": Attachment.objects.filter(case_id=case.pk).count(),
    }


# --- reading: queue, counts, search, saved views, detail, audit tab ----------------------------------------------


def test_queue_lists_only_visible_cases(member, world):
    response = member.client.get("/cases/?status=all")
    assert response.status_code == 200
    body = response.content.decode()
    expected = world.a_cases if member.scoped else world.all_cases
    assert listed_ids(body) == ids(expected)
    assert queue_count(body) == len(expected)
    if member.scoped:
        assert world.b_open.subject not in body
        assert world.tenant_b.name not in body, "the tenant filter must not offer a tenant the user cannot see"
    else:
        assert world.b_open.subject in body and world.tenant_b.name in body


def test_default_queue_counts_open_visible_cases(member, world):
    body = member.client.get("/cases/").content.decode()
    expected = {world.a_open} if member.scoped else {world.a_open, world.b_open}
    assert listed_ids(body) == ids(expected)
    assert queue_count(body) == len(expected)


def test_htmx_queue_fragment_is_scoped_the_same(member, world):
    response = member.client.get("/cases/?status=all", headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    expected = world.a_cases if member.scoped else world.all_cases
    assert listed_ids(body) == ids(expected) and queue_count(body) == len(expected)


def test_text_search_finds_nothing_outside_granted_tenants(member, world):
    b = world.b_open
    for q in ["webhook", "Since Monday", b.key, str(b.pk)]:
        body = member.client.get("/cases/", {"q": q, "status": "all"}).content.decode()
        if member.scoped:
            assert listed_ids(body) == set(), q
            assert queue_count(body) == 0, q
            assert b.subject not in body
        else:
            assert b.pk in listed_ids(body), q


def test_global_search_by_key_of_an_unseen_case_ends_in_404(member, world):
    response = member.client.get("/search/", {"q": world.b_open.key}, follow=True)
    assert response.status_code == (404 if member.scoped else 200)


def test_saved_view_counts_follow_visibility(member, world):
    response = member.client.get("/cases/views/counts/")
    assert response.status_code == 200
    counts = view_counts(response.content.decode())
    if member.scoped:
        assert counts["All open"] == 1
        assert counts["First tenant"] == 1
        assert counts["Second tenant"] == 0, "a view of a tenant the agent cannot see must count nothing"
    else:
        assert counts["All open"] == 2
        assert counts["First tenant"] == 1
        assert counts["Second tenant"] == 1


def test_queue_filtered_to_an_unseen_tenant_lists_nothing(member, world):
    body = member.client.get("/cases/", {"tenant": world.tenant_b.slug, "status": "all"}).content.decode()
    if member.scoped:
        assert listed_ids(body) == set()
        assert queue_count(body) == 0
    else:
        assert listed_ids(body) == {world.b_open.pk}


def test_case_page_and_audit_tab(member, world):
    for case in world.a_cases:
        assert member.client.get(f"/cases/{case.key}/").status_code == 200
        assert member.client.get(f"/cases/{case.key}/audit/").status_code == 200
    b = world.b_open
    for path in (f"/cases/{b.key}/", f"/cases/{b.key}/audit/", f"/cases/{b.key.lower()}/"):
        response = member.client.get(path)
        if member.scoped:
            assert response.status_code == 404, path
            assert b.subject.encode() not in response.content
            assert_denied_once(member.user, Case, b.pk, path)
        else:
            assert response.status_code == 200, path
    if not member.scoped:
        assert not denials(Case, b.pk)


def test_a_case_that_does_not_exist_is_a_404_and_audited(member, world):
    missing = Case.objects.order_by("-pk").first().pk + 1000
    path = f"/cases/CS-{missing}/"
    assert member.client.get(path).status_code == 404
    assert_denied_once(member.user, Case, missing, path)


# --- writing: every action on B's case ---------------------------------------------------------------------------


def _action_payloads(case: Case, user) -> dict[str, dict]:
    return {
        "reply": {"visibility": "public", "body": "Hello from another tenant's agent"},
        "transition": {"to": Status.TRIAGE, "expected_status": Status.NEW, "reason": "taking it"},
        "assign": {"owner": user.username, "expected_owner": ""},
        "classify": {
            "version": case.version,
            "priority": "critical",
            "category": "performance",
            "issue_type": "incident",
            "environment": "production",
            "reason": "",
        },
        "tags": {"add": "pwned"},
        "attachments": {"file": SimpleUploadedFile("exfil.txt", b"data", content_type="text/plain")},
    }


ACTIONS = ["reply", "transition", "assign", "classify", "tags", "attachments"]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_on_an_unseen_case_is_a_404_that_changes_nothing(member, world, action):
    b = world.b_open
    before = snapshot(b)
    path = f"/cases/{b.key}/{action}/"
    response = member.client.post(path, _action_payloads(b, member.user)[action])
    if member.scoped:
        assert response.status_code == 404
        assert snapshot(b) == before
        assert_denied_once(member.user, Case, b.pk, path)
    else:
        assert response.status_code == 302, response.content.decode()[:500]
        after = snapshot(b)
        assert after["version"] == before["version"] + 1
        assert after["interactions"] == before["interactions"] + 1
        assert not denials(Case, b.pk)


@pytest.mark.parametrize("action", ["assign", "status", "tag"])
def test_bulk_action_never_touches_an_unseen_case(member, world, action):
    a, b = world.a_open, world.b_open
    before_b = snapshot(b)
    data = {
        "id": [str(a.pk), str(b.pk)],
        "action": action,
        "owner": member.user.username,
        "status": Status.TRIAGE,
        "tag": "bulk-tag",
        "confirm": "on",
    }
    response = member.client.post("/cases/bulk/", data)
    assert response.status_code == 302

    a_after = Case.objects.get(pk=a.pk)
    changed_a = {
        "assign": a_after.owner_id == member.user.pk,
        "status": a_after.status == Status.TRIAGE,
        "tag": a_after.tags.filter(name="bulk-tag").exists(),
    }[action]
    assert changed_a, "the visible case is changed"
    assert a_after.interactions.count() == 1

    if member.scoped:
        assert snapshot(b) == before_b
        assert_denied_once(member.user, Case, b.pk, "/cases/bulk/")
    else:
        b_after = Case.objects.get(pk=b.pk)
        assert b_after.version == before_b["version"] + 1 and b_after.interactions.count() == 1
        assert not denials(Case, b.pk)


def test_bulk_confirmation_dialog_does_not_show_unseen_cases(member, world):
    data = {"id": [str(world.a_open.pk), str(world.b_open.pk)], "action": "status", "status": Status.TRIAGE}
    response = member.client.post("/cases/bulk/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert world.a_open.key in body
    assert (world.b_open.subject in body or world.b_open.key in body) is not member.scoped
    assert Case.objects.get(pk=world.b_open.pk).status == Status.NEW


def test_attachment_download(member, world):
    response = member.client.get(f"/cases/attachments/{world.att_a.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"GET /v1/orders 500\n"

    path = f"/cases/attachments/{world.att_b.pk}/"
    response = member.client.get(path)
    if member.scoped:
        assert response.status_code == 404
        assert_denied_once(member.user, Attachment, world.att_b.pk, path)
    else:
        assert response.status_code == 200
        assert "b-trace.log" in response["Content-Disposition"]
        assert not denials(Attachment, world.att_b.pk)


# --- grants: model-wide permission, groups, inactive users, the admin ------------------------------------------


def _sees(client, world) -> set[int]:
    return listed_ids(client.get("/cases/?status=all").content.decode())


def test_model_wide_view_tenant_permission_grants_no_tenant(world):
    """guardian's global-permission leak: `tenants.view_tenant` on the model would make
    get_objects_for_user return every tenant. The console counts object grants only."""
    user = UserFactory(username="global-perm")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="tenants", codename="view_tenant"))
    user = User.objects.get(pk=user.pk)
    assert user.has_perm("tenants.view_tenant")
    assert set(get_objects_for_user(user, "tenants.view_tenant")) == {world.tenant_a, world.tenant_b}  # the leak

    assert not case_visible_to(user).exists()
    client = login(user)
    assert _sees(client, world) == set()
    assert client.get(f"/cases/{world.a_open.key}/").status_code == 404
    assert client.get(f"/cases/{world.b_open.key}/").status_code == 404
    assert client.get(f"/cases/attachments/{world.att_a.pk}/").status_code == 404


def test_agent_role_without_grants_sees_nothing(world):
    # Every role group holds the model-wide view_tenant permission (companyos migration 0002).
    user = UserFactory(username="new-agent", role=roles.AGENT)
    assert User.objects.get(pk=user.pk).has_perm("tenants.view_tenant")
    client = login(user)
    assert _sees(client, world) == set()
    assert view_counts(client.get("/cases/views/counts/").content.decode())["All open"] == 0
    assert client.get(f"/cases/{world.a_open.key}/").status_code == 404


def test_grant_to_a_group_lets_its_members_see_the_tenant(world):
    pod = Group.objects.create(name="EU pod")
    tenant_grant(tenant=world.tenant_b, user_or_group=pod)
    member = UserFactory(username="pod-member", role=roles.AGENT, tenants=[world.tenant_a])
    outsider = UserFactory(username="not-in-pod", role=roles.AGENT, tenants=[world.tenant_a])
    member.groups.add(pod)

    client = login(member)
    assert _sees(client, world) == ids(world.all_cases)
    assert client.get(f"/cases/{world.b_open.key}/").status_code == 200
    assert client.get(f"/cases/attachments/{world.att_b.pk}/").status_code == 200
    assert _sees(login(outsider), world) == ids(world.a_cases)

    tenant_revoke(tenant=world.tenant_b, user_or_group=pod)
    assert _sees(client, world) == ids(world.a_cases)
    assert client.get(f"/cases/{world.b_open.key}/").status_code == 404


def test_inactive_user_sees_nothing(world):
    user = UserFactory(username="left-the-company", role=roles.MANAGER, is_active=False)
    granted = UserFactory(username="left-too", role=roles.AGENT, tenants=[world.tenant_a], is_active=False)
    for u in (user, granted):
        assert not case_visible_to(u).exists()
        client = login(u)
        for path in (
            "/cases/?status=all",
            f"/cases/{world.a_open.key}/",
            "/cases/views/counts/",
            f"/cases/attachments/{world.att_a.pk}/",
        ):
            response = client.get(path)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
        before = snapshot(world.a_open)
        response = client.post(f"/cases/{world.a_open.key}/transition/", {"to": "triage", "expected_status": "new"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert snapshot(world.a_open) == before


def test_admin_case_changelist_is_scoped_for_a_staff_agent(world):
    staff = UserFactory(username="staff-agent", role=roles.AGENT, tenants=[world.tenant_a], is_staff=True)
    client = login(staff)
    response = client.get("/admin/cases/case/")
    assert response.status_code == 200
    body = response.content.decode()
    assert world.a_open.subject in body and world.a_resolved.subject in body
    assert world.b_open.subject not in body

    body = client.get("/admin/cases/case/", {"q": "Webhook"}).content.decode()
    assert world.b_open.subject not in body

    response = client.get(f"/admin/cases/case/{world.b_open.pk}/change/", follow=True)
    assert world.b_open.subject not in response.content.decode()

    # A superuser (all tenants) sees both.
    root = UserFactory(username="root-admin", role=roles.ADMIN, is_staff=True, is_superuser=True)
    body = login(root).get("/admin/cases/case/").content.decode()
    assert world.b_open.subject in body and world.a_open.subject in body


def test_denials_are_never_written_for_what_a_user_may_see(world):
    manager = UserFactory(username="mgr", role=roles.MANAGER)
    client = login(manager)
    client.get(f"/cases/{world.b_open.key}/")
    client.get(f"/cases/attachments/{world.att_b.pk}/")
    assert not LogEntry.objects.filter(additional_data__denied=True).exists()
    assert LogEntry.objects.filter(
        actor=manager,
        action=LogEntry.Action.ACCESS,
        object_pk=str(world.b_open.pk),
        content_type=ContentType.objects.get_for_model(Case),
    ).exists()
