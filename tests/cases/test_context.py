"""Context capture (cases.services.case_capture_context / case_decide_priority, cases.selectors
context_snapshot and similar_cases, the incidents app's context provider): the context snapshot of a
new case, the agent's accept/override, entitlement flags at intake. The pure rules are tested in
test_triage.py."""

import pytest
from django.utils import timezone

from cases import services
from cases.choices import Environment, Priority
from cases.models import CaseContext, Interaction
from companyos import roles
from incidents.models import Incident
from tenants.choices import SupportTier
from tenants.models import Alert, Integration, Resource
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory


@pytest.fixture
def firing_world(db):
    tenant = TenantFactory(
        slug="acme",
        support_tier=SupportTier.STANDARD,
        entitlements={"phone_support": False, "channels": ["email", "web"]},
    )
    agent = UserFactory(username="kari", role="agent", tenants=[tenant])
    gateway = Resource.objects.create(tenant=tenant, external_id="api-gateway", kind="gateway")
    integration = Integration.objects.create(name="prom", token_prefix="x", token_hash="h" * 64)
    Alert.objects.create(
        tenant=tenant,
        integration=integration,
        source_id="fp1",
        resource=gateway,
        name="HighErrorRate",
        severity="critical",
        status=Alert.Status.FIRING,
        starts_at=timezone.now(),
        summary="5xx above 5%",
    )
    incident = Incident.objects.create(title="Gateway 5xx", severity="SEV2")
    incident.resources.add(gateway)
    return {"tenant": tenant, "agent": agent, "requester": RequesterFactory(tenant=tenant)}


@pytest.mark.django_db
def test_a_case_opened_while_an_alert_fires_gets_its_context(firing_world, django_capture_on_commit_callbacks):
    w = firing_world
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_create(
            actor=w["agent"],
            tenant=w["tenant"],
            requester=w["requester"],
            subject="Some requests look odd",
            environment=Environment.PRODUCTION,
            channel="phone",
        )
    context = case.contexts.get()
    assert (
        context.data["alerts"][0]["name"] == "HighErrorRate" and context.data["alerts"][0]["resource"] == "api-gateway"
    )
    assert context.data["incidents"][0]["title"] == "Gateway 5xx"
    assert context.suggested_priority == Priority.CRITICAL
    assert "critical alert firing: HighErrorRate on api-gateway" in context.reasons
    assert case.interactions.filter(kind=Interaction.Kind.AUTOMATION, body__startswith="context captured").exists()
    inbound = case.interactions.get(kind=Interaction.Kind.INBOUND)
    assert any("phone" in flag for flag in inbound.data["entitlement_flags"])
    client = login(w["agent"])
    page = client.get(f"/cases/{case.key}/").content.decode()
    assert "Entitlement: channel “phone” is not in the tenant" in page
    panel = client.get(f"/cases/{case.key}/context/", HTTP_HX_REQUEST="true").content.decode()
    assert "HighErrorRate on api-gateway" in panel and "Suggested priority" in panel and "Gateway 5xx" in panel


