"""Health, readiness and Prometheus metrics (issue 18, point 8).

- `/healthz`: the process is up (no dependency touched: a load balancer's liveness probe).
- `/readyz`: the database answers, Redis (the cache and broker) answers, every migration is
  applied, and beat was seen in the last `BEAT_STALE_SECONDS` (its `beat-heartbeat` task stamps
  the cache every 20 s). 200 with each check, or 503 naming what is wrong.
- `/metrics`: Prometheus text format, behind `Authorization: Bearer $METRICS_TOKEN` (404 when the
  token is not configured): request latency histograms by view and method, responses by status
  class, and the gauges apps register here (`register_gauge`): the Celery queue depth, the SLA
  sweep's lag (how late the oldest due clock is), the outboxes' backlogs. With several gunicorn
  workers set `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode) so every worker's
  requests are counted.

Plumbing: imports no app; `cases` fills in its gauges from its AppConfig.ready().
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

BEAT_KEY = "companyos:beat:seen"
STALE_FEEDS_KEY = "companyos:telemetry:stale"  # [(tenant slug, kind, newest iso)], set hourly by tenants
REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "companyos_request_seconds",
    "Server time per request, by view and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
RESPONSES = Counter(
    "companyos_responses_total",
    "Responses by view and status class (2xx, 4xx, 5xx …).",
    ["view", "status"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter("companyos_rate_limited_total", "Requests answered 429.", registry=REGISTRY)

_gauges: dict[str, tuple[str, Callable[[], float | None]]] = {}


def register_gauge(name: str, documentation: str, read: Callable[[], float | None]) -> None:
    """A value read when /metrics is scraped (`read()` returns a number, or None to leave it out)."""
    _gauges[name] = (documentation, read)


class _Gauges:
    def collect(self):
        for name, (documentation, read) in sorted(_gauges.items()):
            try:
                value = read()
            except Exception:  # noqa: BLE001 — a broken gauge must not take /metrics down
                log.exception("metrics gauge %s failed", name)
                continue
            if value is not None:
                family = GaugeMetricFamily(name, documentation)
                family.add_metric([], float(value))
                yield family


REGISTRY.register(_Gauges())


def _database_pool() -> float | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*)::float / current_setting('max_connections')::float FROM pg_stat_activity")
        return cursor.fetchone()[0]


register_gauge(
    "companyos_database_connections_ratio",
    "Connections in use / max_connections (seed 001: alert at 0.9).",
    _database_pool,
)
register_gauge(
    "companyos_telemetry_stale_feeds",
    "Tenant telemetry feeds older than their freshness target.",
    lambda: float(len(cache.get(STALE_FEEDS_KEY))) if cache.get(STALE_FEEDS_KEY) is not None else None,
)
register_gauge(
    "companyos_beat_seconds_since_seen",
    "Seconds since beat's heartbeat.",
    lambda: (time.time() - float(cache.get(BEAT_KEY))) if cache.get(BEAT_KEY) else None,
)


def _queue_depth() -> float | None:
    """Messages waiting in Celery's queue (the Redis broker's list), not yet taken by a worker."""
    broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
    if not broker.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(broker, socket_timeout=2)
    try:
        return float(client.llen("celery"))
    finally:
        client.close()


register_gauge("companyos_celery_queue_depth", "Tasks waiting in the Celery queue.", _queue_depth)


class MetricsMiddleware:
    """Times every request by its view name (the route, never the raw path: no unbounded labels)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match else "unresolved"
        REQUEST_SECONDS.labels(view, request.method if request.method in _METHODS else "OTHER").observe(
            time.perf_counter() - started
        )
        RESPONSES.labels(view, f"{response.status_code // 100}xx").inc()
        if response.status_code == 429:
            RATE_LIMITED.inc()
        return response


_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


# --- the endpoints --------------------------------------------------------------------------------------


def healthz(request):
    return JsonResponse({"status": "ok"})


_migrated = False


def _migrations_applied() -> bool:
    global _migrated
    if _migrated:  # once applied, a running process's code does not change
        return True
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def readiness() -> tuple[bool, dict]:
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["database"] = f"down: {type(error).__name__}"
    try:
        probe = f"companyos:readyz:{os.getpid()}"
        cache.set(probe, 1, 10)
        checks["cache"] = "ok" if cache.get(probe) == 1 else "down: the value did not come back"
    except Exception as error:  # noqa: BLE001
        checks["cache"] = f"down: {type(error).__name__}"
    if checks["database"] == "ok":
        checks["migrations"] = "ok" if _migrations_applied() else "pending: run `python manage.py migrate`"
    seen = cache.get(BEAT_KEY) if checks["cache"] == "ok" else None
    stale = settings.BEAT_STALE_SECONDS
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        checks["beat"] = "ok (tasks run in-process)"
    elif seen is None:
        checks["beat"] = "not seen: is `celery -A companyos beat` running?"
    else:
        age = time.time() - float(seen)
        checks["beat"] = "ok" if age <= stale else f"last seen {age:.0f} s ago (more than {stale} s)"
    ok = all(value.startswith("ok") for value in checks.values())
    # Informational, never "not ready": a tenant's stale feed is theirs, not this process's.
    stale = cache.get(STALE_FEEDS_KEY) if checks["cache"] == "ok" else None
    if stale is not None:
        checks["telemetry"] = f"{len(stale)} stale tenant feed(s)" if stale else "fresh"
    return ok, checks


def readyz(request):
    ok, checks = readiness()
    return JsonResponse({"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503)


def metrics(request):
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.", status=401, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_Gauges())
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def beat_heartbeat() -> None:
    """Run by beat's `beat-heartbeat` task: the time beat was last seen, for /readyz and /metrics."""
    cache.set(BEAT_KEY, time.time(), None)
