"""Issue 14's gap on engineering escalation: a component's on-call schedule is a real foreign key to
incidents.oncall's Schedule, edited on the ownership map with a select, and an escalation notifies
whoever is on call for it now — the owning team when there is no schedule or nobody is on call."""

from datetime import date, time, timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cases.models import Notification
from incidents.escalations import handoff, services
from incidents.escalations.models import Component, EngineeringTaskEntry
from incidents.oncall import services as oncall_services
from incidents.oncall.models import Schedule
from tests.conftest import login
from tests.factories import UserFactory


@pytest.fixture
def rota(db, engineer, ingest_team):
    """A daily rotation of two engineers of the team (hand-off 00:00 UTC), so who is on call today is
    computable; dana is on call on even days since the start, eli on odd ones."""
    dana = UserFactory(username="dana", first_name="Dana", email="dana@companyos.example", role="engineer")
    ingest_team.members.add(dana)
    schedule = oncall_services.schedule_create(actor=engineer, name="Ingest on-call", timezone_name="UTC")
    oncall_services.layer_add(
        actor=engineer,
        schedule_id=schedule.pk,
        participants=[dana, engineer],
        start_date=date(2026, 1, 1),
        handoff_time=time(0, 0),
        handoff_weekday=None,
        length=1,
        unit="days",
    )
    today = timezone.now().date()
    on_call = dana if (today - date(2026, 1, 1)).days % 2 == 0 else engineer
    return schedule, on_call


def _escalate(case, actor, component):
    items = handoff.prefill(case, url=f"https://console.example{case.get_absolute_url()}")
    items.pop("affected_sources")
    return services.task_escalate(case_id=case.pk, actor=actor, component_id=component.pk, **items)


def test_an_escalation_notifies_the_schedules_on_call_person_only(critical_case, agent, component, rota, ingest_team):
    schedule, on_call = rota
    component.oncall_schedule = schedule
    component.save()
    task = _escalate(critical_case, agent, component)
    emails = set(Notification.objects.filter(case=critical_case, channel="email").values_list("recipient", flat=True))
    assert emails == {on_call.email}  # not the team's other members, not its manager
    entry = EngineeringTaskEntry.objects.get(task=task, kind="created")
    assert f"notified {on_call.first_name}" in entry.body and f"on call for {schedule.name}" in entry.body
    # An override puts someone else on call: the next notification (information added) goes to them.
    cover = UserFactory(username="cover", email="cover@companyos.example")
    now = timezone.now()
    oncall_services.override_add(
        actor=agent, schedule_id=schedule.pk, user=cover, start=now - timedelta(hours=1), end=now + timedelta(hours=1)
    )
    Notification.objects.all().delete()
    services.task_answer(task_id=task.pk, actor=agent, body="The customer sent the HAR file")
    assert list(Notification.objects.filter(channel="email").values_list("recipient", flat=True)) == [cover.email]


def test_without_a_schedule_or_anyone_on_call_the_team_is_told(critical_case, tenant_a, agent, component, engineer):
    task = _escalate(critical_case, agent, component)
    emails = set(Notification.objects.filter(case=critical_case, channel="email").values_list("recipient", flat=True))
    assert emails == {engineer.email, "lena@companyos.example"}  # the members and the manager
    assert "team Ingest (no on-call schedule)" in EngineeringTaskEntry.objects.get(task=task, kind="created").body
    # A schedule with nobody on call (its only layer starts next year): the team again, and it says why.
    empty = oncall_services.schedule_create(actor=engineer, name="Not yet", timezone_name="UTC")
    oncall_services.layer_add(
        actor=engineer, schedule_id=empty.pk, participants=[engineer], start_date=date.today() + timedelta(days=365)
    )
    other = Component.objects.create(name="Billing", team=component.team, oncall_schedule=empty)
    from tests.factories import CaseFactory

    second = CaseFactory(tenant=tenant_a, priority=1, category="billing")
    task = _escalate(second, agent, other)
    emails = set(Notification.objects.filter(case=second, channel="email").values_list("recipient", flat=True))
    assert emails == {engineer.email, "lena@companyos.example"}
    assert "nobody on call for Not yet" in EngineeringTaskEntry.objects.get(task=task, kind="created").body


