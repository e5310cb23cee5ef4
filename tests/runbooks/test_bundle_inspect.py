"""The pure bundle reader and inspector (companyos_cli.bundle): no database, no Django."""

import os
import re
import tempfile
import zipfile
from datetime import timedelta

import pytest

from companyos_cli.bundle import BundleRejected, Limits, inspect_bundle, parse_bundle_name, pii
from companyos_cli.bundle.summaries import CODE_IN_TEXT
from companyos_cli.bundle.unpack import SafeBundle
from demo import bundles
from runbooks import errorcodes


@pytest.fixture
def sealed(tmp_path, monkeypatch):
    """An empty working directory and temp directory: whatever the inspector wrote would show there."""
    work = tmp_path / "cwd"
    temp = tmp_path / "tmp"
    work.mkdir()
    temp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return work, temp


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_good_bundle_is_fully_analysed(tmp_path):
    path = bundles.write_bundle(tmp_path / bundles.NAME)
    report = inspect_bundle(str(path))
    assert report["verdict"] == "ok"
    assert report["bundle"]["name_ok"] and report["bundle"]["channel"] == "ui"
    assert report["bundle"]["timestamp"] == "2026-11-02T10:15:00Z"
    assert report["pii"]["count"] == 0
    trace = report["trace"]
    assert trace["spans"] == 5 and trace["failed_count"] == 1
    failed = trace["failed"][0]
    assert failed["name"] == "gateway.outbound" and failed["codes"] == [bundles.ERROR_CODE]
    assert "timed out" in failed["message"]
    # correlated with the reported time: the failed span is among those near it
    assert trace["reported_at"] == "2026-11-02T10:15:00Z" and trace["near_failed"] == 1
    assert "gateway.outbound" in [s["name"] for s in trace["near"]]
    assert [s["name"] for s in trace["slowest"][:2]] == ["ui.checkout", "api.orders.create"]
    rows = {r["name"]: r for r in trace["waterfall"]["rows"]}
    assert rows["ui.checkout"]["depth"] == 0 and rows["gateway.outbound"]["depth"] == 2
    assert rows["gateway.outbound"]["offset_ms"] == 120 and rows["ui.checkout"]["width_pct"] == 100
    metrics = report["snapshot"]["metrics"]
    assert metrics["queue_depth"]["trend"] == "rising" and metrics["latency_p50_ms"]["trend"] == "steady"
    assert metrics["error_count"]["max"] == 33 and report["snapshot"]["samples"] == 12
    assert report["error_codes"] == [{"code": bundles.ERROR_CODE, "count": 1, "spans": ["gateway.outbound"]}]


def test_the_catalogue_explains_codes_when_given(tmp_path):
    path = bundles.write_bundle(tmp_path / bundles.NAME)
    report = inspect_bundle(str(path), explain=lambda codes: {c: {"title": "Upstream timeout"} for c in codes})
    assert report["error_codes"][0]["catalogue"] == {"title": "Upstream timeout"}


def test_unredacted_pii_is_found_with_every_location_masked(tmp_path):
    path = bundles.write_bundle(tmp_path / "b.zip", pii=True, extra={"logs/app.log": b"ok\nuser bob@corp.io\n"})
    report = inspect_bundle(str(path))
    assert report["verdict"] == "pii"
    found = {(f["kind"], f["file"], f["path"]) for f in report["pii"]["findings"]}
    assert found == {
        ("email", "trace.json", '$.spans[1].attributes["user.email"]'),
        ("bearer", "trace.json", "$.spans[1].attributes.authorization"),
        ("phone", "trace.json", "$.spans[1].attributes.note"),
        ("ip", "trace.json", '$.spans[3].attributes["client.ip"]'),
        ("email", "logs/app.log", "line 2"),
    }
    text = repr(report)
    for secret in ("jane.doe@example.com", "7946 0958", "81.2.69.142", "c2lnbmF0dXJlX2hlcmU", "bob@corp.io"):
        assert secret not in text


@pytest.mark.parametrize(
    "text,kinds",
    [
        ("mail jane@example.com", ["email"]),
        ("+1 415 867 5309", ["phone"]),
        ("from 81.2.69.142", ["ip"]),
        ("from 10.0.0.1 or 127.0.0.1 or 203.0.113.9", []),  # private, loopback, documentation
        ("v6 2a00:1450:4001:80b::200e", ["ip"]),
        ("Authorization: Bearer abcdefghijklmnopqrstu", ["bearer"]),
        ("Bearer [REDACTED]", []),
        ("key AKIAIOSFODNN7EXAMPLE", ["api_key"]),
        ("sk_live_" + "a1" * 12, ["api_key"]),
        ("-----BEGIN RSA PRIVATE KEY-----", ["api_key"]),
        ("2026-11-02T10:15:00.123Z took 1234567 ms", []),
        ("trace 0af7651916cd43dd8448eb211c80319c span 4f3c2a9b-1d2e-4c5f-8a7b-9c0d1e2f3a4b", []),
        ("X502-E3001 upstream timeout at 10:15:00", []),
    ],
)
def test_pii_kinds(text, kinds):
    assert [kind for kind, _ in pii.scan(text)] == kinds


