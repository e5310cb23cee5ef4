"""Issue 8: the Django admin. Finding 6 — nobody escalates through /admin/: cases (and the other
models with a service layer) are read-only there, roles may do only what the console allows, and a
duplicate is always of the same tenant. Findings 2 and 3, the admin part — every admin list,
search and object page writes an access entry, and every refused admin page a denial."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from cases import services
from cases.errors import CaseError, NotPermitted
from cases.models import Case, Interaction, SavedView
from companyos.admin_audit import AuditedAdminSite, AuditedModelAdmin
from tenants.models import Requester, Resource, Tenant
from tenants.selectors import can_see_tenant
from tests.conftest import login
from tests.factories import CaseFactory, RequesterFactory, ResourceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_manager(db):
    """A manager as the demo makes one: staff, so /admin/ opens."""
    return UserFactory(username="mona", role="manager", is_staff=True)


@pytest.fixture
def staff_admin(db):
    """The admin role without superuser: what its group's permissions allow."""
    return UserFactory(username="erik", role="admin", is_staff=True)


def entries(model, **filters):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), **filters)


def denials(model, **filters):
    return entries(model, action=LogEntry.Action.ACCESS, additional_data__denied=True, **filters)


# --- finding 6: the escalations, replayed -------------------------------------------------------------------


def test_a_manager_cannot_share_another_users_private_view(staff_manager, agent):
    private = SavedView.objects.create(name="Kari's queue", query="owner=me", owner=agent)
    client = login(staff_manager)

    response = client.post(
        f"/admin/cases/savedview/{private.pk}/change/",
        {"name": "Kari's queue", "query": "owner=me", "owner": agent.pk, "shared": "on", "position": 100},
    )

    assert response.status_code in (302, 403, 404)
    private.refresh_from_db()
    assert private.shared is False and private.owner == agent
    # The console shows nobody else's private view; neither does the admin.
    assert "Kari&#x27;s queue" not in client.get("/admin/cases/savedview/").content.decode()


def test_a_manager_cannot_delete_a_builtin_view(staff_manager):
    builtin = SavedView.objects.filter(builtin=True).first()
    client = login(staff_manager)

    assert client.post(f"/admin/cases/savedview/{builtin.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(
        "/admin/cases/savedview/", {"action": "delete_selected", "_selected_action": [builtin.pk], "post": "yes"}
    )

    assert SavedView.objects.filter(pk=builtin.pk).exists()


def test_nobody_deletes_a_builtin_view_in_the_admin_not_even_a_superuser(admin_user):
    builtin = SavedView.objects.filter(builtin=True).first()
    client = login(admin_user)
    client.post(f"/admin/cases/savedview/{builtin.pk}/delete/", {"post": "yes"})
    client.post(
        "/admin/cases/savedview/", {"action": "delete_selected", "_selected_action": [builtin.pk], "post": "yes"}
    )
    assert SavedView.objects.filter(pk=builtin.pk).exists()


