"""SRE escalation and temporary elevated access (issue 14 point 6): the burn-rate rule as pure
functions (multi-window, configurable); temporary access granted, used, expired at its expiry on
every read path (case page, queue, tenant console, exports, the API's scope) before beat runs, revoked
by beat once and audited, shown on the tenant console; the escalation pages on-call, opens or attaches
an incident, grants the responder access, says the case owner stays the contact; the burn-rate sweep
escalates a burning tenant once."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cases.models import Interaction, Notification
from incidents.escalations import burn, sre
from incidents.escalations.models import SREEscalation
from incidents.models import Incident, IncidentEntry
from tenants.access import AccessError, TemporaryAccess, temporary_access_grant, temporary_access_sweep
from tenants.selectors import visible_tenant_ids
from tenants.telemetry import SLI, Integration
from tests.conftest import login
from tests.factories import CaseFactory, UserFactory

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


# --- the burn-rate rule, pure ---------------------------------------------------------------------------


def _points(*pairs, objective=99.9):
    return [burn.Point(T0 - timedelta(minutes=m), value, objective) for m, value in pairs]


def test_burn_rate_is_error_rate_over_allowed():
    assert burn.burn_rate(99.9, 99.9) == pytest.approx(1.0)
    assert burn.burn_rate(98.56, 99.9) == pytest.approx(14.4)
    assert burn.burn_rate(100.0, 99.9) == 0.0
    assert burn.burn_rate(99.0, 100.0) == float("inf") and burn.burn_rate(100.0, 100.0) == 0.0


@pytest.mark.parametrize(
    "pairs, fires",
    [
        # Burning at 20× over the whole hour, and in the last 5 minutes: fires.
        ([(m, 98.0) for m in range(0, 60, 5)], True),
        # Burned hard 30–60 min ago, recovered since: the short window says no.
        ([(m, 98.0) for m in range(30, 60, 5)] + [(m, 99.95) for m in range(0, 30, 5)], False),
        # A spike in the last 5 minutes after a clean hour: the long window says no.
        ([(m, 99.95) for m in range(5, 60, 5)] + [(0, 90.0)], False),
        # No observations: nothing to say.
        ([], False),
    ],
)
def test_multi_window_rule(pairs, fires):
    rule = burn.BurnRule(60, 5, 14.4)
    assert bool(burn.firing(_points(*pairs), [rule], T0)) is fires


def test_rules_are_configurable_and_checked():
    assert burn.parse_rules("60:5:14.4, 360:30:6") == [burn.BurnRule(60, 5, 14.4), burn.BurnRule(360, 30, 6.0)]
    assert burn.parse_rules("") == []
    with pytest.raises(ValueError):
        burn.parse_rules("5:60:2")
    assert burn.BurnRule(360, 30, 6).label == "6 h/30 min ≥ 6×"


# --- temporary access ---------------------------------------------------------------------------------------


@pytest.fixture
def responder(db):
    return UserFactory(username="eve", role="engineer", first_name="Eve", last_name="Ops")


def _grant(tenant, user, hours=2):
    return temporary_access_grant(tenant=tenant, user=user, actor=UserFactory(role="SRE"), hours=hours, reason="INC-1")


def _reads(user, case):
    client = login(user)
    return {
        "case page": client.get(case.get_absolute_url()).status_code,
        "queue": case.key in client.get("/cases/").content.decode(),
        "console": client.get(f"/tenants/{case.tenant.slug}/").status_code,
        "export": client.get(f"/cases/{case.key}/audit/export.csv").status_code,
    }


def test_temporary_access_granted_used_expired_revoked_audited(tenant_a, tenant_b, responder):
    case = CaseFactory(tenant=tenant_a, subject="Acme ingest down")
    other = CaseFactory(tenant=tenant_b)
    assert _reads(responder, case) == {"case page": 404, "queue": False, "console": 404, "export": 404}
    with at(T0):
        grant = _grant(tenant_a, responder)
    with at(T0 + timedelta(hours=1)):
        assert _reads(responder, case) == {"case page": 200, "queue": True, "console": 200, "export": 200}
        assert login(responder).get(other.get_absolute_url()).status_code == 404  # that tenant only
        responder._visible_tenant_ids = None
        assert visible_tenant_ids(responder) == [tenant_a.pk]
        console = login(UserFactory(role="manager")).get(f"/tenants/{tenant_a.slug}/").content.decode()
        assert "data-temporary-access" in console and "Eve Ops" in console and "INC-1" in console
    # Past the expiry and before beat ran: no access anywhere.
    with at(T0 + timedelta(hours=2, seconds=1)):
        assert _reads(responder, case) == {"case page": 404, "queue": False, "console": 404, "export": 404}
        assert temporary_access_sweep() == 1
        assert temporary_access_sweep() == 0
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by.username == "system"
    ct = ContentType.objects.get_for_model(TemporaryAccess)
    changes = LogEntry.objects.filter(content_type=ct, object_pk=str(grant.pk))
    assert changes.filter(action=LogEntry.Action.CREATE).exists()
    assert changes.filter(action=LogEntry.Action.UPDATE, changes__has_key="revoked_at").exists()


def test_grant_refusals(tenant_a, agent, responder, tenant_b):
    with pytest.raises(AccessError, match="at most 24"):
        _grant(tenant_a, responder, hours=48)
    with pytest.raises(AccessError, match="already sees"):
        _grant(tenant_a, agent)
    with pytest.raises(AccessError, match="do not see"):
        temporary_access_grant(tenant=tenant_b, user=responder, actor=agent, hours=1, reason="x")
    with pytest.raises(AccessError, match="Say why"):
        temporary_access_grant(tenant=tenant_a, user=responder, actor=agent, hours=1, reason=" ")


# --- the escalation -------------------------------------------------------------------------------------------


def test_escalate_from_a_case_pages_opens_an_incident_and_grants(tenant_a, agent, responder):
    UserFactory(username="sam", role="SRE", email="sam@companyos.example")
    case = CaseFactory(tenant=tenant_a, owner=agent, subject="Everything is 500")
    client = login(agent)
    assert client.get(f"/incidents/escalations/case/{case.key}/sre/").status_code == 200
    bad = client.post(f"/incidents/escalations/case/{case.key}/sre/", {"reason": "", "responder": "eve"})
    assert bad.status_code == 422 and not SREEscalation.objects.exists()
    response = client.post(
        f"/incidents/escalations/case/{case.key}/sre/", {"reason": "API down", "responder": "eve", "hours": "3"}
    )
    assert response.status_code == 302
    escalation = SREEscalation.objects.get()
    incident = escalation.incident
    assert incident.cases.filter(pk=case.pk).exists() and incident.severity == "SEV1"
    assert "sam@companyos.example" in Notification.objects.filter(case=case).values_list("recipient", flat=True)
    grant = TemporaryAccess.objects.get(pk=escalation.access_id)
    assert grant.user == responder and grant.tenant == tenant_a
    assert timedelta(hours=2, minutes=59) < grant.expires_at - grant.granted_at <= timedelta(hours=3)
    note = Interaction.objects.filter(case=case, data__sre_escalation=escalation.pk).get()
    assert "stays the customer's contact" in note.body and "Eve Ops may see Acme Corp" in note.body
    assert IncidentEntry.objects.filter(incident=incident, body__contains="stays the customer's contact").exists()
    # A second escalation of the same tenant attaches (no second incident, no second page).
    second = CaseFactory(tenant=tenant_a)
    again, new = sre.sre_escalate(tenant_id=tenant_a.pk, actor=agent, case_id=second.pk, reason="also down")
    assert not new and again == escalation and incident.cases.filter(pk=second.pk).exists()
    assert Incident.objects.count() == 1


def test_burn_rate_sweep_escalates_a_burning_tenant_once(tenant_a, tenant_b):
    UserFactory(role="SRE", email="sre@companyos.example")
    integration = Integration.objects.create(name="prom", token_prefix="x", token_hash="h")
    now = timezone.now()
    rows = []
    for i, m in enumerate(range(0, 60, 5)):
        rows.append(
            SLI(
                tenant=tenant_a,
                integration=integration,
                source_id=f"a{i}",
                name="ingest availability",
                objective=99.9,
                value=97.0,
                error_budget_remaining=10,
                observed_at=now - timedelta(minutes=m),
            )
        )
        rows.append(
            SLI(
                tenant=tenant_b,
                integration=integration,
                source_id=f"b{i}",
                name="ingest availability",
                objective=99.9,
                value=99.95,
                error_budget_remaining=90,
                observed_at=now - timedelta(minutes=m),
            )
        )
    SLI.objects.bulk_create(rows)
    assert sre.burn_rate_sweep(now=now) == {"tenants": 1, "escalated": 1}
    assert sre.burn_rate_sweep(now=now + timedelta(seconds=30)) == {"tenants": 1, "escalated": 0}
    escalation = SREEscalation.objects.get()
    assert escalation.tenant == tenant_a and escalation.trigger == "burn_rate"
    assert escalation.details["fired"][0]["sli"] == "ingest availability" and escalation.paged == 1
    assert escalation.incident.tenants.filter(pk=tenant_a.pk).exists()
    # No chain configured and no case: the SREs are told on the outbox, once (test_outbox_delivery relays it).
    assert list(Notification.objects.filter(case=None).values_list("recipient", flat=True)) == ["sre@companyos.example"]
