"""Gunicorn settings: `gunicorn companyos.wsgi -c companyos/gunicorn.conf.py`.

Everything comes from the environment:
  PORT             port to listen on (default 8000), on BIND_HOST (default 0.0.0.0)
  WEB_CONCURRENCY  worker processes (default 2 x CPUs + 1, at most 8)
  GUNICORN_THREADS threads per worker (default 1)
  GUNICORN_TIMEOUT seconds before a silent worker is restarted (default 30)
Access and error logs go to stdout/stderr.
"""

import multiprocessing
import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Trust X-Forwarded-* only from the local reverse proxy (settings read X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Once the worker has loaded the application: move everything it loaded (modules, models,
    URL patterns) out of the garbage collector's reach, and again after its first requests (which
    compile the templates). A full collection then walks a request's own objects only, not the
    ~200k loaded at start-up (companyos.heap; issue 10)."""
    from companyos import heap

    heap.freeze()
    heap.freeze_after_warmup()
