"""The garbage collector in a long-running web or worker process.

A full (generation 2) collection walks every tracked object. After start-up a worker holds ~200k
of them (modules, models, URL patterns, compiled templates), and a full collection of those costs
~100 ms, landing on one request in every few dozen: a p95/p99 spike that has nothing to do with
the request (issue 10). `freeze()` moves what is alive now out of the collector's reach
(gc.freeze, the CPython docs' advice for pre-fork servers); `freeze_after_warmup()` freezes again
after the first requests, which compile the templates and fill the URL resolvers' caches."""

from __future__ import annotations

import gc

WARMUP_FREEZES = (1, 10, 100)  # freeze after these many requests of the process


def freeze() -> None:
    gc.collect()
    gc.freeze()


def freeze_after_warmup(counts: tuple[int, ...] = WARMUP_FREEZES) -> None:
    """Freeze after the process's 1st, 10th and 100th finished requests, then stop listening."""
    from django.core.signals import request_finished

    served = {"n": 0}

    def _finished(**kwargs) -> None:
        served["n"] += 1
        if served["n"] in counts:
            freeze()
        if served["n"] >= max(counts):
            request_finished.disconnect(_finished, dispatch_uid="companyos.heap")

    request_finished.connect(_finished, dispatch_uid="companyos.heap", weak=False)
