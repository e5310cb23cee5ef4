"""Measure the Zendesk relay: its throughput, and the time to drain a backlog after Zendesk comes back.

    python manage.py bench_zendesk [--cases 500] [--backlog 10000] [--down 15] [--steady 2000]

On a PostgreSQL database of its own (its name must contain "bench", e.g. companyos_bench_zendesk),
against the fake Zendesk of demo/zendesk_fake.py served on 127.0.0.1 (a free port), with the sync
configured to talk to it for the run:

1. opens `--cases` cases and links each to Zendesk (the creates drain: creates/s);
2. steady throughput: `--steady` comments spread over the cases, sent with Zendesk up (changes/s,
   one HTTP request each);
3. the outage: Zendesk goes away (its port closed); `--backlog` changes are written through the
   case services (public replies, internal notes, tag and priority changes; the outbox rows are
   written with them) while the relay keeps running as beat would (every second), pausing and
   probing; after `--down` seconds Zendesk comes back on the same port and the clock starts: the
   time until the outbox is empty, how long the relay waited before its first probe got through,
   the changes and requests per second while draining;
4. checks that nothing was lost, nothing duplicated and every ticket's comments are in order.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from cases import services
from cases.channels.zendesk import services as zendesk
from cases.channels.zendesk.models import ZendeskChange, ZendeskLink, ZendeskSyncState
from cases.channels.zendesk.relay import relay
from cases.choices import Priority
from cases.models import Interaction
from companyos import roles
from demo.zendesk_fake import FakeZendesk, serve
from tenants.models import Requester, Tenant

PENDING = ZendeskChange.State.PENDING


class Command(BaseCommand):
    help = "Zendesk relay throughput and the time to drain a backlog after the (fake) Zendesk comes back."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=500)
        parser.add_argument("--backlog", type=int, default=10_000)
        parser.add_argument("--steady", type=int, default=2_000)
        parser.add_argument("--down", type=float, default=15.0, help="seconds Zendesk stays away")

    def handle(self, *args, cases, backlog, steady, down, **options):
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("bench_zendesk runs on PostgreSQL, on a database whose name contains 'bench'.")
        if cases < 1 or backlog < 0 or steady < 0 or down < 0:
            raise CommandError("--cases ≥ 1, --backlog, --steady and --down ≥ 0, please.")
        from companyos.celery import app

        app.conf.task_always_eager = True  # the cases' after-commit enrichment runs here, not on a shared broker
        fake = FakeZendesk()
        server = serve(fake)
        port = server.server_address[1]
        overrides = {
            "ZENDESK_BASE_URL": f"http://127.0.0.1:{port}",
            "ZENDESK_EMAIL": "bench@companyos.example",
            "ZENDESK_API_TOKEN": "bench-token",
            "ZENDESK_WEBHOOK_SECRET": "bench-secret",
            "ZENDESK_TIMEOUT_SECONDS": 5.0,
        }
        try:
            with override_settings(**overrides):
                server = self._run(fake, server, port, cases=cases, backlog=backlog, steady=steady, down=down)
        finally:
            server.shutdown()
            server.server_close()

    # --- the run ------------------------------------------------------------------------------------

    def _run(self, fake, server, port, *, cases, backlog, steady, down):
        out = self.stdout.write
        system = roles.system_user()
        ZendeskChange.objects.all().delete()
        ZendeskLink.objects.all().delete()
        ZendeskSyncState.objects.all().delete()
        tenant, _ = Tenant.objects.get_or_create(slug="bench-zendesk", defaults={"name": "Bench Zendesk"})
        requester, _ = Requester.objects.get_or_create(
            tenant=tenant, email="bench.requester@example.com", defaults={"name": "Bench Requester"}
        )
        out(f"Fake Zendesk on 127.0.0.1:{port}; opening and linking {cases} cases …")
        case_ids = [
            services.case_create(
                actor=system, tenant=tenant, requester=requester, subject=f"Bench case {i}", description=f"Case {i}"
            ).pk
            for i in range(cases)
        ]
        for case_id in case_ids:
            zendesk.zendesk_link_case(case_id=case_id, actor=system)
        sent, seconds, requests = self._drain(fake)
        out(f"  creates: {sent} in {seconds:.2f} s = {sent / seconds:.0f} tickets/s")

        if steady:
            for i in range(steady):
                case_id = case_ids[i % cases]
                services.case_reply(case_id=case_id, actor=system, body=f"steady {i}", public=True)
            sent, seconds, requests = self._drain(fake)
            out(
                f"Steady throughput (Zendesk up): {sent} comments in {seconds:.2f} s = {sent / seconds:.0f} changes/s, "
                f"{requests} HTTP requests ({requests / seconds:.0f}/s)"
            )

        out(f"Outage: Zendesk down for {down:.0f} s while {backlog} changes are written …")
        server.shutdown()
        server.server_close()
        started = time.monotonic()
        written = 0
        write_seconds = 0.0
        kinds = {"public": 0, "note": 0, "tags": 0, "priority": 0}
        while written < backlog:
            case_id = case_ids[written % cases]
            step = (written // cases) % 5
            t0 = time.perf_counter()
            if step in (0, 2):
                services.case_reply(case_id=case_id, actor=system, body=f"backlog {written}", public=True)
                kinds["public"] += 1
            elif step == 1:
                services.case_reply(case_id=case_id, actor=system, body=f"backlog note {written}", public=False)
                kinds["note"] += 1
            elif step == 3:
                services.case_tag(case_id=case_id, actor=system, add=[f"bench-{written % 7}"])
                kinds["tags"] += 1
            else:
                priorities = [Priority.HIGH, Priority.LOW, Priority.MEDIUM]
                services.case_classify(
                    case_id=case_id, actor=system, priority=priorities[(written // cases) % 3], reason="bench"
                )
                kinds["priority"] += 1
            write_seconds += time.perf_counter() - t0
            written += 1
            if written % 500 == 0:
                relay()  # beat keeps running: paused, probing
        while time.monotonic() - started < down:
            relay()
            time.sleep(1.0)
        pending = ZendeskChange.objects.filter(state=PENDING).count()
        out(
            f"  written: {written} changes ({kinds}) in {write_seconds:.1f} s "
            f"({write_seconds / max(written, 1) * 1000:.2f} ms per service call with its outbox row); "
            f"pending now {pending}, dead {ZendeskChange.objects.filter(state='dead').count()}"
        )

        server = serve(fake, port)  # Zendesk is back, on the same port
        back = time.monotonic()
        back_at = timezone.now()
        requests_before = len(fake.requests)
        sent = coalesced = 0
        while ZendeskChange.objects.filter(state=PENDING).exists():
            result = relay(limit=1000)
            sent += result.sent
            coalesced += result.coalesced
            if result.paused_until:
                time.sleep(max(0.0, min(1.0, (result.paused_until - timezone.now()).total_seconds())))
        drained = time.monotonic() - back
        first = ZendeskChange.objects.filter(sent_at__gte=back_at).order_by("sent_at").values_list("sent_at", flat=True)
        first_sent = (first[0] - back_at).total_seconds() if first else 0.0
        requests = len(fake.requests) - requests_before
        draining = drained - (first_sent or 0)
        out(
            f"Drain after Zendesk came back: {pending} changes in {drained:.1f} s "
            f"(the relay's first probe got through after {first_sent or 0:.1f} s; then {draining:.1f} s sending: "
            f"{pending / max(draining, 1e-9):.0f} changes/s, "
            f"{requests} HTTP requests = {requests / max(draining, 1e-9):.0f}/s; "
            f"{coalesced} updates coalesced into the PUT before them)"
        )
        self._check(fake, case_ids)
        return server

    def _drain(self, fake):
        before = len(fake.requests)
        t0 = time.perf_counter()
        sent = 0
        while ZendeskChange.objects.filter(state=PENDING).exists():
            result = relay(limit=1000, now=timezone.now() + timedelta(seconds=1))
            sent += result.sent + result.coalesced
            if not result.sent and not result.coalesced:
                raise CommandError(f"the relay made no progress: {result}")
        return sent, time.perf_counter() - t0, len(fake.requests) - before

    def _check(self, fake, case_ids):
        links = dict(ZendeskLink.objects.filter(case_id__in=case_ids).values_list("case_id", "ticket_id"))
        problems = 0
        for case_id in case_ids:
            ours = list(
                Interaction.objects.filter(case_id=case_id, kind__in=[Interaction.Kind.REPLY, Interaction.Kind.NOTE])
                .order_by("created_at", "id")
                .values_list("body", "public")
            )
            theirs = [(c["body"], c["public"]) for c in fake.comments[links[case_id]][1:]]
            problems += ours != theirs
        dead = ZendeskChange.objects.filter(state="dead").count()
        tickets = len(fake.tickets)
        verdict = "OK" if not problems and not dead and tickets == len(case_ids) else "FAILED"
        self.stdout.write(
            f"Check: {tickets} tickets for {len(case_ids)} cases, {dead} dead changes, "
            f"{problems} tickets whose comments differ from the case's timeline "
            f"(lost, doubled or out of order): {verdict}"
        )
        if verdict != "OK":
            raise CommandError("the backlog did not arrive intact")
