"""The playbook's rules (seed 002) as pure functions over a ticket's subject, body and tenant facts.

Every rule has a name — the playbook's own words, so an agent can find it in the playbook — and a
pattern; a rule that fires is a `Vote` for one value of one field, carrying the words that matched.
The engine (`engine.py`) weighs the votes against the model; the acceptance report counts accepted
and overridden proposals per rule name. No ORM here: tested by tables in tests/runbooks/copilot/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cases import triage


@dataclass(frozen=True)
class Vote:
    field: str
    value: str
    rule: str
    words: str
    weight: float = 1.0


@dataclass(frozen=True)
class Rule:
    name: str
    field: str
    value: str
    pattern: re.Pattern
    weight: float = 1.0
    subject_only: bool = False


def _re(text: str) -> re.Pattern:
    return re.compile(text, re.I)


PROD = r"(?:production|prod\b|live)"
ENDPOINT = r"\b(?:GET|POST|PUT|PATCH|DELETE)\s+/\S+"

# --- classification: severity criteria, category patterns, issue type, environment --------------------

RULES: list[Rule] = [
    # P1 — Critical (any of)
    Rule(
        "P1: all API requests failing for a customer",
        "severity",
        "P1",
        _re(
            r"\b(?:all|every)\b(?: single)?\s+(?:\w+\s+){0,3}(?:requests?|calls?|endpoints?)\b[^.]{0,50}"
            r"\b(?:fail\w*|5\d\d|errors?|error out)\b|\b(?:complete|total)\s+outage\b|\bapi is down\b"
            r"|\bfully down\b|\bcompletely (?:down|unavailable)\b|\bnothing works\b"
        ),
        1.5,
    ),
    Rule(
        "P1: authentication system completely non-functional",
        "severity",
        "P1",
        _re(
            r"\bauth\w*\b[^.]{0,40}\b(?:completely|totally|is down|non-functional)\b|\bno ?one can (?:authenticate|log ?in|sign in)"
            r"|\bnobody\b[^.]{0,30}\b(?:sign in|log ?in|authenticate)\b|\bauthentication is (?:totally |completely )?down\b"
            r"|\bevery (?:authentication attempt|api key|token request)\b[^.]{0,60}\b(?:fails|rejected)\b"
        ),
        1.5,
    ),
    Rule(
        "P1: data breach or security vulnerability actively exploited",
        "severity",
        "P1",
        _re(
            r"unauthori[sz]ed access|data (?:breach|leak\w*)|\bbreach\b|\bexploit\w*|\bleaks? (?:\w+ )?data\b"
            r"|auth\w* bypass|\battacker\b|belonging to other customers|another company's|other tenants"
        ),
        2.0,
    ),
    Rule(
        "P1: financial transactions failing in production",
        "severity",
        "P1",
        _re(
            r"\b(?:payments?|charges?|checkout|transactions?|billing)\b[^.]{0,40}\b(?:down|fail\w*|broken|outage|errors? out)\b"
            r"|\bpayments? outage\b|cannot pay\b"
        ),
        1.5,
    ),
    # P2 — High
    Rule(
        "P2: specific endpoint failing consistently",
        "severity",
        "P2",
        _re(
            r"\b(?:consistently|every time|reliably|whenever|always)\b[^.]{0,60}\b(?:500|fail\w*|internal server error)\b"
            r"|\b(?:500|internal server error)\b[^.]{0,60}\b(?:every time|whenever|consistently|for any)\b"
            r"|\breturns? (?:a )?500\b|\b500 (?:error|rather|instead)\b|\binternal server error\b|\bonly \S+ /\S+ is failing"
        ),
        1.0,
    ),
    Rule(
        "P2: performance degradation >50% from baseline",
        "severity",
        "P2",
        _re(
            r"\b\d(?:\.\d)?x\b(?: normal)?|\btwice as slow\b|\bdoubled\b|\bmore than 50%|\bdegrad\w+\b"
            r"|\bvery slow\b|\blatency\b[^.]{0,40}\b(?:jump\w*|spike\w*|normal)\b"
        ),
        1.0,
    ),
    Rule(
        "P2: authentication failures for a subset of valid credentials",
        "severity",
        "P2",
        _re(
            r"\b(?:subset|some|part|half|three|certain|group)\b[^.]{0,40}\b(?:valid|active)\b[^.]{0,40}\b(?:401|unauthori[sz]ed|rejected)\b"
            r"|\b(?:subset|some|part|half|certain|group)\b[^.]{0,30}(?:keys|tokens|users|accounts)\b[^.]{0,40}\b(?:401|unauthori[sz]ed|rejected|fails?)\b"
            r"|\bauthentication fails for certain\b"
        ),
        1.0,
    ),
    Rule(
        "P2: staging credentials work, production returns 403",
        "severity",
        "P2",
        _re(
            r"\bstaging\b[^.]{0,60}\b(?:works?|fine|succeeds|accepted|200)\b[^.]{0,60}\bproduction\b|\bproduction\b[^.]{0,60}\b403\b"
            r"|\bprod(?:uction)? (?:api )?keys?\b[^.]{0,40}\b(?:forbidden|403|rejected)"
        ),
        1.0,
    ),
    Rule(
        "P2: a feature not working at all (major functionality impaired)",
        "severity",
        "P2",
        _re(
            r"\bnone of (?:our|the)\b|\bstopped (?:working|arriving)\b|\bno longer receive\b|\bnever sent\b"
            r"|\bnot being delivered\b|\bevery webhook delivery fails\b"
        ),
        1.0,
    ),
    # P3 — Medium
    Rule(
        "P3: documentation unclear or incorrect",
        "severity",
        "P3",
        _re(
            r"\b(?:docs?|documentation|openapi|swagger)\b[^.]{0,60}\b(?:wrong|incorrect|unclear|outdated|500|error|does not load|broken|not exist)\b"
            r"|\bdocumentation for\b|\bexample in your docs\b"
        ),
        1.0,
    ),
    Rule(
        "P3: edge case validation failure",
        "severity",
        "P3",
        _re(r"\b422\b|\bedge case\b|\bvalidation\b|\bunprocessable\b"),
        0.6,
    ),
    Rule(
        "P3: non-critical endpoint issue (pagination, large requests)",
        "severity",
        "P3",
        _re(
            r"\bpaginat\w+\b|\boffsets?\b|\btime ?outs?\b|\btimes? out\b|\blarge (?:requests?|payloads?|exports?)\b|\bhangs\b"
        ),
        0.8,
    ),
    Rule(
        "P3: performance issue not affecting majority of requests",
        "severity",
        "P3",
        _re(
            r"\b(?:most|majority|everything else|small ones|smaller|small share|a few)\b[^.]{0,40}\b(?:fine|fast|work|complete|are fine)\b"
        ),
        1.0,
    ),
    # P4 — Low
    Rule(
        "P4: feature request",
        "severity",
        "P4",
        _re(
            r"\bfeature request\b|\bcan you add\b|\bplease add\b|\bwould be (?:nice|great)\b|\bwould (?:you consider|like)\b|\broadmap\b"
        ),
        1.5,
    ),
    Rule(
        "P4: general usage question",
        "severity",
        "P4",
        _re(r"^\s*(?:how|what|why|where|is there|can i)\b[^?]*\?|\bhow (?:do|can) (?:i|we)\b"),
        1.2,
    ),
    Rule(
        "P4: cosmetic issue or documentation improvement",
        "severity",
        "P4",
        _re(
            r"\bcould be clearer\b|\bcosmetic\b|\btypo\b|\bminor ui\b|\bmisaligned\b|\bwording\b|\bcapitali[sz]ation\b"
        ),
        1.5,
    ),
    # Categories (seed 002 "Ticket Categories Deep Dive")
    Rule(
        "Category: authentication (401/403, keys, tokens)",
        "category",
        "authentication",
        _re(
            r"\b40[13]\b|\bunauthori[sz]ed\b|\bforbidden\b|\bapi keys?\b|\btokens?\b|\bauthenticat\w+\b|\blog ?in\b|\bcredentials?\b"
        ),
        1.0,
    ),
    Rule(
        "Category: validation (422, payload, schema)",
        "category",
        "validation",
        _re(
            r"\b422\b|\bvalidation\b|\bunprocessable\b|\bpayloads?\b|\bschema\b|\bcontent-type\b|\bspecial characters\b|\benum\b"
        ),
        1.0,
    ),
    Rule(
        "Category: performance (slow, latency, timeouts)",
        "category",
        "performance",
        _re(
            r"\blatency\b|\bslow\w*\b|\btime ?outs?\b|\btimes? out\b|\bperformance\b|\bp9\d\b|\bhangs?\b|\b429\b|\brate limit\w*\b|\bthrottl\w+"
        ),
        1.0,
    ),
    Rule(
        "Category: integration (webhooks, SDK, third-party, OAuth)",
        "category",
        "integration",
        _re(
            r"\bwebhooks?\b|\bthird-party\b|\bzapier\b|\boauth flow\b|\bidentity provider\b|\bclient library\b|\bsdk version\b|\bintegration\b"
        ),
        1.0,
    ),
    Rule(
        "Category: documentation",
        "category",
        "documentation",
        _re(r"\b(?:docs?|documentation|openapi|swagger)\b(?! navigation)"),
        1.0,
    ),
    Rule(
        "Category: feature request",
        "category",
        "feature_request",
        _re(
            r"\bfeature request\b|\bcan you add\b|\bplease add\b|\bwould be (?:nice|great)\b|\bwould you consider\b|\bwe would like a new\b"
        ),
        2.0,
    ),
    # Issue type
    Rule(
        "Issue type: incident (outage, breach)",
        "issue_type",
        "incident",
        _re(
            r"\boutage\b|\bis down\b|\bfully down\b|\bcompletely\b|\bbreach\b|\bexploit\w*|\bevery single\b|\bunauthori[sz]ed access\b"
        ),
        1.0,
    ),
    Rule(
        "Issue type: question",
        "issue_type",
        "question",
        _re(r"\?\s*$|^\s*(?:how|what|why|where|is there)\b|\bfeature request\b|\bplease add\b|\brefund\b"),
        0.7,
    ),
    Rule(
        "Issue type: configuration",
        "issue_type",
        "configuration",
        _re(
            r"\bwrong environment\b|\bmixed up\b|\bcontent-type\b|\bforgot to configure\b|\bnot sending the api key\b|\bmalformed\b"
            r"|\bexpired\b|\bstaging key\b|\bproduction key\b|\bdoes not match the (?:documented )?schema\b"
        ),
        1.0,
    ),
    # Environment
    Rule("Environment: production named", "environment", "production", _re(rf"\b{PROD}\b(?! key| credentials)"), 1.0),
    Rule(
        "Environment: staging named",
        "environment",
        "staging",
        _re(r"\bstaging\b|\bpre-prod\b|\bsandbox\b(?! data)"),
        1.0,
    ),
    Rule(
        "Environment: development named",
        "environment",
        "development",
        _re(r"\bdev(?:elopment)?\b(?! build)|\blocal (?:machine|dev)\b|\bdeveloper laptop\b"),
        1.0,
    ),
]

SEVERITY_ORDER = ["P1", "P2", "P3", "P4"]


def _quote(m: re.Match) -> str:
    return triage._quote(m)


def votes(subject: str, body: str) -> list[Vote]:
    """Every classification rule that fires on the ticket, with the words it matched."""
    text = f"{subject}\n{body}"
    found = []
    for rule in RULES:
        m = rule.pattern.search(subject if rule.subject_only else text)
        if m:
            found.append(Vote(rule.field, rule.value, rule.name, _quote(m), rule.weight))
    return found


# --- security (seed 002 Initial Assessment 3; "Security-related issues (auth bypass, data leakage)") ----

SECURITY = _re(
    r"unauthori[sz]ed access|data (?:breach|leak\w*)|\bbreach\b|security (?:issue|vulnerability|incident|hole)"
    r"|\bvulnerabilit\w+|\bexploit\w*|auth\w* bypass|\bleak\w*\b[^.]{0,30}\bdata\b|\bleaks? data\b|\battacker\b"
    r"|\bkey (?:was )?leaked|\bleaked\b|\bbelonging to other customers\b|\bread another company's\b|\bother tenants\b"
    r"|\bwithout any token\b[^.]{0,40}\bsucceed"
)


def security(subject: str, body: str) -> Vote | None:
    m = SECURITY.search(f"{subject}\n{body}")
    return (
        Vote("security", "true", "Security issue: tag security, escalate to on-call SRE", _quote(m), 2.0) if m else None
    )


# --- close as expected behaviour / configuration (seed 002 "When to Close as …") ---------------------

EXPECTED: list[tuple[str, re.Pattern, str]] = [
    ("Expected: 201 for POST creates", _re(r"\b201\b"), "201 Created for POST creates is per the HTTP spec (not 200)."),
    (
        "Expected: 204 for DELETE",
        _re(r"\b204\b|\bno content\b[^.]{0,30}\bdelete|\bdelete\w*\b[^.]{0,40}\bno (?:content|body)\b"),
        "204 No Content for DELETE is per the HTTP spec (not 200): there is no body to return.",
    ),
    (
        "Expected: 403 for existing-but-not-visible resources",
        _re(
            r"\b403\b[^.]{0,60}\b404\b|\bforbidden rather than not found\b"
            r"|\b404\b[^.]{0,40}\b403\b|\bnot allowed to see\b[^.]{0,40}\bforbidden"
        ),
        "403 for a resource that exists but is not visible to you (not 404) is by design.",
    ),
    (
        "Expected: empty body returning 422 when JSON body required",
        _re(
            r"\b(?:empty|blank|no|without (?:a|any)) (?:request )?(?:body|payload|json)\b[^.]{0,60}\b(?:422|validation error|unprocessable)\b"
            r"|\b422\b[^.]{0,40}\b(?:empty|no|without) (?:a )?(?:body|payload|json)\b|\bpost without a body\b|\bsend no json\b"
            r"|\bempty payload gives a validation error\b"
        ),
        "An empty body answers 422 when the endpoint requires a JSON body: send {} rather than an empty string.",
    ),
    (
        "Expected: rate limiting working as documented",
        _re(r"\b429\b|\brate limit\w*\b|\btoo many requests\b|\bthrottl\w+"),
        "429 Too Many Requests is the documented rate limit at work; back off and retry after the Retry-After delay.",
    ),
]
CONFIGURATION: list[tuple[str, re.Pattern, str]] = [
    (
        "Configuration: API key missing or malformed",
        _re(
            r"\bnot sending the api key\b|\bapi key\b[^.]{0,30}\bmalformed\b"
            r"|\btrailing space\b|\bforgot to configure the api key\b|\bauthorization: token\b|\bnot sure of the format\b"
        ),
        "The API key is missing or malformed in the request (check the Authorization header and stray whitespace).",
    ),
    (
        "Configuration: expired or invalid API key",
        _re(r"\b(?:api )?key expired\b|\binvalid api key\b|\brevoked\b"),
        "The API key is expired or revoked; create a new key in the dashboard.",
    ),
    (
        "Configuration: incorrect Content-Type header",
        _re(r"\bcontent-type\b|\b415\b"),
        "The Content-Type header must be application/json for JSON bodies.",
    ),
    (
        "Configuration: request body does not match documented schema",
        _re(r"\bdoes not match the (?:documented )?schema\b|\bschema says\b|\bnested differently\b"),
        "The request body does not match the documented schema for this endpoint.",
    ),
    (
        "Configuration: authentication to wrong environment",
        _re(
            r"\bwrong environment\b|\bmixed up\b[^.]{0,30}\bkeys\b"
            r"|\bproduction (?:key|credentials)\b[^.]{0,40}\bstaging\b|\bstaging key\b[^.]{0,30}\bproduction (?:host|url)\b"
            r"|\bstaging app is pointed at the production\b|\bswitching base url\b"
            r"|\bproduction credentials\b[^.]{0,40}\bstaging\b|\bstaging\b[^.]{0,40}\bproduction credentials\b"
        ),
        "The credentials belong to another environment (staging vs production): use the key issued for this environment.",
    ),
]
EXPECTED_TEMPLATE = (
    "This is expected behavior based on our API design. {reason} Our documentation at {link} explains this "
    "behavior in detail. If you have concerns about this design decision, please let us know and we can discuss "
    "alternatives or raise as a feature request."
)
CONFIGURATION_TEMPLATE = (
    "This appears to be a configuration issue rather than a platform bug. {reason} Please review our documentation "
    "at {link} and try again. If you continue to experience issues after making these changes, please reopen this "
    "ticket with the updated request details."
)
KNOWN_ISSUE_TEMPLATE = (
    "This is a known issue with {component}. The recommended workaround is {workaround}. We're tracking this issue "
    "and will update you when a fix is available. For reference, this is documented in our internal known issues "
    "database."
)
# Signs that something really is broken, which rule out "expected behaviour".
REAL_FAILURE = _re(r"\b5\d\d\b|\binternal server error\b|\boutage\b|\bdown\b")


def close_as(subject: str, body: str) -> tuple[str, str, str, str] | None:
    """("expected_behavior" | "configuration", rule, words, reason) for the first close-as case that fires."""
    text = f"{subject}\n{body}"
    if REAL_FAILURE.search(text):
        return None
    for kind, table in (("configuration", CONFIGURATION), ("expected_behavior", EXPECTED)):
        for rule, pattern, reason in table:
            if m := pattern.search(text):
                return kind, rule, _quote(m), reason
    return None


# --- more information (seed 002 "When to Request More Information") ----------------------------------

ERROR_REPORT = _re(
    r"\berrors?\b|\bfail\w*\b|\b[45]\d\d\b|\bbroken\b|\bdoes(?:n't| not) work\b|\bnot working\b|\btime ?outs?\b"
    r"|\btimes? out\b|\bslow\w*\b|\blatency\b|\brejected\b|\bhangs\b|\bunauthori[sz]ed\b|\bproblem\b|\bskips\b"
    r"|\bduplicat\w+\b|\binconsistent\b|\bmissing\b|\bmiss rows\b|\bnot stable\b|\bdifferent results\b|\bexception\b"
    r"|\bstopped\b|\bnot arriving\b|\bno longer\b|\bnever\b|\bdegrad\w+|\bdoubled\b|\bdown\b|\bbreaks?\b|\bno \w+ (?:are|is) issued\b"
)
TIMESTAMP = _re(r"(?<!\d)\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\s?(?:am|pm)\b")
FIVE_HUNDRED = _re(r"\b500\b|\binternal server error\b")
REQUEST_ID = _re(r"\bx-request-id\b|\brequest[ -]id\b|\breq_[0-9a-f]{4,}\b")
VERSION_RELATED = _re(
    r"\bsdk\b|\bversions?\b|\bupgrad\w+\b|\blibrar\w+\b|\bmismatch\b|\bzapier\b|\boauth flow\b"
    r"|\bidentity provider\b|\bthird-party\b"
)
VERSIONS = _re(r"\bv?\d+\.\d+(?:\.\d+)?\b")
INTERMITTENT = _re(r"\bintermittent\w*|\bsporadic\w*|\bnow and then\b|\boccasional\w*|\brandom\w*\b|\bsometimes\b")
FREQUENCY = _re(
    r"\b\d+ in \d+\b|\b\d+\s?%|\bevery (?:few )?(?:minutes?|hours?|seconds?)\b|\b(?:times?|twice) an? (?:hour|day|minute)\b"
    r"|\bper (?:hour|minute|day)\b|\bmost requests are fine\b|\bthe majority\b"
)
VAGUE = _re(
    r"\bdoes(?:n't| not) work\b|\bnot working\b|\bsomething is broken\b|\bseems broken\b|\bhave a problem\b"
    r"|\bthings fail\b|\bkeep failing\b|\bno idea why\b"
)
ERROR_MESSAGE = _re(r"[{\"]\s*\"?(?:detail|error|message)\b|\b[45]\d\d\b|\berror message\b|\bresponse body\b")

# Items of the information request template, in its order.
INFO_ITEMS = {
    "timestamp": "**Timestamp**: Exact date/time of the error (with timezone)",
    "request_id": "**Request ID**: From the `X-Request-Id` response header if available",
    "error_body": "**Error Response**: Complete error response body",
    "request_details": "**Request Details**: Endpoint, method, and sanitized request body",
    "reproducibility": "**Reproducibility**: Is this consistent or intermittent?",
    "versions": "**Versions**: FastAPI, Python, and any relevant library versions",
}
INFO_RULES = {
    "timestamp": "Always request: error reports without timestamp",
    "request_id": "Always request: 500 errors without request ID",
    "error_body": "Always request: \u201cit doesn't work\u201d without specific error message",
    "request_details": "Always request: \u201cit doesn't work\u201d without specific error message",
    "versions": "Always request: version-related issues without version numbers",
    "reproducibility": "Always request: intermittent issues without frequency/pattern information",
}


def missing_information(subject: str, body: str) -> list[tuple[str, str, str]]:
    """[(item, rule, words)] the information request should ask for; empty when the ticket is not an
    error report or has what the rules ask for. The do-not-request cases (configuration error, exact
    known issue, security over unencrypted channels) are applied by the engine."""
    text = f"{subject}\n{body}"
    report = ERROR_REPORT.search(text)
    if not report:
        return []
    words = _quote(report)
    missing = []
    if not TIMESTAMP.search(text):
        missing.append(("timestamp", INFO_RULES["timestamp"], words))
    if (m := FIVE_HUNDRED.search(text)) and not REQUEST_ID.search(text):
        missing.append(("request_id", INFO_RULES["request_id"], _quote(m)))
    if (m := VAGUE.search(text)) and not ERROR_MESSAGE.search(text):
        missing.append(("error_body", INFO_RULES["error_body"], _quote(m)))
        if not re.search(ENDPOINT, text):
            missing.append(("request_details", INFO_RULES["request_details"], _quote(m)))
    if (m := VERSION_RELATED.search(text)) and not VERSIONS.search(text):
        missing.append(("versions", INFO_RULES["versions"], _quote(m)))
    if (m := INTERMITTENT.search(text)) and not FREQUENCY.search(text):
        missing.append(("reproducibility", INFO_RULES["reproducibility"], _quote(m)))
    return missing


def information_request(items: list[str]) -> str:
    """The seed's information request template with only the missing items, numbered."""
    lines = ["Thank you for reporting this issue. To investigate further, we need:", ""]
    for n, item in enumerate([i for i in INFO_ITEMS if i in items], 1):
        lines.append(f"{n}. {INFO_ITEMS[item]}")
    return "\n".join(lines)


