"""Shared helpers of the `bench_*` management commands."""


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def as_served() -> None:
    """The heap as a gunicorn worker keeps it (companyos/gunicorn.conf.py: collected and frozen once
    warm): call after a page's warm-up requests, so a bench process's own leftovers (seeding, earlier
    pages) do not add full collections a served request would not pay."""
    from companyos import heap

    heap.freeze()
