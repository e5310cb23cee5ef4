"""The console's editors for knowledge-base articles and known issues: who may edit (admins and
senior agents, as for runbooks), validation messages with a 4xx that keep what was typed, the
Markdown preview, version history with restore, the stale-version check, and the confirmation
before a deletion."""

import pytest
from auditlog.models import LogEntry

from runbooks import services
from runbooks.models import Article, ArticleRevision, KnownIssue, KnownIssueCase, Macro
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def editor(tenant_a):
    return UserFactory(username="sen", role="senior agent", tenants=[tenant_a])


def _article(editor, **fields):
    values = {
        "title": "Rotate an API token",
        "category": "security",
        "body": "Go to **Settings**.",
        "status": "published",
    }
    return services.article_save(actor=editor, **(values | fields))


def _post(article, **fields):
    data = {
        "title": article.title,
        "category": article.category,
        "status": article.status,
        "summary": article.summary,
        "tags": ", ".join(article.tags),
        "body": article.body,
        "version": article.version,
    }
    return data | fields


# --- articles ---------------------------------------------------------------------------------------


def test_an_editor_creates_an_article_in_the_console(editor):
    client = login(editor)
    assert client.get("/runbooks/kb/new/").status_code == 200
    response = client.post(
        "/runbooks/kb/new/",
        {"title": "Webhook retries", "category": "integration", "status": "draft", "body": "# Retries\n\nEvery 5 min."},
    )
    article = Article.objects.get(title="Webhook retries")
    assert response.status_code == 302 and response["Location"] == article.get_absolute_url()
    assert article.version == 1 and "<h1>Retries</h1>" in article.body_html
    revision = ArticleRevision.objects.get(article=article)
    assert revision.version == 1 and revision.author == editor and "body" in revision.changed


def test_agents_may_not_edit_and_the_refusal_is_audited(agent, editor):
    article = _article(editor)
    client = login(agent)
    for url in ("/runbooks/kb/new/", f"/runbooks/kb/{article.slug}/edit/", f"/runbooks/kb/{article.slug}/delete/"):
        assert client.get(url).status_code == 403
    response = client.post(f"/runbooks/kb/{article.slug}/edit/", _post(article, title="Hijacked"))
    assert response.status_code == 403
    assert client.post(f"/runbooks/kb/{article.slug}/delete/", {"confirm": "yes"}).status_code == 403
    assert client.post(f"/runbooks/kb/{article.slug}/restore/", {"version": 1}).status_code == 403
    assert client.post("/runbooks/preview/", {"body": "x"}).status_code == 403
    article.refresh_from_db()
    assert article.title == "Rotate an API token" and Article.objects.filter(pk=article.pk).exists()
    assert LogEntry.objects.filter(additional_data__reason__icontains="only editors change").count() >= 5
    with pytest.raises(services.KnowledgeError, match="Only admins and senior agents"):
        services.article_save(actor=agent, article_id=article.pk, title="x", category="faq")
    page = client.get(article.get_absolute_url()).content.decode()
    assert "/edit/" not in page and "Restore" not in page


