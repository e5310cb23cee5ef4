"""runbooks.copilot.rules and engine: each playbook criterion (seed 002) on crafted tickets, without a
database or a model — the rules alone must reach the playbook's answer."""

from __future__ import annotations

import pytest

from runbooks.copilot import engine, rules


def assess(subject, body="", tier=""):
    return engine.assess(engine.Ticket(subject, body, tier), None)


def fired(subject, body=""):
    return {v.rule for v in rules.votes(subject, body)}


@pytest.mark.parametrize(
    "subject, body, severity, rule",
    [
        ("All our API calls return 500 since 10:00 UTC", "", "P1", "P1: all API requests failing for a customer"),
        (
            "Login down",
            "Authentication is completely down, no one can log in",
            "P1",
            "P1: authentication system completely non-functional",
        ),
        (
            "We're seeing unauthorized access to customer data",
            "",
            "P1",
            "P1: data breach or security vulnerability actively exploited",
        ),
        ("Payment processing is down", "", "P1", "P1: financial transactions failing in production"),
        (
            "POST /users returns 500 for payloads with special characters",
            "",
            "P2",
            "P2: specific endpoint failing consistently",
        ),
        ("API latency is 3x normal", "", "P2", "P2: performance degradation >50% from baseline"),
        (
            "Some of our valid keys get 401",
            "A subset of valid API keys are rejected with 401",
            "P2",
            "P2: authentication failures for a subset of valid credentials",
        ),
        (
            "Our staging API key works but production key returns 403",
            "",
            "P2",
            "P2: staging credentials work, production returns 403",
        ),
        (
            "OpenAPI docs page shows 500 error",
            "The documentation page is broken",
            "P3",
            "P3: documentation unclear or incorrect",
        ),
        (
            "Pagination returns inconsistent results for large offsets",
            "",
            "P3",
            "P3: non-critical endpoint issue (pagination, large requests)",
        ),
        ("Our SDK is getting 422 on valid-looking requests", "", "P3", "P3: edge case validation failure"),
        ("Can you add support for X in the API?", "", "P4", "P4: feature request"),
        ("How do I implement pagination correctly?", "", "P4", "P4: general usage question"),
        ("The error message could be clearer", "", "P4", "P4: cosmetic issue or documentation improvement"),
    ],
)
def test_each_severity_criterion_and_example(subject, body, severity, rule):
    a = assess(subject, body)
    assert rule in fired(subject, body)
    assert a.proposals["severity"].value == severity
    assert a.proposals["severity"].reasons[0].rule.startswith(severity)


def test_reasons_quote_the_words_that_matched():
    a = assess("API latency is 3x normal")
    assert a.proposals["severity"].reasons[0].words == "“latency is 3x normal”"


@pytest.mark.parametrize(
    "subject, body, level, rule",
    [
        (
            "POST /v1/users returns 500",
            "We get a 500 every time. Steps: send name O'Brien.",
            "always",
            "Always escalate: consistent 500 errors with reproducible steps",
        ),
        (
            "Same error",
            "Multiple customers reporting the same error on checkout",
            "always",
            "Always escalate: multiple customers reporting identical error pattern",
        ),
        (
            "Broken since your deploy",
            "Exports fail since your deployment this morning",
            "always",
            "Always escalate: error in recently deployed code",
        ),
        (
            "Auth bypass",
            "Requests without any token succeed: an auth bypass",
            "always",
            "Always escalate: security-related issues (auth bypass, data leakage)",
        ),
        (
            "Slow",
            "our dashboards show p95 went up",
            "always",
            "Always escalate: performance degradation detected in metrics",
        ),
        (
            "Silent failure",
            "The import returns 200 but nothing is stored",
            "always",
            "Always escalate: silent failures (200 returned when error should occur)",
        ),
        (
            "API is down for us",
            "Every request returns 503",
            "always",
            "Always escalate: any P1 or P2 ticket (proposed P1)",
        ),
        (
            "Validation",
            "An edge case: Feb 29 dates are rejected with 422",
            "discretion",
            "Escalate with discretion: edge case validation failures",
        ),
        (
            "SDK",
            "After upgrading, the SDK fails to parse responses",
            "discretion",
            "Escalate with discretion: version-specific bugs",
        ),
        (
            "Library",
            "Our third-party library cannot read the response",
            "discretion",
            "Escalate with discretion: integration issues with third-party libraries",
        ),
        (
            "Sporadic errors",
            "Sporadically the export fails",
            "discretion",
            "Escalate with discretion: intermittent issues without clear reproduction steps",
        ),
        (
            "Content type",
            "We send Content-Type text/plain and it fails",
            "do_not",
            "Do not escalate: customer configuration errors",
        ),
        (
            "Key expired",
            "Our API key expired and calls get 401",
            "do_not",
            "Do not escalate: customer configuration errors",
        ),
        (
            "Please add CSV export",
            "It would be nice to have CSV export",
            "do_not",
            "Do not escalate: feature requests (log and close or forward to product)",
        ),
        ("How do I rotate API keys?", "", "do_not", "Do not escalate: questions answerable from documentation"),
        (
            "Why 201?",
            "POST create returns 201 not 200",
            "do_not",
            "Do not escalate: expected behavior misunderstood as bug",
        ),
    ],
)
def test_escalation_always_discretion_never(subject, body, level, rule):
    p = assess(subject, body).proposals["escalation"]
    assert (p.value, p.reasons[0].rule) == (level, rule)


