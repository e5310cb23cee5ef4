"""Seed 004's SLA records keyed on the case's severity (issue 13 point 4, issue 16 point 6): time to
acknowledge and time to mitigate per Sev-1..3 from the seed-004 preset, counted from the case's
opening; acknowledged at the first public reply or the move out of New; mitigated when an agent marks
the case mitigated (or resolves it); swept and escalated exactly once like every SLA clock."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse

from cases import services
from cases.choices import Priority, Severity, Status
from cases.errors import CaseConflict, CaseError
from cases.models import Interaction, Notification, SLAClock, SLAEscalation
from cases.sla import clocks
from cases.sla import sweep as escalation
from cases.sla.presets import preset_severity_targets
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind, State = SLAClock.Kind, SLAClock.State
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@contextmanager
def at(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def world(db):
    policy = clocks.load_preset(preset="seed-004", column=None, name="Sev policy")  # 24x7: no calendar
    tenant = TenantFactory(name="Nordic Freight", slug="nordic", sla_policy=policy)
    agent = UserFactory(username="kari", role="agent", tenants=[tenant], email="kari@example.com")
    return {"policy": policy, "tenant": tenant, "agent": agent, "requester": RequesterFactory(tenant=tenant)}


def open_case(world, when=T0, priority=Priority.HIGH):
    with at(when):
        return services.case_create(
            actor=world["agent"],
            tenant=world["tenant"],
            requester=world["requester"],
            subject="Message delivery is down",
            priority=priority,
        )


def classify(world, case, when, **values):
    with at(when):
        case.refresh_from_db()
        return services.case_classify(case_id=case.pk, actor=world["agent"], **values)


def clock(case, kind) -> SLAClock:
    return SLAClock.objects.get(case=case, kind=kind)


def test_the_seed_004_preset_keys_acknowledge_and_mitigate_on_severity(world):
    targets = preset_severity_targets("seed-004")
    assert targets["sev1"] == {"acknowledge": (timedelta(minutes=30), False), "mitigate": (timedelta(hours=4), False)}
    assert targets["sev2"]["acknowledge"] == (timedelta(hours=4), False)
    assert targets["sev2"]["mitigate"] == (timedelta(hours=8), True)  # 1 business day
    assert targets["sev3"]["mitigate"] == (timedelta(hours=40), True)  # 5 business days
    stored = world["policy"].severity_targets
    assert stored["sev1"]["acknowledge"] == {"minutes": 30.0, "business": False}
    assert stored["sev3"]["acknowledge"] == {"minutes": 480.0, "business": False}  # no calendar: calendar time
    assert world["policy"].snapshot()["severity_targets"] == stored
    # the other presets key nothing on severity
    assert clocks.load_preset(preset="seed-003", column="standard", name="Std").severity_targets == {}


def test_no_severity_no_severity_clocks(world):
    case = open_case(world)
    assert not SLAClock.objects.filter(case=case, kind__in=[Kind.ACKNOWLEDGE, Kind.MITIGATE]).exists()


def test_severity_set_while_new_starts_both_clocks_from_the_opening(world):
    case = open_case(world)
    classify(world, case, T0 + timedelta(minutes=5), severity=Severity.SEV1)
    ack, mit = clock(case, Kind.ACKNOWLEDGE), clock(case, Kind.MITIGATE)
    assert ack.state == mit.state == State.RUNNING
    assert ack.started_at == T0 and ack.due_at == T0 + timedelta(minutes=30)
    assert mit.due_at == T0 + timedelta(hours=4)
    entry = case.interactions.filter(kind=Interaction.Kind.FIELDS).latest("created_at")
    assert any("time to acknowledge clock started" in note for note in entry.data["sla"])
    case.refresh_from_db()
    assert case.sla_due_at == T0 + timedelta(minutes=30) and case.sla_clock == Kind.ACKNOWLEDGE


def test_acknowledged_by_the_first_public_reply(world):
    case = open_case(world)
    classify(world, case, T0 + timedelta(minutes=1), severity=Severity.SEV1)
    with at(T0 + timedelta(minutes=20)):
        services.case_reply(case_id=case.pk, actor=world["agent"], body="On it", public=True)
    ack = clock(case, Kind.ACKNOWLEDGE)
    assert ack.state == State.STOPPED and ack.met is True and ack.stopped_at == T0 + timedelta(minutes=20)
    assert clock(case, Kind.MITIGATE).state == State.RUNNING


def test_an_internal_note_does_not_acknowledge_accepting_into_triage_does(world):
    case = open_case(world)
    classify(world, case, T0 + timedelta(minutes=1), severity=Severity.SEV1)
    with at(T0 + timedelta(minutes=10)):
        services.case_reply(case_id=case.pk, actor=world["agent"], body="note", public=False)
    assert clock(case, Kind.ACKNOWLEDGE).state == State.RUNNING
    with at(T0 + timedelta(minutes=45)):
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
    ack = clock(case, Kind.ACKNOWLEDGE)
    assert ack.state == State.STOPPED and ack.met is False  # 45 min > 30 min
    assert ack.breached_at == T0 + timedelta(minutes=30)


def test_severity_set_at_triage_records_the_acknowledgement_already_made(world):
    case = open_case(world)
    with at(T0 + timedelta(hours=5)):
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
    classify(world, case, T0 + timedelta(hours=5, minutes=1), severity=Severity.SEV2)  # 4 h to acknowledge
    ack = clock(case, Kind.ACKNOWLEDGE)
    assert ack.state == State.STOPPED and ack.met is False and ack.stopped_at == T0 + timedelta(hours=5)
    assert clock(case, Kind.MITIGATE).state == State.RUNNING
    entry = case.interactions.filter(kind=Interaction.Kind.FIELDS).latest("created_at")
    assert "time to acknowledge recorded: missed" in entry.data["sla"]


def test_a_severity_change_retargets_keeping_the_elapsed_time_and_clearing_it_ends_them(world):
    case = open_case(world)
    classify(world, case, T0, severity=Severity.SEV3)
    classify(world, case, T0 + timedelta(minutes=10), severity=Severity.SEV1)
    ack = clock(case, Kind.ACKNOWLEDGE)
    assert ack.state == State.RUNNING and ack.target == timedelta(minutes=30)
    assert ack.due_at == T0 + timedelta(minutes=30)
    classify(world, case, T0 + timedelta(minutes=15), severity="")
    ack, mit = clock(case, Kind.ACKNOWLEDGE), clock(case, Kind.MITIGATE)
    assert ack.state == mit.state == State.STOPPED and ack.met is None
    case.refresh_from_db()
    assert case.sla_clock == Kind.FIRST_RESPONSE


def test_mark_mitigated_records_the_time_stops_the_clock_and_writes_the_timeline(world):
    case = open_case(world)
    classify(world, case, T0, severity=Severity.SEV1)
    with at(T0 + timedelta(minutes=1)):
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
    case.refresh_from_db()
    with at(T0 + timedelta(hours=3)):
        services.case_mark_mitigated(
            case_id=case.pk, actor=world["agent"], note="Retries enabled on the gateway", expected_version=case.version
        )
    case.refresh_from_db()
    assert case.mitigated_at == T0 + timedelta(hours=3)
    mit = clock(case, Kind.MITIGATE)
    assert mit.state == State.STOPPED and mit.met is True
    entry = case.interactions.latest("created_at")
    assert entry.data["mitigated"] is True and entry.body == "Retries enabled on the gateway"
    assert "time to mitigate clock stopped: met" in entry.data["sla"]
    assert case.status == Status.TRIAGE  # still open until resolved
    with pytest.raises(CaseError, match="already marked mitigated"):
        services.case_mark_mitigated(case_id=case.pk, actor=world["agent"])


def test_mark_mitigated_refuses_a_new_case_and_a_stale_form(world):
    case = open_case(world)
    with pytest.raises(CaseError, match="New: mitigation is recorded while it is worked on"):
        services.case_mark_mitigated(case_id=case.pk, actor=world["agent"])
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
    with pytest.raises(CaseConflict):
        services.case_mark_mitigated(case_id=case.pk, actor=world["agent"], expected_version=1)
    case.refresh_from_db()
    assert case.mitigated_at is None


def test_mark_mitigated_without_a_severity_records_the_time_only(world):
    case = open_case(world)
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
    services.case_mark_mitigated(case_id=case.pk, actor=world["agent"])
    case.refresh_from_db()
    assert case.mitigated_at is not None
    assert not SLAClock.objects.filter(case=case, kind=Kind.MITIGATE).exists()


def test_resolving_stops_the_mitigate_clock(world):
    case = open_case(world, priority=Priority.LOW)
    classify(
        world, case, T0, severity=Severity.SEV2, category="integration", issue_type="bug", environment="production"
    )
    with at(T0 + timedelta(minutes=5)):
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
        services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=world["agent"])
    with at(T0 + timedelta(hours=2)):
        services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=world["agent"])
    mit = clock(case, Kind.MITIGATE)
    assert mit.state == State.STOPPED and mit.met is True


def test_a_breached_severity_clock_is_escalated_exactly_once(world):
    case = open_case(world)
    with at(T0):
        services.case_assign(case_id=case.pk, actor=world["agent"], owner=world["agent"])
    classify(world, case, T0, severity=Severity.SEV1)
    later = T0 + timedelta(minutes=31)
    escalation.sla_sweep(now=later)
    escalation.sla_sweep(now=later + timedelta(minutes=1))
    ack = clock(case, Kind.ACKNOWLEDGE)
    assert ack.breached_at == T0 + timedelta(minutes=30)
    assert SLAEscalation.objects.filter(clock=ack, level=SLAEscalation.Level.BREACHED).count() == 1
    note = Notification.objects.get(escalation__clock=ack, escalation__level="breached", recipient="kari@example.com")
    assert "time to acknowledge SLA breached" in note.subject


def test_the_case_page_offers_mark_mitigated_and_shows_it_done(world, client):
    case = open_case(world)
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=world["agent"])
    case.refresh_from_db()
    client.force_login(world["agent"])
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Mark mitigated" in page and "data-mitigated" not in page
    response = client.post(
        reverse("cases:mitigate", args=[case.key]),
        {"version": case.version, "note": "Rolled back the config"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "data-mitigated" in response.content.decode()
    case.refresh_from_db()
    assert case.mitigated_at is not None
    again = client.post(reverse("cases:mitigate", args=[case.key]), {"version": case.version}, HTTP_HX_REQUEST="true")
    assert again.status_code == 422 and "already marked mitigated" in again.content.decode()
    assert "Mark mitigated…" not in client.get(case.get_absolute_url()).content.decode()


def test_mark_mitigated_on_another_tenants_case_is_404(world, client):
    other = TenantFactory(slug="other")
    outsider = UserFactory(username="ola", role="agent", tenants=[other])
    case = open_case(world)
    client.force_login(outsider)
    assert client.post(reverse("cases:mitigate", args=[case.key]), {}).status_code == 404


def test_the_policy_page_lists_the_severity_targets(world, admin_user):
    from tests.conftest import login

    body = login(admin_user).get(reverse("sla:policy_edit", args=[world["policy"].pk])).content.decode()
    assert "data-severity-targets" in body and "Time to acknowledge" in body
    # Editable (tests/cases/sla/test_severity_targets_edit.py): Sev-1 acknowledge 30 minutes.
    assert 'name="sev__sev1__acknowledge__amount" value="30"' in body
    standard = clocks.load_preset(preset="seed-003", column="standard", name="Std")
    other = login(admin_user).get(reverse("sla:policy_edit", args=[standard.pk])).content.decode()
    assert "data-severity-targets" in other  # a policy without them can be given some
    assert 'name="sev__sev1__acknowledge__amount" value=' not in other
