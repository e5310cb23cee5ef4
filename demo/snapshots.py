"""Context snapshots for the demo's open cases (issue 9: "most seeded cases, including the critical
ones, say 'No context snapshot yet'"). A real case gets its snapshot from the enrichment task when
it opens; the demo's cases are written back-dated in bulk, so `snapshot_open_cases()` takes them
afterwards, through the real service (`cases.services.case_capture_context`, as the system user:
suggestion, reasons, timeline entry and audit rows are the real thing).

Bounded on purpose: at most SNAPSHOT_LIMIT open cases without one, the most urgent first
(priority, then newest). That is every open case of the default 500-case demo; a million-case
database gets the 1,000 most urgent (0.1–0.25 s each) and the rest say "No context snapshot yet"
until someone presses Refresh context. Idempotent: a case with a snapshot is skipped.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import Exists, OuterRef

from cases import services
from cases.models import Case, CaseContext
from companyos import roles

from .world import Out, _quiet

SNAPSHOT_LIMIT = 1_000


def snapshot_open_cases(*, limit: int = SNAPSHOT_LIMIT, out: Out = _quiet) -> int:
    """Take a context snapshot of up to `limit` open cases that have none; return how many."""
    ids = list(
        Case.objects.open()
        .filter(~Exists(CaseContext.objects.filter(case_id=OuterRef("pk"))))
        .order_by("priority", "-created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    system = roles.system_user()
    started = time.perf_counter()
    for start in range(0, len(ids), 100):
        with transaction.atomic():  # one commit per 100 (each capture's own transaction is a savepoint)
            for pk in ids[start : start + 100]:
                services.case_capture_context(case_id=pk, actor=system)
        out(f"  context snapshots: {min(start + 100, len(ids)):,}/{len(ids):,} ({time.perf_counter() - started:.1f} s)")
    return len(ids)