def test_deleting_ones_own_view_in_the_admin_goes_through_the_service(staff_manager):
    own = SavedView.objects.create(name="Mine", query="status=open", owner=staff_manager)
    response = login(staff_manager).post(f"/admin/cases/savedview/{own.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=own.pk).exists()
    assert entries(SavedView, object_pk=str(own.pk), action=LogEntry.Action.DELETE, actor=staff_manager).exists()


def test_a_manager_cannot_change_a_cases_team_or_duplicate_of(staff_manager, case_a, case_b):
    team = TeamFactory()
    client = login(staff_manager)

    page = client.get(f"/admin/cases/case/{case_a.pk}/change/")
    assert page.status_code == 200 and 'name="team"' not in page.content.decode()  # shown read-only
    response = client.post(
        f"/admin/cases/case/{case_a.pk}/change/", {"team": team.pk, "duplicate_of": case_b.pk, "_save": "Save"}
    )

    assert response.status_code == 403
    fresh = Case.objects.get(pk=case_a.pk)
    assert (fresh.team_id, fresh.duplicate_of_id, fresh.version) == (None, None, case_a.version)


def test_the_case_admin_is_read_only_even_for_a_superuser(admin_user, case_a, case_b):
    client = login(admin_user)
    response = client.post(
        f"/admin/cases/case/{case_a.pk}/change/", {"team": TeamFactory().pk, "duplicate_of": case_b.pk}
    )
    assert response.status_code == 403
    assert client.get("/admin/cases/case/add/").status_code == 403
    assert client.post(f"/admin/cases/case/{case_a.pk}/delete/", {"post": "yes"}).status_code == 403
    fresh = Case.objects.get(pk=case_a.pk)
    assert (fresh.team_id, fresh.duplicate_of_id, fresh.version) == (None, None, case_a.version)


def test_the_roles_keep_no_admin_write_that_belongs_to_a_service(role_groups):
    for role in ["agent", "senior agent", "engineer", "SRE", "manager", "admin"]:
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert not codenames & {"add_case", "change_case", "delete_case", "add_interaction", "add_attachment"}, role
        assert not codenames & {"add_savedview", "change_savedview"}, role
        assert "view_case" in codenames and "delete_savedview" in codenames, role
    manager = set(Group.objects.get(name="manager").permissions.values_list("codename", flat=True))
    assert not manager & {"add_tag", "add_requester", "change_tenant", "change_team"}
    admin_perms = set(Group.objects.get(name="admin").permissions.values_list("codename", flat=True))
    assert {"change_tenant", "add_team", "change_requester", "add_tag"} <= admin_perms


def test_a_manager_cannot_grant_tenants_in_the_admin(staff_manager, agent, tenant_b):
    url = f"/admin/tenants/tenant/{tenant_b.pk}/permissions/user-manage/{agent.pk}/"
    login(staff_manager).post(url, {"permissions": ["view_tenant"]})
    assert not can_see_tenant(agent, tenant_b.pk)


def test_an_admin_grants_a_tenant_through_the_service_and_only_view_tenant(staff_admin, agent, tenant_b):
    url = f"/admin/tenants/tenant/{tenant_b.pk}/permissions/user-manage/{agent.pk}/"
    client = login(staff_admin)
    form_page = client.get(url).content.decode()
    assert 'value="view_tenant"' in form_page and 'value="change_tenant"' not in form_page

    client.post(url, {"permissions": ["view_tenant", "change_tenant"]})  # not a choice: the form refuses it all
    assert not can_see_tenant(get_user_model().objects.get(pk=agent.pk), tenant_b.pk)

    assert client.post(url, {"permissions": ["view_tenant"]}).status_code == 302
    agent = get_user_model().objects.get(pk=agent.pk)
    assert can_see_tenant(agent, tenant_b.pk)
    assert not agent.has_perm("tenants.change_tenant", tenant_b)
    client.post(url, {"permissions": [], "submit": "Save"})  # (a browser always posts the CSRF token and button)
    assert not can_see_tenant(get_user_model().objects.get(pk=agent.pk), tenant_b.pk)


# --- duplicate_of stays within one tenant, everywhere ----------------------------------------------------


def test_the_model_refuses_a_duplicate_of_another_tenants_case(case_a, case_b):
    case_a.duplicate_of = case_b
    with pytest.raises(ValidationError, match="same tenant"):
        case_a.full_clean()
    case_a.duplicate_of = case_a
    with pytest.raises(ValidationError, match="itself"):
        case_a.full_clean()


def test_the_service_marks_a_duplicate_of_the_same_tenant_with_a_timeline_entry(agent, case_a):
    original = CaseFactory(tenant=case_a.tenant, requester=case_a.requester)

    case = services.case_mark_duplicate(case_id=case_a.pk, actor=agent, duplicate_of_id=original.pk)

    assert case.duplicate_of_id == original.pk and case.version == case_a.version + 1
    entry = case.interactions.get(kind=Interaction.Kind.FIELDS)
    assert entry.actor == agent and entry.data["changes"]["duplicate_of"] == ["—", original.key]
    with pytest.raises(CaseError, match="already a duplicate"):
        services.case_mark_duplicate(case_id=original.pk, actor=agent, duplicate_of_id=case_a.pk)
    with pytest.raises(CaseError, match="itself"):
        services.case_mark_duplicate(case_id=case_a.pk, actor=agent, duplicate_of_id=case_a.pk)
    services.case_mark_duplicate(case_id=case_a.pk, actor=agent, duplicate_of_id=None)
    assert Case.objects.get(pk=case_a.pk).duplicate_of_id is None


def test_the_service_refuses_a_duplicate_of_another_tenants_case(manager, case_a, case_b, agent):
    with pytest.raises(CaseError, match="same tenant"):
        services.case_mark_duplicate(case_id=case_a.pk, actor=manager, duplicate_of_id=case_b.pk)
    with pytest.raises(NotPermitted):  # an agent of tenant A does not learn that CS-<b> exists
        services.case_mark_duplicate(case_id=case_a.pk, actor=agent, duplicate_of_id=case_b.pk)
    assert Case.objects.get(pk=case_a.pk).duplicate_of_id is None


def test_the_database_refuses_a_duplicate_of_another_tenants_case(case_a, case_b):
    with pytest.raises(IntegrityError, match="another tenant"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the trigger is checked at commit otherwise
        Case.objects.filter(pk=case_a.pk).update(duplicate_of=case_b)


def test_the_database_refuses_moving_a_case_away_from_its_duplicates(case_a, tenant_b):
    original = CaseFactory(tenant=case_a.tenant, requester=case_a.requester)
    Case.objects.filter(pk=case_a.pk).update(duplicate_of=original)
    with pytest.raises(IntegrityError, match="duplicates in another tenant"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Case.objects.filter(pk=original.pk).update(tenant=tenant_b, requester=RequesterFactory(tenant=tenant_b))


def test_the_database_refuses_a_case_that_is_its_own_duplicate(case_a):
    with pytest.raises(IntegrityError, match="case_not_own_duplicate"), transaction.atomic():
        Case.objects.filter(pk=case_a.pk).update(duplicate_of=case_a)


# --- findings 2 and 3, the admin part: every page audited ----------------------------------------------------


def test_admin_site_is_the_audited_site():
    assert isinstance(admin.site, AuditedAdminSite)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_registered_model_admin_is_audited(model):
    """The admin's guarantee (the URL registry test of the console skips the `admin:` namespace):
    a ModelAdmin that is not an AuditedModelAdmin fails here, whoever registers it."""
    assert isinstance(admin.site._registry[model], AuditedModelAdmin), model._meta.label


TENANT_DATA = {
    "case": (Case, lambda case: case, "subject"),
    "tenant": (Tenant, lambda case: case.tenant, "name"),
    "requester": (Requester, lambda case: case.requester, "name"),
    "resource": (Resource, lambda case: ResourceFactory(tenant=case.tenant), "external_id"),
}


@pytest.mark.parametrize("name", TENANT_DATA)
def test_admin_list_search_and_change_pages_write_access_entries(name, admin_user, case_a):
    model, make, search_field = TENANT_DATA[name]
    obj = make(case_a)
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    client = login(admin_user)

    assert client.get(base).status_code == 200
    listed = entries(model, object_pk="list", actor=admin_user).latest("pk")
    assert obj.pk in listed.additional_data["ids"] and listed.additional_data["view"].startswith("admin:")

    term = str(getattr(obj, search_field))[:6]
    assert client.get(base, {"q": term}).status_code == 200
    searched = entries(model, object_pk="list", actor=admin_user).latest("pk")
    assert searched.pk != listed.pk and f"q={term.replace(' ', '+')}" in searched.additional_data["query"]
    assert obj.pk in searched.additional_data["ids"]

    assert client.get(f"{base}{obj.pk}/change/").status_code == 200
    seen = entries(model, object_pk=str(obj.pk), action=LogEntry.Action.ACCESS, actor=admin_user).latest("pk")
    assert seen.additional_data["view"] == f"admin:{model._meta.app_label}_{model._meta.model_name}_change"


def test_the_audit_log_pages_write_access_entries(admin_user, case_a):
    client = login(admin_user)
    entry = LogEntry.objects.exclude(content_type=ContentType.objects.get_for_model(LogEntry)).first()
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert entries(LogEntry, object_pk="list", actor=admin_user).exists()
    assert client.get(f"/admin/auditlog/logentry/{entry.pk}/change/").status_code == 200
    assert entries(LogEntry, object_pk=str(entry.pk), actor=admin_user).exists()


def test_the_autocomplete_search_writes_a_list_entry(admin_user, case_a):
    response = login(admin_user).get(
        "/admin/autocomplete/",
        {"app_label": "tenants", "model_name": "requester", "field_name": "tenant", "term": "Acme"},
    )
    assert response.status_code == 200
    entry = entries(Tenant, object_pk="list", actor=admin_user).latest("pk")
    assert entry.additional_data["ids"] == [case_a.tenant_id]


def test_a_non_staff_hit_on_the_admin_is_a_denial(agent, case_a):
    client = login(agent)
    assert client.get("/admin/").status_code == 302
    assert denials(AdminLogEntry, object_pk="admin", actor=agent).get().additional_data["reason"] == "admin: not staff"

    assert client.get(f"/admin/cases/case/{case_a.pk}/change/").status_code == 302
    assert denials(Case, object_pk=str(case_a.pk), actor=agent).exists()


def test_an_anonymous_hit_on_the_admin_is_a_denial(case_a):
    client = Client()
    assert client.get("/admin/").status_code == 302
    assert denials(AdminLogEntry, object_pk="admin", actor=None).get().additional_data["reason"] == (
        "admin: not signed in"
    )
    client.get(f"/admin/cases/case/{case_a.pk}/change/")
    assert denials(Case, object_pk=str(case_a.pk), actor=None).exists()


def test_a_staff_user_refused_a_page_is_a_denial(staff_manager):
    assert login(staff_manager).get("/admin/cases/team/add/").status_code == 403
    assert denials(get_model("cases.team"), object_pk="cases_team_add", actor=staff_manager).exists()


def test_an_object_the_user_may_not_see_is_a_denial_and_a_huge_id_no_500(admin_user):
    client = login(admin_user)
    response = client.get("/admin/cases/case/99999999999999999999/change/")
    assert response.status_code == 302  # the admin's "doesn't exist" redirect
    denial = denials(Case, object_pk="99999999999999999999").get()
    assert denial.object_id is None and denial.actor == admin_user


def get_model(label):
    from django.apps import apps

    return apps.get_model(label)


# --- unlocking a sign-in: admins only ------------------------------------------------------------------------


@pytest.fixture
def locked_out(settings, agent):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    agent.set_password("correct horse battery staple")
    agent.save(update_fields=["password"])
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": agent.username, "password": f"guess-{n}"})
    assert AccessAttempt.objects.count() == 1
    return agent


def sign_in(user):
    return Client().post("/accounts/login/", {"username": user.username, "password": "correct horse battery staple"})


def test_a_manager_cannot_see_or_unlock_sign_in_lockouts(staff_manager, locked_out):
    client = login(staff_manager)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
    attempt = AccessAttempt.objects.get()
    client.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]})
    assert client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.exists()
    assert sign_in(locked_out).status_code == 429


