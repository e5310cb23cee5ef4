"""The knowledge pages as a user meets them: the library's search with highlighted snippets, the
case page's Knowledge card (full, HTMX, 404 for a case not visible), the macro preview and apply,
hostile Markdown, audited views, and a query count for the search."""

import pytest
from auditlog.models import LogEntry

from cases.models import Interaction
from runbooks import services
from runbooks.models import Macro, Runbook
from tests.conftest import login
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def editor(tenant_a):
    return UserFactory(username="sen", role="senior agent", tenants=[tenant_a])


def test_library_search_ranks_and_highlights(agent, editor):
    services.runbook_save(
        actor=editor,
        title="Webhook delivery failures",
        body="When webhooks fail, check the signing secret.",
        steps=["a"],
    )
    services.runbook_save(actor=editor, title="Unrelated", body="Mentions webhook once at the end.")
    body = login(agent).get("/runbooks/", {"q": "webhook"}).content.decode()
    assert body.index("Webhook delivery failures") < body.index("Unrelated")
    assert "<mark>webhooks</mark>" in body or "<mark>Webhook</mark>" in body or "<mark>webhook</mark>" in body
    partial = login(agent).get("/runbooks/", {"q": "webhook"}, **HX).content.decode()
    assert "<html" not in partial and 'id="runbook-results"' in partial
    listed = LogEntry.objects.filter(object_pk="list", additional_data__view="runbook library").latest("pk")
    assert len(listed.additional_data["ids"]) == 2


def test_a_snippet_never_carries_the_authors_html(agent, editor):
    services.runbook_save(
        actor=editor, title="Hostile", body="webhook <script>alert(1)</script> [x](javascript:alert(1))"
    )
    client = login(agent)
    body = client.get("/runbooks/", {"q": "webhook"}).content.decode()
    assert "<script>alert" not in body
    page = client.get("/runbooks/hostile/").content.decode()
    assert "<script>alert" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text


@pytest.mark.parametrize("n", [1, 20])
def test_search_query_count_is_flat(n, agent, editor, django_assert_max_num_queries):
    for i in range(n):
        services.runbook_save(actor=editor, title=f"Webhook runbook {i}", body="webhook steps")
    client = login(agent)
    with django_assert_max_num_queries(9):
        assert client.get("/runbooks/", {"q": "webhook"}).status_code == 200


