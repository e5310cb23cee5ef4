"""Secrets in a bundle, found by `detect-secrets`' own detectors (its plugins and heuristic filters).

`scan_value(text, key)` yields `(kind, secret_type, value)` for one string the inspector walks, with the
name it was stored under. It never calls a plugin's `verify` (no network: the CLI is offline) and
uses no detect-secrets global settings, so the console's workers and the CLI share nothing mutable.

    api_key  a provider-shaped credential: every regex detector detect-secrets ships (AWS, GitHub,
             GitLab, Slack, Stripe, OpenAI, JWT, private key blocks, Twilio, SendGrid, npm, PyPI,
             Discord, Telegram, Azure storage, basic auth in a URL, …) but its public-IP one (the
             redaction check's `ip` kind already judges addresses, with the private ranges allowed)
    secret   a value stored under a secret-sounding name (detect-secrets' keyword denylist plus
             token, authorization, cookie, session id) that is not a redaction marker; or, in free
             text (log lines, messages), a keyword assignment (`password = "…"`) or a quoted
             high-entropy string on a line that names a secret

High entropy alone is not a secret here: trace ids, span ids, hashes and payload blobs are random
by nature, so the entropy detectors (base64 above 4.5 bits, hex above 3.0) only judge a string that a
keyword puts in context. detect-secrets' heuristic filters drop templated values (`${DB_PASSWORD}`,
`<token>`), `$`-prefixed variables, sequential strings, UUIDs and values without a letter.
"""

from __future__ import annotations

import functools
import re

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins import keyword
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
from detect_secrets.plugins.ip_public import IPPublicDetector
from detect_secrets.plugins.keyword import KeywordDetector

BASE64_LIMIT = 4.5  # detect-secrets' defaults
HEX_LIMIT = 3.0
MIN_SECRET = 6  # a shorter value under a secret's name is a flag, a length or a placeholder

# detect-secrets' keyword denylist (password, secret, api_key, private_key, …), plus the names
# request and session data is stored under in traces.
EXTRA_KEYWORDS = ("token", "authorization", "auth", "cookie", "session_?id", "access_?key", "client_?secret")
SECRET_NAME = re.compile(
    r"(?:^|[._-])(?:" + "|".join(keyword.DENYLIST + EXTRA_KEYWORDS) + r")$",
    re.IGNORECASE,
)
# The same names as plain lower-case substrings (`api_?key` → api_key, apikey): a free-text line is
# given to the keyword and entropy detectors only when it holds one (`in` is far cheaper than a regex
# alternation over a long value).
_WORDS = keyword.DENYLIST + EXTRA_KEYWORDS
NAME_HINTS = tuple(sorted({form for word in _WORDS for form in (word.replace("_?", "_"), word.replace("_?", ""))}))
QUOTED = re.compile(r"""(['"])([^'"\s]{16,})\1""")

# What a string must contain for each detector's patterns to have a chance: (case-sensitive hints,
# case-insensitive hints); the detector runs when any hint is in the string. Most values of a trace
# (ids, timestamps, names, payload blobs) pass no gate, so the detectors' regexes (a few of which
# scan a long alphanumeric run in O(n·32)) run on a fraction of them: the inspection stays at its
# pace. A gate only skips a detector that could not match (tests/runbooks/test_bundle_secrets.py
# checks a sample of each detector finds the same with and without the gates); a detector missing
# here (a newer detect-secrets) runs on every string, and a test keeps the table whole.
# The IBM, Cloudant and SoftLayer detectors are keyword assignments (`cloudant_password = …`, or a
# URL): their gate is their keyword, and they also NEED one of the assignment's separators.
ASSIGNMENT = ("=", ":", " ")
NEEDS = {
    "Cloudant Credentials": ASSIGNMENT,
    "IBM COS HMAC Credentials": ASSIGNMENT,
    "IBM Cloud IAM Key": ASSIGNMENT,
    "SoftLayer Credentials": ASSIGNMENT,
}
GATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "AWS Access Key": (("A3T", "ABIA", "ACCA", "AKIA", "ASIA"), ("aws",)),
    "Artifactory Credentials": (("AKC", "AP"), ()),
    "Azure Storage Account access key": (("AccountKey=",), ()),
    "Basic Auth Credentials": (("://",), ()),
    "Cloudant Credentials": ((), ("cl",)),
    "Discord Bot Token": ((".",), ()),
    "GitHub Token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), ()),
    "GitLab Token": (("gl", "GR1348941"), ()),
    "IBM COS HMAC Credentials": ((), ("secret",)),
    "IBM Cloud IAM Key": ((), ("key", "pwd", "pass", "token")),
    "JSON Web Token": (("eyJ",), ()),
    "Mailchimp Access Key": (("-us",), ()),
    "NPM tokens": (("_authToken",), ()),
    "OpenAI Token": (("T3BlbkFJ",), ()),
    "Private Key": (("PRIVATE KEY", "PuTTY-User-Key-File"), ()),
    "PyPI Token": (("pypi-",), ()),
    "SendGrid API Key": (("SG.",), ()),
    "Slack Token": ((), ("xox", "hooks.slack.com")),
    "SoftLayer Credentials": ((), ("sl", "softlayer")),
    "Square OAuth Secret": (("sq0csp-",), ()),
    "Stripe Access Key": (("k_live_",), ()),
    "Telegram Bot Token": ((":",), ()),
    "Twilio API Key": (("AC", "SK"), ()),
}


