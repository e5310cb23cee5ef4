"""The one weekly operations report (issue 17 point 9, issue 14's "two weekly exports", issue 16's
"bundle learnings in the weekly report"): one page at /reports/weekly/ composed from every app's
sections (cases, incidents, escalations and backlogs, known issues, trace bundle learnings), one
Monday export stored once per week that equals a recomputation from the rows, the backlog exports
per backlog (current and by week), the old ops review addresses redirecting, managers only."""

import csv
import io
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from auditlog.models import LogEntry
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services as case_services
from cases.choices import Priority, Status
from cases.models import Case, Interaction
from cases.reports import weekly
from cases.reports.export_models import WeeklyExport
from cases.reports.tasks import weekly_export_task
from demo import bundles
from incidents.escalations import services as esc_services
from incidents.escalations.models import Component, FeedbackEmission, ProductFeedback
from runbooks.diagnostics import services as bundle_services
from runbooks.models import ErrorCode, Runbook
from tenants import services as tenant_services
from tests.conftest import login
from tests.factories import CaseFactory, TagFactory, UserFactory

WEEK = date(2026, 11, 23)  # a Monday: ISO 2026-W48
INSIDE = datetime(2026, 11, 25, 10, tzinfo=UTC)
EXPORTED = datetime(2026, 11, 30, 6, tzinfo=UTC)  # the Monday after, when beat runs
SECTIONS = [
    "volume",
    "times",
    "attainment",
    "reopen",
    "closing",
    "satisfaction",
    "themes",
    "backlog",
    "learnings",
    "incidents",
    "known_issues",
    "escalations",
    "backlogs",
    "escalation_review",
    "diagnostics",
]


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _close(tenant, agent, *, category, feedback="", root_cause="", actions="Alert added", priority=Priority.MEDIUM):
    case = CaseFactory(
        tenant=tenant,
        status=Status.IN_PROGRESS,
        priority=priority,
        category=category,
        issue_type="bug",
        created_at=timezone.now() - timedelta(hours=1),  # the model's default is not the mocked clock
    )
    resolution = {"summary": f"Fixed {category}", "evidence": "Logs clean", "preventive_actions": actions}
    if root_cause:
        resolution["root_cause"] = root_cause
    case_services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=agent, resolution=resolution)
    case_services.case_transition(case_id=case.pk, to=Status.CLOSED, actor=agent, feedback=feedback)
    return case


@pytest.fixture
def week_of_work(tenant_a, tenant_b, agent, manager, django_capture_on_commit_callbacks):
    """One week of closings, escalations, product feedback and an inspected trace bundle, plus a
    closing the week after (never counted)."""
    tag = TagFactory(name="csv-export")
    runbook = Runbook.objects.create(title="Payment gateway timeouts", slug="gateway-timeouts")
    ErrorCode.objects.create(code=bundles.ERROR_CODE, title="Upstream timeout", runbook=runbook)
    senior = UserFactory(username="sven", role="senior agent", tenants=[tenant_a])
    engineer = UserFactory(role="SRE")
    with at(INSIDE):
        tenant_services.tenant_record_telemetry_consent(tenant_id=tenant_a.pk, actor=senior, reference="mail")
        slow = _close(tenant_a, agent, category="performance", root_cause="Missing index on exports")
        docs = _close(tenant_a, agent, category="documentation", feedback="docs", actions="Write the SSO guide")
        wish = _close(tenant_a, agent, category="feature_request", feedback="product", actions="")
        wish.tags.add(tag)
        theirs = _close(tenant_b, engineer, category="performance", root_cause="Noisy neighbour")
        component = Component.objects.create(name="API")
        task = esc_services.task_escalate(
            case_id=slow.pk, actor=agent, component_id=component.pk, title="t", ticket="CS", account="Acme"
        )
        esc_services.task_decide(task_id=task.pk, actor=engineer, to="rejected", reason="works as designed")
        esc_services.feedback_log(
            case_id=wish.pk,
            actor=agent,
            theme_id=tag.pk,
            title="CSV export",
            segment="Enterprise",
            tier="gold",
            use_case="Monthly export",
            business_impact="Manual work",
        )
        upload = SimpleUploadedFile(bundles.NAME, bundles.bundle_bytes(), "application/zip")
        with django_capture_on_commit_callbacks(execute=True):
            bundle = bundle_services.bundle_upload(case_id=slow.pk, actor=agent, upload=upload)
    with at(datetime(2026, 12, 1, 9, tzinfo=UTC)):  # the next week: never in W48
        later = _close(tenant_a, agent, category="feature_request", feedback="product", root_cause="Later")
    bundle.refresh_from_db()
    assert bundle.status == "ok"
    return {"slow": slow, "docs": docs, "wish": wish, "theirs": theirs, "later": later, "bundle": bundle}