# --- escalation (seed 002 "When to Escalate to Engineering") -----------------------------------------

ALWAYS: list[tuple[str, re.Pattern]] = [
    (
        "Always escalate: consistent 500 errors with reproducible steps",
        _re(
            r"\b(?:500|internal server error)\b[^\n]{0,120}\b(?:steps?|reproducible|every time|consistently|reliably)\b"
            r"|\b(?:steps?|reproducible|every time|consistently|reliably)\b[^\n]{0,120}\b(?:500|internal server error)\b"
        ),
    ),
    (
        "Always escalate: multiple customers reporting identical error pattern",
        _re(
            r"\b(?:multiple|several|many|other) customers\b[^.]{0,40}\b(?:report\w*|same|seeing)\b|\bfor all our customers\b"
        ),
    ),
    (
        "Always escalate: error in recently deployed code",
        _re(r"\b(?:since|after) (?:your|the|yesterday's) (?:deploy\w*|release)\b"),
    ),
    ("Always escalate: security-related issues (auth bypass, data leakage)", SECURITY),
    (
        "Always escalate: performance degradation detected in metrics",
        _re(r"\bdashboards? show\b|\bour (?:metrics|monitoring) show\b|\bp9\d\b[^.]{0,30}\b(?:jump|went)\b"),
    ),
    (
        "Always escalate: silent failures (200 returned when error should occur)",
        _re(r"\b200\b[^.]{0,40}\b(?:but|although|yet)\b[^.]{0,40}\b(?:nothing|not|no)\b|\bsilent(?:ly)? fail\w*"),
    ),
]
DISCRETION: list[tuple[str, re.Pattern]] = [
    ("Escalate with discretion: edge case validation failures", _re(r"\bedge case\b|\b422\b|\bvalidation\b")),
    (
        "Escalate with discretion: version-specific bugs",
        _re(r"\bafter upgrading\b|\bversion mismatch\b|\bversion-specific\b"),
    ),
    (
        "Escalate with discretion: integration issues with third-party libraries",
        _re(r"\bthird-party\b|\bclient library\b|\blibrary\b|\bzapier\b|\bidentity provider\b"),
    ),
    ("Escalate with discretion: intermittent issues without clear reproduction steps", INTERMITTENT),
]
NEVER = {
    "configuration": "Do not escalate: customer configuration errors",
    "expected_behavior": "Do not escalate: expected behavior misunderstood as bug",
    "feature": "Do not escalate: feature requests (log and close or forward to product)",
    "question": "Do not escalate: questions answerable from documentation",
    "known_issue": "Do not escalate: known issues with documented workarounds",
}
FEATURE = _re(r"\bfeature request\b|\bcan you add\b|\bplease add\b|\bwould be (?:nice|great)\b|\bwould you consider\b")


