"""A support floor under load (issue 18, point 9), for Locust (headless; `python manage.py bench_floor`
sets it up, starts gunicorn, a Celery worker and beat, runs this, and reads the figures).

Who is on the floor:

- **Agents** (`AgentUser`, the rest of `--users`): work the queue — the queue page, filters, a second
  page, the HTMX results partial, the saved-view counts, a case page and its Context panel partial,
  an internal note or a public reply (through the reply outbox), a status move and back, and now and
  then a bulk tag on a few of their cases. Each agent works its own slice of cases (no two agents
  write the same case, so a conflict is a bug, not the test).
- **10 managers** (`ManagerUser`): the SLA dashboard, the reports, the tenant list.
- **Telemetry** (`TelemetryUser`, one): SLI batches to /api/v1/telemetry/slis/ at FLOOR_TELEMETRY_RATE
  items/s (default 500) with an integration token.

Configuration comes from the environment bench_floor writes: FLOOR_PLAN (a JSON file: agents'
usernames, the password, each agent's case keys, the managers, the token, the tenants' slugs).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from datetime import UTC, datetime

from locust import HttpUser, between, constant_throughput, task

PLAN = json.loads(open(os.environ["FLOOR_PLAN"]).read()) if os.environ.get("FLOOR_PLAN") else {}
_agents = itertools.count()
_managers = itertools.count()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FILTERS = [
    "/cases/?status=open&sort=priority",
    "/cases/?priority=critical&priority=high&status=open&sort=updated",
    "/cases/?owner=me&status=open",
    "/cases/?status=waiting_on_customer",
    "/cases/?sla=breached&status=open",
]


class Console(HttpUser):
    abstract = True

    def sign_in(self, username: str) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={"username": username, "password": PLAN["password"], "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": self.host + "/accounts/login/"},
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in of {username} answered {response.status_code}")

    def post(self, url: str, data: dict, name: str, **kwargs):
        data = {**data, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}
        headers = {"Referer": self.host + url, "X-CSRFToken": data["csrfmiddlewaretoken"], **kwargs.pop("headers", {})}
        return self.client.post(url, data=data, headers=headers, name=name, **kwargs)


class AgentUser(Console):
    wait_time = between(2, 6)  # an agent reads before clicking

    def on_start(self):
        n = next(_agents) % len(PLAN["agents"])
        self.username = PLAN["agents"][n]["username"]
        self.cases = list(PLAN["agents"][n]["cases"])
        session = PLAN["agents"][n].get("session")
        if session:  # signed in this morning (bench_floor made the session)
            self.client.cookies.set("sessionid", session)
        else:
            self.sign_in(self.username)
        self.client.get("/cases/", name="queue")  # the csrftoken cookie

    def case(self) -> dict:
        return random.choice(self.cases)

    @task(6)
    def queue(self):
        self.client.get("/cases/", name="queue")

    @task(4)
    def queue_filtered(self):
        self.client.get(random.choice(FILTERS), name="queue filtered")

    @task(2)
    def queue_page_2(self):
        self.client.get("/cases/?status=open&page=2", name="queue page 2")

    @task(4)
    def queue_partial(self):
        self.client.get(
            random.choice(FILTERS), headers={"HX-Request": "true", "HX-Target": "queue-results"}, name="queue HTMX"
        )

    @task(2)
    def view_counts(self):
        self.client.get("/cases/views/counts/", headers={"HX-Request": "true"}, name="saved-view counts HTMX")

    @task(6)
    def case_page(self):
        self.client.get(f"/cases/{self.case()['key']}/", name="case page")

    @task(3)
    def context_panel(self):
        self.client.get(f"/cases/{self.case()['key']}/context/", headers={"HX-Request": "true"}, name="context HTMX")

    @task(2)
    def reply(self):
        case = self.case()
        public = random.random() < 0.5
        self.post(
            f"/cases/{case['key']}/reply/",
            {"visibility": "public" if public else "internal", "body": f"Looked at it at {time.time():.0f}."},
            name="reply" if public else "internal note",
            headers={"HX-Request": "true"},
        )

    @task(1)
    def transition(self):
        """Waiting on the customer and back: two status moves (SLA clocks pause and resume)."""
        case = self.case()
        if case["status"] != "in_progress":
            return
        for to, expected in (("waiting_on_customer", "in_progress"), ("in_progress", "waiting_on_customer")):
            with self.post(
                f"/cases/{case['key']}/transition/",
                {"to": to, "expected_status": expected, "waiting_for": "logs", "reason": "load test"},
                name="transition",
                headers={"HX-Request": "true"},
                catch_response=True,
            ) as response:
                if response.status_code >= 400:
                    response.failure(f"{response.status_code}: {response.text[:200]}")
                    return

    @task(1)
    def bulk_tag(self):
        picked = random.sample(self.cases, min(5, len(self.cases)))
        self.post(
            "/cases/bulk/",
            {"action": "tag", "ids": ",".join(str(c["id"]) for c in picked), "tag": "floor-test", "confirm": "1"},
            name="bulk tag",
            headers={"HX-Request": "true"},
        )


class ManagerUser(Console):
    fixed_count = 10
    wait_time = between(5, 15)

    def on_start(self):
        self.sign_in(PLAN["managers"][next(_managers) % len(PLAN["managers"])])

    @task(3)
    def sla_dashboard(self):
        self.client.get("/sla/", name="SLA dashboard")

    @task(2)
    def reports(self):
        self.client.get("/reports/", name="reports")

    @task(1)
    def tenants(self):
        self.client.get("/tenants/", name="tenant list")


class TelemetryUser(HttpUser):
    """SLI batches of 100 at FLOOR_TELEMETRY_RATE items/s (one request per 100 items)."""

    fixed_count = 1
    batch = 100
    wait_time = constant_throughput(float(os.environ.get("FLOOR_TELEMETRY_RATE", "500")) / 100)

    def on_start(self):
        self.n = 0

    @task
    def slis(self):
        now = datetime.now(UTC).isoformat()
        items = []
        for _ in range(self.batch):
            self.n += 1
            items.append(
                {
                    "tenant": PLAN["telemetry_tenants"][self.n % len(PLAN["telemetry_tenants"])],
                    "source_id": f"floor-{os.getpid()}-{self.n}",
                    "resource": ("api-gateway", "orders-db", "search")[self.n % 3],
                    "name": "availability",
                    "objective": 99.9,
                    "value": round(random.uniform(99.0, 100.0), 3),
                    "error_budget_remaining": round(random.uniform(0, 100), 1),
                    "observed_at": now,
                }
            )
        self.client.post(
            "/api/v1/telemetry/slis/",
            json={"items": items},
            headers={"Authorization": f"Bearer {PLAN['token']}"},
            name="telemetry 100 SLIs",
        )