def test_known_issue_match_is_not_escalated_and_not_asked_for_more():
    known = [
        {
            "id": 7,
            "title": "Export timeouts",
            "component": "exports",
            "workaround": "page by month",
            "matched": "“export timeout”",
        }
    ]
    a = engine.assess(engine.Ticket("Export timeout", "Large exports fail"), None, known_issues=known)
    assert a.proposals["escalation"].reasons[0].rule == "Do not escalate: known issues with documented workarounds"
    assert a.proposals["needs_info"].value == "false"
    assert "known issue with exports" in a.proposals["close_as"].detail
    assert "page by month" in a.proposals["close_as"].detail


@pytest.mark.parametrize(
    "subject, body, items",
    [
        ("Exports fail", 'POST /v1/exports fails with a 422, body {"error": "x"}', ["timestamp"]),
        ("500 errors", "GET /v1/items returns 500 since 10:00 UTC", ["request_id"]),
        ("It doesn't work", "Hi, the API doesn't work. 10:00 UTC", ["error_body", "request_details"]),
        ("SDK fails", "The SDK fails on GET /v1/items at 10:00 UTC with a 422", ["versions"]),
        ("Intermittent 401", "Intermittent 401 on GET /v1/items since 10:00 UTC", ["reproducibility"]),
    ],
)
def test_each_request_information_line_and_the_prefilled_template(subject, body, items):
    a = assess(subject, body)
    assert a.info_items == items
    assert a.proposals["needs_info"].value == "true"
    letter = a.proposals["needs_info"].detail
    assert letter.startswith("Thank you for reporting this issue.")
    assert letter.count("\n1. ") == 1 and f"{len(items) + 1}. " not in letter
    for key in rules.INFO_ITEMS:
        assert (rules.INFO_ITEMS[key] in letter) == (key in items)


@pytest.mark.parametrize(
    "subject, body, why",
    [
        (
            "Content type",
            "We send Content-Type text/plain and the call fails",
            "Do not request: clearly a customer configuration error",
        ),
        (
            "Data leak",
            "Your API leaks data of other tenants",
            "Security: do not request details via unencrypted channels",
        ),
        (
            "Exports fail",
            'POST /v1/exports fails with 422 at 10:00 UTC, body {"error": "bad"}',
            "Do not request: the ticket contains sufficient detail to act",
        ),
    ],
)
def test_do_not_request_more_information(subject, body, why):
    p = assess(subject, body).proposals["needs_info"]
    assert p.value == "false" and p.reasons[0].rule == why


def test_p1_needs_info_never_holds_up_the_escalation():
    a = assess("Payment processing is down", "All payments fail with 500")
    assert a.proposals["needs_info"].value == "true"
    assert a.proposals["escalation"].value == "always"
    assert "P1/P2 should not wait for more information" in a.proposals["needs_info"].reasons[-1].rule


