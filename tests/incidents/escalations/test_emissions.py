"""Feedback emissions (issue 14 point 9): a closing feeds the reliability / product / docs backlog
chosen by the agent at close (or by the classification for an auto-close), once per closing; the
backlog pages with counts and linked cases, scoped by tenant; the weekly ops review's figures, now in
the weekly operations report's one Monday export (CSV and JSON matching a recomputation), managers only."""

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
from cases.reports import weekly
from cases.reports.export_models import WeeklyExport
from incidents.escalations import services as esc_services
from incidents.escalations.models import Component, EngineeringTask, FeedbackEmission
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


def test_the_weekly_report_export_carries_the_old_reviews_figures_recomputed_from_the_rows(tenant_a, agent, manager):
    """The weekly ops review is part of the weekly operations report now: its emissions, escalations
    and rejections are the report's backlog and escalation sections, in the one Monday export."""
    week = date(2026, 11, 23)  # a Monday, ISO 2026-W48
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
    stored = weekly.export_week(now=datetime(2026, 11, 30, 6, tzinfo=UTC))
    assert stored.week_start == week and stored.label == "2026-W48"
    assert weekly.export_week(now=datetime(2026, 11, 30, 6, 5, tzinfo=UTC)) is None  # once a week
    assert WeeklyExport.objects.count() == 1
    # Recomputed by hand from the rows.
    start = datetime(2026, 11, 23, tzinfo=UTC)
    emitted = FeedbackEmission.objects.filter(closed_at__gte=start, closed_at__lt=start + timedelta(days=7))
    figures = {(m["section"], m["metric"]): m["value"] for m in stored.data["metrics"]}
    assert (
        {b: figures["backlogs", f"{b.capitalize()} emissions"] for b in ("reliability", "product", "docs")}
        == {b: emitted.filter(backlog=b).count() for b in ("reliability", "product", "docs")}
        == {"reliability": 1, "product": 1, "docs": 1}
    )
    assert figures["backlogs", "emissions"] == emitted.count() == 3
    assert figures["backlogs", "confirmed by the agent"] == emitted.filter(confirmed=True).count() == 1
    assert figures["escalations", "engineering escalations"] == EngineeringTask.objects.count() == 1
    assert figures["escalations", "escalation rejection rate %"] == "100.0"
    assert figures["escalation_review", "component API rejected"] == 1
    client = login(manager)
    rows = list(csv.reader(io.StringIO(client.get("/reports/weekly/exports/2026-W48.csv").content.decode())))
    assert ["2026-W48", "backlogs", "emissions", "3"] in rows and [
        "2026-W48",
        "escalations",
        "escalations rejected",
        "1",
    ] in rows
    assert json.loads(client.get("/reports/weekly/exports/2026-W48.json").content) == stored.data
    page = client.get("/reports/weekly/?week=2026-W48").content.decode()
    assert 'data-export="2026-W48"' in page and 'data-section="backlogs"' in page
    # The old addresses redirect to the new ones (the week kept), for anyone: the new ones check.
    assert client.get("/incidents/escalations/review/?week=2026-11-25")["Location"] == "/reports/weekly/?week=2026-W48"
    assert (
        client.get("/incidents/escalations/review/2026-11-23.csv")["Location"] == "/reports/weekly/exports/2026-W48.csv"
    )
    assert client.get("/reports/weekly/?week=bad").status_code == 400
    assert client.get("/reports/weekly/exports/2026-W47.csv").status_code == 404
    assert login(agent).get("/reports/weekly/").status_code == 403
    assert login(agent).get("/reports/weekly/exports/2026-W48.csv").status_code == 403