def _metrics(data: dict) -> dict:
    return {(m["section"], m["metric"]): m["value"] for m in data["metrics"]}


def test_the_monday_export_is_stored_once_and_equals_a_recomputation_from_the_rows(week_of_work, manager):
    stored = weekly.export_week(now=EXPORTED)
    assert stored.week_start == WEEK and stored.label == "2026-W48"
    assert weekly.export_week(now=EXPORTED + timedelta(minutes=5)) is None  # a second beat, a retry
    assert weekly_export_task.delay().get() == "already exported"
    assert WeeklyExport.objects.count() == 1
    # The stored JSON is the builder's output, recomputed now from the same rows.
    again = weekly.build(weekly.export_viewer(), WEEK, UTC, now=EXPORTED, scope="every tenant")
    assert stored.data == weekly.to_json(again) and stored.csv == weekly.to_csv(again)
    # The CSV and the JSON say the same thing, row by row.
    rows = list(csv.reader(io.StringIO(stored.csv)))
    assert rows[0] == ["week", "section", "metric", "value"]
    assert [r[1:] for r in rows[1:]] == [
        [m["section"], m["metric"], "" if m["value"] is None else str(m["value"])] for m in stored.data["metrics"]
    ]
    # …and each figure is what the rows say, recomputed here by hand.
    m = _metrics(stored.data)
    start, end = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    created = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    assert m["volume", "cases created"] == created.count() == 4  # both tenants: the export is every tenant's
    emitted = FeedbackEmission.objects.filter(closed_at__gte=start, closed_at__lt=end)
    for backlog, label in (("reliability", "Reliability"), ("product", "Product"), ("docs", "Docs")):
        assert m["backlogs", f"{label} emissions"] == emitted.filter(backlog=backlog).count()
    assert (m["backlogs", "Product emissions"], m["backlogs", "Docs emissions"]) == (1, 1)
    assert m["backlogs", "emissions"] == emitted.count() == 4
    assert m["backlogs", "pattern product: csv-export"] == 1
    assert m["escalations", "engineering escalations"] == 1 and m["escalations", "escalations rejected"] == 1
    assert m["escalations", "escalation rejection rate %"] == "100.0"
    assert m["escalation_review", "component API rejected"] == 1
    arr = sum((p.arr for p in ProductFeedback.objects.all()), Decimal(0))
    assert m["escalation_review", "product feedback items"] == 1
    assert m["escalation_review", "product ARR at risk"] == str(arr)
    # Learnings: the root causes and preventive actions of the week's closings' resolution records.
    closed_ids = set(
        Interaction.objects.filter(
            kind="status", data__to="closed", created_at__gte=start, created_at__lt=end
        ).values_list("case_id", flat=True)
    )
    assert m["learnings", "cases closed"] == len(closed_ids) == 4
    slow, docs, theirs = week_of_work["slow"], week_of_work["docs"], week_of_work["theirs"]
    assert m["learnings", f"{slow.key} root cause"] == "Missing index on exports"
    assert m["learnings", f"{docs.key} preventive actions"] == "Write the SSO guide"
    assert m["learnings", f"{theirs.key} root cause"] == "Noisy neighbour"
    assert m["learnings", "with a root cause"] == 2 and m["learnings", "documentation gaps (docs emissions)"] == 1
    assert not any(metric.startswith(week_of_work["later"].key + " ") for _, metric in m)
    assert stored.case_ids == sorted([slow.pk, docs.pk, theirs.pk])  # the wish recorded neither
    # Diagnostics: the inspected bundle's failed spans and error codes, summed from its stored report.
    report = week_of_work["bundle"].report
    assert m["diagnostics", "bundles inspected"] == 1
    assert m["diagnostics", "failed spans"] == report["trace"]["failed_count"] > 0
    code = report["error_codes"][0]
    assert m["diagnostics", f"error code {code['code']}"] == code["count"]
    assert m["diagnostics", f"error code {code['code']} runbook"] == "Payment gateway timeouts"
    failed_names = [s["name"] for s in report["trace"]["failed"]]
    assert m["diagnostics", "failed span gateway.outbound"] == failed_names.count("gateway.outbound") > 0


