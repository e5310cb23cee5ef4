"""Feedback emissions (issue 14 point 9): a closing feeds the reliability / product / docs backlog
chosen by the agent at close (or by the classification for an auto-close), once per closing; the
backlog pages with counts and linked cases, scoped by tenant; the weekly ops review, exported by beat
once per week as CSV and JSON that match a recomputation, downloadable by managers only."""

import csv
import io
import json
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest

from cases import services as case_services
from cases.choices import Priority, Status
from cases.closure import rules, sweep
from cases.closure.models import AutoClose
from cases.errors import CaseError
from incidents.escalations import review
from incidents.escalations import services as esc_services
from incidents.escalations.models import Component, EngineeringTask, FeedbackEmission, OpsReview
from tests.conftest import login
from tests.factories import CaseFactory, TagFactory, UserFactory

RESOLUTION = {"summary": "Fixed", "evidence": "Logs clean", "preventive_actions": "Alert added"}


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.mark.parametrize(
    "category, issue_type, backlog",
    [
        ("feature_request", "question", "product"),
        ("feature_request", "bug", "product"),
        ("documentation", "question", "docs"),
        ("performance", "bug", "reliability"),
        ("authentication", "incident", "reliability"),
        ("validation", "question", "none"),
        ("other", "configuration", "none"),
    ],
)
def test_feedback_for_classification(category, issue_type, backlog):
    assert rules.feedback_for(category, issue_type) == backlog


def _resolved(tenant, agent, **fields):
    case = CaseFactory(tenant=tenant, status=Status.IN_PROGRESS, priority=Priority.MEDIUM, **fields)
    case_services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent, resolution=RESOLUTION)
    return case


def test_closing_emits_what_the_agent_confirmed_once(tenant_a, agent):
    case = _resolved(tenant_a, agent, category="performance", issue_type="bug")
    case_services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent, feedback="docs")
    emission = FeedbackEmission.objects.get(case=case)
    assert (emission.backlog, emission.confirmed, emission.category) == ("docs", True, "performance")
    # Reopened and closed again: a second closing, a second emission (by classification this time).
    case_services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=agent)
    case_services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent, resolution=RESOLUTION)
    case_services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent)
    assert list(
        FeedbackEmission.objects.filter(case=case).order_by("closed_at").values_list("backlog", "confirmed")
    ) == [
        ("docs", True),
        ("reliability", False),
    ]


def test_no_feedback_and_bad_feedback(tenant_a, agent):
    case = _resolved(tenant_a, agent, category="validation", issue_type="question")
    with pytest.raises(CaseError, match="Unknown feedback backlog"):
        case_services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent, feedback="marketing")
    case_services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent)
    assert not FeedbackEmission.objects.exists()  # "none" by classification
    other = _resolved(tenant_a, agent, category="validation", issue_type="question")
    case_services.case_transition(case_id=other.pk, to=Status.CLOSED, actor=agent, feedback="none")
    assert not FeedbackEmission.objects.exists()


def test_auto_close_emits_by_classification(tenant_a, agent):
    case = _resolved(tenant_a, agent, category="feature_request", issue_type="question")
    timer = AutoClose.objects.get(case=case)
    with at(timer.due_at + timedelta(minutes=1)):
        assert sweep.auto_close_sweep().closed == 1
        assert sweep.auto_close_sweep().closed == 0
    emission = FeedbackEmission.objects.get(case=case)
    assert (emission.backlog, emission.confirmed, emission.closed_how) == ("product", False, "auto")


def test_close_form_on_the_case_page_confirms_the_backlog(tenant_a, agent):
    case = _resolved(tenant_a, agent, category="documentation", issue_type="question")
    client = login(agent)
    body = client.get(case.get_absolute_url()).content.decode()
    assert '<option value="docs" selected>' in body and "Feedback to" in body
    client.post(
        f"/cases/{case.key}/transition/", {"to": "closed", "expected_status": "resolved", "feedback": "product"}
    )
    assert FeedbackEmission.objects.get(case=case).backlog == "product"