def test_a_secret_sounding_key_needs_a_redacted_value():
    assert [k for k, _ in pii.scan("hunter2hunter2", key="db.password")] == ["secret"]
    assert list(pii.scan("[REDACTED]", key="db.password")) == []
    assert list(pii.scan("***", key="api_key")) == []


HOSTILE = list(bundles.HOSTILE.items())


@pytest.mark.parametrize("label,make", HOSTILE, ids=[label for label, _ in HOSTILE])
def test_hostile_bundles_are_rejected_with_the_right_reason_and_write_nothing(tmp_path, sealed, label, make):
    work, temp = sealed
    store = tmp_path / "store"
    store.mkdir()
    path, expected = make(store / "bundle.zip")
    before = _tree(tmp_path)
    report = inspect_bundle(str(path))
    assert report["verdict"] == "rejected", label
    assert report["rejection"]["code"] == expected, report["rejection"]
    assert report["rejection"]["reason"]
    assert _tree(tmp_path) == before  # nothing extracted, nothing written anywhere under the test's root
    assert not os.listdir(work) and not os.listdir(temp)
    assert not (tmp_path / "etc").exists() and not os.path.exists("/tmp/evil.json")


def test_entry_sizes_are_counted_while_streaming_not_read_from_the_header(tmp_path):
    path, _ = bundles.hostile_ratio_forged(tmp_path / "b.zip")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("trace.json")
    assert info.file_size <= 100 * info.compress_size  # the header alone looks harmless
    with SafeBundle(str(path)) as bundle, pytest.raises(BundleRejected) as rejected:
        with bundle.open("trace.json") as stream:
            while stream.read(65536):
                pass
    assert rejected.value.code == "ratio"


def test_the_total_limit_is_counted_across_entries(tmp_path):
    path = bundles.write_bundle(tmp_path / "b.zip", extra={"a.log": b"x" * 5000, "b.log": b"y" * 5000})
    report = inspect_bundle(str(path), limits=Limits(max_total_bytes=8000))
    assert report["rejection"]["code"] == "total_too_large"


def test_a_bundle_over_the_archive_limit_is_refused_before_it_is_opened(tmp_path):
    path = bundles.write_bundle(tmp_path / "b.zip")
    report = inspect_bundle(str(path), limits=Limits(max_archive_bytes=100))
    assert report["rejection"]["code"] == "too_large"


def test_trace_json_without_spans_is_refused(tmp_path):
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("snapshot.json", "{}")
        zf.writestr("trace.json", '{"traces": []}')
    assert inspect_bundle(str(path))["rejection"]["code"] == "bad_structure"


def test_a_streamed_trace_keeps_bounded_summaries(tmp_path):
    path = bundles.write_large_bundle(tmp_path / "big.zip", spans=3000, payload=20)
    report = inspect_bundle(str(path), window=timedelta(minutes=1))
    trace = report["trace"]
    assert trace["spans"] == 3000 and trace["traces"] == 60
    assert trace["failed_count"] == len(range(0, 3000, 997)) == 4
    assert len(trace["slowest"]) == 10 and len(trace["near"]) <= 20
    assert trace["slowest"][0]["duration_ms"] >= trace["slowest"][-1]["duration_ms"]
    assert trace["waterfall"]["trace_id"] == "t0" and len(trace["waterfall"]["rows"]) == 50


def test_bundle_names():
    parsed = parse_bundle_name("trace-20261102T101500Z-ui.zip")
    assert parsed.channel == "ui" and parsed.timestamp.isoformat() == "2026-11-02T10:15:00+00:00"
    assert parse_bundle_name("trace-1793614500-cli.zip").channel == "cli"
    for bad in ("trace-2026-ui.zip", "trace-20261102T101500Z-UI.zip", "bundle.zip", "trace-20261399T101500Z-ui.zip"):
        assert parse_bundle_name(bad) is None


def test_the_code_pattern_follows_the_catalogue():
    """CODE_IN_TEXT is runbooks.errorcodes.IN_TEXT without bare HTTP statuses (the CLI cannot import it)."""
    assert CODE_IN_TEXT.pattern == errorcodes.IN_TEXT.pattern.replace(r"|[1-5]\d\d", "")
    assert re.fullmatch(CODE_IN_TEXT, "X502-E3001")