def test_bad_input_is_a_422_that_keeps_what_was_typed(editor):
    article = _article(editor)
    client = login(editor)
    response = client.post(
        f"/runbooks/kb/{article.slug}/edit/", _post(article, title="", category="nonsense", body="my long draft")
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in body and "Select a valid choice" in body
    assert "my long draft" in body
    article.refresh_from_db()
    assert article.version == 1 and article.body == "Go to **Settings**."
    too_long = client.post(f"/runbooks/kb/{article.slug}/edit/", _post(article, body="x" * 100_001))
    assert too_long.status_code == 422


def test_a_stale_version_is_a_409_and_nothing_is_saved(editor, admin_user):
    article = _article(editor)
    seen = _post(article, body="my edit")
    services.article_save(
        actor=admin_user, article_id=article.pk, title=article.title, category="security", status="published",
        body="their edit",
    )  # fmt: skip
    response = login(editor).post(f"/runbooks/kb/{article.slug}/edit/", seen)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode() and "my edit" in response.content.decode()
    article.refresh_from_db()
    assert article.body == "their edit" and article.version == 2


def test_preview_renders_sanitised_markdown_without_saving(editor):
    article = _article(editor)
    hostile = "## Steps\n\n<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    client = login(editor)
    response = client.post(f"/runbooks/kb/{article.slug}/edit/", _post(article, body=hostile, preview="1"))
    body = response.content.decode()
    assert response.status_code == 200 and "<h2>Steps</h2>" in body
    assert (
        "<script>alert" not in body
        and 'href="javascript' not in body
        and "onerror=alert" not in body.replace("onerror=alert(1)&gt;", "")
    )
    article.refresh_from_db()
    assert article.version == 1  # nothing saved
    live = client.post("/runbooks/preview/", {"body": hostile}, **HX)
    assert live.status_code == 200 and "<html" not in live.content.decode()
    assert 'id="md-preview"' in live.content.decode() and "<script>alert" not in live.content.decode()
    assert client.post("/runbooks/preview/", {"body": "x" * 100_001}, **HX).status_code == 422


def _runbook_post(runbook, **fields):
    data = {
        "title": runbook.title,
        "summary": runbook.summary,
        "category": runbook.category,
        "tags": ", ".join(runbook.tags),
        "body": runbook.body,
        "steps": "\n".join(runbook.steps.values_list("title", flat=True)),
        "internal": "on",
        "version": runbook.version,
    }
    return data | fields


def test_the_runbook_editor_previews_as_typed_and_without_saving(editor):
    runbook = services.runbook_save(actor=editor, title="Rotate keys", body="Old body.", steps=["Check expiry"])
    client = login(editor)
    page = client.get(f"/runbooks/{runbook.slug}/edit/").content.decode()
    # The body is previewed as typed (HTMX to the shared preview endpoint) and the empty preview says so.
    assert 'hx-post="/runbooks/preview/"' in page and 'id="md-preview"' in page and "Old body." in page
    hostile = "## Rollback\n\n<script>alert(1)</script> **now**"
    response = client.post(f"/runbooks/{runbook.slug}/edit/", _runbook_post(runbook, body=hostile, preview="1"))
    body = response.content.decode()
    assert response.status_code == 200 and "<h2>Rollback</h2>" in body and "<strong>now</strong>" in body
    assert "<script>alert" not in body
    runbook.refresh_from_db()
    assert runbook.version == 1 and runbook.body == "Old body."  # nothing saved by a preview


def test_a_stale_runbook_edit_is_a_409_that_keeps_what_was_typed(editor, admin_user):
    runbook = services.runbook_save(actor=editor, title="Rotate keys", body="v1")
    seen = _runbook_post(runbook, body="my edit")
    services.runbook_save(actor=admin_user, runbook_id=runbook.pk, title="Rotate keys", body="their edit")
    response = login(editor).post(f"/runbooks/{runbook.slug}/edit/", seen)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode() and "my edit" in response.content.decode()
    runbook.refresh_from_db()
    assert runbook.body == "their edit" and runbook.version == 2


def test_history_and_restore(editor):
    article = _article(editor)
    client = login(editor)
    client.post(f"/runbooks/kb/{article.slug}/edit/", _post(article, body="Second text", note="clarified"))
    article.refresh_from_db()
    assert article.version == 2
    page = client.get(article.get_absolute_url()).content.decode()
    assert "v2" in page and "“clarified”" in page and "changed body" in page and "data-confirm" in page
    response = client.post(f"/runbooks/kb/{article.slug}/restore/", {"version": 1, "expected_version": article.version})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.version == 3 and article.body == "Go to **Settings**."
    assert ArticleRevision.objects.get(article=article, version=3).note == "restored version 1"
    assert client.post(f"/runbooks/kb/{article.slug}/restore/", {"version": 99}).status_code == 422
    assert client.post(f"/runbooks/kb/{article.slug}/restore/", {"version": "x"}).status_code == 400
    stale = client.post(f"/runbooks/kb/{article.slug}/restore/", {"version": 1, "expected_version": 1})
    assert stale.status_code == 409


def test_saving_unchanged_writes_no_new_version(editor):
    article = _article(editor)
    login(editor).post(f"/runbooks/kb/{article.slug}/edit/", _post(article))
    article.refresh_from_db()
    assert article.version == 1 and ArticleRevision.objects.filter(article=article).count() == 1


def test_delete_asks_first_then_deletes(editor):
    article = _article(editor)
    Macro.objects.create(name="Token help", body="x", article=article)
    client = login(editor)
    confirm = client.get(f"/runbooks/kb/{article.slug}/delete/")
    body = confirm.content.decode()
    assert confirm.status_code == 200 and 'role="alertdialog"' in body and "Token help" in body
    assert Article.objects.filter(pk=article.pk).exists()  # a GET deletes nothing
    unconfirmed = client.post(f"/runbooks/kb/{article.slug}/delete/", {"version": article.version})
    assert unconfirmed.status_code == 400 and Article.objects.filter(pk=article.pk).exists()
    stale = client.post(f"/runbooks/kb/{article.slug}/delete/", {"confirm": "yes", "version": 7})
    assert stale.status_code == 409 and Article.objects.filter(pk=article.pk).exists()
    done = client.post(f"/runbooks/kb/{article.slug}/delete/", {"confirm": "yes", "version": article.version})
    assert done.status_code == 302 and not Article.objects.filter(pk=article.pk).exists()
    assert Macro.objects.get(name="Token help").article is None
    assert LogEntry.objects.filter(object_pk=str(article.pk), action=LogEntry.Action.DELETE).exists()
    assert client.get(f"/runbooks/kb/{article.slug}/edit/").status_code == 404


@pytest.mark.parametrize("n", [1, 15])
def test_editor_pages_query_counts_are_flat(n, editor, django_assert_max_num_queries):
    article = _article(editor)
    for i in range(n):
        services.article_save(
            actor=editor, article_id=article.pk, title=article.title, category="security", status="published",
            body=f"text {i}", expected_version=article.version + i,
        )  # fmt: skip
    client = login(editor)
    with django_assert_max_num_queries(12):
        assert client.get(f"/runbooks/kb/{article.slug}/edit/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(article.get_absolute_url()).status_code == 200


# --- known issues -----------------------------------------------------------------------------------


def _issue_post(**fields):
    data = {
        "title": "Webhook timeouts on EU",
        "component": "webhooks",
        "symptoms": "Deliveries time out",
        "message_patterns": "webhook delivery timed out\n",
        "error_codes": "x400-e1042, WH504",
        "endpoint": "/v1/webhooks",
        "affected_versions": "2.3.0, 2.3.1",
        "workaround": "Retry with a 30 s timeout.",
        "engineering_task": "ENG-4411",
        "incident": "",
    }
    return data | fields


def test_an_editor_creates_and_edits_a_known_issue(editor):
    client = login(editor)
    assert client.get("/runbooks/known-issues/new/").status_code == 200
    response = client.post("/runbooks/known-issues/new/", _issue_post())
    issue = KnownIssue.objects.get()
    assert response.status_code == 302 and response["Location"] == issue.get_absolute_url()
    assert issue.error_codes == ["X400-E1042", "WH504"] and issue.affected_versions == ["2.3.0", "2.3.1"]
    assert issue.version == 1 and issue.patterns == ["webhook delivery timed out"]
    edit = client.post(f"/runbooks/known-issues/{issue.pk}/edit/", _issue_post(workaround="Use v2.", version=1))
    assert edit.status_code == 302
    issue.refresh_from_db()
    assert issue.workaround == "Use v2." and issue.version == 2
    assert LogEntry.objects.filter(object_pk=str(issue.pk), action=LogEntry.Action.UPDATE).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"error_codes": "", "message_patterns": "ab"}, "Give an error code or a message phrase"),
        ({"error_codes": "not a code"}, "does not look like an error code"),
        ({"endpoint": "v1/ingest"}, "The endpoint is a path"),
        ({"incident": "INC-999999"}, "There is no incident INC-999999."),
        ({"incident": "nonsense"}, "There is no incident NONSENSE."),
    ],
)
def test_known_issue_bad_input_is_a_422_with_its_message(editor, fields, message):
    response = login(editor).post("/runbooks/known-issues/new/", _issue_post(**fields))
    body = response.content.decode()
    assert response.status_code == 422 and message in body
    assert "Retry with a 30 s timeout." in body  # what was typed is kept
    assert not KnownIssue.objects.exists()


