"""The support-floor load test's plan (demo bench_floor, issue 18 point 9): every floor agent can sign
in (and starts with a signed-in session of its own) and see the cases it is given, no two agents
share a case (a write conflict would be a bug, not the load), the managers and the telemetry token
work; the locustfile reads the plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from cases.selectors import case_visible_to
from demo.management.commands.bench_floor import PASSWORD, Command
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_plan_gives_each_agent_its_own_visible_cases(role_groups, tmp_path):
    tenants = [TenantFactory(slug="acme"), TenantFactory(slug="globex")]
    cases = [CaseFactory(tenant=tenants[i % 2], status="in_progress") for i in range(12)]
    UserFactory(username="manager", role="manager")
    plan = Command()._plan(agents=3, per_agent=4)

    keys = [c["key"] for a in plan["agents"] for c in a["cases"]]
    assert len(keys) == len(set(keys)) == 12  # every case once, no two agents on one
    assert set(keys) == {f"{settings.CASE_KEY_PREFIX}-{c.pk}" for c in cases}
    for agent in plan["agents"]:
        user = User.objects.get(username=agent["username"])
        assert user.check_password(PASSWORD) and len(agent["cases"]) == 4
        visible = set(case_visible_to(user).values_list("pk", flat=True))
        assert {c["id"] for c in agent["cases"]} <= visible
    # Each agent starts signed in: its session is the one a sign-in leaves, good for its own cases.
    from django.test import Client

    for agent in plan["agents"][:2]:
        client = Client()
        client.cookies["sessionid"] = agent["session"]
        page = client.get(f"/cases/{agent['cases'][0]['key']}/")
        assert page.status_code == 200 and page.wsgi_request.user.username == agent["username"]
    assert User.objects.get(username="manager").check_password(PASSWORD)
    assert plan["token"] and plan["telemetry_tenants"]

    # The locustfile reads the plan (in a process of its own: Locust patches the standard library with gevent).
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    probe = (
        "import runpy; m = runpy.run_path('loadtest/locustfile.py'); "
        "print(m['PLAN']['agents'][0]['username'], m['ManagerUser'].fixed_count, m['TelemetryUser'].fixed_count)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**os.environ, "FLOOR_PLAN": str(tmp_path / "plan.json")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.split() == ["floor-agent-1", "10", "1"], done.stderr[-500:]
