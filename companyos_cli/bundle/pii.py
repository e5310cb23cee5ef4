"""The redaction check: personal data and secrets a bundle must not carry.

`scan(text)` yields `(kind, value)` for each finding in one string; the inspector calls it on every
string value (and key) of every file with that value's file and JSON path, and keeps the value only
masked (`mask`). Kinds:

    email       an e-mail address
    phone       a phone number `phonenumbers` finds valid (international form, or the default region's)
    ip          an IPv4/IPv6 address `ipaddress` parses that is globally routable (private, loopback,
                link-local and documentation ranges are infrastructure, not a person)
    bearer      `Bearer <token>` (an Authorization header's value)
    api_key     a provider-shaped credential found by one of `detect-secrets`' detectors (AWS, GitHub,
                GitLab, Slack, Stripe, OpenAI, JWT, private key blocks, …; `secrets.py`)
    secret      a value under a secret-sounding key (password, token, api_key, secret…) not redacted,
                or a keyword assignment / a quoted high-entropy string beside a keyword in free text
                (detect-secrets' keyword and entropy detectors; `secrets.py`)

A value that is a redaction marker (`[REDACTED]`, `***`, `<redacted>`, `sha256:…`) is clean.
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

from . import secrets

DEFAULT_REGION = "US"
MAX_SCAN = 10_000  # characters of one string scanned (a longer value is scanned in its head)

EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
# A run of digits, spaces and phone punctuation not inside a word or a longer number (ids, hashes,
# timestamps are not phone numbers); only these are handed to `phonenumbers`, which is slow.
PHONE_CANDIDATE = re.compile(r"(?<![\w+.:/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d[\d .-]{5,16}\d(?![\w.:/-])")
BEARER = re.compile(r"\bBearer\s+([A-Za-z0-9\-._~+/]{12,}=*)", re.IGNORECASE)
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
    if key and secrets.secret_name(key) and not is_redacted(text):
        bearer = BEARER.search(text)
        if bearer and not is_redacted(bearer.group(1)):
            yield "bearer", bearer.group(0)
        elif secrets.under_secret_name(text):
            yield "secret", text
        return
    bearers = []
    for match in BEARER.finditer(text) if ("earer" in text or "EARER" in text) else ():
        if not is_redacted(match.group(1)):
            bearers.append(match.group(0))
            yield "bearer", match.group(0)
    for kind, _type, found in secrets.scan_text(text):
        if not any(found in bearer for bearer in bearers):
            yield kind, found
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
