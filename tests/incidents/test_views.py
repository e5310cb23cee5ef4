"""The incident pages: list (filters, HTMX partial, URL state), the incident page, the case page's
incident panel, linking from the case and from the queue's bulk bar, declaring from a case, the
customer update preview and send — visibility by tenant, 404 + audit outside it, query counts pinned."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from cases.choices import Priority, Status
from cases.models import Interaction
from companyos import pageview
from incidents import services
from incidents.models import Incident
from tests.conftest import login
from tests.factories import CaseFactory

HX = {"HTTP_HX_REQUEST": "true"}


def _denials(model, pk):
    ct = ContentType.objects.get_for_model(model)
    return LogEntry.objects.filter(content_type=ct, object_pk=str(pk), additional_data__denied=True)


def _accesses(model, **filters):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), action=LogEntry.Action.ACCESS, **filters
    )


def test_list_shows_only_incidents_through_granted_tenants(incident, agent, sre, tenant_b):
    other = services.incident_declare(actor=sre, title="Globex webhooks down", severity="SEV2", tenants=[tenant_b])
    body = login(agent).get("/incidents/").content.decode()
    assert incident.key in body and other.key not in body
    assert other.key in login(sre).get("/incidents/").content.decode()
    assert _accesses(Incident, object_pk="list", additional_data__view="incident list").exists()


def test_list_filters_partial_and_url_state(incident, agent, tenant_a):
    resolved = services.incident_declare(actor=agent, title="Old one", severity="SEV3", tenants=[tenant_a])
    services.incident_update_status(incident_id=resolved.pk, actor=agent, to="resolved")
    client = login(agent)
    response = client.get("/incidents/?active=true&severity=SEV1", **HX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="incident-results"' in body
    assert incident.key in body and resolved.key not in body
    assert response["HX-Push-Url"] == "/incidents/?active=true&severity=SEV1"
    assert resolved.key in client.get("/incidents/?status=resolved").content.decode()
    assert incident.key in client.get(f"/incidents/?q={incident.key}").content.decode()
    assert incident.key in client.get("/incidents/?tenant=acme").content.decode()
    assert incident.key not in client.get("/incidents/?tenant=globex").content.decode()
    assert client.get("/incidents/?severity=SEV9").status_code == 200  # a bad value matches nothing, no 500


@pytest.mark.parametrize("n", [3, 30])
def test_list_query_count_is_flat(n, agent, tenant_a, django_assert_num_queries):
    for i in range(n):
        incident = services.incident_declare(actor=agent, title=f"inc {i}", severity="SEV2", tenants=[tenant_a])
        services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[CaseFactory(tenant=tenant_a).pk])
    client = login(agent)
    client.get("/incidents/")
    with django_assert_num_queries(4):  # the user, the count, the page, the audit entry
        assert client.get("/incidents/?sort=cases").status_code == 200


def test_incident_page_names_own_cases_and_counts_the_others(incident, agent, sre, tenant_a, tenant_b):
    mine = CaseFactory(tenant=tenant_a, subject="Acme API down")
    theirs = CaseFactory(tenant=tenant_b, subject="Globex secret subject")
    services.incident_link_cases(incident_id=incident.pk, actor=sre, case_ids=[mine.pk, theirs.pk])
    services.incident_post_update(incident_id=incident.pk, actor=sre, body="internal: db failover", public=False)
    body = login(agent).get(f"/incidents/{incident.key}/").content.decode()
    assert mine.key in body and "Acme API down" in body
    assert theirs.key not in body and "Globex secret subject" not in body and "Globex" not in body
    assert "1 case of other tenants" in body
    assert "internal: db failover" in body  # the console shows internal notes, labelled
    assert _accesses(Incident, object_pk=str(incident.pk), additional_data__view="incident page").exists()


def test_incident_outside_the_users_tenants_is_404_and_audited(agent, sre, tenant_b):
    other = services.incident_declare(actor=sre, title="Globex", severity="SEV2", tenants=[tenant_b])
    client = login(agent)
    assert client.get(f"/incidents/{other.key}/").status_code == 404
    assert _denials(Incident, other.pk).exists()
    assert client.post(f"/incidents/{other.key}/update/", {"body": "x", "public": "on"}).status_code == 404
    assert not other.entries.filter(body="x").exists()
    assert client.get("/incidents/INC-abc/").status_code == 404


@pytest.mark.parametrize("n", [2, 40])
def test_incident_page_query_count_is_flat(n, incident, agent, tenant_a, django_assert_num_queries):
    cases = [CaseFactory(tenant=tenant_a, owner=agent) for _ in range(n)]
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[c.pk for c in cases])
    for i in range(n):
        services.incident_post_update(incident_id=incident.pk, actor=agent, body=f"update {i}", public=bool(i % 2))
    services.corrective_action_add(incident_id=incident.pk, actor=agent, title="canaries", owner=agent)
    client = login(agent)
    client.get(f"/incidents/{incident.key}/")
    with django_assert_num_queries(12):  # the people of the three selects read once (forms.share_people)
        response = client.get(f"/incidents/{incident.key}/")
    assert response.status_code == 200 and cases[0].key in response.content.decode()


def test_writes_from_the_page_and_refusals(incident, agent):
    client = login(agent)
    response = client.post(f"/incidents/{incident.key}/status/", {"to": "identified", "version": incident.version})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "identified"
    stale = client.post(f"/incidents/{incident.key}/status/", {"to": "mitigating", "version": incident.version - 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    bad = client.post(f"/incidents/{incident.key}/severity/", {"severity": "SEV7", "version": incident.version})
    assert bad.status_code == 422
    big = client.post(f"/incidents/{incident.key}/update/", {"body": "x" * 20_000, "public": "on"})
    assert big.status_code == 422
    ok = client.post(f"/incidents/{incident.key}/update/", {"body": "We found it", "public": "on"})
    assert ok.status_code == 302 and incident.entries.filter(body="We found it", public=True).exists()
    unknown = client.post(f"/incidents/{incident.key}/link/", {"cases": "CS-x1"})
    assert unknown.status_code == 422 and "is not a case key" in unknown.content.decode()


def test_case_panel_lazy_loaded_shows_the_incident(incident, agent, tenant_a, django_assert_max_num_queries):
    case = CaseFactory(tenant=tenant_a)
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case.pk])
    for i in range(5):
        services.incident_post_update(incident_id=incident.pk, actor=agent, body=f"public {i}", public=True)
    services.incident_post_update(incident_id=incident.pk, actor=agent, body="secret note", public=False)
    services.incident_edit(incident_id=incident.pk, actor=agent, current_mitigation="Failing over to eu-west-2")
    client = login(agent)
    page = client.get(f"/cases/{case.key}/").content.decode()
    assert f"/incidents/case/{case.key}/panel/" in page
    token = pageview.token(agent, case)
    client.get(f"/incidents/case/{case.key}/panel/", {"pv": token}, **HX)
    with django_assert_max_num_queries(8):  # + the case's on-call pages and its tier (incidents/oncall)
        response = client.get(f"/incidents/case/{case.key}/panel/", {"pv": token}, **HX)
    body = response.content.decode()
    assert incident.key in body and "Failing over to eu-west-2" in body and incident.comms_channel in body
    assert "public 4" in body and "public 3" in body and "public 1" not in body  # the latest three
    assert "secret note" not in body


def test_case_panel_of_an_invisible_case_is_404(agent, tenant_b):
    case = CaseFactory(tenant=tenant_b)
    assert login(agent).get(f"/incidents/case/{case.key}/panel/").status_code == 404


def test_link_from_the_case_page(incident, agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    client = login(agent)
    response = client.post(f"/incidents/case/{case.key}/link/", {"incident": incident.key}, **HX)
    assert response.status_code == 200 and incident.cases.filter(pk=case.pk).exists()
    assert response["HX-Trigger"] == "case-changed"
    missing = client.post(f"/incidents/case/{case.key}/link/", {"incident": "INC-999999"}, **HX)
    assert missing.status_code == 422 and "not an incident you can see" in missing.content.decode()
    picker = client.get("/incidents/picker/", {"q": "API 5xx"}).content.decode()
    assert incident.key in picker


def test_link_suggestion_for_the_active_incident_on_the_tenant(incident, agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    body = login(agent).get(f"/incidents/case/{case.key}/panel/").content.decode()
    assert "Active on this tenant or resource" in body and incident.key in body


def test_bulk_link_from_the_queue(incident, agent, tenant_a):
    cases = [CaseFactory(tenant=tenant_a) for _ in range(3)]
    client = login(agent)
    ids = [c.pk for c in cases]
    confirm = client.post("/cases/bulk/", {"id": ids, "action": "incident", "extra": incident.key}, **HX)
    assert confirm.status_code == 200 and f"Link to {incident.key}" in confirm.content.decode()
    assert not incident.cases.exists()
    done = client.post(
        "/cases/bulk/",
        {"ids": ",".join(map(str, ids)), "action": "incident", "extra": incident.key, "confirm": "on"},
        **HX,
    )
    assert done.status_code == 200 and "3 cases changed" in done.content.decode()
    assert incident.cases.count() == 3
    bad = client.post("/cases/bulk/", {"id": ids, "action": "incident", "extra": "INC-0"}, **HX)
    assert bad.status_code == 422
    assert "Link to incident" in client.get("/cases/").content.decode()


def test_declare_from_a_case(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a, priority=Priority.HIGH, subject="Webhooks delayed")
    client = login(agent)
    form = client.get(f"/incidents/case/{case.key}/declare/").content.decode()
    assert "Webhooks delayed" in form and 'value="SEV2" selected' in form
    response = client.post(f"/incidents/case/{case.key}/declare/", {"title": "Webhooks delayed", "severity": "SEV2"})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.key}/"
    assert incident.cases.filter(pk=case.pk).exists()
    bad = client.post(f"/incidents/case/{case.key}/declare/", {"title": "x", "severity": "SEV0"})
    assert bad.status_code == 422


def test_customer_update_preview_then_send(incident, agent, tenant_a, django_capture_on_commit_callbacks):
    cases = [CaseFactory(tenant=tenant_a, status=Status.IN_PROGRESS) for _ in range(2)]
    services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[c.pk for c in cases])
    client = login(agent)
    preview = client.post(f"/incidents/{incident.key}/customers/", {"template": "status", "message": "Rolled back."})
    body = preview.content.decode()
    assert preview.status_code == 200 and "Send to 2 cases" in body and f"Hi {cases[0].requester.name}" in body
    assert not Interaction.objects.filter(kind=Interaction.Kind.REPLY).exists()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            f"/incidents/{incident.key}/customers/", {"template": "status", "message": "Rolled back.", "confirm": "on"}
        )
    assert sent.status_code == 302
    for case in cases:
        assert case.interactions.filter(kind=Interaction.Kind.REPLY, public=True).count() == 1
    bad = client.post(f"/incidents/{incident.key}/customers/", {"template": "status", "text": "{{ nope }}"})
    assert bad.status_code == 422 and "Unknown variable nope" in bad.content.decode()


def test_case_severity_set_at_triage_shown_and_filterable(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a, subject="Delivery down")
    client = login(agent)
    response = client.post(
        f"/cases/{case.key}/classify/", {"version": case.version, "priority": "critical", "severity": "sev1"}
    )
    assert response.status_code in (200, 302)
    case.refresh_from_db()
    assert case.severity == "sev1"
    assert "Sev-1" in client.get(f"/cases/{case.key}/").content.decode()
    assert case.key in client.get("/cases/?severity=sev1").content.decode()
    assert case.key not in client.get("/cases/?severity=sev2").content.decode()
    bad = client.post(
        f"/cases/{case.key}/classify/", {"version": case.version, "priority": "critical", "severity": "sev9"}
    )
    assert bad.status_code == 422


def test_detection_hint_declare_and_link_all(agent, tenant_a, tenant_b):
    cases = [CaseFactory(tenant=tenant_a, subject=f"Webhook deliveries failing with 503 ({i})") for i in range(3)]
    foreign = CaseFactory(tenant=tenant_b, subject="Webhook deliveries failing with 503 here too")
    client = login(agent)
    body = client.get(f"/incidents/case/{cases[0].key}/panel/").content.decode()
    assert "Possible incident: 4 similar cases" in body and "1 at tenants you do not see" in body
    assert foreign.key not in body
    response = client.post(
        f"/incidents/case/{cases[0].key}/declare/",
        {"title": cases[0].subject, "severity": "SEV2", "link_similar": "on"},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert set(incident.cases.values_list("pk", flat=True)) == {c.pk for c in cases}  # not the foreign one
    assert "Possible incident" not in client.get(f"/incidents/case/{cases[1].key}/panel/").content.decode()