def test_the_export_runs_every_monday_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["weekly-report-export"]
    assert entry["task"] == "cases.reports.tasks.weekly_export_task"
    assert entry["schedule"] == crontab(day_of_week=1, hour=6, minute=0)
    assert "ops-review-export" not in django_settings.CELERY_BEAT_SCHEDULE  # one Monday export, not two


def test_the_page_has_every_section_for_managers_only(week_of_work, manager, agent):
    client = login(manager)
    page = client.get("/reports/weekly/?week=2026-W48")
    assert page.status_code == 200
    body = page.content.decode()
    for key in SECTIONS:
        assert f'data-section="{key}"' in body, key
    assert "Missing index on exports" in body and "gateway.outbound" in body and "Payment gateway timeouts" in body
    assert "/runbooks/gateway-timeouts/" in body  # the error code links its runbook
    assert "/incidents/escalations/backlogs/product.csv?week=2026-W48" in body
    assert f">{week_of_work['later'].key}<" not in body
    # The week is selectable, and the week's own downloads are the same report.
    data = client.get("/reports/weekly/?week=2026-W48&format=json").json()
    assert [s["key"] for s in data["sections"]] == SECTIONS and data["scope"] == "your tenants"
    assert _metrics(data)["learnings", f"{week_of_work['slow'].key} root cause"] == "Missing index on exports"
    rows = list(csv.reader(io.StringIO(client.get("/reports/weekly/?week=2026-W48&format=csv").content.decode())))
    assert ["2026-W48", "diagnostics", "bundles inspected", "1"] in rows
    assert client.get("/reports/weekly/?week=2026-11-25").content.decode().count("Weekly operations report 2026-W48")
    # The access entry names the cases whose learnings it showed.
    entry = LogEntry.objects.filter(additional_data__view="weekly operations report: learnings").latest("pk")
    assert week_of_work["slow"].pk in entry.additional_data["ids"]
    assert client.get("/reports/weekly/?week=2026-W99").status_code == 400
    assert client.get("/reports/weekly/?week=nope").status_code == 400
    assert login(agent).get("/reports/weekly/?week=2026-W48").status_code == 403
    assert login(agent).get("/reports/weekly/?week=2026-W48&format=json").status_code == 403


def test_earlier_weeks_stay_downloadable_and_the_old_addresses_redirect(week_of_work, manager, agent):
    stored = weekly.export_week(now=EXPORTED)
    earlier = weekly.export_week(week=WEEK - timedelta(days=7), now=EXPORTED)
    client = login(manager)
    page = client.get("/reports/weekly/?week=2026-W49").content.decode()
    assert 'data-export="2026-W48"' in page and 'data-export="2026-W47"' in page
    csv_response = client.get("/reports/weekly/exports/2026-W48.csv")
    assert csv_response.status_code == 200 and csv_response.content.decode() == stored.csv
    assert client.get("/reports/weekly/exports/2026-W47.json").json() == earlier.data
    assert client.get("/reports/weekly/exports/2026-W40.csv").status_code == 404
    assert login(agent).get("/reports/weekly/exports/2026-W48.csv").status_code == 403
    # The weekly ops review's page and downloads are the weekly operations report's now.
    old = client.get("/incidents/escalations/review/?week=2026-11-25")
    assert old.status_code == 301 and old["Location"] == "/reports/weekly/?week=2026-W48"
    assert client.get("/incidents/escalations/review/")["Location"] == "/reports/weekly/"
    old_csv = client.get("/incidents/escalations/review/2026-11-23.csv")
    assert old_csv.status_code == 301 and old_csv["Location"] == "/reports/weekly/exports/2026-W48.csv"
    assert client.get(old_csv["Location"]).content.decode() == stored.csv


