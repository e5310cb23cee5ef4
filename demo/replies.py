"""What agents and customers write once a case is open: the agents' acknowledgements, questions,
internal notes and resolutions, and the customers' follow-ups and confirmations, by issue type.
Plain data (filled in with `demo.tickets.fill`): no database.
"""

from __future__ import annotations

from cases.choices import IssueType as IT

ACK = [
    "Thanks for reaching out, {name}. I'm looking into this now and will update you within the hour.",
    "Hi {name}, thank you for the report. I've confirmed the impact on our side and the team is investigating.",
    "Thanks {name}. I've picked this up and I'm reviewing the logs for your workspace.",
]
INFO_REQUEST = (
    "Thank you for reporting this issue. To investigate further, we need:\n1. Timestamp of the error (with timezone)\n"
    "2. Request ID from the X-Request-Id header\n3. The complete error response body\n"
    "4. Endpoint, method and a sanitized request body\n5. Is this consistent or intermittent?"
)
# What agents write depends on what kind of case it is (issue type).
ASK = {
    IT.INCIDENT: [
        INFO_REQUEST,
        (
            "Could you send us a diagnostic trace bundle (trace-<timestamp>-cli.zip) from an affected machine? Please "
            "confirm telemetry consent is enabled first."
        ),
        "We've applied a mitigation on our side. Can you confirm whether you still see errors since {time} UTC?",
    ],
    IT.BUG: [
        INFO_REQUEST,
        (
            "Could you share the exact payload and the SDK version you are using? That will let us reproduce it in "
            "staging."
        ),
        (
            "Could you send us a diagnostic trace bundle (trace-<timestamp>-cli.zip) from an affected machine? Please "
            "confirm telemetry consent is enabled first."
        ),
    ],
    IT.CONFIGURATION: [
        "Could you send us the cURL command that fails (with the key redacted) and the environment it runs against?",
        (
            "Can you check in the dashboard which scopes the production key has, and confirm the redirect URI "
            "registered for the app?"
        ),
    ],
    IT.QUESTION: [
        (
            "Happy to help. Could you tell us a bit more about the use case (volume, how often the job runs) so we can "
            "recommend the right approach?"
        ),
        "Does the approach described above work for you? We'll keep the case open until we hear back.",
    ],
}
NOTES = {
    IT.INCIDENT: [
        "Checked Grafana: 5xx spike on gateway.outbound starting {time} UTC, matches the customer's report.",
        "Linked to INC-{n3} (on-call SRE paged).",
        "Tenant console: ingest SLI red, error budget burn 4x; other tenants in the region affected too.",
        "Rate-limit quota raised temporarily; follow up with the account team.",
    ],
    IT.BUG: [
        "Matches known issue KI-{n3}; workaround documented in the runbook.",
        "Reproduced in staging with the customer's payload; escalating with repro steps and request ids.",
        "Could not reproduce in staging with the payload provided; asked for the full request.",
        (
            "Telemetry consent confirmed on the tenant console before opening the trace bundle. trace.json shows "
            "failed gateway.outbound spans."
        ),
    ],
    IT.CONFIGURATION: [
        "Looks like a configuration issue on the customer's side (staging key used against production).",
        "Key is active but lacks the write scope; customer admin needs to add it.",
    ],
    IT.QUESTION: [
        "Answered from the docs; suggested cursor pagination. Docs gap logged for the docs backlog.",
        "Customer is on the enterprise tier: keep the update cadence even for how-to questions.",
        "Logged in the product feedback backlog with the customer's use case.",
    ],
}
CUSTOMER_FOLLOWUPS = {
    IT.INCIDENT: [
        "Here are the request ids you asked for: {rid}, {rid2}. Timestamps are UTC.",
        "Still seeing errors on our side, about 20% of requests.",
        "Any update on this? Our team is still blocked.",
    ],
    IT.BUG: [
        "Payload attached. SDK version {version}.",
        "Trace bundle uploaded: trace-{stamp}-cli.zip.",
        "We tried that and it still fails in production, same error.",
    ],
    IT.CONFIGURATION: [
        "Here is the failing cURL command (key redacted). We run it against production.",
        "We added the scope; still the same response.",
    ],
    IT.QUESTION: ["Thanks. We run it nightly over roughly {n} records.", "Any update on this?"],
}
RESOLUTIONS = {
    IT.INCIDENT: [
        (
            "Good news: the fix has been deployed and error rates are back to normal since {time} UTC. Root cause was "
            "a bad configuration push on our side; the incident review will follow. Please let us know if you see "
            "anything else."
        ),
        (
            "We raised your rate-limit quota and confirmed your batch jobs complete. Resolving; reply here if anything "
            "changes."
        ),
    ],
    IT.BUG: [
        (
            "This is a known issue; the recommended workaround is to retry with an idempotency key. We're tracking a "
            "permanent fix and will update you when it ships."
        ),
        (
            "A fix for this has been released (v{version}). We verified it with your payload in staging. Please reopen "
            "this case if you still see the error."
        ),
    ],
    IT.CONFIGURATION: [
        (
            "This appears to be a configuration issue rather than a platform bug: the production key did not have the "
            "required scope. After adding it, requests succeed. Please reopen this case if it happens again."
        ),
        (
            "The redirect URI registered for the production app had a trailing slash; with it corrected the token "
            "exchange succeeds."
        ),
    ],
    IT.QUESTION: [
        (
            "This is expected behaviour based on our API design (201 for creates, 204 with no body for deletes). Our "
            "documentation explains it in detail; let us know if you have concerns about the design."
        ),
        (
            "Cursor pagination is the recommended approach for large collections: pass the `next_cursor` from each "
            "page and keep page sizes at 100–500. The guide in our docs has a full example."
        ),
        (
            "Thanks for the suggestion! We've logged it in our product feedback backlog with your use case and will "
            "update this case if it gets scheduled."
        ),
    ],
}
CONFIRMATIONS = [
    "Confirmed, it works now. Thanks!",
    "All good on our side, you can close this.",
    "Thanks for the quick help.",
]
