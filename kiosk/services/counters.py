"""Counts kept in the cache (Redis in production, shared by every worker), so counting writes no row."""

from __future__ import annotations

from django.core.cache import cache


def cache_count(key: str, *, timeout: int) -> int:
    """Add one to the count at `key` (a new count lives `timeout` seconds); returns the count now.

    add() then incr(): both atomic in Redis, so concurrent workers never lose a count.
    """
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=timeout)
        return 1
