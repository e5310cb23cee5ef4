"""The built-in knowledge from the seeds: seed 001's initial response and resolution templates and
its most common knowledge-base articles, seed 002's information request and close-as templates,
and seed 003's four macro families (auth issues, ingestion delays, billing limits, UI glitches),
each linked to a runbook and an article. Installed by migration 0101 (and re-installable: keyed by
slug / builtin key, existing rows are left as an admin edited them)."""

from __future__ import annotations

from django.db import connection

from . import markdown

RUNBOOKS = [
    {
        "slug": "auth-401-403-triage",
        "title": "Authentication failures (401/403) triage",
        "category": "authentication",
        "tags": ["auth", "api-keys", "401", "403"],
        "summary": "Intermittent or sudden 401/403: token expiry, clock skew, key rotation, whitespace, roles.",
        "body": "Seed 002, *Authentication Tickets*.\n\n"
        "- **401 intermittent**: check token expiration, clock skew and key rotation.\n"
        "- **401 after copy-paste**: whitespace in the API key.\n"
        "- **403 unexpected**: role/permission mismatch or IP restrictions.\n\n"
        "Ask for the `X-Request-Id` of a failing call before escalating.",
        "steps": [
            "Confirm the environment (staging vs production) and the key's prefix",
            "Check the request IDs in the auth service logs for the failure reason",
            "Check clock skew on the customer's host (tokens are rejected past 5 minutes)",
            "Check the key's role and the tenant's IP allow-list",
        ],
    },
    {
        "slug": "ingestion-delay",
        "title": "Ingestion delays",
        "category": "performance",
        "tags": ["ingestion", "latency", "queue"],
        "summary": "Events arrive late or not at all: pipeline lag, rate limits, recent deployments.",
        "body": "Check the pipeline lag SLI and the tenant's firing alerts first; a deployment in the last "
        "hour is the usual cause. Link the incident if one is open.",
        "steps": [
            "Read the tenant's ingestion lag SLI and firing alerts on the tenant console",
            "Compare with deployments of the last two hours",
            "Check the tenant's rate-limit counters for dropped events",
            "If the lag is platform-wide, link or declare an incident",
        ],
    },
    {
        "slug": "billing-limits",
        "title": "Billing and plan limits",
        "category": "other",
        "tags": ["billing", "limits", "429", "quota"],
        "summary": "429s or blocked features from plan limits and billing status.",
        "body": "Rate limits and quotas follow the tenant's plan; a suspended billing status blocks writes. "
        "Rate limiting working as documented is *expected behaviour* (seed 002).",
        "steps": [
            "Check the tenant's plan, entitlements and billing status on the console",
            "Compare the customer's request rate with the plan's limit",
            "Offer the upgrade path or a temporary limit raise (manager approval)",
        ],
    },
    {
        "slug": "ui-glitch",
        "title": "UI glitches",
        "category": "other",
        "tags": ["ui", "browser", "frontend"],
        "summary": "Rendering problems, stale pages, broken buttons in the web app.",
        "body": "Collect the browser and version, a screenshot and the console log. Most reports are a stale "
        "cache after a release: ask for a hard reload first.",
        "steps": [
            "Ask for browser, version, screenshot and the browser console's errors",
            "Reproduce in the same browser; try a hard reload and a private window",
            "File an engineering task with the reproduction if it persists",
        ],
    },
]

