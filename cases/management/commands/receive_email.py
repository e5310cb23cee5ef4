"""Read one RFC 5322 message from standard input and hand it to the inbound e-mail service: the
MTA pipe (a Postfix alias, see README "E-mail channel").

    python manage.py receive_email [--source mta] < message.eml

Exit status, as sendmail's `sysexits.h` says an MTA reads it: 0 when the message was taken (a case,
a message on a case, the unmatched queue, or recorded and ignored/rejected: no bounce, no loop);
75 (EX_TEMPFAIL) when it could not be taken now (the database or storage is down), so the MTA keeps it and
retries; 65 (EX_DATAERR) for empty input.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from cases.channels.email import inbound

EX_DATAERR, EX_TEMPFAIL = 65, 75


class Command(BaseCommand):
    help = "Take one e-mail (RFC 5322) from standard input: the MTA pipe of the e-mail channel."

    def add_arguments(self, parser):
        parser.add_argument("--source", default="mta", help="recorded on the message (default: mta)")

    def handle(self, *args, source: str, **options):
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("receive_email: no message on standard input")
            sys.exit(EX_DATAERR)
        try:
            outcome = inbound.receive(raw, source=source[:20])
        except (DatabaseError, OSError) as error:  # the database or the attachment storage is down
            self.stderr.write(f"receive_email: try again later: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(str(outcome))
