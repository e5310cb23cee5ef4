"""Extra report sections (cases.reports.sections): the registry, and the two registered by the
higher apps — incidents by severity with MTTA / MTTR (incidents) and known-issue frequency
(runbooks) — on the page, in the CSV export and in the weekly operations report, scoped to what the
viewer may see."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cases.reports import metrics, sections
from cases.reports.filters import Filters
from cases.reports.metrics import Row, Table
from incidents.models import Incident
from runbooks.models import KnownIssue, KnownIssueCase
from tests.conftest import login
from tests.factories import CaseFactory

FROM, TO = date(2026, 11, 2), date(2026, 11, 15)


def t(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def filters(**kw) -> Filters:
    return Filters(date_from=FROM, date_to=TO, tz=UTC, **kw)


def values(table, label):
    return next(r.values for r in table.rows if r.label == label)


def test_both_higher_apps_register_their_sections():
    assert [s.key for s in sections.sections()][:2] == ["incidents", "known_issues"]


@pytest.mark.django_db
def test_a_registered_section_is_on_the_page_in_the_csv_and_the_weekly_report(manager, monkeypatch):
    monkeypatch.setattr(sections, "_sections", {})
    seen = []

    def build(user, f):
        seen.append((user.username, f.date_from))
        return [Table("escalations", "Escalations", "Escalations rejected by engineering.", ["Cases"], [Row("x", [3])])]

    sections.register_section(sections.ReportSection(key="escalations", title="Escalations", build=build))
    report = metrics.report(manager, filters())
    assert report.table("escalations").rows[0].values == [3] and seen == [("mona", FROM)]
    client = login(manager)
    assert "Escalations rejected by engineering." in client.get(f"/reports/?from={FROM}&to={TO}").content.decode()
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/reports/export.csv?from={FROM}&to={TO}&table=escalations").content.decode())
        )
    )
    assert rows[1][:2] == ["x", "3"]
    weekly = list(csv.reader(io.StringIO(client.get("/reports/weekly/?week=2026-W46&format=csv").content.decode())))
    assert ["2026-W46", "escalations", "Escalations: x", "3"] in weekly


@pytest.fixture
def incidents(db, tenant_a, tenant_b):
    a_case = CaseFactory(tenant=tenant_a, created_at=t(3))
    b_case = CaseFactory(tenant=tenant_b, created_at=t(3))
    sev1 = Incident.objects.create(
        title="Outage", severity="SEV1", started_at=t(3), acknowledged_at=t(3, 10), resolved_at=t(3, 14)
    )
    sev1.cases.add(a_case)
    sev1b = Incident.objects.create(
        title="Second outage", severity="SEV1", started_at=t(5), acknowledged_at=t(5, 12), resolved_at=t(6, 9)
    )
    sev1b.tenants.add(tenant_a)
    sev2 = Incident.objects.create(title="Slow", severity="SEV2", started_at=t(10), acknowledged_at=None)
    sev2.cases.add(b_case)
    Incident.objects.create(title="Before", severity="SEV1", started_at=datetime(2026, 10, 20, tzinfo=UTC))
    return {"a_case": a_case, "b_case": b_case}


@pytest.mark.django_db
def test_incidents_by_severity_with_mtta_and_mttr(incidents, manager, agent, tenant_a):
    table = metrics.report(manager, filters()).table("incidents")
    # SEV1: 2 incidents, acknowledged after 1 h and 3 h (MTTA 2.0), resolved after 5 h and 24 h (MTTR 14.5).
    assert values(table, "SEV1") == [2, Decimal("66.7"), 2, Decimal("2.0"), 2, Decimal("14.5"), 1]
    assert values(table, "SEV2") == [1, Decimal("33.3"), 0, None, 0, None, 1]
    assert "SEV3" not in [r.label for r in table.rows]
    # An agent of tenant A sees only the incidents touching it; so does a report narrowed to tenant A.
    assert [r.label for r in metrics.report(agent, filters()).table("incidents").rows] == ["SEV1"]
    narrowed = metrics.report(manager, filters(tenant_id=tenant_a.pk, tenant_slug=tenant_a.slug)).table("incidents")
    assert values(narrowed, "SEV1")[0] == 2 and [r.label for r in narrowed.rows] == ["SEV1"]
    url = narrowed.rows[0].url
    assert url.startswith("/incidents/?") and "severity=SEV1" in url and "tenant=acme" in url
    listing = login(manager).get(url)
    assert listing.status_code == 200 and "Second outage" in listing.content.decode()


@pytest.mark.django_db
def test_known_issue_frequency_counts_the_cohort_cases_linked(db, manager, agent, tenant_a, tenant_b):
    sso = KnownIssue.objects.create(title="SSO loop")
    quota = KnownIssue.objects.create(title="Quota error")
    for day, tenant, issue in ((3, tenant_a, sso), (4, tenant_a, sso), (5, tenant_b, sso), (6, tenant_a, quota)):
        KnownIssueCase.objects.create(known_issue=issue, case=CaseFactory(tenant=tenant, created_at=t(day)))
    earlier = CaseFactory(tenant=tenant_a, created_at=datetime(2026, 10, 25, tzinfo=UTC))
    KnownIssueCase.objects.create(known_issue=quota, case=earlier)  # the previous period
    later = CaseFactory(tenant=tenant_a, created_at=t(20))
    KnownIssueCase.objects.create(known_issue=sso, case=later)  # after the range
    table = metrics.report(manager, filters()).table("known_issues")
    assert [(r.label, r.values[0], r.values[2], r.values[3]) for r in table.rows] == [
        ("SSO loop", 3, 0, None),
        ("Quota error", 1, 1, Decimal("0.0")),
    ]
    assert table.rows[0].url == f"/incidents/known-issues/{sso.pk}/"
    assert values(metrics.report(agent, filters()).table("known_issues"), "SSO loop")[0] == 2  # tenant A only
    weekly = login(manager).get("/reports/weekly/?week=2026-W45&format=json").json()
    assert {"section": "known_issues", "metric": "SSO loop", "value": 3} in weekly["metrics"]
    assert {"section": "incidents", "metric": "incidents", "value": 0} in weekly["metrics"]