ARTICLES = [
    (
        "getting_started",
        "how-to-generate-api-keys",
        "How to generate API keys",
        "Create a key under Settings → API keys; copy it once, store it as a secret, never in "
        "code. Keys are per environment.",
    ),
    (
        "api_reference",
        "policy-format-reference",
        "Policy format reference",
        "Policies are JSON documents with `version`, `rules` and optional `conditions`. See the "
        "schema for every field.",
    ),
    (
        "troubleshooting",
        "rate-limiting-explained",
        "Rate limiting explanation",
        "Each plan has a request rate per key. Past it the API answers **429** with `Retry-After`; back off and retry.",
    ),
    (
        "troubleshooting",
        "authentication-troubleshooting",
        "Authentication troubleshooting",
        "401: check the key for whitespace, its environment and expiry, and your clock. 403: check "
        "the key's role and IP allow-list.",
    ),
    (
        "faq",
        "log-retrieval-procedures",
        "Log retrieval procedures",
        "Export logs from Settings → Logs or with `companyos logs export --since 1h`; include the "
        "`X-Request-Id` of a failing call.",
    ),
    (
        "integration",
        "webhook-integration-guide",
        "Webhook integration guide",
        "Register an HTTPS endpoint, verify the signature header, answer 2xx within 10 s; failed "
        "deliveries are retried.",
    ),
    (
        "security",
        "api-key-security-best-practices",
        "API key security best practices",
        "Rotate keys every 90 days, scope them to one environment, and revoke a leaked key at once.",
    ),
]

INITIAL = (
    "Hi {{ customer_name }},\n\nThank you for reporting this issue. We've received your report and are "
    "investigating immediately.\n\nIssue: {{ case_subject }}\nStatus: Investigating\nExpected update: by "
    "{{ sla_due }}\nSeverity: {{ priority }}\nReference: {{ case_key }}\n\nWe'll keep you updated "
    "{{ update_cadence }}.\n\nBest regards,\n{{ agent }}"
)
RESOLUTION = (
    "Hi {{ customer_name }},\n\nWe've successfully resolved the issue you reported ({{ case_key }}).\n\n"
    "Issue: {{ case_subject }}\nRoot cause: \nSolution: \nVerification: \n\nIf you continue to experience "
    "issues, please let us know immediately.\n\nBest regards,\n{{ agent }}"
)
INFO_REQUEST = (
    "Hi {{ customer_name }},\n\nThank you for reporting this issue ({{ case_key }}). To investigate further, we need:"
)
INFO_ITEMS = [
    "Timestamp: exact date/time of the error (with timezone)",
    "Request ID: from the X-Request-Id response header if available",
    "Error response: the complete error response body",
    "Request details: endpoint, method, and sanitized request body",
    "Reproducibility: is this consistent or intermittent?",
]
CONFIG_ERROR = (
    "Hi {{ customer_name }},\n\nThis appears to be a configuration issue rather than a platform bug. "
    "Please review our documentation at {{ kb_link }} and try again. If you continue to experience issues "
    "after making these changes, please reopen this ticket ({{ case_key }}) with the updated request details."
    "\n\nBest regards,\n{{ agent }}"
)
EXPECTED = (
    "Hi {{ customer_name }},\n\nThis is expected behavior based on our API design. Our documentation at "
    "{{ kb_link }} explains this behavior in detail. If you have concerns about this design decision, please "
    "let us know and we can discuss alternatives or raise it as a feature request ({{ case_key }}).\n\n"
    "Best regards,\n{{ agent }}"
)
KNOWN_ISSUE = (
    "Hi {{ customer_name }},\n\nThis is a known issue with {{ component }}: {{ known_issue }}. The recommended "
    "workaround is: {{ workaround }}. We're tracking this issue and will update you on {{ case_key }} when a "
    "fix is available. For reference, this is documented in our internal known issues database.\n\n"
    "Best regards,\n{{ agent }}"
)


def _family(name, runbook, article, categories, keywords, codes, opening):
    return {
        "name": name,
        "kind": "reply",
        "runbook": runbook,
        "article": article,
        "categories": categories,
        "keywords": keywords,
        "error_codes": codes,
        "body": "Hi {{ customer_name }},\n\n" + opening + "\n\nOur guide: {{ kb_link }}\nNext update: by "
        "{{ sla_due }}. Reference: {{ case_key }}.\n\nBest regards,\n{{ agent }}",
        "actions": [{"type": "link_runbook"}],
    }


