"""Diagnostic trace bundles (`trace-<timestamp>-<channel>.zip`): read safely, check and explain.

Pure: the standard library, `ijson`, `phonenumbers` and `detect-secrets`; no Django and nothing of the console, so that
the offline CLI (`companyos support inspect`) and the console (`runbooks.diagnostics`, the web page,
the Celery task and `manage.py support_inspect`) run the very same code. The console imports it (the
layers allow it: `companyos_cli` is below nothing and imports nothing of the console); the console
adds what only it knows, the error-code catalogue and its runbooks.

    unpack.py    the safe reader: limits, names, types, sizes counted while streaming; `BundleRejected`
    pii.py       the redaction check: e-mail, phone, IP, bearer tokens, API keys and secrets, masked
    secrets.py   API keys and secrets by `detect-secrets`' detectors and heuristic filters (gated, no network)
    inspect.py   `inspect_bundle(path) -> dict`: snapshot.json trends, trace.json spans, error codes
    naming.py    the `trace-<timestamp>-<channel>.zip` pattern
    render.py    the report as text (what both CLIs print)
"""

from .inspect import EXIT_CODES, inspect_bundle
from .naming import parse_bundle_name
from .render import render_text
from .unpack import BundleRejected, Limits

__all__ = ["EXIT_CODES", "BundleRejected", "Limits", "inspect_bundle", "parse_bundle_name", "render_text"]
