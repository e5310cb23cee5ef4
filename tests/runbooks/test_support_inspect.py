"""`manage.py support_inspect` and `companyos support inspect`: the same report, the same exit codes,
the catalogue's remediation and runbook in the console's, no traceback for a hostile bundle."""

import json

import pytest
from click.testing import CliRunner
from django.core.management import call_command

from companyos_cli.main import main as cli
from demo import bundles
from runbooks.models import ErrorCode, Runbook


@pytest.fixture
def catalogued(db):
    runbook = Runbook.objects.create(title="Payment gateway timeouts", slug="gateway-timeouts")
    ErrorCode.objects.create(
        code=bundles.ERROR_CODE,
        title="Upstream timeout",
        meaning="The payment provider did not answer in 5 s.",
        remediation="Retry with the idempotency key; check the provider's status page.",
        runbook=runbook,
    )
    return runbook


def _command(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("support_inspect", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue(), err.getvalue()


def test_the_command_explains_a_good_bundle(tmp_path, catalogued):
    path = bundles.write_bundle(tmp_path / bundles.NAME)
    code, out, _ = _command(str(path))
    assert code == 0
    assert "FAILED gateway.outbound" in out and "1 failed" in out
    assert "Upstream timeout — Retry with the idempotency key" in out and "runbook: Payment gateway timeouts" in out
    code, out, _ = _command(str(path), "--json")
    report = json.loads(out)
    entry = report["error_codes"][0]
    assert entry["catalogue"]["runbook"] == {
        "slug": "gateway-timeouts",
        "title": "Payment gateway timeouts",
        "url": "/runbooks/gateway-timeouts/",
    }


def test_the_command_exits_non_zero_on_pii_and_on_rejection(tmp_path, db):
    code, out, _ = _command(str(bundles.write_bundle(tmp_path / "p.zip", pii=True)))
    assert code == 9 and "UNREDACTED PII: 4" in out and '$.spans[1].attributes["user.email"]' in out
    path, _ = bundles.hostile_dotdot(tmp_path / "h.zip")
    code, out, _ = _command(str(path))
    assert code == 5 and "REJECTED (unsafe_name)" in out and "Traceback" not in out
    code, out, _ = _command(str(tmp_path / "missing.zip"))
    assert code == 5 and "cannot be read" in out


def test_the_offline_cli_prints_the_same_report(tmp_path, monkeypatch):
    monkeypatch.delenv("COMPANYOS_URL", raising=False)
    path = bundles.write_bundle(tmp_path / bundles.NAME)
    result = CliRunner().invoke(cli, ["support", "inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "FAILED gateway.outbound" in result.output and "Error code X502-E3001" in result.output
    result = CliRunner().invoke(cli, ["support", "inspect", str(bundles.write_bundle(tmp_path / "p.zip", pii=True))])
    assert result.exit_code == 9 and "j***@***.com" in result.output and "jane.doe" not in result.output
    hostile, _ = bundles.hostile_symlink(tmp_path / "s.zip")
    result = CliRunner().invoke(cli, ["support", "inspect", str(hostile), "--json"])
    assert result.exit_code == 5 and json.loads(result.output)["rejection"]["code"] == "symlink"
    assert result.exception is None or isinstance(result.exception, SystemExit)