def escalation(
    subject: str, body: str, *, severity: str, close: str | None, known_issue: bool, issue_type: str
) -> tuple[str, str, str]:
    """("always" | "discretion" | "do_not", rule, words)."""
    text = f"{subject}\n{body}"
    if close:
        return "do_not", NEVER[close], ""
    if known_issue:
        return "do_not", NEVER["known_issue"], ""
    for rule, pattern in ALWAYS:
        if m := pattern.search(text):
            return "always", rule, _quote(m)
    if severity in ("P1", "P2"):
        return "always", f"Always escalate: any P1 or P2 ticket (proposed {severity})", ""
    if m := FEATURE.search(text):
        return "do_not", NEVER["feature"], _quote(m)
    if issue_type == "question":
        return "do_not", NEVER["question"], ""
    for rule, pattern in DISCRETION:
        if m := pattern.search(text):
            return "discretion", rule, _quote(m)
    return "do_not", "Do not escalate: handle in support (no escalation criterion met)", ""


# --- sentiment, compensation (seed 002 "Override AI Recommendations When", "Required Human Review") ----

FRUSTRATED = _re(
    r"\bunacceptable\b|\bfrustrat\w+|\bangry\b|\bfurious\b|\bridiculous\b|!!|\bnobody answers\b|\bthird time\b"
    r"|\blosing (?:customers|money)\b|\bworst\b|\bdisappointed\b|\bfed up\b"
)
COMPENSATION = _re(
    r"\brefund\w*\b|\bcompensat\w+|\bservice credit\b|\bsla credits?\b|\bcredits? apply\b|\bmoney back\b"
    r"|\bcharged twice\b|\bdispute\b"
)


