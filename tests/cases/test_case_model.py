"""The case's own entities (issue 9, points 14-18): what a wait on the customer waits for, the
classification a resolve needs, affected resources (intake, case page, snapshot, blast radius), the
requester's view of the tenant's resources, and the suggestion that goes by the text when the form
was left at its defaults."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from cases import bulk, services
from cases.choices import Status
from cases.errors import CaseError
from cases.models import Case, Interaction
from cases.selectors import blast_radius, requester_card, resources_named_by_cases
from tenants.choices import Health
from tenants.models import Integration, ResourceDependency
from tests.conftest import login
from tests.factories import CaseFactory, RequesterFactory, ResourceFactory

EXAMPLE = "Production, all endpoints: since this morning none of our webhook deliveries are retried."


def _working(**kwargs) -> Case:
    return CaseFactory(status=Status.IN_PROGRESS, triaged_at=timezone.now() - timedelta(hours=1), **kwargs)


# --- 17: waiting on the customer says what for ------------------------------------------------------------


@pytest.mark.django_db
def test_waiting_needs_what_for_and_keeps_it_until_the_case_moves_on(agent, tenant_a):
    case = _working(tenant=tenant_a)
    with pytest.raises(CaseError, match="Say what .* is waiting for"):
        services.case_transition(case_id=case.pk, to=Status.WAITING_ON_CUSTOMER, actor=agent)
    with pytest.raises(CaseError, match="say what, in a few words"):
        services.case_transition(case_id=case.pk, to=Status.WAITING_ON_CUSTOMER, actor=agent, waiting_for="other")
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.version == 1  # refused: nothing written

    services.case_transition(case_id=case.pk, to=Status.WAITING_ON_CUSTOMER, actor=agent, waiting_for="reproduction")
    case.refresh_from_db()
    assert (case.waiting_for, case.waiting_for_text) == ("reproduction", "reproduction steps")
    entry = case.interactions.get(kind=Interaction.Kind.STATUS)
    assert entry.data["waiting_for"] == "reproduction" and entry.data["waiting_text"] == "reproduction steps"

    services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=agent)
    case.refresh_from_db()
    assert (case.waiting_for, case.waiting_note, case.waiting_for_text) == ("", "", "")

    services.case_transition(
        case_id=case.pk, to=Status.WAITING_ON_CUSTOMER, actor=agent, waiting_for="other", waiting_note="  a window  "
    )
    case.refresh_from_db()
    assert case.waiting_for_text == "a window"


@pytest.mark.django_db
def test_waiting_for_shows_in_the_header_and_the_queue(agent, agent_client, tenant_a):
    case = _working(tenant=tenant_a, subject="Webhook deliveries delayed")
    response = agent_client.post(
        f"/cases/{case.key}/transition/", {"to": "waiting_on_customer", "expected_status": "in_progress"}
    )
    assert response.status_code == 422 and "Say what" in response.content.decode()
    response = agent_client.post(
        f"/cases/{case.key}/transition/",
        {"to": "waiting_on_customer", "expected_status": "in_progress", "waiting_for": "approval"},
    )
    assert response.status_code == 302
    page = agent_client.get(f"/cases/{case.key}/").content.decode()
    header = re.split(r'<header [^>]*class="case-header"[^>]*>', page, maxsplit=1)[1].split("</header>", 1)[0]
    assert 'data-waiting-for="approval"' in header and "for approval" in header
    queue = agent_client.get("/cases/?status=waiting_on_customer").content.decode()
    assert "for approval" in queue


# --- 18: classification before resolve --------------------------------------------------------------------


@pytest.mark.django_db
def test_resolve_needs_category_issue_type_and_environment(agent, agent_client, tenant_a):
    case = _working(tenant=tenant_a, unclassified=["category", "environment"])
    with pytest.raises(CaseError, match="cannot be resolved yet: set its category and environment first"):
        services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent)
    page = agent_client.get(f"/cases/{case.key}/").content.decode()
    assert "data-resolve-blocked" in page and "Set category, environment to resolve" in page
    assert '<option value="" selected>— not set —</option>' in page  # the unset field shows as unset

    # Saving the classification sets what it names, also a value equal to the stored default.
    services.case_classify(case_id=case.pk, actor=agent, category=case.category)
    case.refresh_from_db()
    assert case.unclassified == ["environment"]
    assert case.interactions.get(kind=Interaction.Kind.FIELDS).data["changes"]["category"][0] == "not set"
    # A blank select ("— not set —") leaves it unset.
    response = agent_client.post(
        f"/cases/{case.key}/classify/",
        {"version": case.version, "priority": "medium", "category": "other", "issue_type": "", "environment": ""},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.unclassified == ["environment"]
    services.case_classify(case_id=case.pk, actor=agent, environment="production")
    services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent)
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.unclassified == []


@pytest.mark.django_db
def test_bulk_resolve_skips_an_unclassified_case_with_the_reason(agent, tenant_a):
    ready = _working(tenant=tenant_a)
    unset = _working(tenant=tenant_a, unclassified=["issue_type"])
    result = bulk.case_bulk(cases=[ready, unset], actor=agent, action="status", value=Status.RESOLVED)
    assert result.changed == [ready.key]
    assert result.skipped[unset.key] == f"{unset.key} cannot be resolved yet: set its issue type first."


# --- 16: affected resources -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_affected_resources_are_set_through_the_service_with_timeline_and_audit(agent, tenant_a, tenant_b):
    gateway = ResourceFactory(tenant=tenant_a, external_id="acme-gw", version="v2.1.0", health=Health.RED)
    hooks = ResourceFactory(tenant=tenant_a, external_id="acme-hooks")
    foreign = ResourceFactory(tenant=tenant_b, external_id="globex-gw")
    case = _working(tenant=tenant_a)
    with pytest.raises(CaseError, match="globex-gw is not a resource of this case's tenant"):
        services.case_set_resources(case_id=case.pk, actor=agent, resources=[gateway, foreign])

    services.case_set_resources(case_id=case.pk, actor=agent, resources=[gateway, hooks], expected_version=1)
    services.case_set_resources(case_id=case.pk, actor=agent, resources=[gateway])
    case.refresh_from_db()
    assert list(case.affected_resources.all()) == [gateway] and case.version == 3
    first, second = case.interactions.filter(kind=Interaction.Kind.FIELDS).order_by("id")
    assert first.data["resources"] == {"added": ["acme-gw", "acme-hooks"], "removed": []}
    assert second.data["changes"]["resources"] == ["acme-gw, acme-hooks", "acme-gw"]
    m2m = LogEntry.objects.filter(object_pk=str(case.pk), changes__has_key="affected_resources")
    assert m2m.count() == 2
    with pytest.raises(CaseError, match="changed by someone else"):
        services.case_set_resources(case_id=case.pk, actor=agent, resources=[], expected_version=1)


@pytest.mark.django_db
def test_the_case_page_shows_and_changes_affected_resources(agent, agent_client, tenant_a, tenant_b):
    gateway = ResourceFactory(tenant=tenant_a, external_id="acme-gw", version="v2.1.0", health=Health.RED)
    ResourceFactory(tenant=tenant_a, external_id="acme-hooks")
    foreign = ResourceFactory(tenant=tenant_b, external_id="globex-gw")
    case = _working(tenant=tenant_a)
    response = agent_client.post(f"/cases/{case.key}/resources/", {"version": 1, "resources": [gateway.pk]})
    assert response.status_code == 302
    page = agent_client.get(f"/cases/{case.key}/").content.decode()
    card = page.split('id="resources"', 1)[1].split("</section>", 1)[0]
    assert 'data-resource="acme-gw"' in card and "v2.1.0" in card and "Unhealthy" in card
    for bad in ([foreign.pk], ["abc"], ["99999999999999999999"]):
        response = agent_client.post(f"/cases/{case.key}/resources/", {"version": 2, "resources": bad})
        assert response.status_code == 422, bad
    assert list(case.affected_resources.all()) == [gateway]


@pytest.mark.django_db
def test_intake_takes_affected_resources_and_leaves_unset_fields_unset(
    agent_client, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    hooks = ResourceFactory(tenant=tenant_a, external_id="acme-hooks", health=Health.AMBER)
    foreign = ResourceFactory(tenant=tenant_b, external_id="globex-gw")
    requester = RequesterFactory(tenant=tenant_a)
    options = agent_client.get("/cases/new/resources/?tenant=acme").content.decode()
    assert "acme-hooks" in options and "globex-gw" not in options
    assert "globex-gw" not in agent_client.get("/cases/new/resources/?tenant=globex").content.decode()
    form = {
        "tenant": "acme",
        "requester": requester.pk,
        "subject": "Webhook retries",
        "description": EXAMPLE,
        "channel": "email",
        "priority": "medium",
        "category": "",
        "issue_type": "",
        "environment": "",
        "affected_resources": [hooks.pk],
    }
    assert agent_client.post("/cases/new/", {**form, "affected_resources": [foreign.pk]}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):  # the enrichment task, after commit
        response = agent_client.post("/cases/new/", form)
    assert response.status_code == 302
    case = Case.objects.get(subject="Webhook retries")
    assert list(case.affected_resources.all()) == [hooks]
    assert case.unclassified == ["category", "issue_type", "environment"]
    # 14: the snapshot taken at intake goes by the text, not the untouched defaults, and quotes it.
    context = case.contexts.get()
    assert context.suggested_priority == 2, context.reasons
    assert "“none of our webhook deliveries are retried”" in context.reasons[0]
    assert "“all endpoints”" in context.reasons[0]
    assert any("issue type not set" in r for r in context.reasons)
    assert context.data["affected_resources"][0]["name"] == "acme-hooks"
    assert any("acme-hooks is degraded" in r for r in context.reasons)


@pytest.mark.django_db
def test_blast_radius_starts_from_the_resources_cases_name(tenant_a, tenant_b):
    gateway = ResourceFactory(tenant=tenant_a, external_id="shared-gw")
    app = ResourceFactory(tenant=tenant_b, external_id="globex-app")
    integration = Integration.objects.create(name="graph", token_prefix="g", token_hash="g" * 64)
    ResourceDependency.objects.create(
        tenant=tenant_b, integration=integration, source_id="e1", resource=app, depends_on=gateway
    )
    source = CaseFactory(tenant=tenant_a)
    source.affected_resources.set([gateway])
    hit = CaseFactory(tenant=tenant_b)
    hit.affected_resources.set([app])
    closed = CaseFactory(tenant=tenant_b, status=Status.CLOSED)
    closed.affected_resources.set([app])
    assert list(resources_named_by_cases([source.pk])) == [gateway]
    radius = blast_radius([source.pk])
    assert radius["resources"] == [gateway] and radius["dependents"] == [app]
    assert radius["open_cases"] == [hit]


# --- 15: the requester card ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_requester_card_warns_about_resources_the_requester_may_not_see(agent_client, tenant_a):
    gateway = ResourceFactory(tenant=tenant_a, external_id="acme-gw")
    ResourceFactory(tenant=tenant_a, external_id="acme-billing-db")
    hooks = ResourceFactory(tenant=tenant_a, external_id="acme-hooks")
    requester = RequesterFactory(tenant=tenant_a, role="Product manager", sees_all_resources=False)
    requester.visible_resources.set([gateway])
    case = _working(tenant=tenant_a, requester=requester, subject="Slow queries on acme-billing-db")
    case.affected_resources.set([hooks, gateway])
    card = requester_card(case)
    assert not card.sees_all and card.visible == [gateway]
    assert [(r.external_id, how) for r, how in card.hidden_named] == [
        ("acme-billing-db", "named in the text"),
        ("acme-hooks", "affected resource"),
    ]
    page = agent_client.get(f"/cases/{case.key}/").content.decode()
    section = page.split('id="requester-card"', 1)[1].split("</section>", 1)[0]
    assert "Product manager" in section and 'data-hidden-resource="acme-hooks"' in section
    assert "(1 of 3)" in section

    requester.sees_all_resources = True
    requester.save()
    assert requester_card(case).hidden_named == []


@pytest.mark.django_db
def test_admin_refuses_another_tenants_resource_for_a_requester(tenant_a, tenant_b):
    from tenants.admin import RequesterAdminForm

    foreign = ResourceFactory(tenant=tenant_b, external_id="globex-gw")
    form = RequesterAdminForm(
        {
            "tenant": tenant_a.pk,
            "name": "Pat",
            "email": "pat@acme.example",
            "preferred_channel": "email",
            "auth_method": "sso",
            "visible_resources": [foreign.pk],
        }
    )
    assert not form.is_valid() and "Not resources of Acme Corp: globex-gw" in str(form.errors)


@pytest.mark.django_db
def test_resource_edit_is_scoped_like_the_case(tenant_a, tenant_b):
    from tests.factories import UserFactory

    outsider = UserFactory(username="olga", role="agent", tenants=[tenant_b])
    case = _working(tenant=tenant_a)
    response = login(outsider).post(f"/cases/{case.key}/resources/", {"version": 1})
    assert response.status_code == 404
