"""The small pieces the kiosk services share: the staff actor of admin/branch pages and the cache counter."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from atmsite.permissions import staff_user
from kiosk.services.counters import cache_count


def test_staff_user_is_the_logged_in_user(teller) -> None:
    request = RequestFactory().get("/")
    request.user = teller
    assert staff_user(request) == teller


def test_staff_user_refuses_a_request_without_a_user() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        staff_user(request)


def test_cache_count_counts_and_restarts_when_the_key_expired_between_calls(monkeypatch) -> None:
    cache.delete("test:count")
    assert [cache_count("test:count", timeout=60) for _ in range(3)] == [1, 2, 3]

    class ExpiresBeforeIncr:
        """The real cache, except that the key expires between add() and incr()."""

        add = staticmethod(cache.add)

        @staticmethod
        def incr(key: str) -> int:
            cache.delete(key)
            raise ValueError(key)

    monkeypatch.setattr("kiosk.services.counters.cache", ExpiresBeforeIncr())
    assert cache_count("test:count", timeout=60) == 1
    assert cache.get("test:count") == 1
