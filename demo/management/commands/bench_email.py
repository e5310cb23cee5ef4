"""Measure inbound e-mail throughput through the service both inbound paths feed.

    python manage.py bench_email --messages 2000 [--contacts 50] [--seed 1]

Makes sure a bench tenant ("bench-email") with N contacts exists, then builds the raw messages
(before the clock starts: the figures are the server's work) and hands each to
`cases.channels.email.inbound.receive` — parsing, the de-duplication lookup, threading, sender
matching, reply stripping, the upload checks, the .eml original written to storage, and the case
service's transaction (row lock, SLA clocks, timeline, audit rows). The mix, in order of arrival:
new cases with a multipart text+HTML body (60 %), customer replies threaded by In-Reply-To with a
quoted history to strip (25 %), replies with an attachment (5 %), auto-replies (5 %), unknown
senders for the unmatched queue (5 %). Prints messages/s for the whole run and per kind with
p50/p95 per message, then re-sends the first 500 messages (redeliveries: recognised, nothing
written) and prints that rate too.

Context capture after a new case (a Celery task in production, measured by the other bench_*
commands) is not run here; attachments go to a temporary MEDIA_ROOT, removed afterwards. Each run's
Message-IDs carry a run tag, so every run receives N new messages.
"""

from __future__ import annotations

import base64
import random
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from cases.channels.email import inbound
from companyos.bench import percentile
from tenants.models import Requester, Tenant

TENANT = "bench-email"


def _headers(sender: str, subject: str, message_id: str, extra: str = "") -> str:
    return (
        f"From: {sender}\r\nTo: support@companyos.example\r\nSubject: {subject}\r\n"
        f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n{extra}"
    )


def new_case(sender: str, message_id: str, n: int) -> bytes:
    text = f"Our webhook deliveries stopped at 10:4{n % 10} UTC.\r\nEndpoint: https://hooks.example/{n}\r\n"
    html = f"<p>Our webhook deliveries stopped at 10:4{n % 10} UTC.</p><p>Endpoint: https://hooks.example/{n}</p>"
    return (
        _headers(sender, f"Webhooks stopped #{n}", message_id, 'Content-Type: multipart/alternative; boundary="b"\r\n')
        + f"\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        + f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    ).encode()


def answer(sender: str, message_id: str, parent: str, n: int, attachment: bool) -> bytes:
    body = (
        f"Retried, still failing (attempt {n}).\r\n\r\n-- \r\nA customer\r\n\r\n"
        f"On Tue, 1 Dec 2026 at 10:00, Support <support@companyos.example> wrote:\r\n> Please retry.\r\n> Kari\r\n"
    )
    extra = f"In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
    if not attachment:
        headers = _headers(sender, "Re: Webhooks", message_id, extra + "Content-Type: text/plain\r\n")
        return (headers + "\r\n" + body).encode()
    log = "".join(f"2026-12-01T10:{i % 60:02d}:00Z POST /hook 502\n" for i in range(400)).encode()
    encoded = base64.encodebytes(log).decode().replace("\n", "\r\n")
    return (
        _headers(sender, "Re: Webhooks", message_id, extra + 'Content-Type: multipart/mixed; boundary="m"\r\n')
        + f"\r\n--m\r\nContent-Type: text/plain\r\n\r\n{body}\r\n"
        + '--m\r\nContent-Type: text/plain; name="hook.log"\r\nContent-Disposition: attachment; filename="hook.log"\r\n'
        + f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--m--\r\n"
    ).encode()


def auto_reply(sender: str, message_id: str, parent: str) -> bytes:
    extra = f"In-Reply-To: <{parent}>\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n"
    return (_headers(sender, "Automatic reply: Webhooks", message_id, extra) + "\r\nI am out of office.\r\n").encode()


class Command(BaseCommand):
    help = "Benchmark inbound e-mail (messages/s through cases.channels.email.inbound.receive)."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, required=True, help="how many messages to receive")
        parser.add_argument("--contacts", type=int, default=50, help="contacts of the bench tenant (default 50)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, messages: int, contacts: int, seed: int, **options):
        if messages < 1 or contacts < 1:
            raise CommandError("--messages and --contacts must be positive.")
        out = self.stdout.write
        rng = random.Random(seed)
        run = uuid.uuid4().hex[:8]
        tenant, _ = Tenant.objects.get_or_create(slug=TENANT, defaults={"name": "Bench e-mail"})
        people = []
        for i in range(contacts):
            person, _ = Requester.objects.get_or_create(
                tenant=tenant, email=f"contact{i}@bench-email.example", defaults={"name": f"Contact {i}"}
            )
            people.append(person.email)

        # Build the run before the clock: (kind, raw). A reply answers an earlier new case's message.
        plan, opened = [], []
        for n in range(messages):
            sender = rng.choice(people)
            message_id = f"bench-{run}-{n}@bench-email.example"
            roll = rng.random()
            if not opened or roll < 0.60:
                plan.append(("new case", new_case(sender, message_id, n)))
                opened.append((sender, message_id))
            elif roll < 0.85:
                parent_sender, parent = rng.choice(opened)
                plan.append(("reply", answer(parent_sender, message_id, parent, n, attachment=False)))
            elif roll < 0.90:
                parent_sender, parent = rng.choice(opened)
                plan.append(("reply + attachment", answer(parent_sender, message_id, parent, n, attachment=True)))
            elif roll < 0.95:
                parent_sender, parent = rng.choice(opened)
                plan.append(("auto-reply", auto_reply(parent_sender, message_id, parent)))
            else:
                plan.append(("unknown sender", new_case(f"stranger{n}@elsewhere.example", message_id, n)))

        media = tempfile.mkdtemp(prefix="bench-email-")
        timings: dict[str, list[float]] = defaultdict(list)
        states: dict[str, int] = defaultdict(int)
        try:
            with override_settings(MEDIA_ROOT=media), mock.patch("cases.services._enrich_later", lambda case_id: None):
                started = time.perf_counter()
                for kind, raw in plan:
                    t0 = time.perf_counter()
                    outcome = inbound.receive(raw, source="bench")
                    timings[kind].append(time.perf_counter() - t0)
                    states[outcome.state] += 1
                elapsed = time.perf_counter() - started
                resend = plan[:500]
                t0 = time.perf_counter()
                duplicates = sum(inbound.receive(raw, source="bench").duplicate for _, raw in resend)
                resend_elapsed = time.perf_counter() - t0
        finally:
            shutil.rmtree(media, ignore_errors=True)

        total = sum(len(v) for v in timings.values())
        out(f"inbound e-mail: {total} messages in {elapsed:.2f} s = {total / elapsed:.1f} messages/s")
        out(f"  outcomes: {', '.join(f'{k} {v}' for k, v in sorted(states.items()))}")
        for kind, values in sorted(timings.items()):
            values.sort()
            out(
                f"  {kind:<20} {len(values):>6}  {len(values) / sum(values):7.1f}/s  "
                f"p50 {percentile(values, 50) * 1000:6.1f} ms  p95 {percentile(values, 95) * 1000:6.1f} ms"
            )
        out(
            f"redeliveries: {len(resend)} in {resend_elapsed:.2f} s = {len(resend) / resend_elapsed:.1f} messages/s "
            f"({duplicates} recognised as duplicates)"
        )
