"""Rate limits per token (personal or integration), counted in the default cache (Redis in
production: every worker shares the count). Over the limit → 429 with Retry-After (seconds)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def parse_rate(self, rate):
        """ "600/min" as DRF reads it, and also a period with a count: "1/3s", "100/5m"."""
        if rate is None:
            return (None, None)
        num, _, period = rate.partition("/")
        digits = "".join(ch for ch in period if ch.isdigit()) or "1"
        unit = period.lstrip("0123456789")[:1]
        return int(num), int(digits) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]

    def get_cache_key(self, request, view):
        auth = request.auth
        if auth is None or getattr(auth, "pk", None) is None:
            return None  # not authenticated: refused before any work, nothing to count
        return f"api-throttle:{auth._meta.model_name}:{auth.pk}"
