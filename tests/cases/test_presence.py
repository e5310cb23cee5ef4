"""Agent collision (issue 9, point 21): who else has a case open and who is typing, through the
cache; the case page's heartbeat endpoint; tenant scoping."""

import pytest
from auditlog.models import LogEntry

from cases import presence
from tests.conftest import login
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(tenant_a):
    case = CaseFactory(tenant=tenant_a)
    yield case
    presence.cache.delete(presence._key(case.pk))  # this run's keys only (the cache has a per-run prefix too)


def test_heartbeats_show_who_else_is_on_the_case_and_expire(case, agent, other_agent):
    presence.heartbeat(case.pk, agent, now=1000.0)
    presence.heartbeat(case.pk, other_agent, typing=True, now=1001.0)
    assert presence.others(case.pk, agent, now=1002.0) == [
        {"name": other_agent.get_full_name() or "ana", "username": "ana", "typing": True}
    ]
    assert [p["username"] for p in presence.others(case.pk, other_agent, now=1002.0)] == ["kari"]
    # Typing stops counting after a few seconds; having the page open after the heartbeat expires.
    assert presence.others(case.pk, agent, now=1001.0 + presence.TYPING_FOR + 1)[0]["typing"] is False
    assert presence.others(case.pk, agent, now=1001.0 + presence.SEEN_FOR + 1) == []
    assert presence.viewing([case.pk, case.pk + 1], now=1002.0) == {
        case.pk: sorted([agent.get_full_name() or "kari", other_agent.get_full_name() or "ana"])
    }


def test_the_case_page_polls_its_heartbeat_and_shows_colleagues(case, agent, other_agent):
    page = login(agent).get(case.get_absolute_url()).content.decode()
    assert f'hx-get="/cases/{case.key}/presence/"' in page and 'hx-trigger="load, every 5s"' in page
    colleague = login(other_agent)
    assert colleague.post(f"/cases/{case.key}/presence/").status_code == 204  # typing
    answer = login(agent).get(f"/cases/{case.key}/presence/")
    assert answer.status_code == 200
    assert "is typing a reply" in answer.content.decode() and 'title="ana"' in answer.content.decode()
    colleague.post(f"/cases/{case.key}/presence/", {"leave": "1"})
    assert "ana" not in login(agent).get(f"/cases/{case.key}/presence/").content.decode()


def test_presence_of_a_case_outside_the_users_tenants_is_404_and_audited(tenant_b, agent):
    hidden = CaseFactory(tenant=tenant_b)
    intruder_sees = login(agent).get(f"/cases/{hidden.key}/presence/")
    assert intruder_sees.status_code == 404
    assert LogEntry.objects.filter(object_pk=str(hidden.pk), additional_data__denied=True).exists()
    spy = UserFactory(username="spy", role="agent", tenants=[tenant_b])
    presence.heartbeat(hidden.pk, spy)
    assert login(agent).post(f"/cases/{hidden.key}/presence/").status_code == 404
    assert [p["username"] for p in presence.others(hidden.pk, UserFactory(username="x"))] == ["spy"]
    presence.cache.delete(presence._key(hidden.pk))


def test_the_queue_marks_the_cases_someone_has_open_now(case, agent, other_agent, tenant_a):
    quiet = CaseFactory(tenant=tenant_a)
    presence.heartbeat(case.pk, other_agent)
    html = login(agent).get("/cases/").content.decode()
    row = html[html.index(f'href="/cases/{case.key}/"') :].split("</tr>", 1)[0]
    assert "1 viewing" in row and "Open now:" in row
    quiet_row = html[html.index(f'href="/cases/{quiet.key}/"') :].split("</tr>", 1)[0]
    assert "viewing" not in quiet_row
    # One's own heartbeat is not "someone else".
    presence.heartbeat(quiet.pk, agent)
    html = login(agent).get("/cases/").content.decode()
    assert "viewing" not in html[html.index(f'href="/cases/{quiet.key}/"') :].split("</tr>", 1)[0]
    presence.cache.delete(presence._key(quiet.pk))
