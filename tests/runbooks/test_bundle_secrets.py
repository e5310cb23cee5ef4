"""Secrets in trace bundles are found by detect-secrets' own detectors (companyos_cli/bundle/secrets.py):
real credentials of several kinds are found with their file and JSON path and masked in the report;
plain text, ids, hashes and random payloads are not flagged. The values are assembled at run time so
the repository itself holds no credential-shaped string."""

import json
import random
import zipfile

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import RegexBasedDetector

from companyos_cli.bundle import inspect_bundle, pii, secrets
from demo import bundles

AWS_KEY = "AKIA" + "Z7Q4XK2M9PLW3RTB"
SLACK = "xoxb-" + "348021951236-" + "4730218839014-" + "bX9kQ2mZ7wR4tY1uN8vC3pLs"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PRIVATE_KEY = "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
HIGH_ENTROPY = "q8ZkP3vN1xR7tY2wL9mB4cF6hJ0sD5gA"
GITHUB = "ghp_" + "Xk29Lm4Pq7Rs1Tv8Wy3Za6Bc5De0Fg2Hj9Kn"
SENDGRID = "SG." + "ngeVfQFYQlKU0ufo8x5d1A" + "." + "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"


@pytest.mark.parametrize(
    "text,kind,secret",
    [
        (f"aws configure set aws_access_key_id {AWS_KEY}", "api_key", AWS_KEY),
        (f"posting to slack with {SLACK}", "api_key", SLACK),
        (f"cookie jar: session={JWT}", "api_key", JWT[: JWT.rindex(".") + 1]),  # detect-secrets' JWT match
        (PRIVATE_KEY, "api_key", "BEGIN OPENSSH PRIVATE KEY"),
        (f"git remote uses {GITHUB}", "api_key", GITHUB),  # the whole token, not the pattern's `ghp` group
        (f"mail relay {SENDGRID}", "api_key", SENDGRID),  # a detector only detect-secrets brought
        (f'export API_TOKEN="{HIGH_ENTROPY}"', "secret", HIGH_ENTROPY),  # high entropy beside a keyword
        ('db password = "hunter2hunter2"', "secret", "hunter2hunter2"),  # detect-secrets' keyword detector
    ],
)
def test_real_secrets_are_found(text, kind, secret):
    assert list(pii.scan(text)) == [(kind, secret)]


def test_a_value_under_a_secret_name_is_a_secret_unless_it_is_a_placeholder():
    assert list(pii.scan(HIGH_ENTROPY, key="api_token")) == [("secret", HIGH_ENTROPY)]
    assert list(pii.scan("hunter2hunter2", key="db.password")) == [("secret", "hunter2hunter2")]
    for placeholder in ("${DB_PASSWORD}", "<password>", "{{ api_key }}", "$API_TOKEN", "[REDACTED]", "********"):
        assert list(pii.scan(placeholder, key="db.password")) == [], placeholder
    assert list(pii.scan("oauth2", key="auth_method")) == []  # a secret's name must end the key


BLOB = "".join(random.Random(3).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=700))