def test_backlog_pages_count_and_link_cases_in_scope(tenant_a, tenant_b, agent, manager):
    tag = TagFactory(name="csv-export")
    mine = _resolved(tenant_a, agent, category="feature_request", issue_type="question")
    mine.tags.add(tag)
    case_services.case_transition(case_id=mine.pk, to=Status.CLOSED, actor=agent, feedback="product")
    sre = UserFactory(role="SRE")
    theirs = _resolved(tenant_b, sre, category="feature_request", issue_type="question", subject="Globex secret")
    case_services.case_transition(case_id=theirs.pk, to=Status.CLOSED, actor=sre)
    body = login(agent).get("/incidents/escalations/backlogs/product/").content.decode()
    assert mine.key in body and theirs.key not in body and "Globex secret" not in body
    assert "Product (1)" in body and "csv-export" in body
    assert "Product (2)" in login(manager).get("/incidents/escalations/backlogs/product/").content.decode()
    assert login(agent).get("/incidents/escalations/backlogs/marketing/").status_code == 404


def test_weekly_review_export_matches_a_recomputation(tenant_a, agent, manager):
    week = date(2026, 11, 23)  # a Monday
    inside = datetime(2026, 11, 25, 10, tzinfo=UTC)
    with at(inside):
        for category, feedback in (("performance", ""), ("documentation", ""), ("feature_request", "product")):
            case = _resolved(tenant_a, agent, category=category, issue_type="bug")
            case_services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent, feedback=feedback)
        engineer = UserFactory(role="SRE")
        component = Component.objects.create(name="API")
        task = esc_services.task_escalate(
            case_id=case.pk, actor=agent, component_id=component.pk, title="t", ticket="CS", account="Acme"
        )
        esc_services.task_decide(task_id=task.pk, actor=engineer, to="rejected", reason="no")
    with at(datetime(2026, 12, 3, 9, tzinfo=UTC)):  # later: outside the week
        late = _resolved(tenant_a, agent, category="performance", issue_type="bug")
        case_services.case_transition(case_id=late.pk, to=Status.CLOSED, actor=agent)
    stored = review.export_week(now=datetime(2026, 11, 30, 6, tzinfo=UTC))
    assert stored.week_start == week
    assert review.export_week(now=datetime(2026, 11, 30, 6, 5, tzinfo=UTC)) is None  # once a week
    assert OpsReview.objects.count() == 1
    # Recomputed by hand from the rows.
    start = datetime(2026, 11, 23, tzinfo=UTC)
    emitted = FeedbackEmission.objects.filter(closed_at__gte=start, closed_at__lt=start + timedelta(days=7))
    assert (
        stored.data["emissions"]
        == {
            "reliability": emitted.filter(backlog="reliability").count(),
            "product": emitted.filter(backlog="product").count(),
            "docs": emitted.filter(backlog="docs").count(),
            "total": emitted.count(),
            "confirmed": emitted.filter(confirmed=True).count(),
        }
        == {"reliability": 1, "product": 1, "docs": 1, "total": 3, "confirmed": 1}
    )
    assert stored.data["escalations"]["escalated"] == EngineeringTask.objects.count() == 1
    assert stored.data["escalations"]["rejection_pct"] == 100.0
    assert stored.data == json.loads(json.dumps(review.weekly_review(week)))  # the stored JSON is the recomputation
    client = login(manager)
    rows = list(csv.reader(io.StringIO(client.get("/incidents/escalations/review/2026-11-23.csv").content.decode())))
    assert ["emissions", "total", "3"] in rows and ["escalations", "rejected", "1"] in rows
    data = json.loads(client.get("/incidents/escalations/review/2026-11-23.json").content)
    assert data == stored.data
    page = client.get("/incidents/escalations/review/?week=2026-11-25").content.decode()
    assert "2026-11-23" in page and 'data-export="2026-11-23"' in page
    assert client.get("/incidents/escalations/review/?week=bad").status_code == 400
    assert client.get("/incidents/escalations/review/2026-11-16.csv").status_code == 404
    assert login(agent).get("/incidents/escalations/review/").status_code == 403
    assert login(agent).get("/incidents/escalations/review/2026-11-23.csv").status_code == 403