def test_editing_keeps_history_and_restores(editor):
    runbook = services.runbook_save(actor=editor, title="Rotate keys", body="v1", steps=["one", "two"])
    client = login(editor)
    response = client.post(
        f"/runbooks/{runbook.slug}/edit/",
        {"title": "Rotate keys", "body": "v2", "steps": "one\nthree", "version": 1, "internal": "on"},
    )
    assert response.status_code == 302
    runbook.refresh_from_db()
    assert runbook.version == 2 and list(runbook.steps.values_list("title", flat=True)) == ["one", "three"]
    stale = client.post(f"/runbooks/{runbook.slug}/edit/", {"title": "Rotate keys", "body": "v3", "version": 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    assert client.post(f"/runbooks/{runbook.slug}/restore/", {"version": 1}).status_code == 302
    runbook.refresh_from_db()
    assert (
        runbook.version == 3
        and runbook.body == "v1"
        and list(runbook.steps.values_list("title", flat=True)) == ["one", "two"]
    )
    assert runbook.revisions.first().note == "restored version 1"


def test_agents_use_but_do_not_edit(agent):
    client = login(agent)
    assert client.get("/runbooks/auth-401-403-triage/").status_code == 200
    assert client.get("/runbooks/auth-401-403-triage/edit/").status_code == 403
    assert client.post("/runbooks/new/", {"title": "x"}).status_code == 403
    assert not Runbook.objects.filter(title="x").exists()
    runbook = Runbook.objects.get(slug="auth-401-403-triage")
    assert LogEntry.objects.filter(object_pk=str(runbook.pk), action=LogEntry.Action.ACCESS).exists()


def test_the_knowledge_card(agent, tenant_a, tenant_b):
    case = CaseFactory(tenant=tenant_a, subject="Login fails", description="We get AUTH-401-EXPIRED")
    client = login(agent)
    body = client.get(f"/runbooks/case/{case.key}/", **HX).content.decode()
    assert 'id="knowledge-panel"' in body and "error code AUTH-401-EXPIRED in the description" in body
    assert "Authentication failures (401/403) triage" in body
    other = CaseFactory(tenant=tenant_b)
    assert client.get(f"/runbooks/case/{other.key}/", **HX).status_code == 404
    assert client.get(f"/runbooks/case/{other.key}/macros/{Macro.objects.first().pk}/").status_code == 404


def test_the_case_page_loads_the_card_by_url(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    body = login(agent).get(f"/cases/{case.key}/").content.decode()
    assert f'hx-get="/runbooks/case/{case.key}/?pv=' in body


def test_palette_preview_and_apply(agent, open_case):
    client = login(agent)
    results = client.get(f"/runbooks/case/{open_case.key}/macros/", {"q": "inform"}).content.decode()
    assert "Information request" in results and "Resolution" not in results
    macro = Macro.objects.get(builtin="information-request")
    preview = client.get(f"/runbooks/case/{open_case.key}/macros/{macro.pk}/", **HX).content.decode()
    assert "Hi Jo Doe" in preview and "Request 5 item(s) of information" in preview and "Apply macro" in preview
    response = client.post(f"/runbooks/case/{open_case.key}/macros/{macro.pk}/", {"version": open_case.version}, **HX)
    assert response.status_code == 204 and response["HX-Location"] == f"/cases/{open_case.key}/"
    assert Interaction.objects.filter(case=open_case, kind="reply").count() == 1


def test_a_refused_apply_answers_422_and_changes_nothing(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)  # new: "Resolution" cannot resolve it
    macro = Macro.objects.get(builtin="resolution")
    client = login(agent)
    preview = client.get(f"/runbooks/case/{case.key}/macros/{macro.pk}/", **HX).content.decode()
    assert "not allowed from New" in preview and "Apply macro" not in preview
    response = client.post(f"/runbooks/case/{case.key}/macros/{macro.pk}/", {"version": case.version}, **HX)
    assert response.status_code == 422 and "not allowed from New" in response.content.decode()
    assert not Interaction.objects.filter(case=case, kind="reply").exists()
    assert client.post(f"/runbooks/case/{case.key}/macros/{macro.pk}/", {"version": "x"}, **HX).status_code == 400


def test_error_code_upload(editor, agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    doc = b"## X400-E1042 - API key malformed\nMeaning: spaces\n"
    client = login(editor)
    response = client.post("/runbooks/errors/import/", {"file": SimpleUploadedFile("errors.md", doc)})
    assert response.status_code == 302
    bad = client.post(
        "/runbooks/errors/import/", {"file": SimpleUploadedFile("errors.md", b"| Code | M |\n|-|-|\n| X1-E1 |\n")}
    )
    assert bad.status_code == 422 and "Line 3" in bad.content.decode()
    assert client.post("/runbooks/errors/import/", {"file": SimpleUploadedFile("e.md", b"\xff\xfe")}).status_code == 400
    assert (
        login(agent).post("/runbooks/errors/import/", {"file": SimpleUploadedFile("errors.md", doc)}).status_code == 403
    )


def test_macro_report_is_for_managers(agent, manager):
    assert login(agent).get("/runbooks/macros/report/").status_code == 403
    body = login(manager).get("/runbooks/macros/report/").content.decode()
    assert "Initial response" in body


def test_kb_links_for_the_composer(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    body = login(agent).get(f"/runbooks/case/{case.key}/articles/", {"q": "rate limiting"}).content.decode()
    assert 'data-insert-link="https://help.companyos.example/kb/rate-limiting-explained"' in body


def test_review_due_filter(agent, editor):
    fresh = services.runbook_save(actor=editor, title="Fresh one", body="x")
    Runbook.objects.filter(pk=fresh.pk).update(reviewed_at="2020-01-01")
    body = login(agent).get("/runbooks/", {"review_due": "on"}).content.decode()
    assert "Fresh one" in body and "Ingestion delays" not in body


def test_an_agent_writes_a_personal_macro_and_bad_ones_are_422(agent):
    client = login(agent)
    rows = {"actions-TOTAL_FORMS": "1", "actions-INITIAL_FORMS": "0", "actions-0-type": "tags"}
    ok = client.post(
        "/runbooks/macros/",
        {
            "name": "My hello",
            "kind": "reply",
            "visibility": "personal",
            "body": "Hi {{ customer_name }}",
            **rows,
            "actions-0-tags_add": "x",
        },
    )
    assert ok.status_code == 302 and Macro.objects.get(name="My hello").owner == agent
    assert Macro.objects.get(name="My hello").actions == [{"type": "tags", "add": ["x"], "remove": []}]
    none = {"actions-TOTAL_FORMS": "0", "actions-INITIAL_FORMS": "0"}
    bad = client.post(
        "/runbooks/macros/", {"name": "Bad", "kind": "reply", "visibility": "personal", "body": "Hi {{ nme }}", **none}
    )
    assert bad.status_code == 422 and "Unknown variable nme" in bad.content.decode()
    shared = client.post(
        "/runbooks/macros/", {"name": "Shared", "kind": "reply", "visibility": "shared", "body": "x", **none}
    )
    assert shared.status_code == 422 and not Macro.objects.filter(name="Shared").exists()
    broken = client.post("/runbooks/macros/", {"name": "J", "kind": "none", "visibility": "personal"})
    assert broken.status_code == 422 and "ManagementForm data is missing" in broken.content.decode()


def test_bulk_macro_from_the_queue(agent, tenant_a, tenant_b, open_case):
    new_case, foreign = CaseFactory(tenant=tenant_a), CaseFactory(tenant=tenant_b)
    macro = Macro.objects.get(builtin="initial-response")
    client = login(agent)
    picker = client.get("/runbooks/macros/bulk/", **HX).content.decode()
    assert f'<option value="{macro.pk}">Initial response</option>' in picker
    ids = [new_case.pk, open_case.pk, foreign.pk]
    response = client.post("/runbooks/macros/bulk/", {"macro": macro.pk, "id": ids}, **HX)
    assert response.status_code == 200 and response["HX-Trigger"] == "cases-changed"
    assert f"1 case changed by the macro; skipped {open_case.key}" in response.content.decode()
    assert Interaction.objects.filter(case=new_case, kind="reply").exists()
    assert not Interaction.objects.filter(case=foreign).exists()
    assert 'hx-get="/runbooks/macros/bulk/"' in client.get("/cases/").content.decode()
