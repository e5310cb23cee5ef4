"""companyos.cache (issue 10): Django's Redis cache, one client object per connection pool instead of
one per call — and still a working cache on this run's own key prefix. The gunicorn hook that freezes
the start-up objects out of the garbage collector's reach."""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches

from companyos.cache import RedisCache


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis cache is configured with REDIS_URL")
def test_one_client_per_pool_and_the_cache_still_works():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    first = cache._cache.get_client("k", write=True)
    assert cache._cache.get_client("k") is first and cache._cache.get_client("other", write=True) is first
    cache.set("issue10-probe", {"n": 1}, 30)
    assert cache.get("issue10-probe") == {"n": 1}
    cache.delete("issue10-probe")
    assert cache.get("issue10-probe") is None


def test_the_gunicorn_worker_freezes_what_it_loaded():
    path = Path(settings.BASE_DIR) / "companyos" / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf_probe", path)
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    before = gc.get_freeze_count()
    try:
        conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