@pytest.mark.parametrize(
    "subject, body, kind, rule, reason",
    [
        (
            "POST returns 201",
            "Creating a user gives 201 instead of 200",
            "expected_behavior",
            "Expected: 201 for POST creates",
            "201 Created for POST creates is per the HTTP spec",
        ),
        (
            "DELETE 204",
            "DELETE returns 204 with no body",
            "expected_behavior",
            "Expected: 204 for DELETE",
            "204 No Content",
        ),
        (
            "403 not 404",
            "An order of another account returns 403 instead of 404",
            "expected_behavior",
            "Expected: 403 for existing-but-not-visible resources",
            "403 for a resource that exists",
        ),
        (
            "Empty body",
            "Sending an empty body returns 422",
            "expected_behavior",
            "Expected: empty body returning 422 when JSON body required",
            "send {}",
        ),
        (
            "429",
            "We get 429 Too Many Requests in bursts",
            "expected_behavior",
            "Expected: rate limiting working as documented",
            "Retry-After",
        ),
        (
            "Key",
            "We are not sending the API key header yet",
            "configuration",
            "Configuration: API key missing or malformed",
            "missing or malformed",
        ),
        ("Key", "Our API key expired", "configuration", "Configuration: expired or invalid API key", "expired"),
        (
            "Media",
            "We post with Content-Type text/plain",
            "configuration",
            "Configuration: incorrect Content-Type header",
            "application/json",
        ),
        (
            "Schema",
            "Our body does not match the documented schema",
            "configuration",
            "Configuration: request body does not match documented schema",
            "documented schema",
        ),
        (
            "Env",
            "We use production credentials on the staging API",
            "configuration",
            "Configuration: authentication to wrong environment",
            "staging vs production",
        ),
    ],
)
def test_each_close_as_case_with_its_template_and_specific_reason(subject, body, kind, rule, reason):
    p = assess(subject, body).proposals["close_as"]
    assert (p.value, p.reasons[0].rule) == (kind, rule)
    assert reason in p.detail
    start = "This is expected behavior" if kind == "expected_behavior" else "This appears to be a configuration issue"
    assert p.detail.startswith(start)


def test_a_real_failure_is_never_closed_as_expected():
    assert "close_as" not in assess("POST returns 500 not 201", "").proposals


def test_security_flag_and_checklist():
    a = assess("Possible data breach", "A user can read another company's invoices")
    assert a.proposals["security"].value == "true"
    assert a.proposals["severity"].value == "P1"
    checks = {c["check"]: c for c in a.checklist}
    assert checks["Is this a security issue?"]["found"] is True
    assert "escalate to on-call SRE" in checks["Is this a security issue?"]["detail"]
    assert checks["Can this be auto-resolved?"]["found"] is False


def test_sentiment():
    p = assess("Slow exports", "This is unacceptable, we are losing customers!").proposals["sentiment"]
    assert p.value == "frustrated" and "higher priority" in p.reasons[0].rule


@pytest.mark.parametrize(
    "subject, body, tier, gate",
    [
        ("Payment processing is down", "", "", "All P1 and P2 tickets (proposed P1)"),
        ("API latency is 3x normal", "", "", "All P1 and P2 tickets (proposed P2)"),
        ("Sporadic errors", "Sporadically the export fails", "", "Any escalation to engineering"),
        ("Data leak", "Your API leaks data of other tenants", "", "Security-related tickets"),
        ("How do I rotate API keys?", "", "enterprise", "Tickets from enterprise customers"),
        ("Refund please", "We want a refund for the outage month", "", "Compensation or refund discussions"),
    ],
)
def test_required_human_review_gates(subject, body, tier, gate):
    review = assess(subject, body, tier).review
    assert any(r.startswith(gate) for r in review), review


def test_no_gate_for_a_plain_question():
    assert assess("How do I rotate API keys?", "").review == []


def test_duplicates_need_the_same_account_and_class():
    a = rules.dup_facts("Pagination skips rows", "GET /v1/items skips records past page 100 for acct_1")
    b = rules.dup_facts("Missing rows paginating", "Paging GET /v1/items deep we miss records. acct_1")
    other = rules.dup_facts("Missing rows paginating", "Paging GET /v1/items deep we miss records. acct_2")
    assert rules.duplicate_score(a, b, same_class=True)[0] is True
    assert rules.duplicate_score(a, other, same_class=True)[0] is False
    assert rules.duplicate_score(a, b, same_class=False)[0] is False


def test_trigrams_are_pg_trgm_style():
    assert rules.trigrams("Cat") == {"  c", " ca", "cat", "at "}