MACROS = {
    "initial-response": {
        "name": "Initial response",
        "kind": "reply",
        "description": "Seed 001: acknowledge, say the status and when the next update comes.",
        "body": INITIAL,
        "signals": ["new_case"],
        "actions": [{"type": "status", "to": "triage"}],
    },
    "resolution": {
        "name": "Resolution",
        "kind": "reply",
        "description": "Seed 001: root cause, solution, verification; resolves the case.",
        "body": RESOLUTION,
        "actions": [{"type": "status", "to": "resolved"}],
    },
    "information-request": {
        "name": "Information request",
        "kind": "reply",
        "description": "Seed 002: ask for timestamp, request ID, error body, request, reproducibility; wait for logs.",
        "body": INFO_REQUEST,
        "keywords": ["doesn't work", "does not work", "error"],
        "actions": [{"type": "request_info", "items": INFO_ITEMS, "waiting_for": "logs"}],
    },
    "close-configuration-error": {
        "name": "Close as configuration error",
        "kind": "reply",
        "description": "Seed 002: the customer's configuration, not a platform bug; resolves.",
        "body": CONFIG_ERROR,
        "article": "authentication-troubleshooting",
        "issue_types": ["configuration"],
        "keywords": ["api key", "content-type", "wrong environment"],
        "actions": [{"type": "issue_type", "value": "configuration"}, {"type": "status", "to": "resolved"}],
    },
    "close-expected-behaviour": {
        "name": "Close as expected behaviour",
        "kind": "reply",
        "description": "Seed 002: works as documented (201 on create, 204 on delete, 429 past the limit); resolves.",
        "body": EXPECTED,
        "article": "rate-limiting-explained",
        "keywords": ["201", "204", "expected"],
        "actions": [{"type": "status", "to": "resolved"}],
    },
    "close-known-issue": {
        "name": "Close as known issue",
        "kind": "reply",
        "description": "Seed 002: the known issue's workaround; links the case to it and resolves.",
        "body": KNOWN_ISSUE,
        "signals": ["known_issue"],
        "actions": [
            {"type": "link_known_issue"},
            {"type": "tags", "add": ["known-issue"]},
            {"type": "status", "to": "resolved"},
        ],
    },
    "auth-issues": _family(
        "Authentication issue",
        "auth-401-403-triage",
        "authentication-troubleshooting",
        ["authentication"],
        ["401", "403", "unauthorized", "forbidden", "api key", "token"],
        ["401", "403"],
        "Thanks for the details on the authentication failures. The usual causes are an expired token, clock skew, "
        "a rotated key or whitespace copied into the key; please check those against the guide below and send us "
        "the X-Request-Id of a failing call if it persists.",
    ),
    "ingestion-delays": {
        **_family(
            "Ingestion delay",
            "ingestion-delay",
            "log-retrieval-procedures",
            ["performance"],
            ["ingestion", "delay", "lag", "late", "missing events"],
            [],
            "We see the delay in event ingestion you describe and are investigating it now. Events are queued, "
            "not lost; they will be processed as the pipeline catches up.",
        ),
        "signals": ["firing_alerts", "recent_deployment"],
    },
    "billing-limits": _family(
        "Billing or plan limit",
        "billing-limits",
        "rate-limiting-explained",
        [],
        ["429", "rate limit", "quota", "billing", "limit exceeded", "invoice"],
        ["429"],
        "The requests are limited by your plan's rate limit (the API answers 429 with Retry-After past it). "
        "The guide below explains the limits and how to back off; we can also discuss a higher plan.",
    ),
    "ui-glitches": _family(
        "UI glitch",
        "ui-glitch",
        "how-to-generate-api-keys",
        [],
        ["ui", "button", "page", "screen", "browser", "display"],
        [],
        "Sorry about the trouble in the web app. Could you try a hard reload (Ctrl+Shift+R) and tell us your "
        "browser and its version, with a screenshot and any errors from the browser console?",
    ),
}

