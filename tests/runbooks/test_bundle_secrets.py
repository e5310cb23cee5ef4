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


@pytest.mark.parametrize(
    "text,key",
    [
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
    ],
)
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