def test_deleting_a_schedule_leaves_the_component_on_its_team(component, rota):
    schedule, _ = rota
    component.oncall_schedule = schedule
    component.save()
    schedule.delete()
    component.refresh_from_db()
    assert component.oncall_schedule is None


def test_the_map_shows_the_schedule_and_who_is_on_call_and_admins_edit_it(component, rota, admin_user, manager):
    schedule, on_call = rota
    client = login(admin_user)
    body = client.get("/incidents/escalations/components/").content.decode()
    assert f'<option value="{schedule.pk}">Ingest on-call</option>' in body  # the select, nothing chosen yet
    response = client.post(
        f"/incidents/escalations/components/{component.pk}/schedule/", {"schedule": schedule.pk, "was": ""}
    )
    assert response.status_code == 302
    component.refresh_from_db()
    assert component.oncall_schedule == schedule
    body = client.get("/incidents/escalations/components/").content.decode()
    assert f'<option value="{schedule.pk}" selected>' in body and f"<b>{on_call.first_name}" in body
    change = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Component), object_pk=str(component.pk)
    ).latest("timestamp")
    assert "oncall_schedule" in change.changes and change.actor == admin_user
    # A manager sets it back to none.
    response = login(manager).post(
        f"/incidents/escalations/components/{component.pk}/schedule/", {"schedule": "", "was": schedule.pk}
    )
    assert response.status_code == 302
    component.refresh_from_db()
    assert component.oncall_schedule is None


def test_map_edit_refusals(component, rota, admin_user, agent):
    schedule, _ = rota
    url = f"/incidents/escalations/components/{component.pk}/schedule/"
    assert login(agent).post(url, {"schedule": schedule.pk, "was": ""}).status_code == 403
    body = login(agent).get("/incidents/escalations/components/").content.decode()
    assert 'name="schedule"' not in body  # no select for those who may not edit
    client = login(admin_user)
    response = client.post(url, {"schedule": "999999", "was": ""})
    assert response.status_code == 422 and "Choose an existing on-call schedule" in response.content.decode()
    response = client.post(url, {"schedule": "not a number", "was": ""})
    assert response.status_code == 422
    # Stale: someone set it meanwhile.
    Component.objects.filter(pk=component.pk).update(oncall_schedule=schedule)
    response = client.post(url, {"schedule": "", "was": ""})
    assert response.status_code == 409 and "changed by someone else" in response.content.decode()
    assert Component.objects.get(pk=component.pk).oncall_schedule_id == schedule.pk
    assert client.post("/incidents/escalations/components/999999/schedule/", {"schedule": ""}).status_code == 422
    assert Schedule.objects.count() == 1


def test_the_notified_on_call_person_may_open_the_task_outside_the_team(critical_case, agent, component, rota):
    """The schedule's on-call person need not be in the owning team nor see the tenant: the task is
    addressed to them, so its page opens for them (and for nobody else outside)."""
    schedule, _ = rota
    outsider = UserFactory(username="otto", first_name="Otto", email="otto@companyos.example", role="engineer")
    now = timezone.now()
    start, end = now - timedelta(hours=1), now + timedelta(hours=2)
    oncall_services.override_add(actor=agent, schedule_id=schedule.pk, user=outsider, start=start, end=end)
    component.oncall_schedule = schedule
    component.save()
    task = _escalate(critical_case, agent, component)
    assert list(Notification.objects.filter(channel="email").values_list("recipient", flat=True)) == [outsider.email]
    assert login(outsider).get(task.get_absolute_url()).status_code == 200
    stranger = UserFactory(username="sven", role="engineer")
    assert login(stranger).get(task.get_absolute_url()).status_code == 404
