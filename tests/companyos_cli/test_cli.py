"""The installed `companyos` console script against a live console (pytest-django's live_server): create
with an attachment and a telemetry slice, show, list, reply, --json, and every exit code."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cases.models import Attachment, Case
from tenants import ingest
from tests.api_support import personal_token
from tests.factories import CaseFactory, RequesterFactory, ResourceFactory

SCRIPT = shutil.which("companyos", path=str(Path(sys.executable).parent)) or "companyos"


@pytest.fixture
def world(live_server, tenant_a, agent, admin_user, tmp_path):
    RequesterFactory(tenant=tenant_a, email="jane@acme.example", name="Jane Doe")
    return {
        "url": live_server.url,
        "token": personal_token(agent, name="cli test"),
        "config": tmp_path / "config.toml",
        "admin": admin_user,
        "tenant": tenant_a,
    }


def cli(world, *args, token=None, url=None, stdin=None, env=None):
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(world["config"].parent),
        "COMPANYOS_CONFIG": str(world["config"]),
        "COMPANYOS_URL": url or world["url"],
        "COMPANYOS_TOKEN": world["token"] if token is None else token,
        **(env or {}),
    }
    return subprocess.run(
        [SCRIPT, *args], input=stdin, capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def test_the_script_is_installed_with_the_project():
    assert Path(SCRIPT).exists(), "pip install -e . (bash .ci/setup) installs the companyos console script"


@pytest.mark.django_db(transaction=True)
def test_create_with_an_attachment_and_a_telemetry_slice(world, tmp_path):
    integration, _ = ingest.integration_create(name="Monitoring", actor=world["admin"], tenant_ids=[world["tenant"].pk])
    ResourceFactory(tenant=world["tenant"], external_id="api-gateway")
    observed = (timezone.now() - timedelta(minutes=5)).isoformat()
    ingest.ingest_batch(
        integration=integration,
        kind="alerts",
        payload=[
            {"tenant": "acme", "source_id": "a1", "resource": "api-gateway", "name": "HighErrorRate",
             "starts_at": observed}
        ],
    )  # fmt: skip
    log = tmp_path / "trace.log"
    log.write_bytes(b"GET /v1/orders 500\n" * 2000)
    result = cli(
        world, "support", "create", "--tenant", "acme", "--requester", "jane@acme.example",
        "--subject", "Checkout returns 500", "--description", "-", "--priority", "high", "--category", "integration",
        "--error-id", "ERR-1042", "--trace-link", "https://traces.acme.example/t/1", "--attach", str(log),
        "--telemetry-since", "30m", "--json", stdin="Since 10:00 every order fails.",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    case = Case.objects.get(pk=int(data["key"].split("-")[1]))
    assert (case.subject, case.priority, case.channel) == ("Checkout returns 500", 2, "cli")
    assert case.description == "Since 10:00 every order fails."
    assert case.interactions.order_by("id").first().data["evidence"]["error_ids"] == ["ERR-1042"]
    names = sorted(Attachment.objects.filter(case=case).values_list("original_name", flat=True))
    assert names[0].startswith("telemetry-") and names[1] == "trace.log"
    slice_file = Attachment.objects.get(case=case, original_name=names[0])
    assert [a["name"] for a in json.loads(slice_file.file.read())["alerts"]] == ["HighErrorRate"]
    assert data["uploaded"][0]["size"] == log.stat().st_size


@pytest.mark.django_db(transaction=True)
def test_show_list_and_reply(world):
    case = CaseFactory(tenant=world["tenant"], subject="Webhooks missing since 10:40")
    shown = cli(world, "support", "show", case.key)
    assert shown.returncode == 0 and "Webhooks missing since 10:40" in shown.stdout
    listed = cli(world, "support", "list", "--json")
    assert listed.returncode == 0 and [c["key"] for c in json.loads(listed.stdout)] == [case.key]
    human = cli(world, "support", "list", "--priority", "medium")
    assert case.key in human.stdout
    replied = cli(world, "support", "reply", case.key, "--body", "We are looking into it.")
    assert replied.returncode == 0, replied.stderr
    assert case.interactions.get().body == "We are looking into it."
    piped = cli(world, "support", "reply", str(case.pk), "--internal", stdin="Matches INC-204.")
    assert piped.returncode == 0, piped.stderr
    assert case.interactions.filter(public=False).get().body == "Matches INC-204."


@pytest.mark.django_db(transaction=True)
def test_list_follows_the_cursor_up_to_the_limit(world):
    CaseFactory.create_batch(5, tenant=world["tenant"])
    result = cli(world, "support", "list", "--limit", "4", "--json", "--sort", "newest")
    assert result.returncode == 0 and len(json.loads(result.stdout)) == 4


@pytest.mark.django_db(transaction=True)
def test_auth_login_stores_a_working_token(world):
    result = cli(world, "auth", "login", "--url", world["url"], "--token", world["token"], "--tenant", "acme",
                 token="", url="")  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = world["config"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert f'token = "{world["token"]}"' in config.read_text() and 'tenant = "acme"' in config.read_text()
    env = {"COMPANYOS_URL": "", "COMPANYOS_TOKEN": ""}
    status = subprocess.run(
        [SCRIPT, "auth", "status", "--json"], capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ["PATH"], "COMPANYOS_CONFIG": str(config), **env},
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["tenants"] == ["acme"]
    bad = cli(world, "auth", "login", "--url", world["url"], "--token", "cop_wrong", token="", url="")
    assert bad.returncode == 3 and "Unknown token" in bad.stderr
    assert world["token"] in config.read_text()  # a refused token is not stored


@pytest.mark.django_db(transaction=True)
def test_exit_codes(world, settings):
    case = CaseFactory(tenant=world["tenant"])
    auth = cli(world, "support", "list", token="cop_nope")
    assert auth.returncode == 3 and "error: Unknown token" in auth.stderr
    missing = cli(world, "support", "show", "CS-987654")
    assert missing.returncode == 4 and "No such case" in missing.stderr
    invalid = cli(world, "support", "create", "--tenant", "acme", "--requester", "nobody@x.example", "--subject", "x")
    assert invalid.returncode == 5 and "requester" in invalid.stderr
    as_json = cli(world, "support", "create", "--tenant", "acme", "--requester", "nobody@x.example", "--subject",
                  "x", "--json")  # fmt: skip
    assert as_json.returncode == 5 and json.loads(as_json.stderr)["status"] == 400
    conflict = cli(world, "support", "reply", case.key, "--body", " ")
    assert conflict.returncode == 5
    network = cli(world, "support", "list", url="http://127.0.0.1:9")
    assert network.returncode == 7 and "Cannot reach" in network.stderr
    bad_usage = [
        ["support", "create", "--subject", "x", "--priority", "urgent"],
        ["support", "create", "--subject", "x", "--telemetry-since", "5y"],
        ["support", "show", "not-a-key!"],
        ["support", "create", "--subject", "x", "--attach", "/nope"],
    ]
    for args in bad_usage:
        usage = cli(world, *args)
        assert usage.returncode == 2 and "Traceback" not in usage.stderr, (args, usage.stderr)


@pytest.mark.django_db(transaction=True)
def test_rate_limited_waits_for_retry_after_or_fails_with_no_wait(world, settings):
    settings.API_RATE_LIMIT = "1/4s"  # a window the three runs fit in
    assert cli(world, "support", "list", "--no-wait").returncode == 0
    limited = cli(world, "support", "list", "--no-wait")
    assert limited.returncode == 6 and "retry after" in limited.stderr
    waited = cli(world, "support", "list")
    assert waited.returncode == 0 and "Rate limited: retrying in" in waited.stderr
