"""The closure rules, pure: no database."""

from datetime import UTC, datetime, timedelta

import pytest

from cases.closure import rules


def test_resolution_required_for_critical_and_high_only():
    empty = rules.clean_resolution({})
    assert rules.resolution_problems(1, empty) == ["Resolution summary", "Evidence", "Preventive actions"]
    assert rules.resolution_problems(2, {"summary": "x"}) == ["Evidence", "Preventive actions"]
    assert rules.resolution_problems(3, empty) == []
    assert rules.resolution_problems(4, empty) == []
    full = rules.clean_resolution(
        {"summary": " fixed ", "evidence": "log", "preventive_actions": "alert", "bogus": "x"}
    )
    assert full == {"summary": "fixed", "evidence": "log", "preventive_actions": "alert"}
    assert rules.resolution_problems(1, full) == []


def test_whitespace_is_not_an_answer_and_text_is_bounded():
    assert rules.clean_resolution({"summary": "   ", "evidence": "y" * 5000}) == {"evidence": "y" * 4000}


def test_resolution_text_in_form_order():
    text = rules.resolution_text({"preventive_actions": "p", "summary": "s", "root_cause": "r"})
    assert text == "Resolution summary: s\nRoot cause: r\nPreventive actions: p"


def test_auto_close_at_defaults_to_seven_days():
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert rules.auto_close_at(at, None) == at + timedelta(days=7)
    assert rules.auto_close_at(at, 0) == at + timedelta(days=7)
    assert rules.auto_close_at(at, 3) == at + timedelta(days=3)


@pytest.mark.parametrize(
    ("csat", "nps", "low"),
    [(1, None, True), (2, 10, True), (3, None, False), (5, 6, True), (5, 7, False), (4, 0, True), (None, None, False)],
)
def test_low_scores(csat, nps, low):
    assert rules.is_low_score(csat, nps) is low


@pytest.mark.parametrize(
    ("nps", "group"),
    [(None, ""), (0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_groups(nps, group):
    assert rules.nps_group(nps) == group


def test_survey_edit_window_is_24_hours_from_the_first_answer():
    first = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert rules.survey_editable(None, first)
    assert rules.survey_editable(first, first + timedelta(hours=24))
    assert not rules.survey_editable(first, first + timedelta(hours=24, seconds=1))
