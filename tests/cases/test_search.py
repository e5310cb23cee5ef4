"""The queue's search (issue 10): one full-text document per case, kept by PostgreSQL triggers,
over the subject, description and conversation (public messages and notes), with the matching
message shown as a snippet."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from cases import search_index, services
from cases.models import CaseSearch, Interaction
from companyos.roles import system_user
from tests.conftest import login
from tests.factories import CaseFactory, InteractionFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the search document is PostgreSQL's"),
]


def keys(response) -> set[str]:
    return set(re.findall(r'<td class="key"><a href="[^"]+">([A-Z]+-\d+)</a>', response.content.decode()))


def document(case) -> str:
    return str(CaseSearch.objects.get(case=case).document)


def test_every_write_path_keeps_the_document(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a, subject="Webhooks failing", description="Deliveries time out")
    assert "'webhooks'" in document(case) and "'deliveries'" in document(case)
    # A message added by the service, one added by any other path (a factory), a note.
    services.case_reply(case_id=case.pk, actor=agent, body="Could you send the gateway logs?", public=True)
    InteractionFactory(case=case, kind=Interaction.Kind.INBOUND, body="Attached: trace-77.zip", public=True)
    InteractionFactory(case=case, kind=Interaction.Kind.NOTE, body="Looks like KI-4411")
    doc = document(case)
    assert "'gateway'" in doc and "'trace-77.zip'" in doc and "'-4411'" in doc
    # System entries are not searched.
    InteractionFactory(case=case, kind=Interaction.Kind.AUTOMATION, body="escalated automatically")
    assert "'escalated'" not in document(case)
    # Edits: the subject, a message's body, a message removed.
    case.subject = "Outbound hooks broken"
    case.save(update_fields=["subject"])
    note = Interaction.objects.get(case=case, kind=Interaction.Kind.NOTE)
    note.body = "Root cause: expired certificate"
    note.save(update_fields=["body"])
    Interaction.objects.filter(case=case, body__startswith="Attached").delete()
    doc = document(case)
    assert "'outbound'" in doc and "'webhooks'" not in doc
    assert "'certificate'" in doc and "'-4411'" not in doc and "'trace-77.zip'" not in doc


def test_a_merge_moves_the_conversation_to_the_surviving_case(tenant_a, agent):
    dup = CaseFactory(tenant=tenant_a, subject="Same problem")
    InteractionFactory(case=dup, kind=Interaction.Kind.INBOUND, body="zebracorn error on login", public=True)
    into = CaseFactory(tenant=tenant_a, subject="Login broken")
    Interaction.objects.filter(case=dup).update(case=into)
    assert "'zebracorn'" in document(into) and "'zebracorn'" not in document(dup)


def test_deleting_a_case_deletes_its_document(tenant_a):
    case = CaseFactory(tenant=tenant_a)
    InteractionFactory(case=case, kind=Interaction.Kind.NOTE, body="note")
    case.delete()
    assert not CaseSearch.objects.filter(case_id=case.pk).exists()


def test_search_finds_words_in_the_conversation_with_a_snippet(tenant_a, agent):
    hit = CaseFactory(tenant=tenant_a, subject="Exports are slow")
    services.case_reply(case_id=hit.pk, actor=agent, body="Internal: the <b>quokka</b> shard is hot", public=False)
    services.case_reply(case_id=hit.pk, actor=agent, body="We are checking the Quokka cluster now.", public=True)
    CaseFactory(tenant=tenant_a, subject="Something else")
    response = login(agent).get("/cases/?q=quok&status=all")
    assert keys(response) == {hit.key}
    body = response.content.decode()
    # The newest matching message, escaped, with the match marked.
    assert 'class="snippet"' in body and "<mark>Quokka</mark> cluster" in body and "Reply:" in body
    assert "<b>quokka</b>" not in body


def test_every_word_must_match_by_prefix_and_numbers_whole(tenant_a, agent):
    both = CaseFactory(tenant=tenant_a, subject="Gateway timeouts", description="error 500 on /v2/orders")
    one = CaseFactory(tenant=tenant_a, subject="Gateway down", description="error 5000 on /v2/orders")
    client = login(agent)
    assert keys(client.get("/cases/?q=gateway+timeout&status=all")) == {both.key}
    assert keys(client.get("/cases/?q=GATE&status=all")) == {both.key, one.key}
    assert keys(client.get("/cases/?q=500&status=all")) == {both.key}
    # A case's number finds it (whole, not as a prefix of others).
    assert both.key in keys(client.get(f"/cases/?q={both.pk}&status=all"))


@pytest.mark.parametrize("text", ["'", "a & b | !c", "x:*", "\\", "(((", "<->", "''; DROP TABLE x; --", "   "])
def test_query_syntax_in_the_search_box_is_just_text(tenant_a, agent, text):
    CaseFactory(tenant=tenant_a, subject="a b c x")
    response = login(agent).get("/cases/", {"q": text, "status": "all"})
    assert response.status_code in (200, 302)


def test_tsquery_quotes_every_term():
    assert search_index.tsquery("Web-hook 500 it's") == "'Web-hook':* & '500' & 'it':* & 's':*"
    assert search_index.tsquery("&|!") == ""


def test_search_never_shows_another_tenants_case(tenant_a, tenant_b, agent):
    mine = CaseFactory(tenant=tenant_a, subject="platypus alarm")
    CaseFactory(tenant=tenant_b, subject="platypus alarm")
    assert keys(login(agent).get("/cases/?q=platypus&status=all")) == {mine.key}


def test_status_all_emits_no_status_filter(tenant_a, manager):
    from django.test.utils import CaptureQueriesContext

    CaseFactory(tenant=tenant_a, subject="emu")
    with CaptureQueriesContext(connection) as ctx:
        login(manager).get("/cases/?q=emu&status=all")
    page_sql = [q["sql"] for q in ctx.captured_queries if "cases_casesearch" in q["sql"]]
    assert page_sql and not any('"status" IN' in sql for sql in page_sql)


def test_system_user_reply_is_indexed_too(tenant_a):
    case = CaseFactory(tenant=tenant_a)
    services.case_reply(case_id=case.pk, actor=system_user(), body="automatic wombat reply", public=True)
    assert "'wombat'" in document(case)


def test_the_document_keeps_the_newest_messages_of_a_long_conversation(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a, subject="Long one")
    Interaction.objects.bulk_create(
        [
            Interaction(case=case, kind=Interaction.Kind.NOTE, body=f"oldword{i}" if i == 0 else "filler")
            for i in range(250)
        ]
    )
    InteractionFactory(case=case, kind=Interaction.Kind.NOTE, body="newestword here")  # recomputes the document
    doc = document(case)
    assert "'newestword'" in doc and "'oldword0'" not in doc  # beyond the newest 200 messages
