"""incidents.services: lifecycle, roles, updates, linking both ways, create-from-case, the customer
update (one reply per case, in its channel, moving its update clock), resolve-with-cases, the cadence sweep."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.choices import Priority, Status
from cases.models import Interaction
from incidents import services
from incidents.choices import EntryKind
from incidents.models import CadenceMark, CustomerDelivery, Incident, IncidentEntry, SeverityMapping
from tests.factories import CaseFactory, UserFactory


def test_declare_stamps_times_cadence_and_timeline(incident, agent, tenant_a):
    assert incident.key == f"INC-{incident.pk}"
    assert incident.commander == agent and incident.comms_channel == f"#inc-{incident.pk}"
    assert incident.update_cadence_minutes == 60  # SEV1: hourly (seed 004)
    assert incident.update_due_at and incident.detected_at
    assert list(incident.tenants.all()) == [tenant_a]
    assert incident.entries.get().kind == EntryKind.DECLARED


def test_declare_refuses_bad_input(agent, tenant_a, tenant_b):
    with pytest.raises(services.IncidentError, match="not a severity"):
        services.incident_declare(actor=agent, title="x", severity="SEV9", tenants=[tenant_a])
    with pytest.raises(services.IncidentError, match="title"):
        services.incident_declare(actor=agent, title="  ", severity="SEV1", tenants=[tenant_a])
    with pytest.raises(services.IncidentNotPermitted):
        services.incident_declare(actor=agent, title="x", severity="SEV1", tenants=[tenant_b])
    with pytest.raises(services.IncidentError, match="too long"):
        services.incident_declare(actor=agent, title="x", summary="y" * 20_000, severity="SEV1", tenants=[tenant_a])
    assert not Incident.objects.exists()


def test_lifecycle_moves_stamp_and_refuse(incident, agent):
    v = incident.version
    incident = services.incident_update_status(
        incident_id=incident.pk, actor=agent, to="identified", expected_version=v
    )
    assert incident.acknowledged_at and incident.version == v + 1
    with pytest.raises(services.IncidentConflict):
        services.incident_update_status(incident_id=incident.pk, actor=agent, to="mitigating", expected_version=v)
    with pytest.raises(services.IncidentError, match="cannot move"):
        services.incident_update_status(incident_id=incident.pk, actor=agent, to="investigating")
    incident = services.incident_update_status(incident_id=incident.pk, actor=agent, to="monitoring")
    assert incident.mitigated_at
    incident = services.incident_update_status(
        incident_id=incident.pk, actor=agent, to="resolved", note="fixed", public=True
    )
    assert incident.resolved_at and incident.update_due_at is None
    with pytest.raises(services.IncidentError, match="resolved"):
        services.incident_post_update(incident_id=incident.pk, actor=agent, body="more", public=True)
    incident = services.incident_update_status(incident_id=incident.pk, actor=agent, to="investigating")
    assert incident.resolved_at is None and incident.update_due_at is not None  # reopened, clock running again
    kinds = list(incident.entries.values_list("kind", flat=True))
    assert kinds.count(EntryKind.STATUS) == 4


def test_roles_and_severity(incident, agent, sre):
    incident = services.incident_assign_role(incident_id=incident.pk, actor=agent, role="comms_lead", user=sre)
    assert incident.comms_lead == sre
    incident = services.incident_assign_role(incident_id=incident.pk, actor=agent, role="commander", user=sre)
    assert incident.commander == sre
    with pytest.raises(services.IncidentError, match="Unknown role"):
        services.incident_assign_role(incident_id=incident.pk, actor=agent, role="boss", user=sre)
    incident = services.incident_set_severity(incident_id=incident.pk, actor=agent, severity="SEV2")
    assert incident.update_cadence_minutes == 12 * 60  # twice a day
    assert incident.entries.filter(kind=EntryKind.ROLE).count() == 2


def test_an_agent_cannot_touch_an_incident_of_other_tenants(tenant_b, agent, sre):
    other = services.incident_declare(actor=sre, title="Globex", severity="SEV2", tenants=[tenant_b])
    with pytest.raises(services.IncidentNotPermitted):
        services.incident_post_update(incident_id=other.pk, actor=agent, body="hi", public=False)


@pytest.mark.django_db(transaction=True)
def test_two_commanders_posting_at_once_both_keep_their_updates(role_groups):
    from tests.factories import TenantFactory

    tenant = TenantFactory()
    a = UserFactory(role="SRE")
    b = UserFactory(role="SRE")
    incident = services.incident_declare(actor=a, title="Both", severity="SEV1", tenants=[tenant])
    barrier = threading.Barrier(2)
    errors = []

    def post(user, text):
        try:
            barrier.wait()
            services.incident_post_update(incident_id=incident.pk, actor=user, body=text, public=True)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(a, "from A")), threading.Thread(target=post, args=(b, "from B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert set(
        IncidentEntry.objects.filter(incident=incident, kind=EntryKind.UPDATE).values_list("body", flat=True)
    ) == {
        "from A",
        "from B",
    }


def test_linking_both_ways_and_unlinking_is_recorded(incident, agent, tenant_a, tenant_b):
    mine = CaseFactory(tenant=tenant_a)
    foreign = CaseFactory(tenant=tenant_b)
    result = services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[mine.pk, foreign.pk])
    assert result.changed == [mine.key] and foreign.key in result.skipped
    assert list(incident.cases.all()) == [mine]
    entry = mine.interactions.get(kind=Interaction.Kind.AUTOMATION)
    assert incident.key in entry.body and entry.data["linked"] is True
    again = services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[mine.pk])
    assert again.skipped == {mine.key: f"already linked to {incident.key}"}
    services.incident_unlink_case(incident_id=incident.pk, actor=agent, case_id=mine.pk, reason="not related")
    assert not incident.cases.exists()
    assert mine.interactions.filter(data__linked=False).count() == 1
    assert incident.entries.filter(kind=EntryKind.UNLINK, body="not related").exists()


def test_create_from_case_uses_the_mapping_and_links(critical_case, agent):
    incident = services.incident_declare_from_case(case_id=critical_case.pk, actor=agent)
    assert incident.severity == "SEV1" and incident.title == critical_case.subject
    assert list(incident.cases.all()) == [critical_case]
    assert [r.external_id for r in incident.resources.all()] == ["api-eu"]
    assert incident.declared_from == critical_case
    assert critical_case.interactions.filter(data__incident=incident.key).exists()
    SeverityMapping.objects.filter(priority=Priority.MEDIUM).update(severity="SEV2")  # an admin edit
    medium = CaseFactory(tenant=critical_case.tenant, priority=Priority.MEDIUM)
    assert services.incident_declare_from_case(case_id=medium.pk, actor=agent).severity == "SEV2"
    low = CaseFactory(tenant=critical_case.tenant, priority=Priority.LOW)
    assert services.incident_declare_from_case(case_id=low.pk, actor=agent, severity="SEV1").severity == "SEV1"


def test_customer_update_one_reply_per_open_case_in_its_channel(
    incident, agent, tenant_a, django_capture_on_commit_callbacks
):
    email = CaseFactory(tenant=tenant_a, channel="email", status=Status.IN_PROGRESS, priority=Priority.CRITICAL)
    slack = CaseFactory(tenant=tenant_a, channel="slack", status=Status.IN_PROGRESS)
    closed = CaseFactory(tenant=tenant_a, status=Status.CLOSED)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[email.pk, slack.pk, closed.pk])
    before = incident.update_due_at
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.incident_customer_update(
            incident_id=incident.pk,
            actor=agent,
            text=services.template_text("status"),
            extra={"message": "We rolled back the deploy."},
            publish="Rolled back; monitoring.",
            template="status",
        )
    for case in (email, slack):
        replies = list(case.interactions.filter(kind=Interaction.Kind.REPLY))
        assert len(replies) == 1
        reply = replies[0]
        assert reply.public and reply.channel == case.channel and reply.data["incident"] == incident.key
        assert f"Hi {case.requester.name}" in reply.body and case.key in reply.body
        assert "We rolled back the deploy." in reply.body
        case.refresh_from_db()
        assert case.first_response_at is not None  # counted as the case's reply for its SLA clocks
    assert not closed.interactions.filter(kind=Interaction.Kind.REPLY).exists()
    entry.refresh_from_db()
    assert entry.data["sent"] == 2 and CustomerDelivery.objects.filter(entry=entry).count() == 2
    incident.refresh_from_db()
    assert incident.update_due_at > before  # the incident's own cadence clock restarted
    assert incident.entries.filter(kind=EntryKind.UPDATE, public=True, body="Rolled back; monitoring.").exists()
    # Sending again (a redelivered task) tells nobody twice.
    assert services.send_customer_update(entry_id=entry.pk, actor_id=agent.pk)["sent"] == 0
    assert email.interactions.filter(kind=Interaction.Kind.REPLY).count() == 1


def test_customer_update_refuses_an_unknown_variable(incident, agent, tenant_a):
    case = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case.pk])
    with pytest.raises(services.IncidentError, match="Unknown variable"):
        services.incident_customer_update(
            incident_id=incident.pk, actor=agent, text="Hi {{ case.tenant.secret }}", extra={}
        )
    with pytest.raises(services.IncidentError, match="Unknown variable"):
        services.incident_customer_update(incident_id=incident.pk, actor=agent, text="Hi {{ password }}", extra={})


def test_resolve_with_cases_moves_the_open_ones_and_names_the_rest(incident, agent, tenant_a):
    ready = CaseFactory(
        tenant=tenant_a,
        status=Status.IN_PROGRESS,
        category="performance",
        issue_type="incident",
        environment="production",
    )
    untriaged = CaseFactory(tenant=tenant_a, status=Status.NEW)
    unclassified = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS, unclassified=["category"])
    services.incident_link_cases(
        incident_id=incident.pk, actor=agent, case_ids=[ready.pk, untriaged.pk, unclassified.pk]
    )
    result = services.incident_resolve(
        incident_id=incident.pk,
        actor=agent,
        resolve_cases=True,
        extra={"root_cause": "a bad deploy", "solution": "rolled back", "verification": "error rate 0%"},
    )
    assert result.incident.status == "resolved"
    assert result.resolved == [ready.key]
    assert set(result.skipped) == {untriaged.key, unclassified.key}
    ready.refresh_from_db()
    unclassified.refresh_from_db()
    assert ready.status == Status.RESOLVED and unclassified.status == Status.IN_PROGRESS
    reply = ready.interactions.get(kind=Interaction.Kind.REPLY)
    assert "a bad deploy" in reply.body and "rolled back" in reply.body
    assert not unclassified.interactions.filter(kind=Interaction.Kind.REPLY).exists()  # rolled back with the move


def test_corrective_actions(incident, agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    action = services.corrective_action_add(
        incident_id=incident.pk,
        actor=agent,
        title="Canary deploys",
        owner=agent,
        due_on=timezone.localdate(),
        case_id=case.pk,
    )
    action = services.corrective_action_update(action_id=action.pk, actor=agent, status="done", expected_version=1)
    assert action.status == "done"
    with pytest.raises(services.IncidentConflict):
        services.corrective_action_update(action_id=action.pk, actor=agent, status="open", expected_version=1)


def test_cadence_sweep_warns_then_breaches_once(incident):
    due = incident.update_due_at
    assert services.cadence_sweep(now=due - timedelta(minutes=30)) == {"warned": 0, "breached": 0}
    assert services.cadence_sweep(now=due - timedelta(minutes=5)) == {"warned": 1, "breached": 0}
    assert services.cadence_sweep(now=due - timedelta(minutes=4)) == {"warned": 0, "breached": 0}
    assert services.cadence_sweep(now=due + timedelta(minutes=1)) == {"warned": 0, "breached": 1}
    assert services.cadence_sweep(now=due + timedelta(minutes=2)) == {"warned": 0, "breached": 0}
    assert CadenceMark.objects.filter(incident=incident).count() == 2
    assert incident.entries.filter(kind=EntryKind.CADENCE).count() == 2


def test_cadence_sweep_warns_the_commander_through_the_outbox_exactly_once(tenant_a, agent, settings, mailoutbox):
    from cases.models import Notification
    from cases.sla.sweep import send_pending_notifications

    settings.SLACK_WEBHOOK_URL = ""
    agent.email = "kari@example.com"
    agent.save()
    lead = UserFactory(username="lea", role="SRE", email="lea@example.com")
    incident = services.incident_declare(actor=agent, title="Gateway down", severity="SEV1", tenants=[tenant_a])
    services.incident_assign_role(incident_id=incident.pk, actor=agent, role="comms_lead", user=lead)
    due = Incident.objects.get(pk=incident.pk).update_due_at
    services.cadence_sweep(now=due - timedelta(minutes=5))
    services.cadence_sweep(now=due - timedelta(minutes=4))  # nothing new: once per due time
    warning = Notification.objects.get()
    assert warning.recipient == "kari@example.com" and warning.case_id is None
    assert warning.subject.startswith(f"{incident.key}: customer update due")
    assert f"/incidents/{incident.key}/" in warning.body
    entry = incident.entries.filter(kind=EntryKind.CADENCE).get()
    assert entry.data["actions"] == ["notified kari@example.com"]
    services.cadence_sweep(now=due + timedelta(minutes=1))
    services.cadence_sweep(now=due + timedelta(minutes=2))
    overdue = Notification.objects.filter(subject__contains="overdue")
    assert sorted(overdue.values_list("recipient", flat=True)) == ["kari@example.com", "lea@example.com"]
    assert send_pending_notifications(now=due + timedelta(minutes=3)) == 3
    assert send_pending_notifications(now=due + timedelta(minutes=4)) == 0
    assert len(mailoutbox) == 3 and "overdue" in mailoutbox[-1].subject
    assert "UTC" in mailoutbox[0].subject or ":" in mailoutbox[0].subject  # the due time, rendered


def test_cadence_warning_without_a_commander_goes_to_the_managers_and_slack(tenant_a, sre, settings):
    from cases.models import Notification

    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.example/T/B/x"
    UserFactory(username="mona", role="manager", email="mona@example.com")
    incident = services.incident_declare(actor=sre, title="Queue backlog", severity="SEV1", tenants=[tenant_a])
    services.incident_assign_role(incident_id=incident.pk, actor=sre, role="commander", user=None)
    due = Incident.objects.get(pk=incident.pk).update_due_at
    services.cadence_sweep(now=due - timedelta(minutes=5))
    assert sorted(Notification.objects.values_list("channel", "recipient")) == [
        ("email", "mona@example.com"),
        ("slack", "https://hooks.slack.example/T/B/x"),
    ]


def test_create_from_case_prefers_the_cases_own_severity(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a, priority=Priority.LOW)
    from cases.services import case_classify

    case_classify(case_id=case.pk, actor=agent, severity="sev1")
    case.refresh_from_db()
    assert case.get_severity_display() == "Sev-1"
    assert services.incident_declare_from_case(case_id=case.pk, actor=agent).severity == "SEV1"


def test_a_timeline_only_change_keeps_the_version(incident, agent, tenant_a):
    v = incident.version
    services.incident_post_update(incident_id=incident.pk, actor=agent, body="note", public=False)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[CaseFactory(tenant=tenant_a).pk])
    # The commander's form, opened before both, still moves the incident.
    moved = services.incident_update_status(incident_id=incident.pk, actor=agent, to="identified", expected_version=v)
    assert moved.version == v + 1