def sentiment(subject: str, body: str) -> tuple[str, str]:
    """("frustrated", words) or ("neutral", "")."""
    m = FRUSTRATED.search(f"{subject}\n{body}")
    return ("frustrated", _quote(m)) if m else ("neutral", "")


def compensation(subject: str, body: str) -> str:
    m = COMPENSATION.search(f"{subject}\n{body}")
    return _quote(m) if m else ""


# --- duplicates (seed 002 Initial Assessment 1: error message, endpoint, account, time) ---------------

ACCOUNT = _re(r"\bacct_\w+|\baccount (?:id )?#?\w*\d\w*")
ENDPOINT_RE = re.compile(ENDPOINT, re.I)


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word lower-cased, padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass(frozen=True)
class DupFacts:
    grams: frozenset
    codes: frozenset
    endpoints: frozenset
    accounts: frozenset


def _content(subject: str, body: str) -> str:
    """The ticket without its greeting and sign-off (lines of two words or fewer)."""
    return "\n".join(line for line in f"{subject}\n{body}".splitlines() if len(line.split()) > 2)


def dup_facts(subject: str, body: str) -> DupFacts:
    text = f"{subject}\n{body}"
    return DupFacts(
        frozenset(trigrams(_content(subject, body))),
        frozenset(triage.error_codes(text)),
        frozenset(m.group(0).upper() for m in ENDPOINT_RE.finditer(text)),
        frozenset(m.group(0).lower() for m in ACCOUNT.finditer(text)),
    )


