"""The reply check: each of seed 002's rules, on crafted replies (pure), and the composer's endpoint."""

import pytest

from runbooks.reply_check import check
from tests.conftest import login
from tests.factories import CaseFactory

FACTS = {"case_key": "CS-7", "category": "other", "issue_type": "question", "engineering_confirmed": False}
GOOD = "Hi Jo, about CS-7: we'll look at the logs and update you within 2 hours."


def rules(text, **facts):
    return [w.rule for w in check(text, FACTS | facts)]


def test_a_good_reply_passes():
    assert rules(GOOD) == []


@pytest.mark.parametrize(
    "text, rule",
    [
        ("This will be fixed by Friday.", "promise"),
        ("We expect to ship the fix on 12 March.", "promise"),
        ("Sorry, this is a bug in our code.", "bug"),
        ("That is impossible with our API.", "impossible"),
        ("Honestly I don't know why.", "dont_know"),
        ("You configured the webhook wrong.", "blame"),
        ("It is your fault.", "blame"),
    ],
)
def test_what_not_to_say(text, rule):
    assert rule in rules(f"{GOOD} {text}")


def test_confirmed_by_engineering_may_promise_and_say_bug():
    text = f"{GOOD} This is a bug in our code and will be fixed by Friday."
    assert "bug" not in rules(text, engineering_confirmed=True) and "promise" not in rules(
        text, engineering_confirmed=True
    )


def test_what_to_always_include():
    assert {"reference", "next_steps", "next_update"} <= set(rules("Thanks."))
    assert "docs" in rules(GOOD, category="authentication")
    assert "docs" not in rules(GOOD + " See https://docs.example/auth", category="authentication")
    assert "request_id" in rules(GOOD + " The request failed.")
    assert "request_id" not in rules(GOOD + " The request req_8f2k3j9d failed.")


@pytest.mark.django_db
def test_the_composer_endpoint(agent, tenant_a):
    case = CaseFactory(tenant=tenant_a)
    client = login(agent)
    body = client.post(
        f"/runbooks/case/{case.key}/reply-check/", {"body": "I don't know", "visibility": "public"}
    ).content.decode()
    assert 'data-rule="dont_know"' in body and 'data-rule="reference"' in body
    note = client.post(f"/runbooks/case/{case.key}/reply-check/", {"body": "I don't know", "visibility": "internal"})
    assert note.status_code == 200 and b"data-rule" not in note.content
