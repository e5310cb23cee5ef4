"""What customers write: the ticket catalogue (subject, description, triaged classification), the
placeholders `fill` puts into it, and `draft_ticket(rng, now)` which fills one in. What is written
after the case opens (agents' replies and notes, customers' follow-ups) is in `demo.replies`.
Pure data and `random`: no database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from cases.choices import Category, Environment, IssueType, Priority

# --- what customers write -------------------------------------------------------------------------

C, H, M, L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW
CAT, IT, ENV = Category, IssueType, Environment

# subject, description, category, issue type, base priority, environment (None: any), tags
TICKETS = [
    (
        "All our API calls return 500 since {time} UTC",
        (
            "Every request to the production API fails with HTTP 500 since about {time} UTC. Nothing changed on our "
            "side; our last deploy was two days ago. Example request id: {rid}. Our checkout flow is completely down."
        ),
        CAT.PERFORMANCE,
        IT.INCIDENT,
        C,
        ENV.PRODUCTION,
        ("escalated",),
    ),
    (
        "We're seeing unauthorized access to customer data",
        (
            "Our audit log shows reads of customer records from an API key that was revoked last week. Source IPs are "
            "not ours. Please treat this as a security incident; we have rotated all keys as a precaution."
        ),
        CAT.AUTHENTICATION,
        IT.INCIDENT,
        C,
        ENV.PRODUCTION,
        ("security", "api-keys"),
    ),
    (
        "Payment processing is down",
        (
            "Charges created through POST /v2/payments time out after 30 seconds and customers cannot pay. Started "
            "around {time} UTC. Request id of a failing call: {rid}."
        ),
        CAT.INTEGRATION,
        IT.INCIDENT,
        C,
        ENV.PRODUCTION,
        ("billing",),
    ),
    (
        "Authentication fails for every user since the key rotation",
        (
            "After rotating our signing key as described in the docs, every login returns 401 invalid_token. We rolled "
            "the key back but tokens are still rejected. Nobody on our side can sign in."
        ),
        CAT.AUTHENTICATION,
        IT.INCIDENT,
        C,
        ENV.PRODUCTION,
        ("security", "api-keys"),
    ),
    (
        "Complete message delivery outage in {region}",
        (
            "No webhooks or notifications have been delivered to our endpoints in {region} since {time} UTC. The "
            "dispatcher dashboard shows the queue depth climbing. This is blocking all our downstream automation."
        ),
        CAT.INTEGRATION,
        IT.INCIDENT,
        C,
        ENV.PRODUCTION,
        ("webhooks",),
    ),
    (
        "POST {endpoint} returns 500 for payloads with special characters",
        (
            "When a name contains characters like 'Ø' or an emoji, POST {endpoint} answers 500 instead of creating the "
            "record. The same payload with ASCII only works. Request id: {rid}."
        ),
        CAT.VALIDATION,
        IT.BUG,
        H,
        ENV.PRODUCTION,
        ("regression",),
    ),
    (
        "API latency is {x}x normal",
        (
            "p95 latency on GET {endpoint} went from ~120 ms to ~{ms} ms since {time} UTC. Our timeouts are starting "
            "to fire. We have not changed our traffic pattern; about {rps} requests/second."
        ),
        CAT.PERFORMANCE,
        IT.INCIDENT,
        H,
        ENV.PRODUCTION,
        ("latency",),
    ),
    (
        "Our staging API key works but production key returns 403",
        (
            "Same code, same endpoint ({endpoint}). With the staging key it works; with the production key we get 403 "
            "forbidden. The key shows as active in the dashboard."
        ),
        CAT.AUTHENTICATION,
        IT.CONFIGURATION,
        H,
        ENV.PRODUCTION,
        ("api-keys", "customer-config"),
    ),
    (
        "Webhook deliveries failing with timeouts since {time} UTC",
        (
            "Our endpoint receives nothing and the delivery log shows 'timeout after 10s' for {event} events. Our "
            "endpoint answers in under 200 ms when we curl it ourselves."
        ),
        CAT.INTEGRATION,
        IT.BUG,
        H,
        ENV.PRODUCTION,
        ("webhooks",),
    ),
    (
        "Event ingestion delayed by ~{minutes} minutes",
        (
            "Events we send are showing up in dashboards about {minutes} minutes late. The ingest API accepts them "
            "with 202 immediately. This breaks our near-real-time alerts."
        ),
        CAT.PERFORMANCE,
        IT.INCIDENT,
        H,
        ENV.PRODUCTION,
        ("ingestion",),
    ),
    (
        "Queue backlog growing on the {region} ingest pipeline",
        (
            "The usage page shows a backlog of {n} events on our ingest pipeline in {region} and it keeps growing. Is "
            "there throttling on our tenant?"
        ),
        CAT.PERFORMANCE,
        IT.INCIDENT,
        H,
        ENV.PRODUCTION,
        ("ingestion", "rate-limit"),
    ),
    (
        "Intermittent 401 with valid tokens",
        (
            "About 1 in 50 requests returns 401 even though the token is fresh. It looks random. Could clock skew on "
            "your side be an issue? Example request id: {rid}."
        ),
        CAT.AUTHENTICATION,
        IT.BUG,
        H,
        ENV.PRODUCTION,
        ("oauth",),
    ),
    (
        "Timeouts on GET {endpoint} for large exports",
        (
            "Exports with more than {n} rows time out after 60 seconds. Smaller exports are fine. We need the full "
            "export for our month-end reconciliation."
        ),
        CAT.PERFORMANCE,
        IT.BUG,
        H,
        ENV.PRODUCTION,
        ("data-export",),
    ),
    (
        "OAuth callback fails with invalid_grant in production",
        (
            "Our OAuth authorization-code flow fails at the token exchange with invalid_grant. It works in staging. "
            "The redirect URI is identical in both app registrations as far as we can tell."
        ),
        CAT.AUTHENTICATION,
        IT.CONFIGURATION,
        H,
        ENV.PRODUCTION,
        ("oauth", "customer-config"),
    ),
    (
        "Rate limit hit at a fraction of our plan's quota",
        (
            "We get 429 Too Many Requests at about {rps} requests/second but our plan should allow much more. "
            "Retry-After is 60 seconds which stalls our batch jobs."
        ),
        CAT.PERFORMANCE,
        IT.CONFIGURATION,
        H,
        ENV.PRODUCTION,
        ("rate-limit",),
    ),
    (
        "OpenAPI docs page shows 500 error",
        (
            "The API reference at /docs shows an Internal Server Error page for the {endpoint} section. Other sections "
            "render fine."
        ),
        CAT.DOCUMENTATION,
        IT.BUG,
        M,
        ENV.PRODUCTION,
        ("docs",),
    ),
    (
        "Pagination returns inconsistent results for large offsets",
        (
            "When paging through GET {endpoint} with offset above {n}, some records appear twice and others never. "
            "Sorting is by created_at. Is offset pagination supported for large collections?"
        ),
        CAT.INTEGRATION,
        IT.BUG,
        M,
        None,
        ("pagination",),
    ),
    (
        "Our SDK is getting 422 on valid-looking requests",
        (
            "The {sdk} SDK {version} sends what looks like a valid payload to {endpoint} but the API answers 422 "
            "Unprocessable Entity with 'value is not a valid enumeration member'. Payload attached below."
        ),
        CAT.VALIDATION,
        IT.BUG,
        M,
        None,
        ("sdk",),
    ),
    (
        "{sdk} SDK {version} throws on an empty response body",
        (
            "After upgrading to {sdk} SDK {version}, DELETE calls raise a JSON decode error because the API returns "
            "204 with no body. Version {old_version} worked."
        ),
        CAT.INTEGRATION,
        IT.BUG,
        M,
        ENV.DEVELOPMENT,
        ("sdk", "regression"),
    ),
    (
        "Webhook signature verification fails for some events",
        (
            "Roughly 5% of {event} deliveries fail our HMAC signature check. We compute the signature over the raw "
            "body as documented. Could the payload be re-serialised on your side?"
        ),
        CAT.INTEGRATION,
        IT.BUG,
        M,
        ENV.PRODUCTION,
        ("webhooks", "security"),
    ),
    (
        "Empty body returns 422 on PATCH {endpoint}",
        "Sending PATCH {endpoint} with no body returns 422. We expected a no-op. Is an empty JSON object required?",
        CAT.VALIDATION,
        IT.QUESTION,
        M,
        ENV.DEVELOPMENT,
        (),
    ),
    (
        "Trace bundle for failed CLI sync attached",
        (
            "Uploaded trace-{stamp}-cli.zip to /support/upload. `companyos sync` fails with gateway.outbound errors "
            "after about {n} records. Telemetry consent is enabled for our workspace."
        ),
        CAT.INTEGRATION,
        IT.BUG,
        M,
        None,
        ("trace-bundle", "cli"),
    ),
    (
        "Please request a trace bundle from our widget users",
        (
            "Several of our end users report the in-app widget freezing on submit. We can ask them to produce a UI "
            "trace bundle (trace-<timestamp>-ui.zip) if you tell us how."
        ),
        CAT.OTHER,
        IT.QUESTION,
        M,
        ENV.PRODUCTION,
        ("trace-bundle", "widget"),
    ),
    (
        "Duplicate webhook deliveries for {event}",
        (
            "Each {event} event is delivered two or three times within a second, with the same event id. Our handler "
            "is idempotent but our partner's is not."
        ),
        CAT.INTEGRATION,
        IT.BUG,
        M,
        ENV.PRODUCTION,
        ("webhooks",),
    ),
    (
        "CSV export missing rows after {date}",
        "The CSV export of {endpoint} stops at {date}; later records are missing although the API returns them.",
        CAT.OTHER,
        IT.BUG,
        M,
        ENV.PRODUCTION,
        ("data-export",),
    ),
    (
        "Decimal fields rejected with 500 instead of 422",
        (
            'Sending amount="12.345" (three decimals) to {endpoint} gives a 500 Internal Server Error rather than a '
            "validation error. Request id {rid}."
        ),
        CAT.VALIDATION,
        IT.BUG,
        M,
        None,
        ("known-issue",),
    ),
    (
        "Invoice shows usage above our actual request volume",
        (
            "Our invoice for last month lists {n} API calls but our own logs count about half that. Could retries be "
            "billed twice?"
        ),
        CAT.OTHER,
        IT.QUESTION,
        M,
        ENV.PRODUCTION,
        ("billing",),
    ),
    (
        "Requests hang on the second call when background tasks are enabled",
        (
            "With background tasks enabled, the second request on a keep-alive connection hangs until the client times "
            "out. Disabling background tasks fixes it."
        ),
        CAT.PERFORMANCE,
        IT.BUG,
        M,
        ENV.STAGING,
        (),
    ),
    (
        "CLI `companyos support create` fails with 'no tenant context'",
        (
            "Running `companyos support create` from our CI runner fails with 'no tenant context'. Locally it "
            "pre-fills the tenant correctly. CLI version {version}."
        ),
        CAT.INTEGRATION,
        IT.BUG,
        M,
        ENV.DEVELOPMENT,
        ("cli",),
    ),
    (
        "How do I implement pagination correctly?",
        (
            "We list {endpoint} in a nightly job. Should we use offset or cursor pagination, and what page size do you "
            "recommend?"
        ),
        CAT.DOCUMENTATION,
        IT.QUESTION,
        L,
        ENV.DEVELOPMENT,
        ("pagination", "docs"),
    ),
    (
        "Can you add support for {feature} in the API?",
        (
            "We would like {feature} in the API. Today we work around it with several calls per record, which eats our "
            "rate limit."
        ),
        CAT.FEATURE_REQUEST,
        IT.QUESTION,
        L,
        ENV.UNKNOWN,
        (),
    ),
    (
        "The error message for {code} could be clearer",
        (
            "When a request fails with {code} the error body just says 'invalid request'. It would save us a lot of "
            "time if it named the field at fault."
        ),
        CAT.DOCUMENTATION,
        IT.QUESTION,
        L,
        ENV.UNKNOWN,
        ("docs",),
    ),
    (
        "Which IP ranges should we allowlist for webhooks?",
        (
            "Our security team needs the source IP ranges of webhook deliveries for {region} before we can open the "
            "firewall."
        ),
        CAT.INTEGRATION,
        IT.QUESTION,
        L,
        ENV.PRODUCTION,
        ("webhooks", "security"),
    ),
    (
        "How do we rotate API keys without downtime?",
        (
            "We need to rotate our production API keys every 90 days. Can two keys be active at the same time during "
            "the switch?"
        ),
        CAT.AUTHENTICATION,
        IT.QUESTION,
        L,
        ENV.PRODUCTION,
        ("api-keys",),
    ),
    (
        "Is there a sandbox for testing webhooks?",
        (
            "Before going live we want to replay {event} events against our staging endpoint. Is there a sandbox or a "
            "replay tool?"
        ),
        CAT.INTEGRATION,
        IT.QUESTION,
        L,
        ENV.STAGING,
        ("webhooks",),
    ),
    (
        "Does POST {endpoint} return 201 or 200?",
        (
            "Our client treats anything but 200 as an error and the create call returns 201. Is 201 the documented "
            "behaviour?"
        ),
        CAT.DOCUMENTATION,
        IT.QUESTION,
        L,
        ENV.DEVELOPMENT,
        ("docs",),
    ),
    (
        "Typo in the {sdk} SDK README example",
        "The quick-start example in the {sdk} SDK README passes `api_key` where the client expects `token`.",
        CAT.DOCUMENTATION,
        IT.BUG,
        L,
        ENV.UNKNOWN,
        ("sdk", "docs"),
    ),
    (
        "How do we enable telemetry consent for trace bundles?",
        "Support asked us for a trace bundle, but the CLI says telemetry consent is off. Where do admins switch it on?",
        CAT.OTHER,
        IT.CONFIGURATION,
        L,
        ENV.PRODUCTION,
        ("trace-bundle",),
    ),
    (
        "Dark mode for the dashboard",
        "Several of our on-call engineers asked for a dark mode in the dashboard.",
        CAT.FEATURE_REQUEST,
        IT.QUESTION,
        L,
        ENV.UNKNOWN,
        (),
    ),
    (
        "In-app help panel does not pre-fill our workspace",
        "The help panel in the app opens an empty form instead of pre-filling our workspace and user.",
        CAT.OTHER,
        IT.BUG,
        L,
        ENV.PRODUCTION,
        ("widget",),
    ),
]

FILL = {
    "endpoint": [
        "/users",
        "/v2/orders",
        "/v2/payments",
        "/v1/events",
        "/v2/invoices",
        "/v1/customers",
        "/v2/exports",
        "/v1/webhooks",
        "/v2/shipments",
    ],
    "region": ["eu-west", "eu-north", "us-east", "us-west", "apac"],
    "event": ["order.created", "invoice.paid", "user.updated", "shipment.delivered", "payment.failed"],
    "sdk": ["Python", "Node.js", "Go", "Java", "Ruby", ".NET"],
    "feature": [
        "bulk upserts",
        "cursor pagination on /v2/orders",
        "webhook replay",
        "field-level filters",
        "SCIM provisioning",
        "idempotency keys on PATCH",
        "GraphQL",
    ],
    "code": ["422", "409", "400", "403"],
}
EXTRA = [
    "We are on the {plan} plan.",
    "This affects roughly {pct}% of our traffic.",
    "Please advise, this is blocking a release planned for this week.",
    "Happy to jump on a call if that helps.",
    "Timestamps above are in UTC.",
    "Screenshots are attached.",
    "We checked the status page and it shows all green.",
    "",
    "",
]


def fill(text: str, rng: random.Random, now: datetime) -> str:
    if "{" not in text:
        return text
    values = {k: rng.choice(v) for k, v in FILL.items()}
    day = now - timedelta(days=rng.randint(1, 40))
    values.update(
        time=f"{rng.randint(0, 23):02d}:{rng.choice(['00', '15', '30', '45'])}",
        rid=f"req_{rng.getrandbits(48):012x}",
        rid2=f"req_{rng.getrandbits(48):012x}",
        x=rng.choice([2, 3, 3, 4, 5]),
        ms=rng.choice([400, 650, 900, 1800]),
        rps=rng.choice([40, 80, 150, 300]),
        minutes=rng.choice([15, 20, 45, 90]),
        n=rng.choice([5_000, 10_000, 50_000, 120_000]),
        n3=rng.randint(100, 999),
        version=f"{rng.randint(2, 5)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}",
        old_version=f"{rng.randint(1, 2)}.{rng.randint(0, 9)}.0",
        stamp=day.strftime("%Y%m%dT%H%M%S"),
        date=day.strftime("%Y-%m-%d"),
        pct=rng.choice([2, 5, 10, 30, 100]),
        plan=rng.choice(["Team", "Business", "Enterprise"]),
        name="there",
    )
    return text.format(**values)


@dataclass
class Draft:
    """What a customer filed: subject, description and the triaged classification."""

    subject: str
    description: str
    category: str
    issue_type: str
    priority: int
    environment: str
    tags: tuple[str, ...]


TICKET_WEIGHTS = [{C: 0.45, H: 1.0, M: 1.2, L: 1.0}[t[4]] for t in TICKETS]


def draft_ticket(rng: random.Random, now: datetime) -> Draft:
    subject, body, category, issue_type, priority, env, tags = rng.choices(TICKETS, TICKET_WEIGHTS)[0]
    roll = rng.random()
    if roll < 0.12 and priority > C:
        priority -= 1
    elif roll > 0.85 and priority < L:
        priority += 1
    if env is None or rng.random() < 0.15:
        env = rng.choices([ENV.PRODUCTION, ENV.STAGING, ENV.DEVELOPMENT, ENV.UNKNOWN], [55, 20, 15, 10])[0]
    extra = fill(rng.choice(EXTRA), rng, now)
    description = fill(body, rng, now) + (" " + extra if extra else "")
    return Draft(fill(subject, rng, now)[:250], description, category, issue_type, int(priority), env, tags)
