"""copilot_eval on a small fixture with known figures (rules only: the training file has a single
ticket, so no model is fitted and every figure follows from the playbook rules)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command


def T(
    id,
    subject,
    body,
    category,
    severity,
    issue_type,
    environment="unknown",
    security=False,
    needs_info=False,
    expected_behavior=False,
    dup_group=None,
):
    return dict(
        id=id,
        subject=subject,
        body=body,
        category=category,
        severity=severity,
        issue_type=issue_type,
        environment=environment,
        security=security,
        needs_info=needs_info,
        expected_behavior=expected_behavior,
        dup_group=dup_group,
    )


FIXTURE = [
    # right on every field
    T(
        "a",
        "Payment processing is down",
        "All payments fail in production since 10:00 UTC, acct_1",
        "other",
        "P1",
        "incident",
        "production",
        needs_info=False,
    ),
    # severity labelled P3 on purpose: the rules say P2 (within one level)
    T("b", "API latency is 3x normal", "GET /v1/items is slow at 10:00 UTC for acct_2", "performance", "P3", "bug"),
    # security: labelled, found
    T("c", "Possible data breach", "Your API leaks data of other tenants", "other", "P1", "incident", security=True),
    # expected behaviour, found
    T(
        "d",
        "Why 201?",
        "Creating an order returns 201 instead of 200",
        "other",
        "P4",
        "question",
        expected_behavior=True,
    ),
    # a duplicate pair: same account, same problem
    T(
        "e",
        "Pagination skips rows",
        "GET /v1/items skips records past page 100 for acct_9 at 10:00 UTC",
        "other",
        "P3",
        "bug",
        dup_group="g",
    ),
    T(
        "f",
        "Missing rows when paginating",
        "Paging GET /v1/items deep, we miss records. acct_9 since 11:00 UTC",
        "other",
        "P3",
        "bug",
        dup_group="g",
    ),
    # needs info (no timestamp), labelled as such; category labelled wrong on purpose
    T(
        "g",
        "Exports fail",
        "POST /v1/exports fails with 422 validation errors",
        "integration",
        "P3",
        "bug",
        needs_info=True,
    ),
]


@pytest.fixture
def files(tmp_path):
    path = tmp_path / "fixture.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in FIXTURE))
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps(T("x", "Hello", "How do I page?", "other", "P4", "question")) + "\n")
    return path, train, tmp_path / "out.jsonl"


def test_eval_json_figures_and_predictions(files, capsys):
    path, train, out = files
    call_command("copilot_eval", str(path), "--json", "--train", str(train), "--predictions", str(out))
    figures = json.loads(capsys.readouterr().out)
    assert figures["tickets"] == 7 and figures["trained_on"] == 1
    assert figures["accuracy"]["severity"] == round(6 / 7, 4)
    assert figures["severity_within_one"] == 1.0
    assert figures["accuracy"]["category"] == round(6 / 7, 4)
    assert figures["confusion"]["category"]["integration"] == {"validation": 1}
    assert figures["confusion"]["severity"]["P3"] == {"P2": 1, "P3": 3}
    assert figures["security"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert figures["expected_behavior"]["tp"] == 1 and figures["expected_behavior"]["fp"] == 0
    assert figures["needs_info"]["tp"] == 1 and figures["needs_info"]["fn"] == 0
    assert figures["duplicates"] == {"pairs": 1, "found": 1, "tp": 1, "recall": 1.0, "precision": 1.0}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == list("abcdefg")
    e = next(r for r in rows if r["id"] == "e")
    assert e["duplicates"] == ["f"] and set(e["confidence"]) >= {"category", "severity", "security"}
    assert set(rows[0]) == {
        "id",
        "category",
        "severity",
        "issue_type",
        "environment",
        "security",
        "needs_info",
        "expected_behavior",
        "duplicates",
        "confidence",
    }


def test_eval_text_output_and_bad_input(files, capsys, tmp_path):
    path, train, _ = files
    call_command("copilot_eval", str(path), "--train", str(train))
    text = capsys.readouterr().out
    assert "severity within one level" in text and "Confusion — category" in text
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(CommandError, match="missing subject"):
        call_command("copilot_eval", str(bad))
    with pytest.raises(CommandError):
        call_command("copilot_eval", str(tmp_path / "nope.jsonl"))


def test_the_eval_model_never_trains_on_the_file(files):
    from runbooks.copilot import evaluation

    path, _, _ = files
    tickets = evaluation.load(path)
    train = [dict(t, id="other-" + t["id"]) for t in tickets] + [dict(FIXTURE[0], id="z", subject="Different")]
    assert [t["id"] for t in evaluation.training_set(train, tickets)] == ["z"]
