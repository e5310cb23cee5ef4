"""Closure end to end: resolving with a resolution record, "is this solved?" through the case's
channel, the customer's answer, auto-close exactly once and cancelled by a customer reply, the
closing recorded with how it happened, the survey link (tamper-proof, expiring, one answer per
closing, editable 24 h) and the low-score notification."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from cases import services
from cases.choices import Priority, Status
from cases.closure import links, sweep
from cases.closure import services as closure_services
from cases.closure.models import AutoClose, Closure
from cases.errors import CaseError
from cases.models import Interaction, Notification, OutboundReply, SLAPolicy
from companyos import roles
from tests.conftest import login
from tests.factories import CaseFactory, TeamFactory, UserFactory

RESOLUTION = {
    "summary": "Rotated the expired signing key",
    "evidence": "500 rate back to 0",
    "preventive_actions": "Expiry alert 14 days ahead",
}


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def case(tenant_a, agent):
    team = TeamFactory(
        name="Tier 1", slug="tier-1", manager=UserFactory(username="boss", email="boss@example.com", role="manager")
    )
    return CaseFactory(
        tenant=tenant_a, status=Status.IN_PROGRESS, priority=Priority.HIGH, channel="email", team=team, owner=agent
    )


def resolve(case, actor, **resolution):
    return services.case_transition(
        case_id=case.pk, to=Status.RESOLVED, actor=actor, resolution=resolution or RESOLUTION
    )


def run_on_commit(fn, capture):
    with capture(execute=True):
        return fn()


# --- resolving ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_high_case_needs_the_resolution_record(case, agent):
    with pytest.raises(CaseError, match="resolution summary, evidence and preventive actions"):
        services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent)
    with pytest.raises(CaseError, match="evidence and preventive actions"):
        services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent, resolution={"summary": "x"})
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    resolve(case, agent, **RESOLUTION, root_cause="Key expired")
    entry = case.interactions.filter(kind=Interaction.Kind.STATUS).latest("id")
    assert entry.data["resolution"] == {**RESOLUTION, "root_cause": "Key expired"}
    assert "Resolution summary: Rotated the expired signing key" in entry.body


@pytest.mark.django_db
def test_a_medium_case_resolves_without_one(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS, priority=Priority.MEDIUM)
    services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent)
    assert AutoClose.objects.filter(case=case, state="pending").count() == 1


def _linked(body: str, prefix: str, read) -> tuple[int, str]:
    """What the signed link in a message names: the token after `prefix`, read back."""
    assert links.absolute(prefix) in body
    token = body.split(prefix, 1)[1].split("/", 1)[0]
    return read(token)


@pytest.mark.django_db
def test_resolving_asks_the_customer_through_the_channel(case, agent, django_capture_on_commit_callbacks):
    run_on_commit(lambda: resolve(case, agent), django_capture_on_commit_callbacks)
    case.refresh_from_db()
    timer = AutoClose.objects.get(case=case)
    assert timer.due_at == case.resolved_at + timedelta(days=7) and timer.asked_at is not None
    ask = case.interactions.filter(kind=Interaction.Kind.REPLY).latest("id")
    assert ask.public and ask.actor == roles.system_user() and ask.data["automated"] == "solved_question"
    assert "Is this solved for you?" in ask.body and "Rotated the expired signing key" in ask.body
    # The link in the body names this resolution (its signature carries the second it was signed).
    assert _linked(ask.body, "/c/solved/", links.read_confirm) == (timer.pk, links._stamp(timer.resolved_at))
    assert OutboundReply.objects.filter(interaction=ask, channel="email").exists()  # the outbox delivers it
    # Asking again (a redelivered task) sends nothing more.
    assert closure_services.ask_if_solved(auto_close_id=timer.pk) is False
    assert case.interactions.filter(kind=Interaction.Kind.REPLY).count() == 1


@pytest.mark.django_db
def test_an_automated_message_is_not_a_first_response(tenant_a, agent, django_capture_on_commit_callbacks):
    case = CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS, priority=Priority.LOW)
    run_on_commit(
        lambda: services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent),
        django_capture_on_commit_callbacks,
    )
    case.refresh_from_db()
    assert case.first_response_at is None


@pytest.mark.django_db
def test_policy_sets_the_auto_close_days(case, agent):
    case.sla_policy = SLAPolicy.objects.create(name="Short", targets={}, auto_close_days=3)
    case.save(update_fields=["sla_policy"])
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    assert timer.due_at - timer.resolved_at == timedelta(days=3)


# --- the customer's answer ----------------------------------------------------------------------


def confirm_path(timer):
    return links.confirm_url(timer.pk, timer.resolved_at).split("localhost:8000", 1)[-1].split("://", 1)[-1]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.mark.django_db
def test_yes_closes_as_confirmed(case, agent):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    url = _path(links.confirm_url(timer.pk, timer.resolved_at))
    client = Client()
    page = client.get(url + "?answer=yes")
    assert page.status_code == 200 and b"Is CS-" in page.content
    case.refresh_from_db()
    assert case.status == Status.RESOLVED, "a GET (a mail scanner) changes nothing"
    response = client.post(url, {"answer": "yes", "comment": "All good"})
    assert response.status_code == 200 and b"now closed" in response.content
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    closure = Closure.objects.get(case=case)
    assert closure.how == Closure.How.CONFIRMED
    timer.refresh_from_db()
    assert timer.state == AutoClose.State.CLOSED
    confirmation = case.interactions.get(kind=Interaction.Kind.CONFIRMATION)
    assert (
        confirmation.requester == case.requester
        and confirmation.data["solved"] is True
        and "All good" in confirmation.body
    )
    # The same link again: already answered (409), nothing changes.
    assert client.post(url, {"answer": "no"}).status_code == 409
    case.refresh_from_db()
    assert case.status == Status.CLOSED


@pytest.mark.django_db
def test_no_reopens_and_starts_a_new_window(case, agent):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    response = Client().post(_path(links.confirm_url(timer.pk, timer.resolved_at)), {"answer": "no"})
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    timer.refresh_from_db()
    assert timer.state == AutoClose.State.CANCELLED and timer.reopened_at is not None
    assert not Closure.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_confirm_link_tampered_or_for_an_earlier_resolution(case, agent):
    resolve(case, agent)
    first = AutoClose.objects.get(case=case)
    good = _path(links.confirm_url(first.pk, first.resolved_at))
    token = good.rstrip("/").rsplit("/", 1)[1]
    tampered = good.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert Client().post(tampered, {"answer": "yes"}).status_code == 404
    forged = signing.dumps({"id": first.pk, "at": "1.000000"}, salt="wrong-salt")
    assert Client().post(f"/c/solved/{forged}/", {"answer": "yes"}).status_code == 404
    assert Client().post(good, {"answer": "maybe"}).status_code == 422
    # Reopened and resolved again: the old link cannot close the new resolution.
    services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=agent)
    resolve(case, agent)
    assert Client().post(good, {"answer": "yes"}).status_code == 409
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


@pytest.mark.django_db
def test_confirm_link_expires(case, agent, settings):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    url = _path(links.confirm_url(timer.pk, timer.resolved_at))
    later = signing.time.time() + 31 * 86400
    with mock.patch.object(signing.time, "time", return_value=later):
        response = Client().post(url, {"answer": "yes"})
    assert response.status_code == 410 and b"expired" in response.content


# --- auto-close ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_auto_close_exactly_once(case, agent):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    assert sweep.auto_close_sweep(now=timer.due_at - timedelta(seconds=1)).closed == 0
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    with at(timer.due_at + timedelta(minutes=1)):
        first = sweep.auto_close_sweep()
        second = sweep.auto_close_sweep()
    assert (first.closed, second.closed) == (1, 0)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    closes = case.interactions.filter(kind=Interaction.Kind.STATUS, data__to=Status.CLOSED)
    assert closes.count() == 1 and closes.get().data["closed_how"] == "auto"
    assert closes.get().actor == roles.system_user()
    assert Closure.objects.get(case=case).how == Closure.How.AUTO
    timer.refresh_from_db()
    assert timer.state == AutoClose.State.CLOSED and timer.note == "auto"


@pytest.mark.django_db
def test_a_customer_reply_cancels_the_auto_close(case, agent):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    services.case_customer_message(
        case_id=case.pk, requester=case.requester, body="Still broken", channel="email", reopen=True
    )
    timer.refresh_from_db()
    assert timer.state == AutoClose.State.CANCELLED and timer.reopened_at is not None
    with at(timer.due_at + timedelta(days=1)):
        assert sweep.auto_close_sweep().closed == 0
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    # Resolved again: a new timer, a new window.
    resolve(case, agent)
    assert AutoClose.objects.filter(case=case, state="pending").count() == 1
    assert AutoClose.objects.filter(case=case).count() == 2


@pytest.mark.django_db
def test_a_stale_timer_is_cancelled_not_applied(case, agent):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    AutoClose.objects.filter(pk=timer.pk).update(resolved_at=timer.resolved_at - timedelta(days=1))
    with at(timer.due_at + timedelta(minutes=1)):
        result = sweep.auto_close_sweep()
    assert (result.closed, result.cancelled) == (0, 1)
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


@pytest.mark.django_db
def test_an_agent_closing_without_confirmation_is_recorded(case, agent):
    resolve(case, agent)
    services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent)
    closure = Closure.objects.get(case=case)
    assert closure.how == Closure.How.UNCONFIRMED and closure.actor == agent
    assert case.interactions.filter(data__closed_how="unconfirmed").count() == 1


# --- surveys -------------------------------------------------------------------------------------


def closed_case(case, agent, capture):
    resolve(case, agent)
    run_on_commit(lambda: services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent), capture)
    return Closure.objects.get(case=case)


@pytest.mark.django_db
def test_closing_sends_the_survey_once(case, agent, django_capture_on_commit_callbacks):
    closure = closed_case(case, agent, django_capture_on_commit_callbacks)
    closure.refresh_from_db()
    assert closure.survey_sent_at is not None
    survey = case.interactions.filter(kind=Interaction.Kind.REPLY, data__automated="survey").get()
    assert _linked(survey.body, "/c/survey/", links.read_survey) == (closure.pk, links._stamp(closure.closed_at))
    assert survey.public
    assert closure_services.send_survey(closure_id=closure.pk) is False


@pytest.mark.django_db
def test_survey_answer_once_editable_for_24_hours(case, agent, django_capture_on_commit_callbacks):
    closure = closed_case(case, agent, django_capture_on_commit_callbacks)
    url = _path(links.survey_url(closure.pk, closure.closed_at))
    client = Client()
    page = client.get(url)
    assert page.status_code == 200 and b"How satisfied are you" in page.content
    assert client.post(url, {"csat": "9"}).status_code == 422
    assert client.post(url, {"nps": "3"}).status_code == 422  # CSAT is required
    response = client.post(url, {"csat": "5", "nps": "10", "comment": "Quick and clear"})
    assert response.status_code == 200 and b"Thank you" in response.content
    closure.refresh_from_db()
    assert (closure.csat, closure.nps, closure.comment) == (5, 10, "Quick and clear")
    first = closure.first_answered_at
    # A second visit shows the answer and lets it be changed within 24 h.
    again = client.get(url)
    assert b"You answered" in again.content and b"Change my answer" in again.content
    assert client.post(url, {"csat": "4"}).status_code == 200
    closure.refresh_from_db()
    assert closure.csat == 4 and closure.nps is None and closure.first_answered_at == first
    with at(first + timedelta(hours=25)):
        late = client.post(url, {"csat": "1"})
        view = client.get(url)
    assert late.status_code == 409
    assert b"can no longer be changed" in view.content and b"Change my answer" not in view.content
    closure.refresh_from_db()
    assert closure.csat == 4
    assert Closure.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_survey_link_tampered_expired_or_of_another_closing(case, agent, django_capture_on_commit_callbacks):
    closure = closed_case(case, agent, django_capture_on_commit_callbacks)
    url = _path(links.survey_url(closure.pk, closure.closed_at))
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert Client().get(url.replace(token, token[:-3] + "xyz")).status_code == 404
    # A confirm token is not a survey token (salts differ).
    other = links.confirm_token(closure.pk, closure.closed_at)
    assert Client().get(f"/c/survey/{other}/").status_code == 404
    # Right signature, wrong instant (an earlier closing of the case).
    wrong = links.survey_token(closure.pk, closure.closed_at - timedelta(seconds=1))
    assert Client().get(f"/c/survey/{wrong}/").status_code == 404
    later = signing.time.time() + 15 * 86400
    with mock.patch.object(signing.time, "time", return_value=later):
        assert Client().get(url).status_code == 410
    assert Client().get("/c/survey/not-a-token-at-all/").status_code == 404


@pytest.mark.django_db
def test_a_low_score_notifies_the_team_manager_once(case, agent, django_capture_on_commit_callbacks):
    closure = closed_case(case, agent, django_capture_on_commit_callbacks)
    url = _path(links.survey_url(closure.pk, closure.closed_at))
    Client().post(url, {"csat": "2", "comment": "Took a week"})
    Client().post(url, {"csat": "1"})
    notes = Notification.objects.filter(case=case, recipient="boss@example.com")
    assert notes.count() == 1 and "Low satisfaction" in notes.get().subject and "Took a week" in notes.get().body


@pytest.mark.django_db
def test_a_good_score_notifies_nobody(case, agent, django_capture_on_commit_callbacks):
    closure = closed_case(case, agent, django_capture_on_commit_callbacks)
    Client().post(_path(links.survey_url(closure.pk, closure.closed_at)), {"csat": "5", "nps": "9"})
    assert not Notification.objects.filter(case=case).exists()


# --- the case page's panel ------------------------------------------------------------------------


@pytest.mark.django_db
def test_closure_panel_shows_the_date_and_the_answers(case, agent, tenant_b, django_capture_on_commit_callbacks):
    resolve(case, agent)
    timer = AutoClose.objects.get(case=case)
    page = login(agent).get(f"/cases/{case.key}/closure/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Closes automatically on" in text and timezone.localtime(timer.due_at).strftime("%Y") in text
    assert "Rotated the expired signing key" in text
    run_on_commit(
        lambda: services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent),
        django_capture_on_commit_callbacks,
    )
    closure = Closure.objects.get(case=case)
    Client().post(_path(links.survey_url(closure.pk, closure.closed_at)), {"csat": "3", "nps": "8"})
    text = login(agent).get(f"/cases/{case.key}/closure/").content.decode()
    assert "CSAT <b>3/5</b>" in text and "NPS <b>8/10</b> (passive)" in text and "no confirmation" in text
    outsider = UserFactory(username="out", role="agent", tenants=[tenant_b])
    assert login(outsider).get(f"/cases/{case.key}/closure/").status_code == 404


# --- SLA credits ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_breached_resolution_flags_a_credit_the_manager_decides(case, agent, manager):
    from cases.models import SLAClock

    SLAClock.objects.create(
        case=case,
        kind=SLAClock.Kind.RESOLUTION,
        state="stopped",
        target=timedelta(hours=4),
        started_at=case.created_at,
        met=False,
    )
    resolve(case, agent)
    services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent)
    closure = Closure.objects.get(case=case)
    assert closure.credit == Closure.Credit.PENDING
    client = login(manager)
    page = client.get("/reports/credits/")
    assert page.status_code == 200 and case.key in page.content.decode()
    assert client.post(f"/reports/credits/{closure.pk}/decide/", {"decision": "decline"}).status_code == 422
    assert client.post(f"/reports/credits/{closure.pk}/decide/", {"decision": "maybe"}).status_code == 422
    assert login(agent).post(f"/reports/credits/{closure.pk}/decide/", {"decision": "approve"}).status_code == 403
    assert (
        client.post(
            f"/reports/credits/{closure.pk}/decide/", {"decision": "approve", "note": "10 % of Nov"}
        ).status_code
        == 200
    )
    closure.refresh_from_db()
    assert closure.credit == Closure.Credit.APPROVED and closure.credit_decided_by == manager
    assert (
        client.post(f"/reports/credits/{closure.pk}/decide/", {"decision": "decline", "note": "x"}).status_code == 409
    )
    export = client.get("/reports/credits.csv?state=decided").content.decode()
    assert f"{case.key},acme," in export and ",approved,mona," in export and "10 % of Nov" in export
    assert client.post("/reports/credits/999999/decide/", {"decision": "approve"}).status_code == 404


@pytest.mark.django_db
def test_a_met_resolution_flags_no_credit(case, agent):
    resolve(case, agent)
    services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent)
    assert Closure.objects.get(case=case).credit == ""


# --- root cause with timeline (policy option) ----------------------------------------------------


@pytest.mark.django_db
def test_root_cause_with_timeline_stops_the_resolution_clock_only_when_the_policy_says_so(case, agent):
    from cases.models import SLAClock

    policy = SLAPolicy.objects.create(name="RCA", targets={})
    case.sla_policy = policy
    case.save(update_fields=["sla_policy"])
    clock = SLAClock.objects.create(
        case=case,
        kind=SLAClock.Kind.RESOLUTION,
        state="running",
        target=timedelta(hours=8),
        started_at=timezone.now() - timedelta(hours=1),
        segment_started_at=timezone.now() - timedelta(hours=1),
        due_at=timezone.now() + timedelta(hours=7),
    )
    client = login(agent)
    form = {"root_cause": "Expired signing key", "timeline": "Fix rolls out Friday 12:00 UTC"}
    refused = client.post(f"/cases/{case.key}/root-cause/", form)
    assert refused.status_code == 422 and b"does not stop the resolution clock" in refused.content
    policy.root_cause_stops_resolution = True
    policy.save()
    panel = client.get(f"/cases/{case.key}/closure/").content.decode()
    assert "Root cause identified, timeline communicated" in panel
    assert client.post(f"/cases/{case.key}/root-cause/", {"root_cause": "x"}).status_code == 422
    done = client.post(f"/cases/{case.key}/root-cause/", form)
    assert done.status_code == 200 and b"resolution clock stopped" in done.content
    clock.refresh_from_db()
    assert clock.state == "stopped" and clock.met is True and "Expired signing key" in clock.stop_note
    reply = case.interactions.filter(kind=Interaction.Kind.REPLY).latest("id")
    assert reply.public and "Timeline: Fix rolls out Friday" in reply.body
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
