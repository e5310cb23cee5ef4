"""cases.triage: the pure priority and entitlement rules, with no database (like the SLA calendar):
seed 002's examples as a table, signals raising the suggestion, entitlement flags, keywords."""

from __future__ import annotations

import ast
import inspect

import pytest

from cases import triage
from cases.choices import Environment, IssueType, Priority
from cases.triage import Signals, suggest_priority


@pytest.mark.parametrize(
    "subject, environment, issue_type, expected",
    [
        ("All our API calls return 500 since 10:00 UTC", Environment.PRODUCTION, IssueType.INCIDENT, Priority.CRITICAL),
        (
            "We're seeing unauthorized access to customer data",
            Environment.PRODUCTION,
            IssueType.INCIDENT,
            Priority.CRITICAL,
        ),
        ("Payment processing is down", Environment.PRODUCTION, IssueType.INCIDENT, Priority.CRITICAL),
        (
            "POST /users returns 500 for payloads with special characters",
            Environment.PRODUCTION,
            IssueType.BUG,
            Priority.HIGH,
        ),
        ("API latency is 3x normal", Environment.PRODUCTION, IssueType.BUG, Priority.HIGH),
        (
            "Our staging API key works but production key returns 403",
            Environment.PRODUCTION,
            IssueType.CONFIGURATION,
            Priority.HIGH,
        ),
        ("OpenAPI docs page shows 500 error", Environment.PRODUCTION, IssueType.BUG, Priority.MEDIUM),
        (
            "Pagination returns inconsistent results for large offsets",
            Environment.PRODUCTION,
            IssueType.BUG,
            Priority.MEDIUM,
        ),
        ("Our SDK is getting 422 on valid-looking requests", Environment.PRODUCTION, IssueType.BUG, Priority.MEDIUM),
        ("Can you add support for X in the API?", Environment.UNKNOWN, IssueType.QUESTION, Priority.LOW),
        ("How do I implement pagination correctly?", Environment.UNKNOWN, IssueType.QUESTION, Priority.LOW),
        ("The error message could be clearer", Environment.UNKNOWN, IssueType.BUG, Priority.LOW),
    ],
)
def test_seed_002_examples(subject, environment, issue_type, expected):
    priority, reasons = suggest_priority(
        subject=subject, description="", environment=environment, issue_type=issue_type, signals=Signals()
    )
    assert priority == expected, reasons
    assert reasons


def test_all_failing_in_staging_is_not_critical():
    priority, _ = suggest_priority(
        subject="All requests fail with 500",
        description="",
        environment=Environment.STAGING,
        issue_type=IssueType.BUG,
        signals=Signals(),
    )
    assert priority > Priority.CRITICAL


def test_signals_raise_the_suggestion_with_reasons():
    signals = Signals(firing_alerts=[{"name": "HighErrorRate", "severity": "critical", "resource": "api-gateway"}])
    priority, reasons = suggest_priority(
        subject="Some requests look odd",
        description="",
        environment=Environment.PRODUCTION,
        issue_type=IssueType.QUESTION,
        signals=signals,
    )
    assert priority == Priority.CRITICAL and reasons[0] == "critical alert firing: HighErrorRate on api-gateway"
    priority, reasons = suggest_priority(
        subject="Webhooks delayed",
        description="",
        environment=Environment.PRODUCTION,
        issue_type=IssueType.BUG,
        signals=Signals(similar_other_tenants_last_hour=3),
    )
    assert priority == Priority.HIGH and "3 other customers" in reasons[0]


def test_entitlement_flags():
    standard = {"phone_support": False, "channels": ["email", "web"]}
    assert triage.entitlement_flags(standard, channel="email") == []
    flags = triage.entitlement_flags(standard, channel="phone")
    assert len(flags) == 2 and "not in the tenant's plan" in flags[0] and "phone support" in flags[1]
    assert triage.entitlement_flags({}, channel="slack") == []


def test_keywords_and_error_codes():
    assert triage.keywords("The API returns 500 for /users since noon") == {"returns", "500", "/users", "noon"}
    assert triage.error_codes("POST /users returns 503, then ERR_TIMEOUT") == {"503", "ERR_TIMEOUT"}
    assert triage.error_codes("200 OK") == set()


def test_triage_imports_no_orm():
    tree = ast.parse(inspect.getsource(triage))
    modules = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in modules if m.startswith("django") or m.endswith("models") or m.endswith("selectors")}, (
        modules
    )


EXAMPLE = "Production, all endpoints: since this morning none of our webhook deliveries are retried."


@pytest.mark.parametrize("unset", [frozenset(), frozenset({"category", "issue_type", "environment"})])
def test_the_texts_signals_outweigh_untouched_defaults_and_are_quoted(unset):
    """Issue 9's example: with the intake's default issue type (Question) and environment (Unknown)
    it came out "P4 Low — general usage question"; the text says a feature does not work at all."""
    priority, reasons = suggest_priority(
        subject="Webhook retries",
        description=EXAMPLE,
        environment=Environment.UNKNOWN,
        issue_type=IssueType.QUESTION,
        signals=Signals(),
        unset=unset,
    )
    assert priority == Priority.HIGH, reasons
    assert "“none of our webhook deliveries are retried”" in reasons[0] and "“all endpoints”" in reasons[0]
    assert "environment taken from the text: production (“Production”)" in reasons


def test_an_unset_issue_type_is_not_a_question_but_a_chosen_one_is():
    kwargs = {"subject": "Pagination with cursors", "description": "", "environment": Environment.UNKNOWN}
    unset, reasons = suggest_priority(**kwargs, issue_type=IssueType.QUESTION, signals=Signals(), unset={"issue_type"})
    assert unset == Priority.MEDIUM and "issue type not set (the form's default, Question): not counted" in reasons
    chosen, reasons = suggest_priority(**kwargs, issue_type=IssueType.QUESTION, signals=Signals())
    assert chosen == Priority.LOW and reasons == ["general usage question (issue type Question)"]


def test_a_delay_is_a_degradation_and_an_unhealthy_affected_resource_raises():
    priority, reasons = suggest_priority(
        subject="Event ingestion delayed by ~45 minutes",
        description="",
        environment=Environment.PRODUCTION,
        issue_type=IssueType.INCIDENT,
        signals=Signals(),
    )
    assert priority == Priority.HIGH and "“delayed by ~45 minutes”" in reasons[0]
    priority, reasons = suggest_priority(
        subject="Something is off",
        description="",
        environment=Environment.PRODUCTION,
        issue_type=IssueType.BUG,
        signals=Signals(affected_resources=[{"name": "acme-gw", "health": "red"}]),
    )
    assert priority == Priority.HIGH and reasons[0] == "affected resource acme-gw is unhealthy"


# --- the phone rules (issue 11, seed 001: phone for critical issues only) -------------------------------


@pytest.mark.parametrize(
    ("entitlements", "priority", "expected"),
    [
        ({"phone_support": True}, Priority.CRITICAL, []),
        ({"phone_support": True}, Priority.LOW, ["phone support is for critical issues only; this case is Low"]),
        ({}, Priority.CRITICAL, ["phone support is not included in the tenant's plan"]),
        (
            {"phone_support": True, "channels": ["email"]},
            Priority.CRITICAL,
            ["channel “phone” is not in the tenant's plan (entitled: email)"],
        ),
    ],
)
def test_phone_flags(entitlements, priority, expected):
    from cases.triage import phone_flags

    assert phone_flags(entitlements, priority=priority) == expected
