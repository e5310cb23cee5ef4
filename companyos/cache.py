"""The cache backend: Django's Redis cache with one client object per connection pool.

Django's RedisCacheClient makes a new `redis.Redis` for every cache call, and each one builds its
table of ~200 response callbacks: about a quarter of a millisecond a call, four calls a page (the
session, agent presence, …; issue 10). A client is a thin, thread-safe wrapper over its pool, so
one per pool does the same work. Everything else is Django's backend unchanged."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PooledClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
