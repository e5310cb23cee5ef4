"""Inspect a diagnostic trace bundle, without a case or a server:
    python manage.py support_inspect trace-20261102T101500Z-ui.zip [--json] [--reported-at ISO]
Prints the report (redaction findings masked, snapshot trends, failed and slowest spans, spans near the
reported time, error codes with the catalogue's remediation and runbook). Exit status: 0 for a valid,
redacted bundle; 9 when personal data or secrets were found (each finding's file and JSON path
listed); 5 when the bundle is refused as unsafe or invalid (the reason printed); the CLI's table
(companyos_cli/__init__.py). No traceback."""

import json
import sys

from django.core.management.base import BaseCommand

from companyos_cli.bundle import EXIT_CODES, render_text
from companyos_cli.bundle.summaries import parse_time
from runbooks.diagnostics.inspection import inspect


class Command(BaseCommand):
    help = "Inspect a trace-<timestamp>-<channel>.zip bundle: safety, redaction, trends, failed spans."

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        parser.add_argument("--reported-at", default=None, help="when the customer saw the problem (ISO 8601)")

    def handle(self, *args, bundle, as_json, reported_at, **options):
        when = parse_time(reported_at) if reported_at else None
        if reported_at and when is None:
            self.stderr.write(f"--reported-at: {reported_at!r} is not an ISO 8601 time.")
            sys.exit(EXIT_CODES["rejected"])
        report = inspect(bundle, reported_at=when)
        if as_json:
            self.stdout.write(json.dumps(report, indent=2, default=str))
        else:
            self.stdout.write(render_text(report))
        code = EXIT_CODES[report["verdict"]]
        if code:
            sys.exit(code)
