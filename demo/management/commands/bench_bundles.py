"""Figures for the trace-bundle inspector (issue 16):
    python manage.py bench_bundles [--spans 100000] [--payload 700] [--dir /tmp/bundles]
writes a large bundle span by span, inspects it (wall time and the process's peak RSS, measured in a
child process so that the writer's memory does not count: its VmHWM), and times the rejection of every hostile
bundle in demo/bundles.py."""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from companyos_cli.bundle import inspect_bundle
from demo import bundles

CHILD = """
import json, sys, time
from companyos_cli.bundle import inspect_bundle
t = time.perf_counter()
report = inspect_bundle(sys.argv[1])
elapsed = time.perf_counter() - t
# VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
trace = report["trace"]
print(json.dumps({"seconds": round(elapsed, 2), "peak_rss_mb": peak, "verdict": report["verdict"],
                  "spans": trace["spans"], "failed": trace["failed_count"], "bytes_read": report["bytes_read"]}))
"""


class Command(BaseCommand):
    help = "Time the bundle inspector on a large bundle and on every hostile bundle."

    def add_arguments(self, parser):
        parser.add_argument("--spans", type=int, default=100_000)
        parser.add_argument("--payload", type=int, default=700)
        parser.add_argument("--dir", default=None)

    def handle(self, *args, spans, payload, dir, **options):
        root = Path(dir or tempfile.mkdtemp(prefix="bundles-"))
        root.mkdir(parents=True, exist_ok=True)
        big = root / "trace-20261102T101500Z-cli.zip"
        bundles.write_large_bundle(big, spans=spans, payload=payload)
        self.stdout.write(f"large bundle: {big.stat().st_size / 1e6:.1f} MB zip, {spans:,} spans")
        out = subprocess.run([sys.executable, "-c", CHILD, str(big)], capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout)
        self.stdout.write(
            f"  inspected in {figures['seconds']} s, peak RSS {figures['peak_rss_mb']} MB, "
            f"{figures['bytes_read'] / 1e6:.1f} MB uncompressed read, verdict {figures['verdict']}, "
            f"{figures['failed']} failed spans"
        )
        for label, make in bundles.HOSTILE.items():
            path, expected = make(root / f"hostile-{make.__name__}.zip")
            t = time.perf_counter()
            report = inspect_bundle(str(path))
            ms = (time.perf_counter() - t) * 1000
            got = (report["rejection"] or {}).get("code")
            self.stdout.write(f"  {label:24} rejected as {got:18} in {ms:8.1f} ms" + ("" if got == expected else " !!"))
