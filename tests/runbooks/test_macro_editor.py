"""The macro editor's action builder: one row per action (a type and that type's fields), rows
added, removed and reordered as a plain form (a formset, no JavaScript needed), server-side
validation with each error on its row, editing an existing macro, who may edit which macro."""

import re

import pytest

from cases.models import Team
from runbooks.models import Macro, Runbook
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(tenant_a):
    return UserFactory(username="sen", role="senior agent", tenants=[tenant_a])


def _macro(rows, *, initial=0, **fields):
    data = {
        "name": "Token help",
        "description": "",
        "kind": "reply",
        "visibility": "personal",
        "team": "",
        "body": "Hi {{ customer_name }}",
        "runbook": "",
        "article": "",
        "keywords": "",
        "error_codes": "",
        "actions-TOTAL_FORMS": str(len(rows)),
        "actions-INITIAL_FORMS": str(initial),
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "12",
    }
    for n, row in enumerate(rows):
        data |= {f"actions-{n}-{k}": v for k, v in row.items()}
    return data | fields


def test_rows_become_the_macros_actions_in_their_order(agent):
    Team.objects.create(name="Tier 2", slug="tier-2")
    rb = Runbook.objects.order_by("pk").first()
    rows = [
        {"type": "tags", "tags_add": "auth, sso", "tags_remove": "triage", "ORDER": "3"},
        {"type": "status", "to": "waiting_on_customer", "waiting_for": "logs", "ORDER": "1"},
        {"type": "priority", "priority": "high", "ORDER": "2"},
        {"type": "note", "text": "Check {{ case_key }}", "ORDER": "4", "DELETE": "on"},  # removed
        {"type": "assign", "owner": "nobody", "team": "tier-2", "ORDER": "5"},
        {"type": "link_runbook", "runbook": rb.slug, "ORDER": "6"},
        {"type": "request_info", "items": "HAR file\n\nRequest ID\n", "waiting_for": "logs", "ORDER": "7"},
        {"type": "link_known_issue", "ORDER": "8"},
        {"type": "", "ORDER": ""},  # an empty row is skipped
    ]
    response = login(agent).post("/runbooks/macros/new/", _macro(rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Macro.objects.get(name="Token help").actions == [
        {"type": "status", "to": "waiting_on_customer", "waiting_for": "logs"},
        {"type": "priority", "value": "high"},
        {"type": "tags", "add": ["auth", "sso"], "remove": ["triage"]},
        {"type": "assign", "owner": "", "team": "tier-2"},
        {"type": "link_runbook", "slug": rb.slug},
        {"type": "request_info", "items": ["HAR file", "Request ID"], "waiting_for": "logs"},
        {"type": "link_known_issue"},
    ]


def _rows_with_errors(body: str) -> dict[int, str]:
    """Action number → the text of that row's error(s)."""
    found = {}
    for number, row in re.findall(
        r"<legend>Action <span data-action-number>(\d+)</span></legend>(.*?)</fieldset>", body, re.S
    ):
        errors = re.findall(r'<div class="error small" role="alert">(.*?)</div>', row, re.S)
        if errors:
            found[int(number)] = " ".join(errors)
    return found


def test_each_bad_row_gets_its_own_message_and_nothing_is_saved(agent):
    rows = [
        {"type": "priority", "priority": "high"},
        {"type": "status", "to": ""},
        {"type": "status", "to": "waiting_on_customer"},
        {"type": "tags"},
        {"type": "note", "text": "Hi {{ nme }}"},
        {"type": "request_info", "items": " "},
        {"type": "assign"},
        {"type": "category", "category": "nonsense"},
        {"type": "bogus"},
    ]
    response = login(agent).post("/runbooks/macros/new/", _macro(rows, name="Half"))
    body = response.content.decode()
    assert response.status_code == 422 and not Macro.objects.filter(name="Half").exists()
    errors = _rows_with_errors(body)
    assert 1 not in errors
    assert "unknown status &#x27;&#x27;" in errors[2]
    assert "say what the case waits for" in errors[3]
    assert "give tags to add or remove" in errors[4]
    assert "Unknown variable nme" in errors[5]
    assert "list the information to request" in errors[6]
    assert "give an owner or a team" in errors[7]
    assert "Select a valid choice" in errors[8] and "Select a valid choice" in errors[9]
    assert 'value="Hi {{ nme }}"' in body or "Hi {{ nme }}</textarea>" in body  # what was typed is kept


def test_add_an_action_without_javascript_renders_a_new_row_unsaved(agent):
    rows = [{"type": "priority", "priority": "low"}]
    response = login(agent).post("/runbooks/macros/new/", _macro(rows, add_action="1", name=""))
    body = response.content.decode()
    assert response.status_code == 200 and not Macro.objects.exists() or not Macro.objects.filter(name="").exists()
    assert 'name="actions-TOTAL_FORMS" value="2"' in body
    assert 'name="actions-1-type"' in body and "This field is required." not in body  # no errors on a rebuild
    # The chosen type's fields are shown, the others hidden (no JavaScript needed to see them).
    row0 = body[body.index('name="actions-0-type"') : body.index('name="actions-1-type"')]
    assert re.search(r'data-for="priority">\s*<label for="id_actions-0-priority"', row0)
    assert re.search(r'data-for="status" hidden>\s*<label for="id_actions-0-to"', row0)


def test_too_many_rows_are_refused(agent):
    rows = [{"type": "priority", "priority": "low"}] * 13
    response = login(agent).post("/runbooks/macros/new/", _macro(rows))
    assert response.status_code == 422 and "Please submit at most 12 forms." in response.content.decode()
    tampered = _macro([], **{"actions-TOTAL_FORMS": "1e23"})
    assert login(agent).post("/runbooks/macros/new/", tampered).status_code == 422
    assert login(agent).post("/runbooks/macros/new/", tampered | {"add_action": "1"}).status_code == 200


def test_editing_shows_the_rows_and_saves_with_a_version_check(agent, editor):
    client = login(agent)
    client.post(
        "/runbooks/macros/new/", _macro([{"type": "tags", "tags_add": "x"}, {"type": "priority", "priority": "low"}])
    )
    macro = Macro.objects.get(name="Token help")
    page = client.get(f"/runbooks/macros/{macro.pk}/edit/").content.decode()
    assert 'name="actions-INITIAL_FORMS" value="2"' in page and 'value="x"' in page
    assert re.search(r'<option value="low" selected>', page)
    rows = [
        {"type": "tags", "tags_add": "x", "ORDER": "2"},
        {"type": "priority", "priority": "low", "ORDER": "1"},
    ]
    saved = client.post(f"/runbooks/macros/{macro.pk}/edit/", _macro(rows, initial=2, version=macro.version))
    assert saved.status_code == 302
    macro.refresh_from_db()
    assert [a["type"] for a in macro.actions] == ["priority", "tags"] and macro.version == 2
    stale = client.post(f"/runbooks/macros/{macro.pk}/edit/", _macro(rows, initial=2, version=1))
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    # Someone else's personal macro is not theirs to see; a shared one is the editors' to change.
    assert login(editor).get(f"/runbooks/macros/{macro.pk}/edit/").status_code == 404
    shared = Macro.objects.get(builtin="initial-response")
    assert client.get(f"/runbooks/macros/{shared.pk}/edit/").status_code == 403
    assert client.post(f"/runbooks/macros/{shared.pk}/edit/", _macro([], visibility="shared")).status_code == 403
    assert login(editor).get(f"/runbooks/macros/{shared.pk}/edit/").status_code == 200


def test_editing_a_builtin_keeps_what_suggests_it(editor):
    macro = Macro.objects.get(builtin="initial-response")
    before = (macro.categories, macro.signals)
    page = login(editor).get(f"/runbooks/macros/{macro.pk}/edit/").content.decode()
    assert f'name="actions-INITIAL_FORMS" value="{len(macro.actions)}"' in page
    rows = [
        {"type": "status", "to": a.get("to", ""), "waiting_for": a.get("waiting_for", ""), "ORDER": str(n)}
        for n, a in enumerate(macro.actions, 1)
        if a["type"] == "status"
    ]
    data = _macro(rows, initial=len(rows), name=macro.name, visibility="shared", body=macro.body, version=macro.version)
    assert login(editor).post(f"/runbooks/macros/{macro.pk}/edit/", data).status_code == 302
    macro.refresh_from_db()
    assert (macro.categories, macro.signals) == before


@pytest.mark.parametrize("n", [1, 10])
def test_editor_query_count_is_flat(n, agent, django_assert_max_num_queries):
    rows = [{"type": "tags", "tags_add": f"t{i}"} for i in range(n)]
    login(agent).post("/runbooks/macros/new/", _macro(rows))
    macro = Macro.objects.get(name="Token help")
    client = login(agent)
    with django_assert_max_num_queries(14):
        assert client.get(f"/runbooks/macros/{macro.pk}/edit/").status_code == 200
