"""Engineering escalation (issue 14 point 7): the case's eight handoff items prefilled, the task
routed to the component's team with a notification on the outbox, engineering's decisions with the
rejection rate, the update cadence clock breaching once per due time, visibility by tenant (404 and
audited outside it), the case page's panel, a corrective action linked to a task."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cases.choices import Priority
from cases.models import Interaction, Notification
from incidents import services as incident_services
from incidents.escalations import handoff, selectors, services
from incidents.escalations.models import EngineeringTask, EngineeringTaskEntry, TaskCadenceMark
from tests.conftest import login
from tests.factories import CaseFactory, InteractionFactory, UserFactory


def _escalate(case, actor, component, **overrides):
    items = handoff.prefill(case, url=f"https://console.example{case.get_absolute_url()}")
    items.pop("affected_sources")
    items.update(overrides)
    return services.task_escalate(case_id=case.pk, actor=actor, component_id=component.pk, **items)


def test_prefill_carries_the_eight_items_from_the_case(critical_case, tenant_a, tenant_b):
    InteractionFactory(case=critical_case, kind=Interaction.Kind.NOTE, body="Raised the quota to 2000/min; no change")
    # One similar case at another tenant (same error code), one at the same tenant: two customers more… but
    # the same tenant counts once.
    CaseFactory(tenant=tenant_b, subject="Batch upload 503 ERR_THROTTLED again")
    CaseFactory(tenant=tenant_a, subject="Ingest batch upload returns 503")
    items = handoff.prefill(critical_case, url="https://console.example/cases/x/")
    assert items["ticket"].startswith(critical_case.key) and "https://console.example/cases/x/" in items["ticket"]
    assert "Acme Corp (acme)" in items["account"] and critical_case.requester.email in items["account"]
    assert "POST /v1/batch" in items["reproduction"]
    assert "503" in items["errors"] and "ERR_THROTTLED" in items["errors"]
    assert items["occurrences"].startswith("Opened ")
    assert items["affected_customers"] == 2  # Acme and Globex
    assert items["affected_sources"]["similar_tenants"] == 1
    assert "Priority critical" in items["impact"] and "2 customer(s) affected" in items["impact"]
    assert "Raised the quota" in items["tried"]


def test_prefill_references_the_cases_trace_bundles_by_id(critical_case, agent):
    """Issue 16 point 4: a bundle's id can be referenced by an engineering task — the upload's
    timeline entry (runbooks.diagnostics records {"trace_bundle": id}) is read from the case."""
    from cases import services as case_services

    case_services.case_record_event(
        case_id=critical_case.pk, actor=agent, body="Trace bundle trace-x.zip uploaded", data={"trace_bundle": 4711}
    )
    items = handoff.prefill(critical_case, url="https://console.example/cases/x/")
    assert "Trace bundles: #4711 /runbooks/bundles/4711/" in items["errors"]


def test_affected_customers_counts_the_tenants_of_cases_linked_to_its_incidents(critical_case, tenant_b):
    other = CaseFactory(tenant=tenant_b, subject="Unrelated words entirely")
    sre = UserFactory(role="SRE")
    incident = incident_services.incident_declare(actor=sre, title="Ingest down", severity="SEV1")
    incident_services.incident_link_cases(incident_id=incident.pk, actor=sre, case_ids=[critical_case.pk, other.pk])
    count, sources = handoff.affected_customers(critical_case)
    assert count == 2 and sources["incident_tenants"] == 1


def test_escalating_creates_the_task_routed_and_notified(critical_case, agent, component, engineer):
    task = _escalate(critical_case, agent, component)
    assert task.team == component.team and task.tracker_project == "ING" and task.status == "open"
    assert task.affected_customers >= 1 and task.account and task.errors and task.reproduction
    assert [label for label, _ in task.handoff] == [
        "ticket id and link",
        "customer account identifier",
        "reproduction steps",
        "error messages and logs",
        "timestamps of occurrences",
        "number of affected customers",
        "impact assessment",
        "what has already been tried",
    ]
    # The cadence clock: 4 h for critical (seed 003).
    assert task.cadence_minutes == 240 and task.update_due_at > timezone.now() + timedelta(minutes=239)
    # The team's on-call (members and manager today) is told through the cases outbox.
    recipients = set(Notification.objects.filter(case=critical_case).values_list("recipient", flat=True))
    assert {engineer.email, "lena@companyos.example"} <= recipients
    entry = Interaction.objects.filter(case=critical_case, kind=Interaction.Kind.AUTOMATION).last()
    assert task.key in entry.body and entry.data["engineering_task"] == task.pk
    with pytest.raises(services.EscalationError, match="already escalated"):
        _escalate(critical_case, agent, component)


def test_escalation_refuses_bad_input(critical_case, agent, component, tenant_b):
    with pytest.raises(services.EscalationError, match="Write the customer account"):
        _escalate(critical_case, agent, component, account="  ")
    with pytest.raises(services.EscalationError, match="At least one customer"):
        _escalate(critical_case, agent, component, affected_customers=0)
    hidden = CaseFactory(tenant=tenant_b)
    with pytest.raises(services.EscalationError, match="not visible"):
        _escalate(hidden, agent, component)
    assert not EngineeringTask.objects.exists()


def test_high_has_a_daily_cadence_and_medium_none(tenant_a, agent, component):
    high = _escalate(CaseFactory(tenant=tenant_a, priority=Priority.HIGH), agent, component)
    medium = _escalate(CaseFactory(tenant=tenant_a, priority=Priority.MEDIUM), agent, component)
    assert high.cadence_minutes == 24 * 60 and medium.cadence_minutes is None and medium.update_due_at is None


def test_decisions_accept_ask_reject_with_reasons(critical_case, agent, component, engineer):
    task = _escalate(critical_case, agent, component)
    with pytest.raises(services.EscalationError, match="Only engineering"):
        services.task_decide(task_id=task.pk, actor=agent, to="accepted")
    with pytest.raises(services.EscalationError, match="Write the reason"):
        services.task_decide(task_id=task.pk, actor=engineer, to="rejected", reason=" ")
    task = services.task_decide(task_id=task.pk, actor=engineer, to="info_requested", reason="Which region?")
    assert task.status == "info_requested" and task.decided_at is None
    task = services.task_answer(task_id=task.pk, actor=agent, body="eu-west")
    assert task.status == "open"
    with pytest.raises(services.EscalationConflict):
        services.task_decide(task_id=task.pk, actor=engineer, to="accepted", expected_version=task.version - 1)
    task = services.task_decide(task_id=task.pk, actor=engineer, to="rejected", reason="Working as designed: quota")
    assert task.status == "rejected" and task.reason.startswith("Working") and task.update_due_at is None
    with pytest.raises(services.EscalationError, match="can move to nothing"):
        services.task_decide(task_id=task.pk, actor=engineer, to="accepted")
    kinds = list(EngineeringTaskEntry.objects.filter(task=task).values_list("kind", flat=True))
    assert kinds == ["created", "decision", "answer", "decision"]
    assert Interaction.objects.filter(case=critical_case, body__contains="rejected by Eli Eng").exists()


def test_team_member_without_engineer_role_may_decide(critical_case, agent, component):
    member = UserFactory(username="tm", role="senior agent", tenants=[critical_case.tenant])
    component.team.members.add(member)
    task = _escalate(critical_case, agent, component)
    assert services.task_decide(task_id=task.pk, actor=member, to="accepted").status == "accepted"


def test_rejection_rate(tenant_a, agent, component, engineer):
    tasks = [_escalate(CaseFactory(tenant=tenant_a), agent, component) for _ in range(4)]
    services.task_decide(task_id=tasks[0].pk, actor=engineer, to="rejected", reason="dup")
    services.task_decide(task_id=tasks[1].pk, actor=engineer, to="accepted")
    services.task_decide(task_id=tasks[2].pk, actor=engineer, to="accepted")
    services.task_decide(task_id=tasks[2].pk, actor=engineer, to="done")
    rate = selectors.rejection_rate(engineer)
    assert (rate["escalated"], rate["decided"], rate["rejected"], rate["pct"]) == (4, 3, 1, 33.3)
    assert rate["teams"][0]["team__name"] == "Ingest"


def test_cadence_breaches_once_and_an_update_restarts_it(critical_case, agent, component, engineer):
    task = _escalate(critical_case, agent, component)
    due = task.update_due_at
    assert services.cadence_sweep(now=due - timedelta(minutes=40)) == {"warned": 0, "breached": 0}
    assert services.cadence_sweep(now=due - timedelta(minutes=10)) == {"warned": 1, "breached": 0}
    assert services.cadence_sweep(now=due - timedelta(minutes=5)) == {"warned": 0, "breached": 0}
    before = Notification.objects.count()
    assert services.cadence_sweep(now=due + timedelta(minutes=1)) == {"warned": 0, "breached": 1}
    assert services.cadence_sweep(now=due + timedelta(minutes=2)) == {"warned": 0, "breached": 0}
    assert TaskCadenceMark.objects.filter(task=task, due_at=due).count() == 2
    assert Notification.objects.count() > before
    assert Interaction.objects.filter(case=critical_case, data__cadence="breach").count() == 1
    task = services.task_update(task_id=task.pk, actor=engineer, body="Found it: a bad throttle config")
    assert task.update_due_at >= due
    assert services.cadence_sweep(now=task.update_due_at - timedelta(minutes=40)) == {"warned": 0, "breached": 0}
    # A new due time is a new clock: it warns and breaches again, once.
    assert services.cadence_sweep(now=task.update_due_at + timedelta(minutes=1)) == {"warned": 0, "breached": 1}
    with pytest.raises(services.EscalationError, match="Only engineering"):
        services.task_update(task_id=task.pk, actor=agent, body="x")


def test_a_decided_task_stops_its_clock(critical_case, agent, component, engineer):
    task = _escalate(critical_case, agent, component)
    due = task.update_due_at
    services.task_decide(task_id=task.pk, actor=engineer, to="rejected", reason="not ours")
    assert services.cadence_sweep(now=due + timedelta(hours=1)) == {"warned": 0, "breached": 0}


# --- the pages ------------------------------------------------------------------------------------------


def _accesses(model, **filters):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), action=LogEntry.Action.ACCESS, **filters
    )


def test_escalate_page_prefills_and_posts(critical_case, agent, component):
    client = login(agent)
    response = client.get(f"/incidents/escalations/case/{critical_case.key}/escalate/")
    body = response.content.decode()
    assert response.status_code == 200 and "ERR_THROTTLED" in body and "POST /v1/batch" in body
    assert f'<option value="{component.pk}" selected>' in body  # the ownership map's default for the category
    bad = client.post(
        f"/incidents/escalations/case/{critical_case.key}/escalate/", {"component": component.pk, "title": "x"}
    )
    assert bad.status_code == 422 and not EngineeringTask.objects.exists()
    data = {
        "component": component.pk,
        "title": "Batch 503",
        "ticket": critical_case.key,
        "account": "Acme",
        "affected_customers": "3",
        "reproduction": "POST /v1/batch",
    }
    response = client.post(f"/incidents/escalations/case/{critical_case.key}/escalate/", data)
    task = EngineeringTask.objects.get()
    assert response.status_code == 302 and response["Location"] == task.get_absolute_url()
    assert task.affected_customers == 3


def test_task_page_list_and_decision_forms(critical_case, agent, component, engineer, django_assert_max_num_queries):
    task = _escalate(critical_case, agent, component)
    client = login(engineer)
    client.get(task.get_absolute_url())
    with django_assert_max_num_queries(12):
        body = client.get(task.get_absolute_url()).content.decode()
    assert "Ask for more information" in body and "Reject" in body and "ERR_THROTTLED" in body
    assert _accesses(EngineeringTask, object_pk=str(task.pk), additional_data__view="engineering task").exists()
    refused = client.post(
        f"{task.get_absolute_url()}decide/", {"to": "rejected", "reason": "", "version": task.version}
    )
    assert refused.status_code == 422 and "Write the reason" in refused.content.decode()
    ok = client.post(f"{task.get_absolute_url()}decide/", {"to": "rejected", "reason": "dup", "version": task.version})
    assert ok.status_code == 302
    listing = login(agent).get("/incidents/escalations/").content.decode()
    assert task.key in listing and "100.0 %" in listing
    # The agent sees the task but no decision forms.
    page = login(agent).get(task.get_absolute_url()).content.decode()
    assert 'data-decision="accepted"' not in page


def test_task_of_another_tenant_is_404_and_audited(tenant_b, component, engineer, agent):
    other = _escalate(CaseFactory(tenant=tenant_b), UserFactory(role="SRE"), component)
    assert login(engineer).get(other.get_absolute_url()).status_code == 200  # routed to the engineer's team
    assert login(engineer).get(f"/cases/CS-{other.case_id}/").status_code == 404  # …but not the case
    assert login(agent).get(other.get_absolute_url()).status_code == 404
    assert login(agent).get("/incidents/escalations/ENG-zz/").status_code == 404
    ct = ContentType.objects.get_for_model(EngineeringTask)
    assert LogEntry.objects.filter(content_type=ct, object_pk=str(other.pk), additional_data__denied=True).exists()
    assert other.key not in login(agent).get("/incidents/escalations/").content.decode()
    assert login(agent).post(f"{other.get_absolute_url()}answer/", {"body": "x"}).status_code == 404


def test_case_page_loads_the_engineering_panel(critical_case, agent, component):
    task = _escalate(critical_case, agent, component)
    client = login(agent)
    assert (
        f"/incidents/escalations/case/{critical_case.key}/panel/"
        in client.get(critical_case.get_absolute_url()).content.decode()
    )
    panel = client.get(f"/incidents/escalations/case/{critical_case.key}/panel/").content.decode()
    assert task.key in panel and "Escalate to engineering" in panel


def test_corrective_action_links_an_engineering_task(critical_case, agent, component, engineer):
    task = _escalate(critical_case, agent, component)
    incident = incident_services.incident_declare(
        actor=agent, title="Ingest", severity="SEV2", tenants=[critical_case.tenant]
    )
    action = incident_services.corrective_action_add(incident_id=incident.pk, actor=agent, title="Fix throttle")
    client = login(agent)
    response = client.post(f"/incidents/escalations/action/{incident.key}/{action.pk}/link/", {"task": task.key})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.engineering_task == task
    assert task.key in client.get(incident.get_absolute_url()).content.decode()
    client.post(f"/incidents/escalations/action/{incident.key}/{action.pk}/link/", {"task": "ENG-999999"})
    action.refresh_from_db()
    assert action.engineering_task == task  # refused: unchanged


def test_reports_section_shows_the_rejection_rate(tenant_a, agent, component, engineer, manager):
    task = _escalate(CaseFactory(tenant=tenant_a), agent, component)
    services.task_decide(task_id=task.pk, actor=engineer, to="rejected", reason="dup")
    body = login(manager).get("/reports/").content.decode()
    assert "Engineering escalations" in body
