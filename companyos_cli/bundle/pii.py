"""The redaction check: personal data and secrets a bundle must not carry.

`scan(text)` yields `(kind, value)` for each finding in one string; the inspector calls it on every
string value (and key) of every file with that value's file and JSON path, and keeps the value only
masked (`mask`). Kinds:

    email       an e-mail address
    phone       a phone number `phonenumbers` finds valid (international form, or the default region's)
    ip          an IPv4/IPv6 address `ipaddress` parses that is globally routable (private, loopback,
                link-local and documentation ranges are infrastructure, not a person)
    bearer      `Bearer <token>` (an Authorization header's value)
    api_key     a provider-shaped key: AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI-style `sk-`,
                a JWT, a private key block (the shapes detect-secrets' detectors look for)
    secret      a value under a secret-sounding key (password, token, api_key, secret…) not redacted

A value that is a redaction marker (`[REDACTED]`, `***`, `<redacted>`, `sha256:…`) is clean.
"""

from __future__ import annotations

import functools
import ipaddress
import re

import phonenumbers

DEFAULT_REGION = "US"
MAX_SCAN = 10_000  # characters of one string scanned (a longer value is scanned in its head)

EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
# A run of digits, spaces and phone punctuation not inside a word or a longer number (ids, hashes,
# timestamps are not phone numbers); only these are handed to `phonenumbers`, which is slow.
PHONE_CANDIDATE = re.compile(r"(?<![\w+.:/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d[\d .-]{5,16}\d(?![\w.:/-])")
BEARER = re.compile(r"\bBearer\s+([A-Za-z0-9\-._~+/]{12,}=*)", re.IGNORECASE)
# Each provider's key shape, run only when one of its literal prefixes is in the text (a substring
# test is far cheaper than a regex pass over every value).
API_KEYS = [
    (("AKIA", "ASIA"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),  # AWS access key id
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),  # GitHub
    (("glpat-",), re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),  # GitLab
    (("xox",), re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),  # Slack
    (("k_live_", "k_test_"), re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b")),  # Stripe
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),  # Google API key
    (("sk-",), re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b")),  # OpenAI-style
    (("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")),  # JWT
    (("PRIVATE KEY",), re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
]
SECRET_KEY = re.compile(
    r"(?:^|[._-])(?:password|passwd|pwd|secret|token|api[._-]?key|apikey|access[._-]?key|private[._-]?key|"
    r"client[._-]?secret|authorization|auth|cookie|session[._-]?id)$",
    re.IGNORECASE,
)
REDACTED = re.compile(
    r"^(?:\[?\s*redacted\s*\]?|<\s*redacted\s*>|\*+|x{3,}|-|null|none|sha256:[0-9a-f]{8,}|\[filtered\]|\[masked\])$",
    re.IGNORECASE,
)


def is_redacted(value: str) -> bool:
    return not value.strip() or bool(REDACTED.match(value.strip()))


def mask(value: str) -> str:
    """Enough to find the value again in the file, too little to use it."""
    value = value.strip()
    if "@" in value and EMAIL.fullmatch(value):
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***{domain[domain.rfind('.') :]}"
    if len(value) <= 6:
        return "*" * len(value)
    keep = 2 if len(value) < 16 else 4
    return f"{value[:keep]}…{value[-2:]} ({len(value)} chars)"


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key))


def _global_ip(candidate: str) -> bool:
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return address.is_global


def scan(text: str, key: str = "", region: str | None = DEFAULT_REGION):
    """Findings in one string value; `key` is the name it was stored under (for `secret`)."""
    if not isinstance(text, str) or not text:
        return
    text = text[:MAX_SCAN]
    if key and _secret_key(key) and not is_redacted(text) and len(text) >= 6:
        bearer = BEARER.search(text)
        yield ("bearer", bearer.group(0)) if bearer and not is_redacted(bearer.group(1)) else ("secret", text)
        return
    covered = []
    for match in BEARER.finditer(text) if ("earer" in text or "EARER" in text) else ():
        if not is_redacted(match.group(1)):
            covered.append(match.span())
            yield "bearer", match.group(0)
    for gates, pattern in API_KEYS:
        if any(gate in text for gate in gates):
            for match in pattern.finditer(text):
                if not any(a <= match.start() < b for a, b in covered):
                    yield "api_key", match.group(0)
    if "@" in text:
        for match in EMAIL.finditer(text):
            yield "email", match.group(0)
    if "." in text:
        for match in IPV4.finditer(text):
            if _global_ip(match.group(0)):
                yield "ip", match.group(0)
    if text.count(":") >= 2:
        for match in IPV6.finditer(text):
            if match.group(0).count(":") >= 2 and _global_ip(match.group(0)):
                yield "ip", match.group(0)
    for candidate in PHONE_CANDIDATE.finditer(text):
        digits = sum(c.isdigit() for c in candidate.group(0))
        if 7 <= digits <= 15:
            for match in phonenumbers.PhoneNumberMatcher(
                candidate.group(0), region, leniency=phonenumbers.Leniency.VALID
            ):
                yield "phone", match.raw_string