ERROR_CODES_MD = """# Error codes

## AUTH-401-EXPIRED — Token expired
Meaning: The bearer token is past its expiry.
Remediation: Refresh the token; check the host clock for skew.
Runbook: auth-401-403-triage

## AUTH-401-MALFORMED — API key malformed
Meaning: The API key has extra characters (often whitespace from a copy-paste).
Remediation: Copy the key again without spaces or line breaks.
Runbook: auth-401-403-triage

## AUTH-403-ROLE — Role does not allow this call
Meaning: The key's role lacks the permission for this endpoint.
Remediation: Use a key with the needed role or ask an admin to grant it.
Runbook: auth-401-403-triage

## RATE-429-PLAN — Plan rate limit exceeded
Meaning: Requests exceeded the plan's rate limit.
Remediation: Back off per Retry-After; consider a higher plan.
Runbook: billing-limits

## INGEST-LAG-001 — Ingestion lagging
Meaning: Events are queued longer than the ingestion objective.
Remediation: None needed by the customer; events are kept and processed in order.
Runbook: ingestion-delay
"""


def install(get_model) -> None:
    """Create the built-ins that do not exist yet. `get_model(name)` returns a runbooks model (the
    migration's historical one, or the real one)."""
    Runbook, Step, Article, Macro, ErrorCode = (
        get_model(n) for n in ("Runbook", "RunbookStep", "Article", "Macro", "ErrorCode")
    )
    from django.utils import timezone

    today = timezone.localdate()
    for spec in RUNBOOKS:
        runbook, created = Runbook.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "category": spec["category"],
                "tags": spec["tags"],
                "summary": spec["summary"],
                "body": spec["body"],
                "body_html": markdown.render(spec["body"]),
                "reviewed_at": today,
            },
        )
        if created:
            for position, title in enumerate(spec["steps"], 1):
                Step.objects.create(runbook=runbook, position=position, title=title)
    for category, slug, title, body in ARTICLES:
        Article.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "category": category,
                "status": "published",
                "summary": body[:120],
                "body": body,
                "body_html": markdown.render(body),
            },
        )
    runbooks = {r.slug: r for r in Runbook.objects.all()}
    articles = {a.slug: a for a in Article.objects.all()}
    for key, spec in MACROS.items():
        Macro.objects.get_or_create(
            builtin=key,
            defaults={
                "name": spec["name"],
                "kind": spec["kind"],
                "description": spec.get("description", ""),
                "body": spec["body"],
                "actions": spec.get("actions", []),
                "visibility": "shared",
                "runbook": runbooks.get(spec.get("runbook", "")),
                "article": articles.get(spec.get("article", "")),
                "categories": spec.get("categories", []),
                "issue_types": spec.get("issue_types", []),
                "keywords": spec.get("keywords", []),
                "error_codes": spec.get("error_codes", []),
                "signals": spec.get("signals", []),
            },
        )
    from . import errorcodes

    for entry in errorcodes.parse(ERROR_CODES_MD).entries:
        ErrorCode.objects.get_or_create(
            code=entry.code, defaults={**entry.fields(), "runbook": runbooks.get(entry.runbook), "source": "built-in"}
        )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchVector
        from django.db.models import TextField
        from django.db.models.functions import Cast

        tags = Cast("tags", output_field=TextField())
        if any(f.name == "search_head" for f in Runbook._meta.get_fields()):  # from migration 0103 on
            Runbook.objects.filter(search_head__isnull=True).update(
                search_head=SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector(tags, weight="B", config="english")
            )
        for model in (Runbook, Article):
            model.objects.filter(search__isnull=True).update(
                search=SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector(tags, weight="B", config="english")
                + SearchVector("body", weight="C", config="english")
            )