@pytest.mark.django_db
def test_accept_and_override_are_recorded(firing_world):
    w = firing_world
    case = services.case_create(
        actor=w["agent"],
        tenant=w["tenant"],
        requester=w["requester"],
        subject="Some requests look odd",
        environment=Environment.PRODUCTION,
    )
    first = services.case_capture_context(case_id=case.pk, actor=roles.system_user())
    client = login(w["agent"])
    response = client.post(f"/cases/{case.key}/context/decide/", {"context": first.pk, "priority": "critical"})
    assert response.status_code == 302
    first.refresh_from_db()
    case.refresh_from_db()
    assert (
        first.decision == CaseContext.Decision.ACCEPTED
        and first.decided_by == w["agent"]
        and case.priority == Priority.CRITICAL
    )
    assert "accepted the suggested priority" in case.interactions.get(kind=Interaction.Kind.FIELDS).body
    # A refresh takes a new snapshot; overriding it is recorded as such.
    client.post(f"/cases/{case.key}/context/refresh/", HTTP_HX_REQUEST="true")
    second = case.contexts.first()
    assert second.pk != first.pk
    client.post(f"/cases/{case.key}/context/decide/", {"context": second.pk, "priority": "high"})
    second.refresh_from_db()
    case.refresh_from_db()
    assert (
        second.decision == CaseContext.Decision.OVERRIDDEN
        and second.decided_priority == Priority.HIGH
        and case.priority == Priority.HIGH
    )
    bad = client.post(
        f"/cases/{case.key}/context/decide/", {"context": second.pk, "priority": "urgent"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 422 and "Choose a priority" in bad.content.decode()


@pytest.mark.django_db
def test_context_is_scoped_like_the_case(firing_world, tenant_b):
    w = firing_world
    case = services.case_create(actor=w["agent"], tenant=w["tenant"], requester=w["requester"], subject="x")
    outsider = UserFactory(username="ola", role="agent", tenants=[tenant_b])
    client = login(outsider)
    assert client.get(f"/cases/{case.key}/context/").status_code == 404
    assert client.post(f"/cases/{case.key}/context/refresh/").status_code == 404
    assert not case.contexts.exists()


@pytest.mark.django_db
def test_intake_form_flags_a_channel_outside_the_plan(firing_world):
    client = login(firing_world["agent"])
    flags = client.get("/cases/new/entitlements/?tenant=acme&channel=phone", HTTP_HX_REQUEST="true").content.decode()
    assert "phone support is not included" in flags and "channel “phone” is not in the tenant" in flags
    assert (
        "Entitlement"
        not in client.get("/cases/new/entitlements/?tenant=acme&channel=email", HTTP_HX_REQUEST="true").content.decode()
    )
    assert (
        "Entitlement"
        not in client.get(
            "/cases/new/entitlements/?tenant=not-mine&channel=phone", HTTP_HX_REQUEST="true"
        ).content.decode()
    )


@pytest.mark.django_db
def test_a_registered_context_provider_adds_data_and_signals(firing_world):
    from unittest import mock

    from cases import context as case_context

    w = firing_world
    case = services.case_create(
        actor=w["agent"],
        tenant=w["tenant"],
        requester=w["requester"],
        subject="Webhooks delayed",
        environment=Environment.PRODUCTION,
    )

    def runbooks(case, now):
        return case_context.Contribution(
            data={"runbooks": ["webhook-lag"]}, signals={"similar_other_tenants_last_hour": 3}
        )

    with mock.patch.dict(case_context._providers):
        case_context.register_context_provider("runbooks", runbooks)
        assert [name for name, _ in case_context.context_providers()] == ["incidents", "runbooks"]
        snapshot = services.case_capture_context(case_id=case.pk, actor=roles.system_user())
    assert snapshot.data["runbooks"] == ["webhook-lag"] and snapshot.data["incidents"][0]["title"] == "Gateway 5xx"
    assert any("3 other customers" in reason for reason in snapshot.reasons)


@pytest.mark.django_db
def test_similar_cases_here_and_at_other_tenants(firing_world, tenant_b):
    from datetime import timedelta

    from cases.selectors import similar_cases
    from tests.factories import CaseFactory

    w = firing_world
    now = timezone.now()
    case = CaseFactory(
        tenant=w["tenant"], subject="Webhook deliveries delayed for orders", category="other", created_at=now
    )
    CaseFactory(
        tenant=w["tenant"],
        subject="Webhook deliveries failing since noon",
        category="integration",
        created_at=now - timedelta(days=2),
    )
    CaseFactory(
        tenant=w["tenant"],
        subject="Unrelated billing question",
        category="validation",
        created_at=now - timedelta(days=1),
    )
    CaseFactory(tenant=tenant_b, subject="Our webhook deliveries are delayed", created_at=now - timedelta(minutes=5))
    here = similar_cases(case, now=now)
    assert [m.case.subject for m in here] == ["Webhook deliveries failing since noon"]
    assert here[0].why.startswith("shared words: ") and "webhook" in here[0].why
    elsewhere = similar_cases(case, now=now, window=timedelta(hours=1), other_tenants=True, by=("words",), limit=None)
    assert [m.case.tenant_id for m in elsewhere] == [tenant_b.pk]
    with pytest.raises(ValueError):
        similar_cases(case, now=now, by=("colour",))