# Tuned by cross-validation on the training set (README "Triage copilot").
MIN_SIMILARITY = 0.1


def duplicate_score(
    a: DupFacts,
    b: DupFacts,
    *,
    same_class: bool,
    same_tenant: bool = False,
    hours_apart: float | None = None,
    text_similarity: float | None = None,
) -> tuple[bool, float, list[str]]:
    """Whether two tickets report one failure (seed 002: error message, endpoint, customer account,
    timestamp proximity), a score in [0, 1] and the signals that matched. A duplicate is the same
    customer (account named, or the same tenant) reporting the same kind of problem (the same
    proposed category and severity) in similar words; the same failure from *other* customers is
    an incident pattern, not a duplicate."""
    sim = similarity(a.grams, b.grams) if text_similarity is None else text_similarity
    reasons = [f"text similarity {sim:.2f}"]
    account = bool(a.accounts & b.accounts) or same_tenant
    score = 0.3 * account + 0.2 * same_class + 0.3 * min(sim / 0.5, 1.0)
    if account:
        reasons.append("same customer account")
    if same_class:
        reasons.append("same category and severity")
    if a.endpoints & b.endpoints:
        score += 0.1
        reasons.append(f"same endpoint {sorted(a.endpoints & b.endpoints)[0]}")
    if a.codes & b.codes:
        score += 0.05
        reasons.append(f"same error {sorted(a.codes & b.codes)[0]}")
    if hours_apart is not None and hours_apart <= 24:
        score += 0.05
        reasons.append("within a day")
    is_dup = account and same_class and sim >= MIN_SIMILARITY
    return is_dup, round(min(score, 1.0), 3), reasons