PLAIN = [
    ("password reset requested for the account", "message"),
    ("the secret to low latency is the cache", "note"),
    ("token bucket refilled: 40 tokens", "message"),
    ('retry "gateway.outbound" after the token refresh', "message"),
    ("0af7651916cd43dd8448eb211c80319c", "trace_id"),
    ("4f3c2a9b-1d2e-4c5f-8a7b-9c0d1e2f3a4b", "request_id"),
    ("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "digest"),
    ("2026-11-02T10:15:00.123Z", "start"),
    (BLOB, "blob"),  # random by nature: entropy alone is not a secret
    ('config "AccountName=x;EndpointSuffix=core.windows.net"', "message"),
    ("https://docs.example.com/auth/tokens", "url"),
]


@pytest.mark.parametrize("text,key", PLAIN)
def test_plain_text_is_not_flagged(text, key):
    assert list(pii.scan(text, key=key)) == []


def test_every_detector_of_detect_secrets_is_used_and_gated():
    """An upgrade that brings a detector is noticed: it runs (ungated) until it is given a gate."""
    registry = {
        cls.secret_type
        for cls in get_mapping_from_secret_type_to_class().values()
        if issubclass(cls, RegexBasedDetector) and cls.secret_type != "Public IP (ipv4)"
    }
    assert {d.secret_type for d in secrets.detectors()} == registry
    assert set(secrets.GATES) == registry


def _chars(alphabet: str, n: int, seed: int) -> str:
    return "".join(random.Random(seed).choices(alphabet, k=n))


ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"
# One sample per detector (assembled here: no credential-shaped literal in the repository).
SAMPLES = {
    "AWS Access Key": f'aws_secret_access_key = "{_chars(ALNUM + "/+", 40, 1)}"',
    "Artifactory Credentials": f"artifactory token=AKC{_chars(ALNUM, 60, 2)} end",
    "Azure Storage Account access key": f"DefaultEndpointsProtocol=https;AccountKey={_chars(ALNUM, 86, 3)}==",
    "Basic Auth Credentials": "fetch https://deploy:Zq8xVt4Lp2Rk@db.internal.example.com/app",
    "Cloudant Credentials": f'cloudant_password = "{_chars(HEX, 64, 4)}"',
    "Discord Bot Token": f"bot M{_chars(ALNUM, 23, 5)}.{_chars(ALNUM, 6, 6)}.{_chars(ALNUM, 27, 7)}",
    "GitHub Token": f"remote {GITHUB}",
    "GitLab Token": f"CI_TOKEN glptt-{_chars(ALNUM, 40, 8)} set",
    "IBM COS HMAC Credentials": f'secret_access_key = "{_chars(HEX, 48, 9)}"',
    "IBM Cloud IAM Key": f'ibm_cloud_iam_key = "{_chars(ALNUM, 44, 10)}"',
    "JSON Web Token": f"jwt {JWT}",
    "Mailchimp Access Key": f"mc {_chars(LOWER, 32, 11)}-us12",
    "NPM tokens": f"//registry.npmjs.org/:_authToken=npm_{_chars(ALNUM, 36, 12)}",
    "OpenAI Token": f"key sk-{_chars(ALNUM, 20, 13)}T3BlbkFJ{_chars(ALNUM, 20, 14)}",
    "Private Key": PRIVATE_KEY,
    "PyPI Token": f"pypi-AgEIcHlwaS5vcmc{_chars(ALNUM, 80, 15)}",
    "SendGrid API Key": f"relay {SENDGRID}",
    "Slack Token": f"notify {SLACK.upper()}",  # its patterns ignore case: so does its gate
    "SoftLayer Credentials": f'softlayer_api_key = "{_chars(LOWER, 64, 16)}"',
    "Square OAuth Secret": f"sq0csp-{_chars(ALNUM, 43, 17)}",
    "Stripe Access Key": f"charge with sk_live_{_chars(ALNUM, 24, 18)}",
    "Telegram Bot Token": f"bot 1102015433:{_chars(ALNUM, 35, 19)}",
    "Twilio API Key": f"twilio SK{_chars(LOWER, 32, 20)}",
}


def test_the_gates_never_hide_what_a_detector_finds(monkeypatch):
    """Every detector finds its sample, and the per-detector gates change nothing: each sample (and the
    plain texts) gives the same findings with the gates as with every detector run on every string."""
    assert set(SAMPLES) == set(secrets.GATES)
    texts = [*SAMPLES.values(), *(text for text, _ in PLAIN)]
    gated = [list(secrets._scan(text)) for text in texts]
    for secret_type, found in zip(SAMPLES, gated):
        assert secret_type in {t for _, t, _ in found}, (secret_type, found)
    monkeypatch.setattr(secrets, "GATES", {})
    monkeypatch.setattr(secrets, "NEEDS", {})
    secrets._hints.cache_clear()
    try:
        assert [list(secrets._scan(text)) for text in texts] == gated
    finally:
        secrets._hints.cache_clear()


def test_secrets_in_a_bundle_are_found_with_file_and_path_and_masked(tmp_path):
    trace = bundles.trace()
    trace["spans"][0]["attributes"] |= {"aws.key": AWS_KEY, "db": {"password": HIGH_ENTROPY}}
    path = tmp_path / "with-secrets.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"reported_at": "2026-11-02T10:15:00Z"}))
        zf.writestr("snapshot.json", json.dumps(bundles.snapshot()))
        zf.writestr("trace.json", json.dumps(trace))
        zf.writestr("logs/app.log", f"boot ok\nnotify {SLACK}\nauth header {JWT}\n")
        zf.writestr("config.json", json.dumps({"deploy": {"signing_key": PRIVATE_KEY}}))
    report = inspect_bundle(str(path))
    assert report["verdict"] == "pii"
    found = {(f["kind"], f["file"], f["path"]) for f in report["pii"]["findings"]}
    assert found == {
        ("api_key", "trace.json", '$.spans[0].attributes["aws.key"]'),
        ("secret", "trace.json", "$.spans[0].attributes.db.password"),
        ("api_key", "logs/app.log", "line 2"),
        ("api_key", "logs/app.log", "line 3"),
        ("api_key", "config.json", "$.deploy.signing_key"),
    }
    text = repr(report)
    for secret in (AWS_KEY, HIGH_ENTROPY, SLACK, JWT, PRIVATE_KEY, JWT.split(".")[1]):
        assert secret not in text
    masked = {f["path"]: f["masked"] for f in report["pii"]["findings"]}
    assert masked['$.spans[0].attributes["aws.key"]'] == "AKIA…TB (20 chars)"