def test_known_issue_stale_edit_is_a_409(editor, admin_user):
    issue = services.known_issue_save(actor=editor, title="Race", message_patterns="refresh race")
    services.known_issue_mark_fixed(actor=admin_user, known_issue_id=issue.pk, version="2.4")
    response = login(editor).post(f"/runbooks/known-issues/{issue.pk}/edit/", _issue_post(version=1))
    assert response.status_code == 409
    issue.refresh_from_db()
    assert issue.title == "Race"


def test_agents_may_not_edit_known_issues(agent, editor):
    issue = services.known_issue_save(actor=editor, title="Race", message_patterns="refresh race")
    client = login(agent)
    assert client.get("/runbooks/known-issues/new/").status_code == 403
    assert client.post("/runbooks/known-issues/new/", _issue_post()).status_code == 403
    assert client.post(f"/runbooks/known-issues/{issue.pk}/edit/", _issue_post(version=1)).status_code == 403
    assert client.post(f"/runbooks/known-issues/{issue.pk}/delete/", {"confirm": "yes"}).status_code == 403
    assert KnownIssue.objects.get().title == "Race"
    assert "/edit/" not in client.get(issue.get_absolute_url()).content.decode()
    assert client.get("/runbooks/known-issues/424242/edit/").status_code == 404


def test_a_known_issue_with_linked_cases_is_not_deleted(editor, open_case):
    issue = services.known_issue_save(actor=editor, title="Race", message_patterns="refresh race")
    KnownIssueCase.objects.create(known_issue=issue, case=open_case)
    client = login(editor)
    confirm = client.get(f"/runbooks/known-issues/{issue.pk}/delete/").content.decode()
    assert "mark it fixed instead" in confirm and 'name="confirm"' not in confirm
    refused = client.post(f"/runbooks/known-issues/{issue.pk}/delete/", {"confirm": "yes", "version": 1})
    assert refused.status_code == 422 and KnownIssue.objects.filter(pk=issue.pk).exists()
    KnownIssueCase.objects.all().delete()
    assert client.post(f"/runbooks/known-issues/{issue.pk}/delete/", {"version": 1}).status_code == 400
    done = client.post(f"/runbooks/known-issues/{issue.pk}/delete/", {"confirm": "yes", "version": 1})
    assert done.status_code == 302 and not KnownIssue.objects.filter(pk=issue.pk).exists()