def test_an_admin_unlocks_a_sign_in_and_it_is_audited(staff_admin, locked_out):
    client = login(staff_admin)
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    attempt = AccessAttempt.objects.get()

    response = client.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]})

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    entry = entries(get_user_model(), additional_data__event="login_unlocked").get()
    assert entry.actor == staff_admin and entry.object_pk == str(locked_out.pk)
    assert sign_in(locked_out).status_code == 302


# --- users: an admin who is not a superuser cannot make one ---------------------------------------------------


def test_an_admin_cannot_make_themselves_or_anyone_a_superuser(staff_admin, agent, admin_user):
    client = login(staff_admin)
    form = {
        "username": staff_admin.username,
        "first_name": "Changed",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [Group.objects.get(name="admin").pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    client.post(f"/admin/auth/user/{staff_admin.pk}/change/", form)
    client.post(f"/admin/auth/user/{agent.pk}/change/", {**form, "username": agent.username})
    User = get_user_model()
    assert not User.objects.get(pk=staff_admin.pk).is_superuser
    assert not User.objects.get(pk=agent.pk).is_superuser
    assert User.objects.get(pk=agent.pk).first_name == "Changed"  # the rest of the form was saved
    # ... nor edit a superuser (e.g. to take over their account).
    response = client.post(f"/admin/auth/user/{admin_user.pk}/change/", {**form, "username": "taken"})
    assert response.status_code == 403
    assert User.objects.get(pk=admin_user.pk).username == admin_user.username
