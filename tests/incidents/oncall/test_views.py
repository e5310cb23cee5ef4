"""The schedule pages, the iCal feeds, the SLA action and intake paging."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from cases.models import Notification
from cases.sla import actions
from cases.sla.models import SLAPolicy
from incidents.oncall import ical, services
from incidents.oncall.models import Page
from incidents.oncall.sla import page_through_chain
from tests.conftest import login


@pytest.mark.django_db
def test_schedule_list_and_page_show_who_is_on_call(schedule, people):
    client = login(people[0])
    response = client.get("/oncall/")
    assert response.status_code == 200
    assert b"SRE primary" in response.content
    response = client.get(f"/oncall/schedules/{schedule.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="on-call-now"' in text and "Final" in text and "oc-bar" in text
    assert client.get("/oncall/schedules/999999/").status_code == 404
    assert client.get(f"/oncall/schedules/{schedule.pk}/?week=abc").status_code == 200


@pytest.mark.django_db
def test_override_form_in_local_time_and_bad_input(schedule, people):
    client = login(people[0])
    url = f"/oncall/schedules/{schedule.pk}/overrides/"
    response = client.post(url, {"user": people[3].pk, "start": "2026-03-04T18:00", "end": "2026-03-04T17:00"})
    assert response.status_code == 422 and b"ends after it starts" in response.content
    response = client.post(url, {"user": people[3].pk, "start": "2026-03-04T18:00", "end": "2026-03-05T06:00"})
    assert response.status_code == 302
    override = schedule.overrides.get()
    assert override.start == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)  # 18:00 in Oslo (CET)


@pytest.mark.django_db
def test_agents_cannot_edit_schedules(schedule, agent):
    client = login(agent)
    assert client.post(f"/oncall/schedules/{schedule.pk}/overrides/", {}).status_code == 403


@pytest.mark.django_db
def test_ical_feeds(client, schedule, people):
    response = client.get(f"/oncall/link/ical/{schedule.ical_token}.ics")  # no sign-in
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) >= 9  # nine weeks of weekly shifts
    starts = sorted(e.decoded("dtstart") for e in events)
    assert all(
        b - a == timedelta(weeks=1) or b - a in (timedelta(hours=167), timedelta(hours=169))
        for a, b in zip(starts[1:], starts[2:])
    )
    assert client.get("/oncall/link/ical/nope.ics").status_code == 404
    mine = client.get(f"/oncall/link/ical/person/{ical.person_token(people[1].pk)}.ics")
    events = Calendar.from_ical(mine.content).walk("VEVENT")
    assert events and all("Bob" in str(e["summary"]) for e in events)
    assert client.get("/oncall/link/ical/person/forged.ics").status_code == 404


@pytest.mark.django_db
def test_sla_page_action_opens_a_page_through_the_chain(chain, case_a):
    assert actions.breach_action(SLAPolicy.Escalation.PAGE_CRITICAL) is page_through_chain
    case_a.priority = 1
    breach = actions.Breach(
        case={"pk": case_a.pk, "priority": 1, "escalation_team": None},
        key=case_a.key,
        headline="resolution breached",
        body="Breached.",
        escalation_id=None,
        now=datetime.now(UTC),
    )
    notes = page_through_chain(breach)
    assert notes == ["paged on-call through SRE chain"]
    for follow_up in breach.follow_ups:
        follow_up()
    page = Page.objects.get(case=case_a)
    assert page.source == Page.Source.SLA and page.steps.count() == 1
    breach.case["priority"] = 3
    assert page_through_chain(breach) == []


@pytest.mark.django_db
def test_without_a_chain_the_built_in_page_still_runs(case_a, people):
    breach = actions.Breach(
        case={"pk": case_a.pk, "priority": 1, "escalation_team": None},
        key=case_a.key,
        headline="breached",
        body="Breached.",
        escalation_id=None,
        now=datetime.now(UTC),
    )
    assert page_through_chain(breach) == [f"paged on-call ({len(breach.notifications)})"]


@pytest.mark.django_db(transaction=True)
def test_a_critical_or_security_case_pages_at_intake(chain, tenant_a, agent):
    from cases import services as case_services
    from tests.factories import RequesterFactory

    requester = RequesterFactory(tenant=tenant_a)
    normal = case_services.case_create(
        actor=agent, tenant=tenant_a, requester=requester, subject="How do I?", priority=3
    )
    assert not Page.objects.filter(case=normal).exists()
    critical = case_services.case_create(actor=agent, tenant=tenant_a, requester=requester, subject="Down", priority=1)
    page = Page.objects.get(case=critical)
    assert (
        page.source == Page.Source.INTAKE
        and Notification.objects.filter(subject__startswith=f"PAGE #{page.pk}").exists()
    )
    security = case_services.case_create(
        actor=agent, tenant=tenant_a, requester=requester, subject="Leaked key", priority=3, tags=["security"]
    )
    assert Page.objects.filter(case=security, source=Page.Source.INTAKE).exists()


@pytest.mark.django_db
def test_pages_list_acknowledge_button(chain, people):
    page = services.page_open(actor=people[0], title="Disk full", chain=chain)
    client = login(people[1])
    response = client.get("/oncall/pages/")
    assert response.status_code == 200 and b"Acknowledge" in response.content
    response = client.post(f"/oncall/pages/{page.pk}/ack/", {"next": "/oncall/pages/"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.status == Page.Status.ACKNOWLEDGED and page.acknowledged_by == people[1]
    response = client.post(f"/oncall/pages/{page.pk}/ack/")
    assert response.status_code == 409 and b"already acknowledged" in response.content
    assert client.get(f"/oncall/pages/{page.pk}/").status_code == 200


@pytest.mark.django_db
def test_tier_routing_default_and_escalate_with_a_reason(chain, people, case_a):
    from incidents.oncall import tiers

    case_a.priority = 2
    case_a.save(update_fields=["priority"])
    assert tiers.current_tier(case_a)[0] == 2  # high → senior (tier 2)
    client = login(people[0])
    url = f"/oncall/case/{case_a.key}/tier/"
    assert client.post(url, {"tier": 3, "reason": ""}).status_code == 422  # the reason is required
    assert client.post(url, {"tier": 2, "reason": "again"}).status_code == 422  # there already
    assert client.post(url, {"tier": "x", "reason": "r"}).status_code == 422
    response = client.post(url, {"tier": 3, "reason": "Customer not satisfied with the workaround"})
    assert response.status_code == 302
    tier, how = tiers.current_tier(case_a)
    assert tier == 3 and "not satisfied" in how
    entry = case_a.interactions.filter(data__has_key="tier").get()
    assert entry.data["from_tier"] == 2 and "Tier 3" in entry.body
    assert Page.objects.filter(case=case_a).exists()  # tier 3: the full team, on-call paged
    panel = client.get(f"/incidents/case/{case_a.key}/panel/").content.decode()
    assert 'data-tier="3"' in panel