@functools.cache
def detectors() -> tuple[RegexBasedDetector, ...]:
    """One instance of every regex detector in detect-secrets' plugin registry but the public-IP one."""
    classes = get_mapping_from_secret_type_to_class().values()
    return tuple(
        cls()
        for cls in sorted(classes, key=lambda c: c.secret_type)
        if issubclass(cls, RegexBasedDetector) and cls is not IPPublicDetector
    )


KEYWORD = KeywordDetector()
BASE64 = Base64HighEntropyString(limit=BASE64_LIMIT)
HEX = HexHighEntropyString(limit=HEX_LIMIT)


def high_entropy(value: str) -> bool:
    """detect-secrets' Shannon entropy test, in the charset the value is written in."""
    if value and all(c in HEX.charset for c in value):
        return HEX.calculate_shannon_entropy(value) > HEX.entropy_limit
    if value and all(c in BASE64.charset for c in value):
        return BASE64.calculate_shannon_entropy(value) > BASE64.entropy_limit
    return False


def filtered_out(secret: str, line: str, plugin=None) -> bool:
    """detect-secrets' heuristic filters (its defaults for values, not for files)."""
    return (
        heuristic.is_sequential_string(secret)
        or heuristic.is_potential_uuid(secret)
        or heuristic.is_templated_secret(secret)
        or heuristic.is_prefixed_with_dollar_sign(secret)
        or heuristic.is_not_alphanumeric_string(secret)
        or (plugin is not None and heuristic.is_likely_id_string(secret, line, plugin))
    )


@functools.lru_cache(maxsize=4096)
def secret_name(key: str) -> bool:
    return bool(key) and bool(SECRET_NAME.search(key))


def under_secret_name(value: str) -> bool:
    """A value stored under a secret's name is a secret unless a filter says it is a placeholder."""
    value = value.strip()
    return len(value) >= MIN_SECRET and not filtered_out(value, value)


@functools.cache
def _hints():
    """Each gate hint once with the detectors it opens, in four lists by what a string must hold for
    the hint to be in it at all (a character that is not a letter or digit; an upper-case letter),
    and the detectors without a gate."""
    opens: dict[tuple[str, bool], set[int]] = {}
    ungated = []
    for index, plugin in enumerate(detectors()):
        gate = GATES.get(plugin.secret_type)
        if gate is None:
            ungated.append(index)
            continue
        for folded, hints in ((False, gate[0]), (True, gate[1])):
            for hint in hints:
                opens.setdefault((hint, folded), set()).add(index)
    lists: dict[tuple[bool, bool], list] = {(a, u): [] for a in (True, False) for u in (True, False)}
    for (hint, folded), indices in opens.items():
        alnum, upper = hint.isalnum(), not folded and hint != hint.lower()
        for text_alnum, text_upper in lists:
            if (alnum or not text_alnum) and (not upper or text_upper):
                lists[(text_alnum, text_upper)].append((hint, folded, tuple(sorted(indices))))
    return {k: tuple(v) for k, v in lists.items()}, tuple(ungated)


def _open_detectors(text: str, lowered: str) -> list:
    lists, ungated = _hints()
    chosen = set(ungated)
    for hint, folded, indices in lists[(text.isalnum(), lowered != text)]:
        if hint in (lowered if folded else text):
            chosen.update(indices)
    plugins = [detectors()[i] for i in sorted(chosen)]
    return [p for p in plugins if p.secret_type not in NEEDS or any(c in text for c in NEEDS[p.secret_type])]


def _matches(plugin, text: str):
    """What the detector finds, as the whole credential: detect-secrets' RegexBasedDetector yields a
    pattern's groups, and where a group is only a prefix (`(ghp|gho|…)_…`) the match is the secret."""
    if type(plugin).analyze_string is not RegexBasedDetector.analyze_string:
        yield from plugin.analyze_string(text)  # its own validation (a JWT's parts must decode)
        return
    for regex in plugin.denylist:
        for match in regex.finditer(text):
            groups = [g for g in match.groups() if g]
            yield groups[-1] if groups and len(groups[-1]) >= 8 else match.group(0)


def scan_text(text: str):
    """Provider-shaped credentials and keyword secrets in one string: `(kind, secret_type, value)`."""
    if len(text) <= 128:
        yield from _scan_short(text)
    else:
        yield from _scan(text)


@functools.lru_cache(maxsize=8192)
def _scan_short(text: str) -> tuple:
    return tuple(_scan(text))  # names, statuses and messages repeat across spans


def _scan(text: str):
    seen: set[str] = set()
    lowered = text.lower()
    for plugin in _open_detectors(text, lowered):
        for found in _matches(plugin, text):
            if found and found not in seen and not filtered_out(found, text, plugin):
                seen.add(found)
                yield "api_key", plugin.secret_type, found
    # detect-secrets' keyword patterns (quotes required) and the quoted high-entropy string need a quote.
    if ('"' in text or "'" in text or "`" in text) and any(hint in lowered for hint in NAME_HINTS):
        for found in KEYWORD.analyze_string(text):  # `password = "…"`, `"api_key": "…"` (quotes required)
            if (
                found
                and not any(found in s or s in found for s in seen)
                and not filtered_out(found, text, KEYWORD)
                and not heuristic.is_indirect_reference(text)
            ):
                seen.add(found)
                yield "secret", KEYWORD.secret_type, found
        for match in QUOTED.finditer(text):  # `token "…"`: a quoted high-entropy string beside a keyword
            found = match.group(2)
            overlaps = any(found in s or s in found for s in seen)
            if not overlaps and high_entropy(found) and not filtered_out(found, text):
                seen.add(found)
                yield "secret", "High Entropy String", found
