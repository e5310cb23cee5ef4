"""Auto-enrichment: priority suggestion by seed 002's criteria, the context snapshot of a new case,
the agent's accept/override, entitlement flags at intake."""
import pytest
from django.utils import timezone

from cases import enrichment, services
from cases.choices import Environment, IssueType, Priority
from cases.enrichment import Signals, suggest_priority
from cases.models import CaseContext, Interaction
from incidents.models import Incident
from tenants.choices import SupportTier
from tenants.models import Alert, Integration, Resource
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory


@pytest.mark.parametrize(
    "subject, environment, issue_type, expected",
    [
        ("All our API calls return 500 since 10:00 UTC", Environment.PRODUCTION, IssueType.INCIDENT, Priority.CRITICAL),
        ("We're seeing unauthorized access to customer data", Environment.PRODUCTION, IssueType.INCIDENT, Priority.CRITICAL),
        ("Payment processing is down", Environment.PRODUCTION, IssueType.INCIDENT, Priority.CRITICAL),
        ("POST /users returns 500 for payloads with special characters", Environment.PRODUCTION, IssueType.BUG, Priority.HIGH),
        ("API latency is 3x normal", Environment.PRODUCTION, IssueType.BUG, Priority.HIGH),
        ("Our staging API key works but production key returns 403", Environment.PRODUCTION, IssueType.CONFIGURATION, Priority.HIGH),
        ("OpenAPI docs page shows 500 error", Environment.PRODUCTION, IssueType.BUG, Priority.MEDIUM),
        ("Pagination returns inconsistent results for large offsets", Environment.PRODUCTION, IssueType.BUG, Priority.MEDIUM),
        ("Our SDK is getting 422 on valid-looking requests", Environment.PRODUCTION, IssueType.BUG, Priority.MEDIUM),
        ("Can you add support for X in the API?", Environment.UNKNOWN, IssueType.QUESTION, Priority.LOW),
        ("How do I implement pagination correctly?", Environment.UNKNOWN, IssueType.QUESTION, Priority.LOW),
        ("The error message could be clearer", Environment.UNKNOWN, IssueType.BUG, Priority.LOW),
    ],
)
def test_seed_002_examples(subject, environment, issue_type, expected):
    priority, reasons = suggest_priority(subject=subject, description="", environment=environment, issue_type=issue_type, signals=Signals())
    assert priority == expected, reasons
    assert reasons


def test_all_failing_in_staging_is_not_critical():
    priority, _ = suggest_priority(subject="All requests fail with 500", description="", environment=Environment.STAGING,
                                   issue_type=IssueType.BUG, signals=Signals())
    assert priority > Priority.CRITICAL


def test_signals_raise_the_suggestion_with_reasons():
    signals = Signals(firing_alerts=[{"name": "HighErrorRate", "severity": "critical", "resource": "api-gateway"}])
    priority, reasons = suggest_priority(subject="Some requests look odd", description="", environment=Environment.PRODUCTION,
                                         issue_type=IssueType.QUESTION, signals=signals)
    assert priority == Priority.CRITICAL and reasons[0] == "critical alert firing: HighErrorRate on api-gateway"
    priority, reasons = suggest_priority(subject="Webhooks delayed", description="", environment=Environment.PRODUCTION,
                                         issue_type=IssueType.BUG, signals=Signals(similar_other_tenants_last_hour=3))
    assert priority == Priority.HIGH and "3 other customers" in reasons[0]


def test_entitlement_flags():
    standard = {"phone_support": False, "channels": ["email", "web"]}
    assert enrichment.entitlement_flags(standard, channel="email") == []
    flags = enrichment.entitlement_flags(standard, channel="phone")
    assert len(flags) == 2 and "not in the tenant's plan" in flags[0] and "phone support" in flags[1]
    assert enrichment.entitlement_flags({}, channel="slack") == []


@pytest.fixture
def firing_world(db):
    tenant = TenantFactory(slug="acme", support_tier=SupportTier.STANDARD,
                           entitlements={"phone_support": False, "channels": ["email", "web"]})
    agent = UserFactory(username="kari", role="agent", tenants=[tenant])
    gateway = Resource.objects.create(tenant=tenant, external_id="api-gateway", kind="gateway")
    integration = Integration.objects.create(name="prom", token_prefix="x", token_hash="h" * 64)
    Alert.objects.create(tenant=tenant, integration=integration, source_id="fp1", resource=gateway, name="HighErrorRate", severity="critical",
                         status=Alert.Status.FIRING, starts_at=timezone.now(), summary="5xx above 5%")
    incident = Incident.objects.create(title="Gateway 5xx", severity="SEV2")
    incident.resources.add(gateway)
    return {"tenant": tenant, "agent": agent, "requester": RequesterFactory(tenant=tenant)}


@pytest.mark.django_db
def test_a_case_opened_while_an_alert_fires_gets_its_context(firing_world, django_capture_on_commit_callbacks):
    w = firing_world
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_create(actor=w["agent"], tenant=w["tenant"], requester=w["requester"], subject="Some requests look odd",
                                    environment=Environment.PRODUCTION, channel="phone")
    context = case.contexts.get()
    assert context.data["alerts"][0]["name"] == "HighErrorRate" and context.data["alerts"][0]["resource"] == "api-gateway"
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
    case = services.case_create(actor=w["agent"], tenant=w["tenant"], requester=w["requester"], subject="Some requests look odd",
                                environment=Environment.PRODUCTION)
    first = enrichment.capture_context(case_id=case.pk)
    client = login(w["agent"])
    response = client.post(f"/cases/{case.key}/context/decide/", {"context": first.pk, "priority": "critical"})
    assert response.status_code == 302
    first.refresh_from_db(); case.refresh_from_db()
    assert first.decision == CaseContext.Decision.ACCEPTED and first.decided_by == w["agent"] and case.priority == Priority.CRITICAL
    assert "accepted the suggested priority" in case.interactions.get(kind=Interaction.Kind.FIELDS).body
    # A refresh takes a new snapshot; overriding it is recorded as such.
    client.post(f"/cases/{case.key}/context/refresh/", HTTP_HX_REQUEST="true")
    second = case.contexts.first()
    assert second.pk != first.pk
    client.post(f"/cases/{case.key}/context/decide/", {"context": second.pk, "priority": "high"})
    second.refresh_from_db(); case.refresh_from_db()
    assert second.decision == CaseContext.Decision.OVERRIDDEN and second.decided_priority == Priority.HIGH and case.priority == Priority.HIGH
    bad = client.post(f"/cases/{case.key}/context/decide/", {"context": second.pk, "priority": "urgent"}, HTTP_HX_REQUEST="true")
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
    assert "Entitlement" not in client.get("/cases/new/entitlements/?tenant=acme&channel=email", HTTP_HX_REQUEST="true").content.decode()
    assert "Entitlement" not in client.get("/cases/new/entitlements/?tenant=not-mine&channel=phone", HTTP_HX_REQUEST="true").content.decode()
