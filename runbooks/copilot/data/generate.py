"""Write the copilot's labelled tickets: `train.jsonl` and the held-out `eval.jsonl`.

    python -m runbooks.copilot.data.generate

Each scenario is one criterion of seed 002 (a severity criterion, an expected-behaviour or
configuration case, a category's common pattern) with its labels, and several phrasings written by
hand. The phrasings are split: every third one goes to the evaluation set only, so evaluation
tickets are worded differently from anything the model was trained on; the slot values (endpoints,
accounts, timestamps, request ids, versions) are drawn from the same pools. Whether a ticket needs
more information follows "When to Request More Information": an error report without a timestamp,
a 500 without a request id, a version-related report without versions, an intermittent one without
its frequency, "it doesn't work" without the error. Duplicates (`dup_group`) are a second report of
the same failure: same account, endpoint and error, other words.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent
# What makes a report version-related (seed 002: SDK, library and integration tickets need versions).
VERSION_TALK = re.compile(r"\bsdk\b|librar|upgrad|version|zapier|oauth flow|identity provider|third-party", re.I)

ENDPOINTS = [
    "POST /v1/users",
    "GET /v1/orders",
    "PUT /v1/invoices/{id}",
    "POST /v1/payments",
    "GET /v1/reports",
    "DELETE /v1/webhooks/{id}",
    "PATCH /v1/accounts/{id}",
    "POST /v1/events",
    "GET /v1/items",
    "POST /v1/subscriptions",
    "GET /v1/customers/{id}",
    "POST /v1/batch",
    "GET /v1/search",
    "POST /v1/tokens",
    "PUT /v1/settings",
    "GET /v1/metrics",
]
ACCOUNTS = [f"acct_{n}" for n in range(1000, 9999, 37)]
TIMESTAMPS = [
    "at 14:32 UTC today",
    "on 2024-03-05 at 10:12 UTC",
    "since 09:00 CET this morning",
    "starting 2024-06-11T08:45:00Z",
    "at 16:05 UTC yesterday",
    "around 11:20 UTC on 3 May",
    "from 07:30 UTC",
    "on 2024-02-29 22:10 PST",
]
REQUEST_IDS = [
    "X-Request-Id: req_8f2a91c3",
    "request id 3f9c-11ab-77de",
    "the X-Request-Id header was req_51d0e2",
    "request ID req_0c77b4aa",
    "X-Request-Id req_9e1f3300",
]
VERSIONS = [
    "We are on Python 3.11 with FastAPI 0.110 and SDK v2.3.1.",
    "Versions: python 3.10, our SDK 1.8.0.",
    "Using the Node SDK version 4.2.0 on Node 20.",
    "pydantic 2.6, fastapi 0.109, python 3.12.",
    "We run SDK v3.0.2 (Python 3.9).",
]
FREQUENCIES = [
    "It happens about 1 in 20 requests.",
    "Roughly every few minutes, mostly at peak hours.",
    "About 5% of calls fail this way.",
    "It hits us two or three times an hour.",
]
ERROR_BODIES = [
    'The response body is {"detail": "Service Unavailable", "code": "E_UNAVAILABLE"}.',
    'Full response: {"error": "unexpected_error", "message": "something went wrong"}.',
    'Body returned: {"detail": [{"loc": ["body"], "msg": "field required"}]}.',
    'We get back {"error": "server_error"} with no further detail.',
]
ENV = {
    "production": [
        "in production",
        "on our production environment",
        "on prod",
        "in our live environment",
        "for production traffic",
        "on the production API",
    ],
    "staging": [
        "in staging",
        "on our staging environment",
        "in the staging sandbox",
        "against staging",
        "in our pre-prod staging setup",
        "on the staging API",
    ],
    "development": [
        "in our dev environment",
        "on my local machine",
        "in development",
        "from a local dev build",
        "on a developer laptop",
        "in our development sandbox",
    ],
}
NAMES = ["Dana", "Priya", "Tom", "Lena", "Marcus", "Yuki", "Omar", "Sofia", "Ken", "Ines"]

# name: labels, kind ("error": a report the information rules apply to), flags, phrasings.
# A phrasing is (subject, body); {ep} endpoint, {env} environment phrase, {acct} account.
SCENARIOS: list[dict] = [
    dict(
        name="all_failing",
        category="other",
        severity="P1",
        issue_type="incident",
        kind="error",
        is500=True,
        env_fixed="production",
        phrasings=[
            (
                "All API calls failing",
                "Every single request we send returns 500 {env}. Account {acct}. Nothing works at all.",
            ),
            ("Complete outage on our account", "Total outage: all requests to your API are failing {env} for {acct}."),
            ("API is down for us", "Your API is down for us {env}; all calls return 500 errors. Account {acct}."),
            (
                "Every request returns 503",
                "Since a few minutes every call from {acct} gets a 503 {env}. We are fully down.",
            ),
            (
                "Nothing works - every endpoint 500",
                "All endpoints return 500 {env}, our whole integration is dead. {acct}.",
            ),
            (
                "Service completely unavailable",
                "Our service is completely down because every request to the API fails {env} (account {acct}).",
            ),
        ],
    ),
    dict(
        name="auth_down",
        category="authentication",
        severity="P1",
        issue_type="incident",
        kind="error",
        env_fixed="production",
        phrasings=[
            (
                "Authentication completely broken",
                "No one can authenticate {env}: every token request fails and all logins are rejected. {acct}.",
            ),
            (
                "Login system non-functional",
                "The auth system is completely non-functional {env}, all our users get 401 on every call. Account {acct}.",
            ),
            (
                "All API keys rejected",
                "Every API key we have, including freshly created ones, is rejected with 401 {env}. Authentication is down for {acct}.",
            ),
            (
                "Cannot authenticate at all",
                "Token endpoint POST /v1/tokens fails for all credentials {env}; nobody at {acct} can sign in.",
            ),
            (
                "OAuth token issuance down",
                "Authentication is totally down {env} - no access tokens are issued for any client of {acct}.",
            ),
            (
                "SSO and API auth both failing for everyone",
                "Every authentication attempt fails {env}, all requests unauthorized. {acct}.",
            ),
        ],
    ),
    dict(
        name="breach",
        category="authentication",
        severity="P1",
        issue_type="incident",
        kind="security",
        security=True,
        env_fixed="production",
        phrasings=[
            (
                "Unauthorized access to customer data",
                "We are seeing unauthorized access to customer data {env}: records of other tenants show up for {acct}.",
            ),
            (
                "Possible data breach",
                "One of our users can read another company's invoices. This looks like a data breach {env}. Account {acct}.",
            ),
            (
                "Auth bypass on API",
                "Requests without any token to {ep} succeed {env}. That is an authentication bypass. {acct}.",
            ),
            (
                "Security vulnerability being exploited",
                "Someone is exploiting a vulnerability: our logs show tokens being used from unknown IPs to dump data {env}. {acct}.",
            ),
            (
                "Data leakage between accounts",
                "Your API leaks data: {ep} returns personal data belonging to other customers {env}. {acct}.",
            ),
            (
                "Leaked API key used by attacker",
                "Our API key leaked and an attacker accessed customer records {env}; we need this stopped now. {acct}.",
            ),
        ],
    ),
    dict(
        name="payments_down",
        category="other",
        severity="P1",
        issue_type="incident",
        kind="error",
        is500=True,
        env_fixed="production",
        phrasings=[
            (
                "Payment processing is down",
                "Payment processing is down {env}: POST /v1/payments fails with 500 for every charge. {acct}.",
            ),
            (
                "Checkout transactions failing",
                "All checkout transactions are failing {env}, customers cannot pay. Account {acct}.",
            ),
            (
                "Charges not going through",
                "None of our payments go through {env}, each one errors out with 500. {acct}.",
            ),
            (
                "Financial transactions failing",
                "Financial transactions fail across the board {env}; refunds and charges are both broken. {acct}.",
            ),
            (
                "Billing API broken - revenue impact",
                "Billing is broken {env}: every payment request returns an error. {acct}.",
            ),
            ("Payments outage", "We have a payments outage {env}, transactions fail for all our customers. {acct}."),
        ],
    ),
    dict(
        name="endpoint_500",
        category="validation",
        severity="P2",
        issue_type="bug",
        kind="error",
        is500=True,
        phrasings=[
            (
                "{ep} returns 500 for special characters",
                "{ep} returns 500 whenever the payload contains special characters like umlauts {env}. Other endpoints are fine. {acct}.",
            ),
            (
                "Consistent 500 on {ep}",
                "We get a 500 error on {ep} every time we send a name with an apostrophe {env}. Steps: send name O'Brien. {acct}.",
            ),
            (
                "{ep} failing consistently",
                "{ep} consistently fails with 500 {env} for payloads with emoji in the description. {acct}.",
            ),
            (
                "500 instead of 422 on {ep}",
                "Sending a decimal with too many places to {ep} gives a 500 rather than a validation error {env}. {acct}.",
            ),
            (
                "Specific endpoint broken: {ep}",
                "Only {ep} is failing, reliably, with an internal server error {env} when a list field is empty. {acct}.",
            ),
            (
                "Internal server error from {ep}",
                "{ep} throws an internal server error for any unicode input {env}. Reproducible every time. {acct}.",
            ),
        ],
    ),
    dict(
        name="latency",
        category="performance",
        severity="P2",
        issue_type="bug",
        kind="error",
        phrasings=[
            (
                "API latency is 3x normal",
                "Latency on {ep} is about 3x normal {env}, p95 went from 200ms to 700ms. {acct}.",
            ),
            (
                "Requests much slower than usual",
                "Since this morning responses are twice as slow as our baseline {env}. {acct}.",
            ),
            (
                "Severe performance degradation",
                "We measure a performance degradation of more than 50% on {ep} {env}. {acct}.",
            ),
            (
                "Response times doubled",
                "Response times have doubled across the API {env}, our dashboards show it clearly. {acct}.",
            ),
            (
                "Slowness on {ep}",
                "{ep} has become very slow {env}: 4 seconds per call where it used to take 300ms. {acct}.",
            ),
            (
                "p99 latency spike",
                "Our p99 latency against your API jumped 5x {env}, requests are significantly degraded. {acct}.",
            ),
        ],
    ),
    dict(
        name="staging_key_prod_403",
        category="authentication",
        severity="P2",
        issue_type="configuration",
        kind="error",
        env_fixed="production",
        phrasings=[
            (
                "Staging key works, production key 403",
                "Our staging API key works fine but the production key returns 403 on {ep}. {acct}.",
            ),
            (
                "403 with production credentials only",
                "With production credentials we get 403 Forbidden, the same call with the staging key succeeds. {acct}.",
            ),
            (
                "Prod key forbidden",
                "The production API key gets forbidden responses on {ep} while staging keys work. Account {acct}.",
            ),
            (
                "Production API key rejected but staging ok",
                "Production keys are rejected with a 403 but our staging key is accepted. {acct}.",
            ),
            (
                "403 on prod, fine on staging",
                "Same request, staging returns 200 and production returns 403. We use separate keys. {acct}.",
            ),
            (
                "Forbidden errors after going live",
                "After switching to the production key we only get 403 from {ep}. Staging was fine. {acct}.",
            ),
        ],
    ),
    dict(
        name="auth_subset",
        category="authentication",
        severity="P2",
        issue_type="bug",
        kind="error",
        phrasings=[
            (
                "Some valid keys get 401",
                "A subset of our valid API keys suddenly get 401 Unauthorized {env}, others work. {acct}.",
            ),
            (
                "401 for some users with valid tokens",
                "Some of our users with valid tokens receive 401 on {ep} {env}. {acct}.",
            ),
            (
                "Valid credentials rejected for a few service accounts",
                "Three of our service accounts with valid credentials are rejected with 401 {env}. {acct}.",
            ),
            (
                "Part of our tokens unauthorized",
                "Roughly half of freshly issued tokens are rejected as unauthorized {env}. {acct}.",
            ),
            (
                "Auth failures for certain keys",
                "Authentication fails for certain keys that are definitely active in the dashboard {env}. {acct}.",
            ),
            (
                "Unauthorized errors for a group of users",
                "A group of valid users gets 401 errors {env}, the rest is fine. {acct}.",
            ),
        ],
    ),
    dict(
        name="webhooks_down",
        category="integration",
        severity="P2",
        issue_type="bug",
        kind="error",
        phrasings=[
            (
                "Webhook deliveries not arriving",
                "None of our webhook deliveries are arriving {env} since yesterday. Endpoint is up. {acct}.",
            ),
            (
                "Webhooks stopped working",
                "Webhooks stopped working {env}: events are not being delivered to our receiver. {acct}.",
            ),
            (
                "No webhook events received",
                "We no longer receive any webhook events {env}, our integration is blocked. {acct}.",
            ),
            ("Webhook delivery failures", "Every webhook delivery fails {env} and nothing is retried. {acct}."),
            (
                "Events not delivered to our endpoint",
                "Event notifications stopped arriving at our webhook URL {env}. {acct}.",
            ),
            (
                "Webhook integration broken",
                "Our webhook integration is broken {env}: deliveries are never sent. {acct}.",
            ),
        ],
    ),
    dict(
        name="docs_wrong",
        category="documentation",
        severity="P3",
        issue_type="bug",
        kind="docs",
        phrasings=[
            ("OpenAPI docs page shows 500", "The OpenAPI docs page returns a 500 error when we open it. {acct}."),
            (
                "Documentation incorrect for {ep}",
                "The documentation for {ep} lists a field that does not exist in the response.",
            ),
            ("Docs example is wrong", "The example in your docs for {ep} uses the wrong field name, copying it fails."),
            ("Swagger page broken", "Your swagger documentation page does not load, it shows an error."),
            (
                "Docs unclear about pagination",
                "The documentation is unclear about how the cursor parameter works on {ep}.",
            ),
            (
                "Outdated documentation",
                "The docs still describe the old authentication header; that information is outdated.",
            ),
        ],
    ),
    dict(
        name="pagination",
        category="other",
        severity="P3",
        issue_type="bug",
        kind="error",
        phrasings=[
            (
                "Pagination inconsistent for large offsets",
                "Pagination on {ep} returns inconsistent results for large offsets {env}: items repeat. {acct}.",
            ),
            (
                "Duplicate items across pages",
                "When paging through {ep} past page 100 we see duplicated and missing items {env}. {acct}.",
            ),
            ("Offset pagination skips records", "Using offset above 10000 on {ep} skips records {env}. {acct}."),
            (
                "Page results change between calls",
                "The same page of {ep} gives different results each time for big offsets {env}. {acct}.",
            ),
            (
                "Sorting unstable in pagination",
                "Results of {ep} are not stable across pages with large offsets {env}. {acct}.",
            ),
            ("Missing rows when paginating", "We miss rows when paginating {ep} deep into the list {env}. {acct}."),
        ],
    ),
    dict(
        name="sdk_422",
        category="validation",
        severity="P3",
        issue_type="bug",
        kind="error",
        version_related=True,
        phrasings=[
            (
                "SDK gets 422 on valid-looking requests",
                "Our SDK is getting 422 on valid-looking requests to {ep} {env}. {acct}.",
            ),
            (
                "422 Unprocessable Entity with correct payload",
                "We receive 422 Unprocessable Entity from {ep} although the payload matches the schema {env}. {acct}.",
            ),
            (
                "Validation error on enum value",
                "{ep} rejects status 'Active' with a 422 {env}; lowercase works. Edge case in validation? {acct}.",
            ),
            (
                "Field constraint rejecting valid data",
                "A 422 validation error on {ep} for a quantity of 0 which the docs allow {env}. {acct}.",
            ),
            (
                "Edge case validation failure",
                "An edge case: dates on Feb 29 are rejected by validation on {ep} {env}. {acct}.",
            ),
            (
                "Unexpected 422 from SDK call",
                "The SDK call to {ep} fails validation with 422 though the request looks right {env}. {acct}.",
            ),
        ],
    ),
    dict(
        name="perf_minor",
        category="performance",
        severity="P3",
        issue_type="bug",
        kind="error",
        phrasings=[
            (
                "Occasional timeout on large exports",
                "A few large requests to {ep} time out {env}; most requests are fine. {acct}.",
            ),
            (
                "Timeout on large payloads",
                "Requests to {ep} with payloads above 5MB hit a timeout {env}. Small ones work. {acct}.",
            ),
            (
                "One report endpoint slow for big ranges",
                "{ep} is slow only for year-long date ranges {env}, everything else is fast. {acct}.",
            ),
            (
                "Some requests slow",
                "A small share of requests to {ep} take several seconds {env}, the majority are fast. {acct}.",
            ),
            (
                "Second request hangs",
                "The second request in a row to {ep} hangs {env} when background tasks run. {acct}.",
            ),
            ("Large batch times out", "Batches of 10k items to {ep} time out {env}, smaller batches complete. {acct}."),
        ],
    ),
    dict(
        name="auth_intermittent",
        category="authentication",
        severity="P3",
        issue_type="bug",
        kind="error",
        intermittent=True,
        phrasings=[
            (
                "Intermittent 401 errors",
                "We get intermittent 401 responses on {ep} {env} with a token that is otherwise valid. {acct}.",
            ),
            (
                "Sporadic unauthorized errors",
                "Sporadically a request fails with 401 Unauthorized {env}; a retry succeeds. {acct}.",
            ),
            (
                "401 now and then",
                "Every now and then our calls to {ep} are rejected as unauthorized {env}. Clock skew? {acct}.",
            ),
            (
                "Random auth failures",
                "Random authentication failures with 401 on {ep} {env}, the token is not expired. {acct}.",
            ),
            (
                "Occasional 403 on {ep}",
                "Occasionally {ep} answers 403 for a user who has the right role {env}. {acct}.",
            ),
            (
                "Token rejected intermittently",
                "Our bearer token is intermittently rejected {env}, mostly right after key rotation. {acct}.",
            ),
        ],
    ),
    dict(
        name="integration_lib",
        category="integration",
        severity="P3",
        issue_type="bug",
        kind="error",
        version_related=True,
        phrasings=[
            (
                "SDK incompatible with new library version",
                "After upgrading our HTTP library the SDK fails to call {ep} {env}. {acct}.",
            ),
            (
                "Third-party library breaks integration",
                "The integration with our third-party library breaks on {ep} {env} after an update. {acct}.",
            ),
            ("SDK version mismatch error", "We see an SDK version mismatch error when calling {ep} {env}. {acct}."),
            (
                "OAuth flow fails with our provider",
                "The OAuth flow with our identity provider fails at the callback step {env}. {acct}.",
            ),
            (
                "Zapier integration stopped syncing",
                "Our Zapier integration fails to sync data from {ep} {env}. {acct}.",
            ),
            (
                "Client library throws exception",
                "The official client library raises an exception parsing the response of {ep} {env}. {acct}.",
            ),
        ],
    ),
    dict(
        name="vague",
        category="other",
        severity="P3",
        issue_type="bug",
        kind="error",
        vague=True,
        phrasings=[
            ("It doesn't work", "Hi, the API doesn't work for us {env}. Please fix. {acct}."),
            ("Something is broken", "Something is broken with {ep} {env}, it just does not work anymore. {acct}."),
            ("Problem with your API", "We have a problem with your API {env}, things fail. Can you check? {acct}."),
            ("Not working", "Our calls to {ep} are not working {env}. {acct}."),
            ("Issue with requests", "Requests keep failing {env}, no idea why. {acct}."),
            ("Help - API broken", "The API seems broken for us {env}. Please look into it. {acct}."),
        ],
    ),
    dict(
        name="feature",
        category="feature_request",
        severity="P4",
        issue_type="question",
        kind="feature",
        phrasings=[
            (
                "Can you add support for bulk delete?",
                "Can you add support for bulk delete in the API? We delete thousands of items by hand.",
            ),
            (
                "Feature request: webhook filtering",
                "Feature request: it would be nice to filter webhook events by type.",
            ),
            ("Please add CSV export", "Please add a CSV export option to {ep}. It would save us a lot of time."),
            ("Support for GraphQL?", "Would you consider adding GraphQL support? We would love that."),
            ("Idea: sandbox reset endpoint", "It would be great to have an endpoint that resets the sandbox data."),
            (
                "Request for new filter parameter",
                "We would like a new filter parameter on {ep} for created date. Is that on the roadmap?",
            ),
        ],
    ),
    dict(
        name="howto",
        category="other",
        severity="P4",
        issue_type="question",
        kind="question",
        phrasings=[
            (
                "How do I implement pagination correctly?",
                "How do I implement pagination correctly for {ep}? What is the recommended page size?",
            ),
            ("What is the best way to retry?", "What is the best way to retry failed calls to {ep}?"),
            ("How to filter by date?", "How can I filter {ep} by date range? Is there an example?"),
            (
                "Question about idempotency keys",
                "Is there a way to send an idempotency key with {ep}? How long is it kept?",
            ),
            ("How do I rotate API keys?", "How do I rotate API keys without downtime?"),
            ("Where can I find the list of events?", "Where can I find the list of event types the API can send?"),
        ],
    ),
    dict(
        name="cosmetic",
        category="other",
        severity="P4",
        issue_type="bug",
        kind="docs",
        phrasings=[
            (
                "The error message could be clearer",
                "The error message from {ep} could be clearer about which field is wrong.",
            ),
            ("Typo in error response", "There is a typo in the error response of {ep}: 'recieved'."),
            ("Minor UI glitch in dashboard", "Minor UI glitch: the API key table is misaligned on small screens."),
            ("Cosmetic issue in docs navigation", "Cosmetic issue: the sidebar of the docs overlaps the text."),
            (
                "Inconsistent capitalisation in messages",
                "Error messages use inconsistent capitalisation, a small cosmetic thing.",
            ),
            (
                "Small wording issue",
                "The wording of the rate limit message is a bit confusing, a cosmetic tweak would help.",
            ),
        ],
    ),
    dict(
        name="expected_201",
        category="validation",
        severity="P4",
        issue_type="question",
        kind="expected",
        expected=True,
        phrasings=[
            (
                "POST returns 201 instead of 200",
                "When we create a user with {ep} we get 201 instead of 200. Is that a bug?",
            ),
            (
                "Create call gives 201 Created",
                "Our client expects 200 but the create endpoint answers 201 Created. Please fix.",
            ),
            ("Why 201 and not 200 on create?", "Why does creating an order return status 201 and not 200?"),
            (
                "Unexpected 201 status",
                "The POST create call returns an unexpected 201 status code, our code treats it as an error.",
            ),
            ("Status code 201 on POST", "Status code 201 on POST creates breaks our check for 200."),
            ("Wrong status on create", "Creating resources gives 201 where we expected 200 OK."),
        ],
    ),
    dict(
        name="expected_204",
        category="validation",
        severity="P4",
        issue_type="question",
        kind="expected",
        expected=True,
        phrasings=[
            (
                "DELETE returns 204 with empty body",
                "DELETE on {ep} returns 204 with no body, we expected 200 with JSON.",
            ),
            ("Delete gives 204 not 200", "Deleting a webhook gives 204 No Content instead of 200. Bug?"),
            ("No content on delete", "Why is there no content returned when we delete an item? We get 204."),
            ("204 status on DELETE breaks client", "Our client fails because DELETE answers 204 rather than 200."),
            ("Empty response from DELETE", "The DELETE call returns an empty response with status 204."),
            ("Expected 200 on delete", "We expected 200 on delete but the API sends 204."),
        ],
    ),
    dict(
        name="expected_403",
        category="authentication",
        severity="P4",
        issue_type="question",
        kind="expected",
        expected=True,
        phrasings=[
            (
                "403 instead of 404 for other account's resource",
                "Fetching an order of another account returns 403 instead of 404. Shouldn't it be 404?",
            ),
            (
                "Why 403 for a resource we cannot see?",
                "Why do we get 403 and not 404 for a resource that exists but belongs to another team?",
            ),
            (
                "Getting forbidden rather than not found",
                "For an id we are not allowed to see the API returns forbidden rather than not found.",
            ),
            (
                "403 on hidden resource",
                "Accessing a resource that is not visible to our key gives 403, we expected 404.",
            ),
            (
                "Wrong error code for invisible objects",
                "Objects we have no access to return 403; a 404 would make more sense to us.",
            ),
            (
                "Forbidden response for existing object",
                "We get 403 Forbidden for an existing object owned by another workspace; expected a 404.",
            ),
        ],
    ),
    dict(
        name="expected_empty_422",
        category="validation",
        severity="P4",
        issue_type="question",
        kind="expected",
        expected=True,
        phrasings=[
            ("Empty body returns 422", "Sending an empty body to {ep} returns 422. We expected it to be accepted."),
            ("422 when posting no body", "When we post without a body we get 422 Unprocessable Entity, why?"),
            (
                "Blank request rejected",
                "A blank request body is rejected with 422 by {ep}; is an empty string not valid?",
            ),
            ("Empty payload validation error", "An empty payload gives a validation error on {ep}."),
            ("422 for missing JSON", "We send no JSON at all and receive 422 from {ep}."),
            ("Request without body fails", "Our request without any body fails with 422 on {ep}."),
        ],
    ),
    dict(
        name="expected_ratelimit",
        category="performance",
        severity="P4",
        issue_type="question",
        kind="expected",
        expected=True,
        phrasings=[
            (
                "Getting 429 Too Many Requests",
                "We get 429 Too Many Requests when sending 200 requests per second to {ep}.",
            ),
            ("Rate limited during batch job", "Our batch job gets rate limited with 429 after a few hundred calls."),
            ("429 errors at high volume", "At high volume the API answers 429 and our import stops."),
            ("Too many requests error", "Why do we receive a too many requests error during our nightly sync?"),
            ("Rate limit hit", "We keep hitting the rate limit on {ep} when we burst traffic."),
            ("Throttled by the API", "The API throttles us with 429 responses during peaks."),
        ],
    ),
    dict(
        name="config_key",
        category="authentication",
        severity="P3",
        issue_type="configuration",
        kind="config",
        phrasings=[
            (
                "401 with API key missing",
                "We call {ep} and get 401; we are not sending the API key header yet, just testing.",
            ),
            (
                "Malformed API key",
                "Our API key seems malformed, it has a trailing space after copy-paste and calls return 401.",
            ),
            (
                "Authorization header wrong format",
                "We send 'Authorization: Token abc' and get 401; not sure of the format.",
            ),
            ("Expired API key", "Our API key expired last week and now calls to {ep} return 401."),
            ("Invalid API key error", "The API says invalid API key for {ep}; we may have revoked it by accident."),
            (
                "No API key in requests",
                "We forgot to configure the API key in our new service and it gets 401 on {ep}.",
            ),
        ],
    ),
    dict(
        name="config_content_type",
        category="validation",
        severity="P3",
        issue_type="configuration",
        kind="config",
        phrasings=[
            ("415 Unsupported Media Type", "{ep} returns 415; we send Content-Type text/plain with a JSON body."),
            (
                "Content-Type header issue",
                "We post form data with Content-Type application/x-www-form-urlencoded to {ep} and it fails.",
            ),
            (
                "Request body does not match schema",
                "Our request body to {ep} uses 'userName' while the schema says 'username'; we get 422.",
            ),
            ("Wrong Content-Type gives error", "Using the wrong Content-Type header on {ep} makes every call fail."),
            (
                "Payload field names mismatch",
                "Our payload does not match the documented schema for {ep}, fields are nested differently, and calls fail.",
            ),
            ("Missing content type header", "We do not set a Content-Type header and {ep} rejects the request."),
        ],
    ),
    dict(
        name="config_wrong_env",
        category="authentication",
        severity="P3",
        issue_type="configuration",
        kind="config",
        env_fixed="staging",
        phrasings=[
            (
                "Production key used against staging",
                "We use our production key against the staging base URL and get 401.",
            ),
            (
                "Wrong environment URL",
                "Our staging app is pointed at the production URL with a staging key; calls fail with 401.",
            ),
            (
                "Staging key on production host",
                "We authenticate to the wrong environment: staging key, production host, 401 errors.",
            ),
            (
                "401 after switching environment",
                "After switching base URL to staging, our production credentials stopped working.",
            ),
            (
                "Credentials for wrong environment",
                "Our test suite uses production credentials on the staging API and gets unauthorized.",
            ),
            ("Mixed up sandbox and live keys", "We mixed up sandbox and live keys; the staging calls are rejected."),
        ],
    ),
    dict(
        name="refund",
        category="other",
        severity="P3",
        issue_type="question",
        kind="refund",
        phrasings=[
            (
                "Request for refund after outage",
                "After last week's outage we expect a refund or a service credit for {acct}.",
            ),
            (
                "Compensation for downtime",
                "We want compensation for the downtime we had; our SLA says credits apply. {acct}.",
            ),
            (
                "Refund for double charge",
                "We were charged twice this month. Please refund the duplicate charge. {acct}.",
            ),
            ("SLA credit request", "Please apply the SLA credit we are owed for the incident on our account {acct}."),
            ("Billing dispute", "We dispute this month's invoice and ask for a partial refund. {acct}."),
            ("Money back for failed month", "The API was unreliable all month and we want our money back. {acct}."),
        ],
    ),
]

FRUSTRATION = [
    "This is unacceptable, we are losing customers!",
    "Extremely frustrated, third time this week.",
    "This is really urgent and nobody answers!!",
    "We are very angry about this.",
]


def _ticket(
    rng: random.Random, scenario: dict, phrasing: tuple[str, str], *, ep=None, acct=None, ident: str, env=None
) -> dict:
    ep = ep or rng.choice(ENDPOINTS)
    acct = acct or rng.choice(ACCOUNTS)
    environment = (
        scenario.get("env_fixed")
        or env
        or rng.choice(["production", "production", "staging", "development", "unknown"])
    )
    env_phrase = "" if environment == "unknown" else rng.choice(ENV[environment])
    if scenario.get("env_fixed"):
        env_phrase = env_phrase if "{env}" in phrasing[1] else ""
    subject = phrasing[0].format(ep=ep, env=env_phrase, acct=acct)
    body = phrasing[1].format(ep=ep, env=env_phrase, acct=acct).replace("  ", " ").replace(" .", ".")
    if "{env}" not in phrasing[1] and not scenario.get("env_fixed"):
        environment = "unknown"
    extra: list[str] = []
    needs_info = False
    if scenario["kind"] == "error":
        has_ts = rng.random() < 0.55
        has_rid = rng.random() < 0.6
        has_ver = rng.random() < 0.5
        has_freq = rng.random() < 0.5
        has_body = rng.random() < 0.6
        if has_ts:
            extra.append(f"It started {rng.choice(TIMESTAMPS)}.")
        text = f"{subject} {body}".lower()
        is500 = " 500" in text or "internal server error" in text
        version_related = scenario.get("version_related") and VERSION_TALK.search(text)
        if is500 and has_rid:
            extra.append(f"One failing call had {rng.choice(REQUEST_IDS)}.")
        if version_related and has_ver:
            extra.append(rng.choice(VERSIONS))
        if scenario.get("intermittent") and has_freq:
            extra.append(rng.choice(FREQUENCIES))
        if scenario.get("vague") and has_body:
            extra.append(rng.choice(ERROR_BODIES))
        needs_info = (
            not has_ts
            or (is500 and not has_rid)
            or (version_related and not has_ver)
            or (scenario.get("intermittent") and not has_freq)
            or (scenario.get("vague") and not has_body)
        )
    if rng.random() < 0.12:
        extra.append(rng.choice(FRUSTRATION))
    body = " ".join([body, *extra])
    body = f"Hi team,\n\n{body}\n\nThanks,\n{rng.choice(NAMES)}"
    return {
        "id": ident,
        "subject": subject,
        "body": body,
        "category": scenario["category"],
        "severity": scenario["severity"],
        "issue_type": scenario["issue_type"],
        "environment": environment,
        "security": bool(scenario.get("security")),
        "needs_info": bool(needs_info),
        "expected_behavior": bool(scenario.get("expected")),
        "dup_group": None,
        "_ep": ep,
        "_acct": acct,
        "_env": environment,
    }


def build(*, held_out: bool, per_scenario: int, seed: int, dup_share: float, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    tickets: list[dict] = []
    groups = 0
    for scenario in SCENARIOS:
        phrasings = [p for i, p in enumerate(scenario["phrasings"]) if (i % 3 == 2) == held_out]
        for _ in range(per_scenario):
            ticket = _ticket(rng, scenario, rng.choice(phrasings), ident=f"{prefix}{len(tickets) + 1:04d}")
            tickets.append(ticket)
            if scenario["kind"] == "error" and rng.random() < dup_share:
                groups += 1
                group = f"{prefix}g{groups}"
                ticket["dup_group"] = group
                twin = _ticket(
                    rng,
                    scenario,
                    rng.choice(scenario["phrasings"] if not held_out else phrasings),
                    ep=ticket["_ep"],
                    acct=ticket["_acct"],
                    env=ticket["_env"],
                    ident=f"{prefix}{len(tickets) + 1:04d}",
                )
                twin["dup_group"] = group
                tickets.append(twin)
    rng.shuffle(tickets)
    for t in tickets:
        for k in ("_ep", "_acct", "_env"):
            t.pop(k)
    return tickets


def main() -> None:
    train = build(held_out=False, per_scenario=22, seed=1, dup_share=0.15, prefix="tr")
    evaluation = build(held_out=True, per_scenario=6, seed=2, dup_share=0.3, prefix="ev")
    for name, rows in (("train.jsonl", train), ("eval.jsonl", evaluation)):
        with open(HERE / name, "w") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
        print(name, len(rows))


if __name__ == "__main__":
    main()
