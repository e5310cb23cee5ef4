"""The case's Audit tab for a compliance reviewer: entries in words, grouped per request, filtered,
exported as CSV, with one "viewed" per page load."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from cases import audit_trail, services
from cases.choices import Priority, Status
from cases.models import Case
from cases.selectors import case_audit_entries
from companyos.models import Profile
from tests.conftest import login
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _words(case) -> list[str]:
    return [row.text for row in audit_trail.describe(case_audit_entries(case), case)]


def test_changes_read_as_sentences_with_labels_and_names(case_a, agent):
    agent.first_name, agent.last_name = "Kari", "Nordmann"
    agent.save()
    team = TeamFactory(name="Tier 2")
    was = Priority(case_a.priority)
    services.case_classify(case_id=case_a.pk, actor=agent, expected_version=case_a.version, priority=Priority.CRITICAL)
    services.case_assign(case_id=case_a.pk, actor=agent, owner=agent, team=team)
    services.case_transition(case_id=case_a.pk, to=Status.TRIAGE, actor=agent)
    text = "\n".join(_words(case_a))
    assert f"changed priority from {was.code} {was.label} to {Priority.CRITICAL.code} Critical" in text
    assert "set owner to Kari Nordmann" in text and "set team to Tier 2" in text
    assert "changed status from New to Triage" in text
    assert "added a timeline entry: status change" in text
    # Nothing of the raw dump: no "None →", no model paths, no microseconds.
    assert "None" not in text and "cases.Attachment" not in text and "→" not in text


def test_hashed_personal_values_are_not_shown(case_a, agent):
    ct = ContentType.objects.get_for_model(Case)
    for old, new in (("sha256:aa11", "sha256:bb22"), ({"hashed": True}, {"hashed": True})):
        LogEntry.objects.create(
            content_type=ct,
            object_pk=str(case_a.pk),
            object_id=case_a.pk,
            object_repr=str(case_a),
            action=LogEntry.Action.UPDATE,
            changes={"subject": [old, new]},
            actor=agent,
        )
    rows = [r for r in audit_trail.describe(case_audit_entries(case_a), case_a) if r.kind == "change"]
    assert [line for r in rows for line in r.lines] == ["changed subject (value not recorded)"] * 2
    assert "sha256" not in " ".join(r.text for r in rows)


def test_filters_and_denials(case_a, agent, other_agent):
    client = login(agent)
    client.get(f"/cases/{case_a.key}/")
    services.case_transition(case_id=case_a.pk, to=Status.TRIAGE, actor=agent)
    outsider = UserFactory(username="eve", role="agent")
    assert login(outsider).get(f"/cases/{case_a.key}/").status_code == 404
    kinds = {
        kind: {audit_trail.entry_kind(e) for e in case_audit_entries(case_a, kind=kind)}
        for kind in ("changes", "views", "denials")
    }
    assert kinds == {"changes": {"change"}, "views": {"view"}, "denials": {"denial"}}
    denial = audit_trail.describe(case_audit_entries(case_a, kind="denials"), case_a)[0]
    assert denial.verb.startswith("denied: not visible") and denial.actor == "eve"
    page = client.get(f"/cases/{case_a.key}/audit/?kind=denials").content.decode()
    assert "denied: not visible" in page and "changed status" not in page
    assert client.get(f"/cases/{case_a.key}/audit/?kind=nonsense").status_code == 200  # unknown: all


def test_rows_of_one_request_are_one_group(case_a, agent):
    client = login(agent)
    client.post(f"/cases/{case_a.key}/transition/", {"to": Status.TRIAGE, "expected_status": Status.NEW})
    rows = audit_trail.describe(case_audit_entries(case_a, kind="changes"), case_a)
    groups = audit_trail.group(rows)
    # the case update and its timeline entry were written by one request: one group, one cid (the
    # factory's "opened the case" before it is another)
    assert [len(g.rows) for g in groups] == [2, 1] and groups[0].cid
    assert {r.verb for r in groups[0].rows} == {"changed the case", "added a timeline entry: status change"}


def test_csv_export_has_the_filtered_rows_and_is_audited(case_a, agent):
    Profile.objects.create(user=agent, timezone="Asia/Tokyo")
    client = login(agent)
    client.get(f"/cases/{case_a.key}/")
    services.case_transition(case_id=case_a.pk, to=Status.TRIAGE, actor=agent)
    response = client.get(f"/cases/{case_a.key}/audit/export.csv?kind=changes")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"{case_a.key}-audit-changes.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {r["kind"] for r in rows} == {"change"}
    assert any(r["what"] == "changed the case" and "from New to Triage" in r["details"] for r in rows)
    assert {r["timezone"] for r in rows} == {"Asia/Tokyo"}
    export = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__view="audit export").get()
    assert export.additional_data["kind"] == "changes" and export.actor == agent


def test_one_viewed_entry_per_page_load(case_a, agent):
    client = login(agent)
    page = client.get(f"/cases/{case_a.key}/")
    token = page.context["pageview"]
    client.get(f"/cases/{case_a.key}/context/", {"pv": token}, HTTP_HX_REQUEST="true")
    client.get(f"/cases/{case_a.key}/", {"pv": token}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sla-panel")
    views = list(case_audit_entries(case_a, kind="views"))
    assert [v.additional_data["view"] for v in views] == ["case page"]
    # Without the page's token (or with a forged one, or another user's) the panel is a view of its own.
    client.get(f"/cases/{case_a.key}/context/", {"pv": token + "x"})
    other = login(UserFactory(username="ola", role="agent", tenants=[case_a.tenant]))
    other.get(f"/cases/{case_a.key}/context/", {"pv": token})
    assert [v.additional_data["view"] for v in case_audit_entries(case_a, kind="views")][:2] == [
        "context panel",
        "context panel",
    ]


def test_audit_tab_query_count_does_not_grow_with_entries(case_a, agent, django_assert_max_num_queries):
    client = login(agent)
    teams = [TeamFactory(name=f"Team {n}") for n in range(3)]
    services.case_assign(case_id=case_a.pk, actor=agent, owner=agent, team=teams[0])
    client.get(f"/cases/{case_a.key}/audit/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(f"/cases/{case_a.key}/audit/")
    for team in teams[1:] * 5:
        services.case_assign(case_id=case_a.pk, actor=agent, team=team)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/cases/{case_a.key}/audit/")
    assert response.content.decode().count("changed team from") == 10