def test_backlog_exports_per_backlog_current_and_by_week(week_of_work, manager, agent):
    client = login(manager)
    current = client.get("/incidents/escalations/backlogs/product.json").json()
    keys = [i["case"] for i in current["items"]]
    assert keys == [week_of_work["later"].key, week_of_work["wish"].key] and current["week"] is None
    week = client.get("/incidents/escalations/backlogs/product.json?week=2026-W48").json()
    assert [i["case"] for i in week["items"]] == [week_of_work["wish"].key] and week["count"] == 1
    assert (
        week["items"][0]["tags"] == ["csv-export"] and week["items"][0]["product_feedback"][0]["theme"] == "csv-export"
    )
    rows = list(
        csv.reader(io.StringIO(client.get("/incidents/escalations/backlogs/docs.csv?week=2026-W48").content.decode()))
    )
    assert rows[0][:3] == ["case", "subject", "status"] and [r[0] for r in rows[1:]] == [week_of_work["docs"].key]
    reliability = client.get("/incidents/escalations/backlogs/reliability.csv?week=2026-W48")
    assert reliability["Content-Disposition"] == 'attachment; filename="reliability-backlog-2026-W48.csv"'
    assert len(list(csv.reader(io.StringIO(reliability.content.decode())))) == 1 + 2  # both tenants' slow cases
    assert client.get("/incidents/escalations/backlogs/marketing.csv").status_code == 404
    assert client.get("/incidents/escalations/backlogs/docs.csv?week=bad").status_code == 400
    assert login(agent).get("/incidents/escalations/backlogs/docs.csv").status_code == 403


def test_ops_reviews_stored_before_the_merge_move_into_the_weekly_exports(db):
    """The migration's copy: an OpsReview week becomes a WeeklyExport of kind ops_review, as it was."""
    from importlib import import_module

    from django.apps import apps as global_apps

    migration = import_module("incidents.migrations.1000_ops_review_into_weekly_export")

    class Old:  # what the historical OpsReview model gives the copy
        def __init__(self):
            self.objects = self
            self.week_start, self.data, self.csv = date(2026, 11, 16), {"emissions": {"total": 2}}, "section\n"
            self.created_at = datetime(2026, 11, 23, 6, tzinfo=UTC)

        def order_by(self, *_):
            return [self]

    class Apps:
        def get_model(self, app, name):
            return Old() if name == "OpsReview" else global_apps.get_model(app, name)

    migration.move(Apps(), None)
    moved = WeeklyExport.objects.get(week_start=date(2026, 11, 16))
    assert (moved.kind, moved.label, moved.data, moved.csv) == (
        "ops_review",
        "2026-W47",
        {"emissions": {"total": 2}},
        "section\n",
    )
    migration.move(Apps(), None)  # a week already there is kept, not doubled
    assert WeeklyExport.objects.count() == 1


def test_the_report_reads_a_fixed_number_of_statements_whatever_the_weeks_volume(week_of_work, tenant_a, agent):
    """Measured, not timed: the builder's statement count does not grow with the week's closings."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            weekly.build(weekly.export_viewer(), WEEK, UTC, now=EXPORTED)
        return len(captured)

    before = statements()
    with at(INSIDE):
        for n in range(6):
            _close(tenant_a, agent, category="documentation", feedback="docs", root_cause=f"Cause {n}")
    assert statements() == before
